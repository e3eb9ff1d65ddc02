"""The model file: a zip of named members, listed with checksums in a manifest.

Writing stores every member uncompressed beside ``manifest.json``, which lists
each member's size and SHA-256. Reading opens the zip read-only, reads each
member into memory (nothing is ever extracted to disk) and refuses, with a
:class:`ModelFileError`: a file that is not a zip or is truncated, a missing or
unreadable manifest, a format version this release cannot read, a member that
is missing, extra, listed twice, of another size or checksum than listed, and
any member holding a pickle (a pickle stream, a ``.pkl`` name, or a NumPy
object array), including inside a nested zip such as a skops payload.
"""

import hashlib
import io
import json
import pickletools
import zipfile

from ._errors import ModelFileError

MANIFEST = "manifest.json"
FORMAT_NAME = "sklearn-mmer model"
#: bumped when a change makes older readers misread new files
FORMAT_VERSION = 1
#: larger members are checked for protocol 2+ pickles only
_DISASSEMBLE_AT_MOST = 1 << 20
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth")


def write_container(path, manifest, members):
    """Write ``members`` (name -> bytes) and the manifest to a zip at ``path``.

    The manifest gains ``format``, ``format_version`` and ``members`` (each
    member's size and SHA-256). The zip is written to a temporary sibling
    first and moved into place, so an interrupted save leaves no half file.
    """
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        **manifest,
        "members": {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in members.items()
        },
    }
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        for name, data in members.items():
            archive.writestr(name, data)
    partial.replace(path)
    return manifest


def read_container(path):
    """The checked manifest and members (name -> bytes) of a model file."""
    try:
        with zipfile.ZipFile(path, "r") as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            doubled = sorted({n for n in names if names.count(n) > 1})
            if doubled:
                raise ModelFileError(f"{path}: member {doubled[0]!r} appears twice")
            if MANIFEST not in names:
                raise ModelFileError(
                    f"{path}: no {MANIFEST}; not an sklearn-mmer model file, "
                    "or a truncated one"
                )
            manifest = _parse_manifest(path, archive.read(MANIFEST))
            listed = manifest["members"]
            _check_names(path, set(names) - {MANIFEST}, set(listed))
            members = {}
            for info in infos:
                if info.filename == MANIFEST:
                    continue
                expected = listed[info.filename]
                if info.file_size != expected.get("size"):
                    raise _tampered(path, info.filename, "size")
                members[info.filename] = archive.read(info)
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"{path}: not a readable model file, or truncated or damaged ({error})"
        ) from None
    except (OSError, EOFError) as error:
        raise ModelFileError(f"{path}: cannot be read ({error})") from None
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != listed[name].get("sha256"):
            raise _tampered(path, name, "SHA-256 checksum")
        refuse_pickle(path, name, data)
    return manifest, members


def read_manifest_only(path):
    """The manifest of a model file, checked for format and version only."""
    try:
        with zipfile.ZipFile(path, "r") as archive:
            return _parse_manifest(path, archive.read(MANIFEST))
    except KeyError:
        raise ModelFileError(
            f"{path}: no {MANIFEST}; not an sklearn-mmer model file, or a truncated one"
        ) from None
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            f"{path}: not a readable model file, or truncated or damaged ({error})"
        ) from None


def _parse_manifest(path, data):
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{path}: {MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not an sklearn-mmer model file")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{path}: format_version {version!r} is not an int")
    if version != FORMAT_VERSION:
        newer = version > FORMAT_VERSION
        raise ModelFileError(
            f"{path}: model file format {version}, but this sklearn-mmer reads "
            f"format {FORMAT_VERSION} only; "
            + (
                "upgrade sklearn-mmer to load it"
                if newer
                else "refit and save the model with this release"
            )
        )
    if not isinstance(manifest.get("members"), dict):
        raise ModelFileError(f"{path}: {MANIFEST} lists no members")
    return manifest


def _check_names(path, present, listed):
    extra = sorted(present - listed)
    if extra:
        raise ModelFileError(
            f"{path}: member {extra[0]!r} is not listed in the manifest "
            "(the file was altered)"
        )
    missing = sorted(listed - present)
    if missing:
        raise ModelFileError(
            f"{path}: member {missing[0]!r} listed in the manifest is missing "
            "(the file is truncated or was altered)"
        )


def _tampered(path, name, what):
    return ModelFileError(
        f"{path}: member {name!r} does not match the {what} in the manifest "
        "(the file is damaged or was altered)"
    )


def refuse_pickle(path, name, data, depth=0):
    """Raise when ``data`` (member ``name``) is or holds a pickle."""
    if name.lower().endswith(_PICKLE_SUFFIXES) or _is_pickle_stream(data):
        raise ModelFileError(
            f"{path}: member {name!r} holds a pickle; sklearn-mmer never "
            "unpickles, so the file is refused"
        )
    if name.lower().endswith(".npy") and _is_object_array(data):
        raise ModelFileError(
            f"{path}: member {name!r} is a NumPy object array, which needs "
            "unpickling; the file is refused"
        )
    if data[:4] == b"PK\x03\x04" and depth < 2:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                for info in inner.infolist():
                    refuse_pickle(
                        path, f"{name}/{info.filename}", inner.read(info), depth + 1
                    )
        except zipfile.BadZipFile:
            raise ModelFileError(
                f"{path}: member {name!r} is a damaged zip payload"
            ) from None


def _is_pickle_stream(data):
    """Whether ``data`` is a pickle stream (found by reading, never running, it).

    A pickle of protocol 2 or later starts with PROTO (0x80) and 2..5; one of
    protocol 0 or 1 is found by disassembling it with :mod:`pickletools`,
    which parses opcodes without importing or calling anything.
    """
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    if not data or len(data) > _DISASSEMBLE_AT_MOST or data[-1:] != b".":
        return False
    try:
        last = None
        for last, _, _ in pickletools.genops(data):
            pass
    except Exception:  # not a pickle: genops stops at the first bad opcode
        return False
    return last is not None and last.name == "STOP"


def _is_object_array(data):
    if data[:6] != b"\x93NUMPY":
        return False
    return b"'O'" in data[:256] or b"|O" in data[:256]
