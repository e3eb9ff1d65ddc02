"""Reading feature files safely: paths kept inside the corpus root, no unpickling,
archives read in place within size limits."""

import io
import math
import os
import posixpath
import stat
import zipfile
import zlib
from pathlib import Path, PureWindowsPath

import numpy as np
import pandas as pd

from ._limits import SizeBudget, refuse_archive

CSV_NAME = "dataset.csv"
UNPICKLING = "needs unpickling (refused: allow_pickle=False)"
_NPY_MAGIC = b"\x93NUMPY"
# what reading a file or a zip member can raise besides our own checks:
# unreadable bytes, a bad CRC, an encrypted or unsupported zip member
_IO_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
)


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


def _check_shape(shape, where):
    """The checks of :func:`_as_frames` on a declared shape, before any memory
    is taken for it."""
    if len(shape) not in (1, 2):
        raise Fault("bad shape", f"{shape} is neither (T, d) nor (d,): {where}")
    if 0 in shape:
        raise Fault("empty sequence", f"shape {shape}: {where}")


def _check_magic(start, where):
    if start[: len(_NPY_MAGIC)] == _NPY_MAGIC and len(start) == 8:
        return
    if not start:
        raise Fault("unreadable .npy", f"empty file: {where}")
    if start.startswith(b"\x80"):
        raise Fault(UNPICKLING, f"a pickle, not a .npy file: {where}")
    if start.startswith(b"PK"):
        raise Fault("not a .npy file", f"a zip or .npz archive: {where}")
    if start.startswith(_NPY_MAGIC):
        raise Fault("unreadable .npy", f"truncated header: {where}")
    raise Fault("not a .npy file", f"no NumPy header: {where}")


def _read_header(handle, where):
    """``(shape, fortran_order, dtype)`` of a ``.npy``, through public numpy."""
    start = handle.read(len(_NPY_MAGIC) + 2)
    _check_magic(start, where)
    version = (start[-2], start[-1])
    try:
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(handle)
        if version in ((2, 0), (3, 0)):  # 3.0 only widens the header's encoding
            return np.lib.format.read_array_header_2_0(handle)
        raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, SyntaxError) as exc:
        raise Fault("unreadable .npy", f"{exc}: {where}") from None


def _read_npy(handle, where, size, budget):
    """Read one ``.npy`` array from a counted binary stream, never unpickling.

    The header's shape is checked against the file's size and the size limits
    before any memory is taken for the frames.
    """
    shape, fortran_order, dtype = _read_header(handle, where)
    if dtype.hasobject:
        raise Fault(UNPICKLING, f"an object array: {where}")
    # the header's shape is only a claim: an empty dimension beside a huge one
    # declares no bytes, but numpy refuses to shape even an empty array so
    _check_shape(shape, where)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if size is not None and handle.count + nbytes > size:
        raise Fault(
            "unreadable .npy",
            f"truncated: its header declares {nbytes} bytes of frames, the file "
            f"holds {max(size - handle.count, 0)}: {where}",
        )
    budget.check(nbytes, where)
    try:
        array = np.empty(count, dtype=dtype)
    except (MemoryError, ValueError):
        # a zip member may declare a size it does not hold, with no limit set
        raise Fault(
            "unreadable .npy",
            f"its header declares {nbytes} bytes of frames, more than this machine "
            f"can hold: {where}",
        ) from None
    buffer = memoryview(array.view(np.uint8))
    got = 0
    while got < nbytes:
        n = handle.readinto(buffer[got:])
        if not n:
            raise Fault(
                "unreadable .npy",
                f"truncated: {got} of {nbytes} bytes of frames: {where}",
            )
        got += n
    if fortran_order:
        array = array.reshape(shape[::-1]).transpose()
    else:
        array = array.reshape(shape)
    return _as_frames(array, where)


class _Counted(io.RawIOBase):
    """A read-only stream that charges every byte it delivers to a budget.

    Zip headers can lie about sizes, so the limits are enforced on the bytes
    actually read, not only on the sizes declared.
    """

    def __init__(self, handle, budget, where):
        self.handle, self.budget, self.where = handle, budget, where
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.handle.readinto(buffer)
        self.count += n
        self.budget.charge(n, self.count, self.where)
        return n


def _read_file(opener, where, size, budget):
    """Open a file (or archive member) and read it; I/O errors become faults."""
    try:
        with opener() as handle:
            return _read_npy(_Counted(handle, budget, where), where, size, budget)
    except _IO_ERRORS as exc:
        raise Fault(
            "unreadable .npy", f"{type(exc).__name__}: {exc}: {where}"
        ) from None


def _read_table(opener, where, budget, **kwargs):
    """``dataset.csv`` as a DataFrame: never decompressed by a guess of pandas."""
    try:
        with opener() as handle:
            stream = io.BufferedReader(_Counted(handle, budget, where))
            return pd.read_csv(stream, compression=None, **kwargs)
    except (*_IO_ERRORS, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(
            f"{where} is not a readable {CSV_NAME}: {type(exc).__name__}: {exc}"
        ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{where} is empty; {CSV_NAME} needs a header line") from None


class FolderSource:
    """A corpus in a folder: files under the folder that holds ``dataset.csv``.

    Files in a folder are not decompressed, so no size limit applies to them.
    """

    def __init__(self, csv_path):
        self.csv_path = Path(csv_path)
        refuse_archive(self.csv_path)
        parent = self.csv_path.parent
        self.root = os.path.realpath(parent)
        # absolute paths of this machine are compared with the root as a CSV
        # may spell it: through links (realpath) or not (abspath)
        self.bases = {self.root, os.path.abspath(parent)}
        self.budget = SizeBudget(None, None)

    def read_csv(self, **kwargs):
        return _read_table(
            lambda: open(self.csv_path, "rb"), str(self.csv_path), self.budget, **kwargs
        )

    def _inside(self, path, base=None):
        base = self.root if base is None else base
        return os.path.commonpath([base, path]) == base

    def locate(self, cell):
        """The real path of the file a cell names, or a Fault.

        A path outside the root is reported exactly as a missing file, so that
        a corpus cannot probe which files exist on this machine.
        """
        relative = _relative_path(cell)
        candidate = os.path.join(self.root, relative)
        text = cell.strip()
        if os.path.isabs(text) and not os.path.isfile(candidate):
            # an absolute path of this machine is accepted when it is in the root
            absolute = os.path.normpath(text)
            for base in self.bases:
                if self._inside(absolute, base):
                    candidate = os.path.join(self.root, os.path.relpath(absolute, base))
                    break
        resolved = os.path.realpath(candidate)
        if not self._inside(resolved):
            raise Fault("path escapes the corpus root", f"{text} (through a link)")
        if not os.path.isfile(resolved):
            raise Fault("file not found", os.path.join(self.root, relative))
        return resolved

    def load(self, location):
        return _read_file(
            lambda: open(location, "rb"),
            location,
            os.path.getsize(location),
            self.budget,
        )

    def check_declared(self, cells):
        pass  # files in a folder are not decompressed: no limit applies

    def close(self):
        pass


class ZipSource:
    """A corpus in a ``.zip``, read member by member, never extracted."""

    def __init__(self, zip_path, budget):
        self.zip_path = str(zip_path)
        self.budget = budget
        try:
            self.archive = zipfile.ZipFile(zip_path)
            names = self.archive.namelist()
        except (*_IO_ERRORS, ValueError) as exc:
            raise ValueError(
                f"path={self.zip_path!r} is not a readable .zip archive "
                f"({type(exc).__name__}: {exc}); check the file, or give the "
                f"folder holding {CSV_NAME}"
            ) from None
        candidates = [
            name
            for name in names
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
        info = self.archive.getinfo(self.csv_member)
        where = f"{self.zip_path}:{self.csv_member}"
        self.budget.check(info.file_size, where)
        return _read_table(
            lambda: self.archive.open(info), where, self.budget, **kwargs
        )

    def locate(self, cell):
        """The member a cell names, or a Fault."""
        relative = _relative_path(cell)
        member = posixpath.join(self.prefix, relative) if self.prefix else relative
        try:
            return self.archive.getinfo(member)
        except KeyError:
            raise Fault("file not found", f"{self.zip_path}:{member}") from None

    def load(self, info):
        return _read_file(
            lambda: self.archive.open(info),
            f"{self.zip_path}:{info.filename}",
            info.file_size,
            self.budget,
        )

    def check_declared(self, cells):
        """Check the sizes the zip declares for the members cells name, unread."""
        sizes = []
        for cell in cells:
            try:
                info = self.locate(cell)
            except Fault:
                continue  # reported, with its row, when the file is read
            sizes.append((info.file_size, f"{self.zip_path}:{info.filename}"))
        self.budget.check_declared(sizes)

    def close(self):
        self.archive.close()


def _refuse_special(path):
    """Refuse a named pipe, device or socket: reading one may never end."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = (
        "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
    )
    raise ValueError(
        f"path={os.fspath(path)!r} is {kind}, not a file or folder; give a "
        f"folder holding {CSV_NAME}, the CSV itself or a .zip holding both"
    )


def open_source(path, *, max_member_bytes=None, max_total_bytes=None):
    """The folder or ``.zip`` a corpus path names; archives of other kinds refused."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"path={os.fspath(path)!r} does not exist; give a folder holding "
            f"{CSV_NAME}, the CSV itself or a .zip holding both"
        )
    _refuse_special(path)
    if os.path.isdir(path):
        csv_path = Path(path) / CSV_NAME
        if csv_path.exists():
            _refuse_special(csv_path)
        if not csv_path.is_file():
            raise ValueError(
                f"path={os.fspath(path)!r} is a folder without {CSV_NAME}; give the "
                "folder that holds it, the CSV itself or a .zip holding both"
            )
        return FolderSource(csv_path)
    if zipfile.is_zipfile(path):
        return ZipSource(path, SizeBudget(max_member_bytes, max_total_bytes))
    return FolderSource(path)
