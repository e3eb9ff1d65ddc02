"""Shared fixtures: tiny corpora with speakers, generated in memory.

Only fixtures live here; the helpers the tests import (corpora, small models,
the in-process ``mmer`` runner) are in :mod:`sklearn_mmer._testing`.
"""

import pytest

# torch, NumPy and the package are imported by the fixtures, not here: under
# pytest-xdist this file is also read by the controlling process, which runs
# no test, and the seconds it would spend importing them come before either
# worker starts


@pytest.fixture(scope="module")
def acoustic_corpus():
    """Like ``tiny_corpus``, but the label is in the acoustic frame sequences."""
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(informative=("acoustic",))


@pytest.fixture
def tiny_corpus():
    """160 utterances, 6 speakers; only ``lexical`` carries the label."""
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus()


@pytest.fixture(autouse=True)
def _seed():
    """Seed the global RNGs so that tests relying on them stay repeatable."""
    import numpy as np
    import torch

    np.random.seed(0)
    # the CPU's generator, where the tests run: torch.manual_seed would also
    # queue the seed for every accelerator, formatting the call stack to do so
    torch.default_generator.manual_seed(0)


def pytest_configure(config):
    """Collect cyclic garbage ten times less often than Python's default.

    A test process holds torch, scikit-learn and pandas: every full pass of
    the collector walks all of their objects (0.15-0.3 s here), and with the
    default thresholds imports and fits set off one every few seconds. The
    passes still come, and free the same cycles; only less often.
    """
    import gc

    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0 * 10, gen1, gen2)
