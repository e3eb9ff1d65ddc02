"""Repository-wide pytest setup, for the test suite and the doctests alike."""

import pytest
import torch
from threadpoolctl import threadpool_limits


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
    """Keep the tests that share a module-scoped fixture on one xdist worker.

    Such a fixture (a Dask cluster, a reference run, a saved model) is built
    once per worker that runs one of its tests: spread over both workers, it
    is built twice. Under ``--dist loadgroup`` (pyproject.toml's default), the
    tests of a module that use one form a group; every other test is
    distributed one by one.
    """
    # the modules whose tests start processes go first: begun last, one of
    # them would leave the other worker idle at the end of the run
    items.sort(key=lambda item: item.path.stem not in RUN_FIRST)
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(
            definition.scope == "module"
            for definitions in info.name2fixturedefs.values()
            for definition in definitions
        )
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
