"""What keeps sequence models fast: length bucketing and flushed subnormals."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from skorch.dataset import Dataset

from sklearn_mmer.neural import SequenceClassifier
from sklearn_mmer.neural._data import (
    LengthBucketIterator,
    TensorBatchIterator,
    longest_lengths,
)
from sklearn_mmer.neural._sequence import denormals_flushed, flush_denormals


def sequences(n=400, seed=0):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, 200, size=n)
    X = {
        "frames_0": np.zeros((n, 3, 2), dtype=np.float32),
        "lengths_0": lengths,
        "frames_1": np.zeros((n, 3, 2), dtype=np.float32),
        "lengths_1": rng.randint(1, 50, size=n),
    }
    return Dataset(X, np.arange(n))


def test_longest_lengths_takes_the_longest_modality():
    data = sequences()
    longest = longest_lengths(data.X).numpy()
    assert (longest == np.maximum(data.X["lengths_0"], data.X["lengths_1"])).all()
    assert longest_lengths(np.zeros((3, 2))) is None


def test_buckets_serve_every_row_once_in_batches_of_similar_length():
    data = sequences()
    longest = longest_lengths(data.X).numpy()
    torch.manual_seed(0)
    batches = list(LengthBucketIterator(data, 16, shuffle=True, pool_batches=25))
    rows = np.concatenate([y.numpy() for _, y in batches])
    assert sorted(rows) == list(range(400))
    bucketed = sum(longest[y.numpy()].max() for _, y in batches)
    shuffled = sum(
        longest[y.numpy()].max() for _, y in TensorBatchIterator(data, 16, shuffle=True)
    )
    # the frames a batch is cut to: with lengths uniform in 1..199, about the
    # mean length (100) once grouped, against about the maximum (188) of 16
    assert bucketed < 0.6 * shuffled
    for X_batch, y_batch in batches:
        assert (X_batch["lengths_0"].numpy() == data.X["lengths_0"][y_batch]).all()


def test_buckets_change_every_pass_and_follow_the_seed():
    data = sequences()
    torch.manual_seed(1)
    iterator = LengthBucketIterator(data, 16, shuffle=True)
    first = [y.tolist() for _, y in iterator]
    second = [y.tolist() for _, y in iterator]
    torch.manual_seed(1)
    again = [y.tolist() for _, y in LengthBucketIterator(data, 16, shuffle=True)]
    assert first != second
    assert first == again


def test_buckets_keep_the_row_order_without_shuffle():
    data = sequences(50)
    rows = np.concatenate([y.numpy() for _, y in LengthBucketIterator(data, 16)])
    assert rows.tolist() == list(range(50))


def test_flush_denormals_flushes_inside_and_restores_after():
    assert not denormals_flushed()
    with flush_denormals():
        assert denormals_flushed()
        tiny = torch.tensor([1e-39]) * 1.0
        assert tiny.item() == 0.0
    assert not denormals_flushed()
    assert (torch.tensor([1e-39]) * 1.0).item() > 0.0


def test_flush_denormals_leaves_a_callers_flushing_on():
    torch.set_flush_denormal(True)
    try:
        with flush_denormals():
            pass
        assert denormals_flushed()
    finally:
        torch.set_flush_denormal(False)


def test_sequence_classifier_trains_with_subnormals_flushed(tiny_corpus, monkeypatch):
    from sklearn_mmer.neural import _modules

    seen = []
    forward = _modules.SequenceModule.forward

    def recording(self, **inputs):
        seen.append(denormals_flushed())
        return forward(self, **inputs)

    monkeypatch.setattr(_modules.SequenceModule, "forward", recording)
    X, y, _ = tiny_corpus
    clf = SequenceClassifier(["acoustic"], hidden_dim=8, max_iter=1, random_state=0)
    clf.fit(X, y).predict(X)
    assert seen and all(seen)
    assert not denormals_flushed()
    assert clf.net_.iterator_train is LengthBucketIterator


def test_sequence_early_stopping_holds_out_speakers_of_x(tiny_corpus):
    X, y, speakers = tiny_corpus
    clf = SequenceClassifier(
        ["lexical"], hidden_dim=8, max_iter=2, early_stopping=True, random_state=0
    ).fit(X, y)
    held_out = set(speakers[clf.validation_indices_])
    assert held_out
    assert not held_out & set(np.delete(speakers, clf.validation_indices_))


def test_sequence_classifier_warns_on_long_sequences():
    rng = np.random.RandomState(0)
    y = np.array(["a", "b"] * 2)
    X = pd.DataFrame({"acoustic": [rng.normal(size=(n, 1)) for n in (3, 4, 5, 1001)]})
    with pytest.warns(UserWarning, match="'acoustic' has 1001 frames.*max_length"):
        SequenceClassifier(hidden_dim=4, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequenceClassifier(hidden_dim=4, max_iter=1, max_length=50).fit(X, y)


def test_the_gru_runs_on_the_padded_batch_not_packed_sequences(
    tiny_corpus, monkeypatch
):
    # torch's packed GRU back-propagates step by step: 4.2x the fit time over
    # 600 frames (benchmarks/bench_sequence.py --part long); the padded batch
    # gives the same results (tests/test_sequence.py, padding tests)
    seen = []
    forward = torch.nn.GRU.forward

    def recording(self, input, hx=None):
        seen.append(type(input))
        return forward(self, input, hx)

    monkeypatch.setattr(torch.nn.GRU, "forward", recording)
    X, y, _ = tiny_corpus
    clf = SequenceClassifier(["acoustic"], hidden_dim=8, max_iter=1, random_state=0)
    clf.fit(X, y).predict(X)
    assert seen and set(seen) == {torch.Tensor}
