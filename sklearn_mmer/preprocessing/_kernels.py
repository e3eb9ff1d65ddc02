"""Compiled reductions of one ``(T, d)`` frame sequence over time.

Pooling a corpus calls these once per utterance. Each reads the frames row by
row (four rows per step, so the ``d`` accumulators are loaded and stored once
per four frames) and writes its result straight into the caller's output row.
NumPy would need one call per statistic and, for the standard deviation, a
temporary array of squares; here the mean and the standard deviation take one
pass (two for the rare sequence whose one-pass variance could cancel digits,
the second over frames still in cache from the first).

Every kernel expects a C-contiguous ``(T, d)`` float32 or float64 array with
``T >= 1`` and output rows of the same dtype; the callers in ``_pooling.py``
ensure it. NaN or inf in the frames makes the output non-finite (the callers
rely on it to report bad frames).
"""

import numpy as np
from numba import njit


def _jit(function):
    # cache the machine code on disk so that each new process (test runs,
    # joblib workers) does not compile again; where no cache folder is
    # writable numba refuses cache=True, and the kernels compile per process
    try:
        return njit(nogil=True, cache=True)(function)
    except RuntimeError:  # pragma: no cover - depends on the file system
        return njit(nogil=True)(function)


@_jit
def sum_rows(x, out):
    """Set ``out`` to the sum of the rows of ``x``."""
    n_rows, width = x.shape
    out[:] = x[0]
    i = 1
    while i + 3 < n_rows:
        a, b, c, e = x[i], x[i + 1], x[i + 2], x[i + 3]
        for j in range(width):
            out[j] += (a[j] + b[j]) + (c[j] + e[j])
        i += 4
    while i < n_rows:
        a = x[i]
        for j in range(width):
            out[j] += a[j]
        i += 1


@_jit
def mean_rows(x, out):
    """Set ``out`` to the mean of the rows of ``x``."""
    sum_rows(x, out)
    scale = 1.0 / x.shape[0]
    for j in range(x.shape[1]):
        out[j] *= scale


# above this ratio of (mean - first frame)^2 to the variance, the shifted sums
# of mean_std_rows may lose digits and the variance is recomputed in two passes
CANCELLATION_RATIO = 100.0


@_jit
def std_rows(x, mean, std):
    """Set ``std`` to the population standard deviation of the rows of ``x``.

    ``mean`` holds their mean: this is the second pass of the two-pass formula
    (as ``numpy.std``), exact however far the frames lie from zero.
    """
    n_rows, width = x.shape
    std[:] = 0.0
    i = 0
    while i + 3 < n_rows:
        a, b, c, e = x[i], x[i + 1], x[i + 2], x[i + 3]
        for j in range(width):
            m = mean[j]
            u, v, w, z = a[j] - m, b[j] - m, c[j] - m, e[j] - m
            std[j] += (u * u + v * v) + (w * w + z * z)
        i += 4
    while i < n_rows:
        a = x[i]
        for j in range(width):
            u = a[j] - mean[j]
            std[j] += u * u
        i += 1
    scale = 1.0 / n_rows
    for j in range(width):
        std[j] = np.sqrt(std[j] * scale)


@_jit
def mean_std_rows(x, mean, std, shifted):
    """Set ``mean`` and ``std`` to the mean and population standard deviation.

    One pass over the frames sums ``x`` (for the mean) and ``u = x - x[0]`` and
    ``u^2`` (for the variance, ``E[u^2] - E[u]^2``) into ``mean``, ``shifted``
    and ``std``. Shifting by the first frame keeps the variance from
    cancelling: ``(mean - x[0])^2`` can exceed the variance at most ``T``
    times and is usually about equal to it. A row where it exceeds it more
    than ``CANCELLATION_RATIO`` times in some column is redone in two passes
    (:func:`std_rows`), so the result never loses more than two decimal digits
    to cancellation.
    """
    n_rows, width = x.shape
    x0 = x[0]
    mean[:] = x0
    shifted[:] = 0.0
    std[:] = 0.0
    i = 1
    while i + 3 < n_rows:
        a, b, c, e = x[i], x[i + 1], x[i + 2], x[i + 3]
        for j in range(width):
            s = x0[j]
            mean[j] += (a[j] + b[j]) + (c[j] + e[j])
            u, v, w, z = a[j] - s, b[j] - s, c[j] - s, e[j] - s
            shifted[j] += (u + v) + (w + z)
            std[j] += (u * u + v * v) + (w * w + z * z)
        i += 4
    while i < n_rows:
        a = x[i]
        for j in range(width):
            mean[j] += a[j]
            u = a[j] - x0[j]
            shifted[j] += u
            std[j] += u * u
        i += 1
    scale = 1.0 / n_rows
    unstable = False
    for j in range(width):
        mean[j] *= scale
        shift = shifted[j] * scale
        variance = std[j] * scale - shift * shift
        std[j] = variance
        unstable |= shift * shift > CANCELLATION_RATIO * variance
    if unstable:
        std_rows(x, mean, std)
    else:
        for j in range(width):
            std[j] = np.sqrt(max(std[j], 0.0))


@_jit
def extreme_rows(x, out, scratch, largest):
    """Set ``out`` to the elementwise maximum (``largest``) or minimum of the
    rows of ``x``.

    A column whose frames hold NaN or +-inf comes out NaN (``scratch``, of the
    width of ``x``, collects ``x - x``, which is NaN exactly there), so that
    bad frames are reported even where the extreme itself is finite.
    """
    n_rows, width = x.shape
    out[:] = x[0]
    scratch[:] = 0.0
    for i in range(n_rows):
        a = x[i]
        for j in range(width):
            if largest:
                out[j] = np.maximum(out[j], a[j])
            else:
                out[j] = np.minimum(out[j], a[j])
            scratch[j] += a[j] - a[j]
    for j in range(width):
        out[j] += scratch[j]


# codes of the statistics pool_sequence computes (compile-time constants)
MEAN, STD, MEAN_STD, MAX, MIN, FIRST, LAST = range(7)
# the codes of each pooling method; MEAN_STD fills two blocks, mean then std
METHOD_CODES = {
    "mean": (MEAN,),
    "std": (STD,),
    "stats": (MEAN_STD,),
    "max": (MAX,),
    "min": (MIN,),
    "first": (FIRST,),
    "last": (LAST,),
}


@_jit
def pool_sequence(x, out, row, codes, scratch):
    """Pool the frames ``x`` into ``out[row]``, one block per statistic.

    ``out`` has shape ``(n, k, d)``; ``codes`` says what goes into the blocks,
    in order (``MEAN_STD`` fills two). ``scratch`` holds two spare rows of
    width ``d``. Doing the whole utterance in one call keeps the Python work per
    utterance to one call. Returns whether every pooled value is finite (False
    when the frames hold NaN or inf).
    """
    dest = out[row]
    k = 0
    for code in codes:
        if code == MEAN:
            mean_rows(x, dest[k])
        elif code == STD:
            mean_std_rows(x, scratch[0], dest[k], scratch[1])
        elif code == MEAN_STD:
            mean_std_rows(x, dest[k], dest[k + 1], scratch[0])
            k += 1
        elif code == MAX:
            extreme_rows(x, dest[k], scratch[0], True)
        elif code == MIN:
            extreme_rows(x, dest[k], scratch[0], False)
        elif code == FIRST:
            dest[k, :] = x[0]
        else:
            dest[k, :] = x[x.shape[0] - 1]
        k += 1
    finite = True
    for k in range(dest.shape[0]):
        for j in range(dest.shape[1]):
            finite &= np.isfinite(dest[k, j])
    return finite
