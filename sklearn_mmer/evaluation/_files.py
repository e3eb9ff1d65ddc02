"""Files written whole or not at all."""

import contextlib
import os
import tempfile
from pathlib import Path


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


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
