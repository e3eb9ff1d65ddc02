"""Measuring untrusted input before reading it: sizes in words, JSON nesting.

A file from elsewhere (a model file, a checkpoint, a corpus) can be made to cost
far more to read than it weighs: JSON nested 100,000 levels deep ends
:func:`json.loads` in a ``RecursionError``, and everything built from it
recurses again. :func:`json_depth` measures the nesting without recursion, in
one linear pass, so that a reader can refuse such a file with a clear error
before parsing it.
"""

import re

import numpy as np

# a JSON string, escapes included (the unrolled form never backtracks)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_CHUNK = 1 << 20


def format_size(n):
    """``n`` bytes in words, such as ``"1.5 GiB (1610612736 bytes)"``.

    Examples
    --------
    >>> from sklearn_mmer.utils._limits import format_size
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
    >>> from sklearn_mmer.utils._limits import json_depth
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
