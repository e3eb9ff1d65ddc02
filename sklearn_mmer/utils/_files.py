"""Files: the lock of a run's folder, and untrusted files measured before reading.

:class:`RunLock` lets one run at a time write to a folder; :func:`json_depth`
measures the nesting of JSON without recursion and :func:`format_size` says a
size in words, for the readers of model files, checkpoints and corpora that
refuse what would cost too much to read.
"""

import contextlib
import json
import os
import re
import socket
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

# --- the lock of a run's folder -------------------------------------------------------

# compare_methods holds it while it keeps its folds in checkpoint, and
# mmer compare from its checks of --out to the last file written (the two nest in
# one process).

#: The lock file a run holds in its folder while it writes there.
LOCK = ".mmer.lock"

# folder (resolved) -> how many times this process holds its lock
_HELD = {}


class RunLockedError(RuntimeError):
    """Another run writes to the folder: its lock file names that run.

    Raised by :func:`compare_methods` with ``checkpoint`` (and ``mmer compare
    --out``) when the folder's ``.mmer.lock`` names a run that is still alive.
    A lock left by a run that was killed (its process gone from this host) is
    taken over, with a warning.

    See Also
    --------
    compare_methods : Keeps its folds in ``checkpoint``, holding its lock.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import RunLockedError
    >>> issubclass(RunLockedError, RuntimeError)
    True
    """


class RunLock:
    """The lock of a run's folder: ``.mmer.lock``, created with ``O_EXCL``.

    It holds the pid, host and start time of the run holding it. A second
    acquisition by the same process nests (the command line and
    :func:`compare_methods` both hold it); another process is refused with
    :class:`RunLockedError` while the holder lives. A lock whose process is
    gone from this host (a killed run) is taken over, and ``note`` is called
    with a line saying so.
    """

    def __init__(self, folder, *, note=None):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.note = note
        self.token = None
        self._key = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def acquire(self):
        self._key = str(self.folder.resolve())
        if self._key in _HELD:
            _HELD[self._key] += 1
            return self
        for _ in range(3):
            try:
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                self._take_over_or_refuse()
                continue
            self.token = uuid.uuid4().hex
            holder = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": time.time(),
                "token": self.token,
            }
            with os.fdopen(handle, "w") as file:
                file.write(json.dumps(holder))
            _HELD[self._key] = 1
            return self
        raise RunLockedError(
            f"{self.folder} is in use by another run (its lock {self.path} "
            "keeps being replaced); try again, or use another folder"
        )

    def release(self):
        if self._key is None or self._key not in _HELD:
            return
        _HELD[self._key] -= 1
        if _HELD[self._key]:
            return
        del _HELD[self._key]
        holder = _read_holder(self.path)
        # only our own lock: one taken over after ours went stale is not ours
        if holder is not None and holder.get("token") == self.token:
            with contextlib.suppress(OSError):
                self.path.unlink()

    def _take_over_or_refuse(self):
        holder = _read_holder(self.path)
        if holder is None:
            # a lock being written this instant, or one a kill left empty
            if time.time() - _mtime(self.path) < 10:
                raise RunLockedError(
                    f"{self.folder} is in use by another run (its lock "
                    f"{self.path} was just created); wait for it to end, or "
                    "use another folder"
                )
            what = f"an unreadable lock {self.path}"
        else:
            who = (
                f"pid {holder['pid']} on {holder['host']}, started "
                f"{_when(holder['started'])}"
            )
            if not _gone(holder):
                raise RunLockedError(
                    f"{self.folder} is in use by another run ({who}); wait for "
                    "it to end, or use another folder (if that run is gone, "
                    f"remove {self.path})"
                )
            what = f"the lock of a run that ended without releasing it ({who})"
        line = f"{self.folder}: taking over {what}"
        if self.note is None:
            warnings.warn(line, UserWarning, stacklevel=4)
        else:
            self.note(line)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _read_holder(path):
    """The lock's holder as a dict, or None when unreadable or incomplete."""
    try:
        holder = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError):
        return None
    fields = {"pid": int, "host": str, "started": (int, float), "token": str}
    if not isinstance(holder, dict) or any(
        not isinstance(holder.get(k), t) or isinstance(holder.get(k), bool)
        for k, t in fields.items()
    ):
        return None
    return holder


def _gone(holder):
    """Whether the lock's process has ended (known only on this host)."""
    if holder["host"] != socket.gethostname():
        return False
    pid = holder["pid"]
    if pid == os.getpid():
        return True  # this process does not hold it: a run before a restart
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, OverflowError):
        return False
    started = _process_start(pid)
    # the pid was given to a process started after the lock: the holder is gone
    return started is not None and started > holder["started"] + 1


def _process_start(pid):
    """When process ``pid`` started (Linux), or None when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _mtime(path):
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


def _when(seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


# --- measuring untrusted input before reading it --------------------------------------

# A file from elsewhere (a model file, a checkpoint, a corpus) can be made to
# cost far more to read than it weighs: JSON nested 100,000 levels deep ends
# json.loads in a RecursionError, and everything built from it recurses again.
# json_depth measures the nesting without recursion, in one linear pass, so that
# a reader can refuse such a file with a clear error before parsing it.

# a JSON string, escapes included (the unrolled form never backtracks)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_CHUNK = 1 << 20


def format_size(n):
    """``n`` bytes in words, such as ``"1.5 GiB (1610612736 bytes)"``.

    Examples
    --------
    >>> from sklearn_mmer.utils._files import format_size
    >>> format_size(3 * 2**30)
    '3.0 GiB (3221225472 bytes)'
    >>> format_size(12)
    '12 bytes'
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


def json_depth(text):
    """How deeply arrays and objects nest in JSON ``text``, found without recursion.

    Brackets inside strings do not count. Memory stays bounded by the text's
    size whatever the nesting, and no Python frame is used per level: the
    strings are removed, then the brackets alone are summed in chunks. Text
    that is not valid JSON gets a number too (an unterminated string counts
    the brackets after it); parsing it then fails.

    Parameters
    ----------
    text : bytes or str
        The JSON text.

    Returns
    -------
    depth : int
        0 for a scalar, 1 for ``[1, 2]``, 2 for ``{"a": [1]}``...

    Examples
    --------
    >>> from sklearn_mmer.utils._files import json_depth
    >>> json_depth('{"a": [1, {"b": "[[["}]}')
    3
    >>> json_depth(b"[" * 100000 + b"]" * 100000)
    100000
    """
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogatepass")
    brackets = _JSON_STRING.sub(b"", text).translate(None, _NOT_A_BRACKET)
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = deepest = 0
    for start in range(0, steps.size, _CHUNK):
        chunk = steps[start : start + _CHUNK]
        levels = np.cumsum(
            np.where((chunk == ord("[")) | (chunk == ord("{")), 1, -1), dtype=np.int64
        )
        deepest = max(deepest, depth + int(levels.max()))
        depth += int(levels[-1])
    return deepest
