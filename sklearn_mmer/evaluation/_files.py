"""Files of a run's folder: written whole or not at all, and read back without
trusting them. The folder's lock is :class:`~sklearn_mmer.utils._files.RunLock`
(the command line holds it too)."""

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

#: The deepest nesting of arrays and objects a run's JSON file may hold; the
#: run's own files nest three levels deep.
MAX_JSON_DEPTH = 32
#: The largest JSON file read back (a fold's record holds its test rows and
#: predictions: a few bytes per utterance).
MAX_JSON_BYTES = 256 * 2**20


class UnreadableFileError(ValueError):
    """A file of a run's folder that cannot be read back; the message says why."""


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename the file to ``path``.

    The temporary file lies in the same folder (a rename never crosses file
    systems) and is removed when ``write`` fails.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    os.close(handle)
    # mkstemp makes the file private (0600); give it the mode a plain open()
    # would, so the results stay readable as before
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def read_json(path):
    """The JSON value in ``path``.

    Raises :class:`UnreadableFileError`, with the reason, when the file cannot
    be read, is larger than ``MAX_JSON_BYTES``, is not JSON, or nests deeper
    than ``MAX_JSON_DEPTH`` (checked on the text first, so that no parser
    recursion meets a hostile file).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise UnreadableFileError(
                f"it holds {size} bytes, more than the {MAX_JSON_BYTES} a run writes"
            )
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise UnreadableFileError(f"it cannot be read ({error.strerror or error})")
    except UnicodeDecodeError:
        raise UnreadableFileError("it is not UTF-8 text") from None
    depth = _nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise UnreadableFileError(
            f"it nests {depth} levels deep; a run's files nest at most {MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UnreadableFileError(f"it is not valid JSON ({error})") from None


def _nesting_depth(text):
    """The deepest nesting of ``[`` and ``{`` outside strings, in one pass."""
    # strings removed first: brackets inside them do not nest anything
    outside = _STRINGS.sub("", text).encode("utf-8", "replace")
    codes = np.frombuffer(outside, dtype=np.uint8)
    steps = np.isin(codes, _OPENING).astype(np.int64) - np.isin(codes, _CLOSING)
    return int(np.cumsum(steps).max(initial=0))


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSING = np.frombuffer(b"]}", dtype=np.uint8)


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
