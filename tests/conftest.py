"""Shared fixtures: tiny corpora with speakers, generated in memory."""

import contextlib
import io

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from sklearn_mmer.neural import SequenceClassifier

EMOTIONS = np.array(["anger", "sadness", "happiness", "neutral"])


def make_tiny_corpus(
    n_utterances=160,
    n_speakers=6,
    widths=(("visual", 12), ("acoustic", 6), ("lexical", 8)),
    informative=("lexical",),
    signal=2.0,
    seed=0,
):
    """A small DataFrame of frame sequences (vectors for ``lexical``).

    Only the ``informative`` modalities carry the label: each class shifts their
    frames' mean by ``signal`` along its own direction; the others are noise.
    Returns ``(X, y, speakers)``; X also has a ``speaker`` column.
    """
    rng = np.random.RandomState(seed)
    y = EMOTIONS[rng.randint(len(EMOTIONS), size=n_utterances)]
    codes = pd.Categorical(y, categories=EMOTIONS).codes
    speakers = np.array([f"spk{i % n_speakers:02d}" for i in range(n_utterances)])
    columns = {}
    for modality, width in widths:
        centres = rng.normal(size=(len(EMOTIONS), width)) * signal
        cells = []
        for code in codes:
            mean = centres[code] if modality in informative else 0.0
            if modality == "lexical":
                cells.append(mean + rng.normal(size=width))
            else:
                frames = rng.randint(3, 12)
                cells.append(mean + rng.normal(size=(frames, width)))
        columns[modality] = cells
    X = pd.DataFrame(columns)
    X["speaker"] = speakers
    return X, y, speakers


class ThreadRecordingLogisticRegression(LogisticRegression):
    """Keeps the torch and BLAS threads its fit computed with (and, in this
    process, every fit's in ``seen``)."""

    seen = []

    def fit(self, X, y, sample_weight=None):
        blas = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        self.threads_ = {torch.get_num_threads(), *blas}
        self.seen.append(self.threads_)
        return super().fit(X, y, sample_weight=sample_weight)


def lexical_matrix(X):
    """The tiny corpus's ``lexical`` vectors as one ``(n, 8)`` float array."""
    return np.vstack([np.asarray(c, dtype=float).reshape(-1, 8) for c in X["lexical"]])


@pytest.fixture(scope="module")
def acoustic_corpus():
    """Like ``tiny_corpus``, but the label is in the acoustic frame sequences."""
    return make_tiny_corpus(informative=("acoustic",))


def fast_sequence(modalities="acoustic", **params):
    """A small, quick SequenceClassifier (seeded) for the sequence-model tests."""
    params = {"hidden_dim": 16, "n_heads": 2, "lr": 0.01, "max_epochs": 15, **params}
    return SequenceClassifier(modalities, random_state=0, **params)


@pytest.fixture
def tiny_corpus():
    """160 utterances, 6 speakers; only ``lexical`` carries the label."""
    return make_tiny_corpus()


@pytest.fixture(autouse=True)
def _seed():
    """Seed the global RNGs so that tests relying on them stay repeatable."""
    np.random.seed(0)
    torch.manual_seed(0)


def run(*args):
    """``(status, stdout, stderr)`` of ``mmer args``, run in this process."""
    from sklearn_mmer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()
