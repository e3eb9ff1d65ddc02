"""Reading feature files safely: paths kept inside the corpus root, no unpickling."""

import os
import posixpath
import zipfile
import zlib
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd

CSV_NAME = "dataset.csv"
UNPICKLING = "needs unpickling (refused: allow_pickle=False)"


class Fault(Exception):
    """One fault of one utterance: ``kind`` for the summary, ``reason`` for users."""

    def __init__(self, kind, detail=""):
        super().__init__(kind)
        self.kind = kind
        self.reason = f"{kind}: {detail}" if detail else kind


def _relative_path(cell):
    """The corpus-relative, normalised POSIX path a CSV cell names.

    A leading ``/`` means the corpus root (the course convention); a path that
    leaves the root once ``..`` are resolved, or that carries a drive letter, is
    a fault.
    """
    text = cell.strip().replace("\\", "/")
    if not text:
        raise Fault("no file named")
    if PureWindowsPath(text).drive:
        raise Fault("path escapes the corpus root", text)
    relative = posixpath.normpath(text.lstrip("/"))
    if relative == ".." or relative.startswith("../") or relative == ".":
        raise Fault("path escapes the corpus root", text)
    return relative


_NPY_MAGIC = b"\x93NUMPY"


def _as_frames(array, where):
    """Check a loaded array and return it as float32 ``(T, d)`` or ``(d,)``."""
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating)
        or np.issubdtype(array.dtype, np.integer)
    ):
        raise Fault("non-numeric dtype", f"{array.dtype}: {where}")
    if array.ndim not in (1, 2):
        raise Fault("bad shape", f"{array.shape} is neither (T, d) nor (d,): {where}")
    if array.size == 0:
        raise Fault("empty sequence", f"shape {array.shape}: {where}")
    # float64 files get one float32 copy; the original is freed on return
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise Fault("NaN or inf values", where)
    return array


def _read_npy(handle, where):
    """Read one ``.npy`` array from an open binary file, never unpickling."""
    magic = handle.read(len(_NPY_MAGIC))
    handle.seek(0)
    if magic != _NPY_MAGIC:
        if not magic:
            raise Fault("unreadable .npy", f"empty file: {where}")
        if magic.startswith(b"\x80"):
            raise Fault(UNPICKLING, f"a pickle, not a .npy file: {where}")
        if magic.startswith(b"PK"):
            raise Fault("not a .npy file", f"a zip or .npz archive: {where}")
        raise Fault("not a .npy file", f"no NumPy header: {where}")
    try:
        array = np.lib.format.read_array(handle, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise Fault(UNPICKLING, f"an object array: {where}") from None
        raise Fault("unreadable .npy", f"{exc}: {where}") from None
    except (OSError, EOFError, MemoryError) as exc:
        raise Fault(
            "unreadable .npy", f"{type(exc).__name__}: {exc}: {where}"
        ) from None
    return _as_frames(array, where)


def _read_file(opener, where):
    """Open a file (or archive member) and read it; I/O errors become faults."""
    try:
        with opener() as handle:
            return _read_npy(handle, where)
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        # unreadable bytes, a bad CRC, an encrypted or unsupported zip member
        raise Fault(
            "unreadable .npy", f"{type(exc).__name__}: {exc}: {where}"
        ) from None


class FolderSource:
    """A corpus in a folder: files under the folder that holds ``dataset.csv``."""

    def __init__(self, csv_path):
        self.csv_path = Path(csv_path)
        self.root = os.path.realpath(self.csv_path.parent)

    def read_csv(self, **kwargs):
        return pd.read_csv(self.csv_path, **kwargs)

    def _inside(self, path):
        return os.path.commonpath([self.root, path]) == self.root

    def load(self, cell):
        relative = _relative_path(cell)
        candidate = os.path.realpath(os.path.join(self.root, relative))
        if not os.path.isfile(candidate) and os.path.isabs(cell.strip()):
            # an absolute path of this machine is accepted when it is in the root
            absolute = os.path.realpath(cell.strip())
            if os.path.isfile(absolute):
                if not self._inside(absolute):
                    raise Fault("path escapes the corpus root", cell.strip())
                candidate = absolute
        if not self._inside(candidate):
            raise Fault(
                "path escapes the corpus root", f"{cell.strip()} (through a link)"
            )
        if not os.path.isfile(candidate):
            raise Fault("file not found", os.path.join(self.root, relative))
        return _read_file(lambda: open(candidate, "rb"), candidate)

    def close(self):
        pass


class ZipSource:
    """A corpus in a ``.zip``, read member by member, never extracted."""

    def __init__(self, zip_path):
        self.zip_path = str(zip_path)
        self.archive = zipfile.ZipFile(zip_path)
        candidates = [
            name
            for name in self.archive.namelist()
            if posixpath.basename(name) == CSV_NAME and not name.startswith("__MACOSX")
        ]
        if not candidates:
            self.archive.close()
            raise ValueError(f"path={self.zip_path!r}: the .zip holds no {CSV_NAME}")
        depth = min(name.count("/") for name in candidates)
        shallowest = [name for name in candidates if name.count("/") == depth]
        if len(shallowest) > 1:
            self.archive.close()
            raise ValueError(
                f"path={self.zip_path!r}: the .zip holds several {CSV_NAME} "
                f"({', '.join(shallowest)}); zip one corpus at a time"
            )
        self.csv_member = shallowest[0]
        self.prefix = posixpath.dirname(self.csv_member)

    def read_csv(self, **kwargs):
        with self.archive.open(self.csv_member) as handle:
            return pd.read_csv(handle, **kwargs)

    def load(self, cell):
        relative = _relative_path(cell)
        member = posixpath.join(self.prefix, relative) if self.prefix else relative
        where = f"{self.zip_path}:{member}"
        try:
            info = self.archive.getinfo(member)
        except KeyError:
            raise Fault("file not found", where) from None
        return _read_file(lambda: self.archive.open(info), where)

    def close(self):
        self.archive.close()


def open_source(path):
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"path={os.fspath(path)!r} does not exist; give a folder holding "
            f"{CSV_NAME}, the CSV itself or a .zip holding both"
        )
    if os.path.isdir(path):
        csv_path = Path(path) / CSV_NAME
        if not csv_path.is_file():
            raise ValueError(
                f"path={os.fspath(path)!r} is a folder without {CSV_NAME}; give the "
                "folder that holds it, the CSV itself or a .zip holding both"
            )
        return FolderSource(csv_path)
    if zipfile.is_zipfile(path):
        return ZipSource(path)
    return FolderSource(path)
