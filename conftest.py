"""Repository-wide pytest setup, for the test suite and the doctests alike."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """Train the tests' tiny networks and fit their tiny models on one thread.

    Their layers and matrices are far too small to gain from a second thread,
    and on a busy 2-core machine a parallel region waits for a descheduled
    thread at every step: one thread made a tiny GRU fit 60x faster there, and
    scikit-learn's checks of a logistic regression (whose solver calls BLAS at
    every iteration) 5x faster. A fit given ``n_threads`` sets its own limits,
    as in use; worker processes start with their own.
    """
    # imported here, not at the top: under pytest-xdist this file is also
    # read by the controlling process, which runs no test and should start
    # its workers without first importing torch
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1, user_api="blas"):
        yield
    torch.set_num_threads(threads)


#: Test modules that start processes (loky workers, Dask clusters, servers,
#: ``mmer`` runs): the slowest tests of the suite.
RUN_FIRST = {
    "test_checkpoint",
    "test_cli_runs",
    "test_dask",
    "test_processes",
    "test_serving",
    "test_cli",
    "test_cli_flags",
    "test_cli_extract",
    "test_cross_corpus_runs",
    "test_compare",
}


def pytest_collection_modifyitems(config, items):
    """Collect the modules that start processes first.

    Under pytest-xdist (``-n 2 --dist worksteal``, pyproject.toml's default),
    a slow test begun last leaves the other worker idle at the end of the run;
    begun first, the other worker's short tests fill the time beside it.
    """
    items.sort(key=lambda item: item.path.stem not in RUN_FIRST)
