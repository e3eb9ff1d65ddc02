"""The threads a fit computes with, fixed so that results do not depend on
where the fit runs.

Floating-point sums in torch and the BLAS libraries are split among their
threads, and the order of the partial sums changes the last bits of the result
(which then grow over the epochs of a network's training). A fit's arithmetic
therefore depends on how many threads it has. If that number followed the
number of fits run at a time (``n_jobs``, or a Dask cluster's workers), the same
seed would give other scores with another ``n_jobs``. Every fit a comparison,
``mmer fit`` or a tuned method's inner search runs is therefore given the same
number of threads, :data:`DEFAULT_THREADS` unless the user asks for another.
"""

import numbers
import sys
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

#: threads of each fit unless ``n_threads`` / ``--threads`` says otherwise
DEFAULT_THREADS = 1


def check_n_threads(n_threads):
    """``n_threads`` as an int (or None), or a ValueError naming it.

    Parameters
    ----------
    n_threads : int or None
        Threads each fit may use; None leaves every process's own settings
        (torch's and the BLAS libraries' defaults, which follow the CPU cores
        and the parallel backend), so that results may depend on where each fit
        runs.

    Returns
    -------
    n_threads : int or None
    """
    if n_threads is None:
        return None
    if (
        not isinstance(n_threads, numbers.Integral)
        or isinstance(n_threads, bool)
        or n_threads < 1
    ):
        raise ValueError(
            f"n_threads must be a positive int (or None to leave each process's "
            f"own thread settings); got {n_threads!r}"
        )
    return int(n_threads)


@contextmanager
def fit_threads(n_threads):
    """Inside: torch and the BLAS/OpenMP pools use ``n_threads`` threads.

    Parameters
    ----------
    n_threads : int or None
        None changes nothing.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.utils._threads import fit_threads
    >>> before = torch.get_num_threads()
    >>> with fit_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    # torch is set only where it is imported: every estimator that trains a
    # network imported it with its module, before its fit starts
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(before)
