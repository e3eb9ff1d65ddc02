"""Repository-wide pytest setup, for the test suite and the doctests alike."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Train the tests' tiny networks on one thread.

    Their layers are far too small to gain from a second thread, and on a busy
    2-core machine a parallel region waits for a descheduled thread at every
    layer: one thread made a tiny GRU fit 60x faster there.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
