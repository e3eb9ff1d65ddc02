"""The model file: a zip of named members, listed with checksums in a manifest.

Writing stores every member uncompressed beside ``manifest.json``, which lists
each member's size and SHA-256. Reading opens the zip read-only and, before
reading a member, checks what it declares against the limits of
:class:`~._limits.ReadBudget`; it then reads each member into memory (nothing
is ever extracted to disk) and refuses, with a :class:`ModelFileError`: a file
that is not a zip or is truncated, a missing, malformed or too deep manifest, a
format version this release cannot read, a member that is missing, extra,
listed twice, of another size or checksum than listed, any member holding a
pickle (a pickle stream, a ``.pkl`` name, or a NumPy object array), a ``.npy``
or safetensors header declaring more than its member holds, and any zip nested
in a member other than the skops payload, or nested in the payload.
"""

import hashlib
import json
import pickletools
import zipfile
from io import BytesIO

from ._errors import ModelFileError
from ._limits import (
    MAX_JSON_BYTES,
    ReadBudget,
    check_npy,
    check_safetensors,
    read_json,
)

MANIFEST = "manifest.json"
#: the skops payload: the one member that is a zip itself
SKELETON = "skeleton.skops"
FORMAT_NAME = "sklearn-mmer model"
#: bumped when a change makes older readers misread new files
FORMAT_VERSION = 1
#: larger members are checked for protocol 2+ pickles only
_DISASSEMBLE_AT_MOST = 1 << 20
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth")
_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
#: what zipfile raises on a damaged archive (a damaged header can also claim a
#: zip version or feature it does not implement)
DAMAGED_ZIP = (zipfile.BadZipFile, EOFError, NotImplementedError)
# the manifest's optional fields and the JSON types each may hold
_MANIFEST_FIELDS = {
    "versions": (dict,),
    "estimator": (str,),
    "method": (str,),
    "classes": (list,),
    "modalities": (dict,),
    "n_samples": (int,),
    "n_features": (int,),
    "fingerprint": (str,),
    "networks": (dict,),
    "recipe": (dict,),
}


def write_container(path, manifest, members):
    """Write ``members`` (name -> bytes) and the manifest to a zip at ``path``.

    The manifest gains ``format``, ``format_version`` and ``members`` (each
    member's size and SHA-256). The zip is written to a temporary sibling
    first and moved into place, so an interrupted save leaves no half file;
    the sibling is removed whatever stops the save.
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
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
            for name, data in members.items():
                archive.writestr(name, data)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def read_container(path, budget):
    """The checked manifest and members (name -> bytes) of a model file.

    Parameters
    ----------
    path : path-like
        The model file.
    budget : ReadBudget
        The limits on what its members may expand to.
    """
    try:
        with zipfile.ZipFile(path, "r") as archive:
            infos = archive.infolist()
            _refuse_doubles(path, infos)
            if MANIFEST not in {info.filename for info in infos}:
                raise ModelFileError(
                    f"{path}: no {MANIFEST}; not an sklearn-mmer model file, "
                    "or a truncated one"
                )
            budget.check_zip(infos)
            manifest = _parse_manifest(path, archive.read(MANIFEST))
            listed = manifest["members"]
            present = {info.filename for info in infos} - {MANIFEST}
            _check_names(path, present, set(listed))
            members = {}
            for info in infos:
                if info.filename == MANIFEST:
                    continue
                if info.file_size != listed[info.filename]["size"]:
                    raise _tampered(path, info.filename, "size")
                members[info.filename] = archive.read(info)
    except DAMAGED_ZIP as error:
        raise ModelFileError(
            f"{path}: not a readable model file, or truncated or damaged ({error})"
        ) from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error})") from None
    for name, data in members.items():
        if hashlib.sha256(data).hexdigest() != listed[name]["sha256"]:
            raise _tampered(path, name, "SHA-256 checksum")
        check_member(path, name, data, budget)
    return manifest, members


def read_manifest_only(path):
    """The manifest of a model file, checked for format, version and types."""
    try:
        with zipfile.ZipFile(path, "r") as archive:
            info = archive.getinfo(MANIFEST)
            ReadBudget(path, MAX_JSON_BYTES, MAX_JSON_BYTES).check_zip([info])
            return _parse_manifest(path, archive.read(info))
    except KeyError:
        raise ModelFileError(
            f"{path}: no {MANIFEST}; not an sklearn-mmer model file, or a truncated one"
        ) from None
    except DAMAGED_ZIP as error:
        raise ModelFileError(
            f"{path}: not a readable model file, or truncated or damaged ({error})"
        ) from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error})") from None


def _parse_manifest(path, data):
    manifest = read_json(path, MANIFEST, data)
    if manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not an sklearn-mmer model file")
    version = manifest.get("format_version")
    if not _is_int(version):
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
    members = manifest.get("members")
    if not isinstance(members, dict):
        raise ModelFileError(f"{path}: {MANIFEST} lists no members")
    for name, entry in members.items():
        if not (
            isinstance(entry, dict)
            and _is_int(entry.get("size"))
            and isinstance(entry.get("sha256"), str)
        ):
            raise ModelFileError(
                f"{path}: {MANIFEST} lists member {name!r} without an int size "
                "and a SHA-256 string (the file is damaged or was altered)"
            )
    for field, types in _MANIFEST_FIELDS.items():
        value = manifest.get(field)
        if value is not None and not (
            isinstance(value, types) and (int not in types or _is_int(value))
        ):
            raise ModelFileError(
                f"{path}: {MANIFEST} field {field!r} holds a JSON "
                f"{type(value).__name__}, not a {types[0].__name__} (the file is "
                "damaged or was altered)"
            )
    modalities = manifest.get("modalities") or {}
    if not all(_is_int(width) for width in modalities.values()):
        raise ModelFileError(
            f"{path}: {MANIFEST} field 'modalities' must map each modality to "
            "an int feature width"
        )
    return manifest


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_doubles(path, infos, prefix=""):
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        doubled = sorted({n for n in names if names.count(n) > 1})
        raise ModelFileError(f"{path}: member {prefix + doubled[0]!r} appears twice")


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


def check_member(path, name, data, budget, nested=False):
    """Refuse member ``name`` when it holds a pickle or declares more than it holds.

    The skops payload (:data:`SKELETON`) is the one member that may be a zip:
    its members are checked in turn, against the same ``budget``, and may not
    be zips themselves. Any other zip is refused, naming a pickle inside it
    when there is one (a ``torch.save`` file is a zip of pickles).
    """
    if name.lower().endswith(_PICKLE_SUFFIXES) or _is_pickle_stream(data):
        raise _holds_pickle(path, name)
    if data[:4] == _ZIP_MAGIC:
        _check_zip_member(path, name, data, budget, nested)
    elif data[:6] == _NPY_MAGIC:
        check_npy(path, name, data)
    elif name.endswith(".safetensors"):
        check_safetensors(path, name, data)


def _check_zip_member(path, name, data, budget, nested):
    try:
        with zipfile.ZipFile(BytesIO(data)) as inner:
            infos = inner.infolist()
            pickles = [
                i.filename
                for i in infos
                if i.filename.lower().endswith(_PICKLE_SUFFIXES)
            ]
            if pickles:
                raise _holds_pickle(path, f"{name}/{pickles[0]}")
            if nested or name != SKELETON:
                raise ModelFileError(
                    f"{path}: member {name!r} is a zip archive; a model file "
                    f"nests one zip only, its {SKELETON} payload"
                )
            _refuse_doubles(path, infos, prefix=f"{name}/")
            budget.check_zip(infos, prefix=f"{name}/")
            for info in infos:
                check_member(
                    path, f"{name}/{info.filename}", inner.read(info), budget, True
                )
    except DAMAGED_ZIP as error:
        raise ModelFileError(
            f"{path}: member {name!r} is a damaged zip payload ({error})"
        ) from None


def _holds_pickle(path, name):
    return ModelFileError(
        f"{path}: member {name!r} holds a pickle; sklearn-mmer never "
        "unpickles, so the file is refused"
    )


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
