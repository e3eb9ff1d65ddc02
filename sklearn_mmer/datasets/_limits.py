"""Limits on what a corpus may make the loader decompress, and archives it refuses."""

import os

from ..utils._files import format_size

#: Default ``max_member_bytes``: the most one file of a ``.zip`` may expand to.
DEFAULT_MAX_MEMBER_BYTES = 2**30
#: Default ``max_total_bytes``: the most a ``.zip`` corpus may expand to in all.
DEFAULT_MAX_TOTAL_BYTES = 2**34

_DAMAGED_ZIP = "a damaged .zip archive"
# (offset, magic, what it is): formats pandas would guess a compression for,
# or archives a user may take for a corpus; none of them is read
_SIGNATURES = [
    (0, b"\x1f\x8b", "a gzip-compressed file"),
    (4, b"1AY&SY", "a bzip2-compressed file"),
    (0, b"\xfd7zXZ\x00", "an xz-compressed file"),
    (0, b"\x28\xb5\x2f\xfd", "a Zstandard-compressed file"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (0, b"PK\x03\x04", _DAMAGED_ZIP),
    (257, b"ustar\x00", "a tar archive"),
    (257, b"ustar ", "a tar archive"),
]
_SUFFIXES = {
    ".zip": _DAMAGED_ZIP,
    ".gz": "a gzip-compressed file",
    ".tgz": "a gzip-compressed tar archive",
    ".bz2": "a bzip2-compressed file",
    ".tbz2": "a bzip2-compressed tar archive",
    ".xz": "an xz-compressed file",
    ".txz": "an xz-compressed tar archive",
    ".lzma": "an lzma-compressed file",
    ".zst": "a Zstandard-compressed file",
    ".zstd": "a Zstandard-compressed file",
    ".tar": "a tar archive",
    ".7z": "a 7-Zip archive",
    ".rar": "a RAR archive",
}


class SizeLimitError(ValueError):
    """A ``.zip`` corpus expands past ``max_member_bytes`` or ``max_total_bytes``."""


def refuse_archive(path):
    """Raise a ValueError when ``path`` is a compressed file or a non-zip archive.

    Only a plain ``dataset.csv``, a folder or a ``.zip`` is a corpus; anything
    else would reach pandas, which guesses a compression from the suffix.
    """
    with open(path, "rb") as handle:
        start = handle.read(262)
    kind = next(
        (what for at, magic, what in _SIGNATURES if start[at:].startswith(magic)),
        None,
    )
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    kind = kind or _SUFFIXES.get(suffix)
    if kind is None:
        return
    if kind == _DAMAGED_ZIP:
        raise ValueError(
            f"path={os.fspath(path)!r} is {kind}: it has no readable zip directory "
            "(truncated, or not a zip at all); zip the corpus folder again, or "
            "give the folder holding dataset.csv"
        )
    raise ValueError(
        f"path={os.fspath(path)!r} is {kind}, which the loader does not read; "
        "unpack it and give the folder holding dataset.csv, or zip that folder "
        "(a .zip is read in place)"
    )


class SizeBudget:
    """How many uncompressed bytes a corpus may still read, file and total.

    ``None`` limits nothing (files in a folder are not decompressed).
    """

    def __init__(self, max_member_bytes, max_total_bytes):
        self.max_member_bytes = max_member_bytes
        self.max_total_bytes = max_total_bytes
        self.used = 0

    def _refuse(self, where, size, limit, name):
        what = "this file" if name == "max_member_bytes" else "the corpus"
        raise SizeLimitError(
            f"{where}: {what} expands to {format_size(size)}, more than "
            f"{name}={limit} ({format_size(limit)}); if the corpus is genuine, "
            f"raise {name} (mmer: --{name.replace('_', '-')})"
        )

    def check(self, size, where):
        """Refuse a file of ``size`` bytes before it is read."""
        member, total = self.max_member_bytes, self.max_total_bytes
        if member is not None and size > member:
            self._refuse(where, size, member, "max_member_bytes")
        if total is not None and self.used + size > total:
            self._refuse(where, self.used + size, total, "max_total_bytes")

    def check_declared(self, sizes):
        """Refuse a corpus whose declared ``(size, where)`` pairs pass a limit."""
        total = self.used
        for size, where in sizes:
            self.check(size, where)
            total += size
        if self.max_total_bytes is not None and total > self.max_total_bytes:
            where = "the files dataset.csv names"
            self._refuse(where, total, self.max_total_bytes, "max_total_bytes")

    def charge(self, n, member_count, where):
        """Count ``n`` bytes just read (``member_count`` so far of this file)."""
        self.used += n
        member, total = self.max_member_bytes, self.max_total_bytes
        if member is not None and member_count > member:
            self._refuse(where, member_count, member, "max_member_bytes")
        if total is not None and self.used > total:
            self._refuse(where, self.used, total, "max_total_bytes")
