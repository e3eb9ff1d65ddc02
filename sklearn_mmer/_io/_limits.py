"""What reading a model file may cost, checked before anything is read.

A model file is a zip, and one of its members (the skops payload) is a zip too:
a small file can declare members that expand to gigabytes, nest zips, or hold
JSON nested so deeply that parsing it recurses without end. Before a member is
read, :class:`ReadBudget` checks its declared size, the total of the file, how
much it expands and how it is compressed; :func:`read_json` checks a JSON
member's size and nesting before parsing it; :func:`check_npy` and
:func:`check_safetensors` check that the arrays a header declares fit in the
bytes that follow it, so that no array is allocated from a header alone. Each
refusal is a :class:`ModelFileError` naming the member and the limit.
"""

import io
import json
import math
import zipfile

import numpy as np

from ..utils._files import format_size, json_depth
from ._errors import ModelFileError

#: Default ``max_member_bytes`` of :func:`sklearn_mmer.load`: the most one
#: member (network weights, the skops payload...) may expand to.
DEFAULT_MAX_MEMBER_BYTES = 2**31
#: Default ``max_total_bytes``: the most all members together may expand to,
#: the skops payload's own members counted too.
DEFAULT_MAX_TOTAL_BYTES = 2**32
#: How many times a compressed member may expand (``save`` compresses nothing;
#: a file zipped again with deflate expands about 1-20 times).
MAX_EXPANSION = 100
#: Members smaller than this are not held to :data:`MAX_EXPANSION`.
_EXPANSION_FROM = 2**20
#: The most a JSON member (manifest, parameters, skops schema) may weigh.
MAX_JSON_BYTES = 2**26
#: The deepest a JSON member may nest; sklearn-mmer's own files nest about 35
#: deep, and parsing (then skops) recurses once or more per level.
MAX_JSON_DEPTH = 100
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# bytes per element of each safetensors dtype
_SAFETENSORS_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def check_limit(name, value):
    """``value`` of the keyword ``name``: a positive int, or None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int or None; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value!r}")
    return int(value)


class ReadBudget:
    """The bytes a model file may still expand to, per member and in all.

    Parameters
    ----------
    path : path-like
        The model file, for the error messages.
    max_member_bytes, max_total_bytes : int or None
        The limits (None limits nothing).
    """

    def __init__(self, path, max_member_bytes, max_total_bytes):
        self.path = path
        self.max_member_bytes = check_limit("max_member_bytes", max_member_bytes)
        self.max_total_bytes = check_limit("max_total_bytes", max_total_bytes)
        self.used = 0

    def check_zip(self, infos, prefix=""):
        """Refuse, before reading any, members that would cost too much.

        Each member must be stored or deflated, unencrypted, no larger than
        ``max_member_bytes`` and expand at most :data:`MAX_EXPANSION` times;
        together with what was counted before, no larger than
        ``max_total_bytes``. ``prefix`` names the zip the members are in.
        """
        total = self.used
        for info in infos:
            where = f"member {prefix + info.filename!r}"
            if info.flag_bits & 0x1:
                self._refuse(f"{where} is encrypted; model files never are")
            if info.compress_type not in _METHODS:
                self._refuse(
                    f"{where} is compressed with zip method {info.compress_type}; "
                    "model files are stored or deflated only"
                )
            size = info.file_size
            if self.max_member_bytes is not None and size > self.max_member_bytes:
                self._refuse(self._over(where, size, "max_member_bytes"))
            expansion = size / max(info.compress_size, 1)
            if size > _EXPANSION_FROM and expansion > MAX_EXPANSION:
                self._refuse(
                    f"{where} expands {expansion:.0f} times, to {format_size(size)}; "
                    f"a model file's members expand at most {MAX_EXPANSION} times "
                    "(a zip bomb?)"
                )
            total += size
        if self.max_total_bytes is not None and total > self.max_total_bytes:
            what = f"the members of {prefix.rstrip('/')}" if prefix else "its members"
            self._refuse(self._over(what, total, "max_total_bytes"))
        self.used = total

    def _over(self, where, size, limit):
        value = getattr(self, limit)
        return (
            f"{where} would expand to {format_size(size)}, more than "
            f"{limit}={value} ({format_size(value)}); if the file is genuine, "
            f"pass a larger {limit} to sklearn_mmer.load"
        )

    def _refuse(self, message):
        raise ModelFileError(f"{self.path}: {message}")


def read_json(path, name, data, *, mapping=True):
    """Parse JSON member ``name``, refusing it when too large or too deep.

    Parameters
    ----------
    path : path-like
        The model file, for the error messages.
    name : str
        The member's name.
    data : bytes or str
        Its content.
    mapping : bool, default=True
        Whether the member must hold a JSON object (else any JSON value).

    Returns
    -------
    value : dict, list, str, int, float, bool or None
    """
    if len(data) > MAX_JSON_BYTES:
        raise ModelFileError(
            f"{path}: {name} holds {format_size(len(data))} of JSON, more than "
            f"the {format_size(MAX_JSON_BYTES)} a model file's JSON may weigh"
        )
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{path}: {name} nests {depth} levels deep, more than the "
            f"{MAX_JSON_DEPTH} a model file's JSON may (the file is damaged or "
            "was crafted)"
        )
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelFileError(f"{path}: {name} is not valid JSON") from None
    if mapping and not isinstance(value, dict):
        raise ModelFileError(
            f"{path}: {name} holds a JSON {type(value).__name__}, not a JSON object"
        )
    return value


def check_npy(path, name, data):
    """Refuse a ``.npy`` member whose header declares more than it holds.

    The header is parsed by :mod:`numpy.lib.format` (a literal, never
    evaluated), with its size capped; the array it declares must take exactly
    the bytes that follow, so that loading allocates nothing the member does
    not hold. Object arrays (which need unpickling) are refused.
    """
    buffer = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buffer)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(buffer)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(buffer)
        else:
            raise ValueError(f".npy format version {version} is not read")
    except Exception as error:  # numpy raises several kinds on a bad header
        raise ModelFileError(
            f"{path}: member {name!r} is not a readable .npy array ({error})"
        ) from None
    if dtype.hasobject:
        raise ModelFileError(
            f"{path}: member {name!r} is a NumPy object array, which needs "
            "unpickling; the file is refused"
        )
    declared = math.prod(shape) * dtype.itemsize
    held = len(data) - buffer.tell()
    if declared != held:
        raise ModelFileError(
            f"{path}: member {name!r} declares an array of shape {shape} and "
            f"dtype {dtype} ({format_size(declared)}) but holds "
            f"{format_size(held)} (the file is damaged or was crafted)"
        )


def check_safetensors(path, name, data):
    """Refuse a safetensors member whose header declares more than it holds.

    The header (a length, then JSON) must fit in the member, and each tensor's
    shape and dtype must take exactly the bytes its offsets span, inside the
    member.
    """
    if len(data) < 8:
        raise ModelFileError(f"{path}: {name} is too short to be safetensors")
    length = int.from_bytes(data[:8], "little")
    if length > len(data) - 8:
        raise ModelFileError(
            f"{path}: {name} declares a header of {format_size(length)}, more "
            f"than the {format_size(len(data) - 8)} it holds"
        )
    header = read_json(path, name, data[8 : 8 + length])
    body = len(data) - 8 - length
    for tensor, spec in header.items():
        if tensor == "__metadata__":
            continue
        where = f"{path}: {name}: tensor {tensor!r}"
        try:
            dtype, shape = spec["dtype"], spec["shape"]
            begin, end = spec["data_offsets"]
            itemsize = _SAFETENSORS_BYTES[dtype]
            ints = (begin, end, *shape)
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in ints):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{where} has a malformed header entry") from None
        if min(ints, default=0) < 0 or not begin <= end <= body:
            raise ModelFileError(f"{where} lies outside the {name} member")
        declared = math.prod(shape) * itemsize
        if declared != end - begin:
            raise ModelFileError(
                f"{where} declares shape {shape} of {dtype} "
                f"({format_size(declared)}) but spans {format_size(end - begin)}"
            )
