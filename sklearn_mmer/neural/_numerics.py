"""Floating-point settings for training recurrent networks on long sequences.

Back-propagating through a few hundred GRU steps shrinks the gradients of the
early steps geometrically, down to float32's subnormal ("denormal") range below
1.2e-38 (9% of the input gradients of a GRU read from its last state after 600
frames, in one measurement). Many x86 CPUs compute on subnormal numbers in
microcode, tens of times slower than on normal ones; the report that led here
measured a GRU over 600 frames at 68 s, 57 s of it in the backward pass, and
2.3 s with subnormals flushed. Other CPUs take no such penalty (on the
project's 2-core CI machine flushing changes nothing measurable:
``benchmarks/bench_sequence.py --part long``). Values that small change no
weight update in float32, so flushing them to zero loses nothing the optimiser
would use, wherever it runs.
"""

from contextlib import contextmanager

import torch


def denormals_flushed():
    """Whether this thread's CPU flushes subnormal float32 numbers to zero now."""
    subnormal = torch.tensor([1e-39], dtype=torch.float32)
    return bool((subnormal * 1.0).item() == 0.0)


@contextmanager
def flush_denormals():
    """Flush subnormal numbers to zero inside the block, then restore the setting.

    Does nothing where the CPU cannot flush them (``torch.set_flush_denormal``
    returns False there) or where they are flushed already; afterwards the
    caller's setting is back as it was.

    Examples
    --------
    >>> from sklearn_mmer.neural._numerics import denormals_flushed, flush_denormals
    >>> before = denormals_flushed()
    >>> with flush_denormals():
    ...     pass
    >>> denormals_flushed() == before
    True
    """
    if denormals_flushed() or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
