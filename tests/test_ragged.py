"""Frames stored end to end and padded one mini-batch at a time."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from skorch.dataset import Dataset

from sklearn_mmer.neural import SequenceClassifier
from sklearn_mmer.neural._data import (
    LengthBucketIterator,
    RaggedFrames,
    TensorBatchIterator,
    frame_statistics,
)
from sklearn_mmer.preprocessing import SequencePadder


def sequences(lengths, width=3, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.normal(size=(n, width)).astype(np.float32) for n in lengths]


def ragged(cells):
    lengths = np.array([len(c) for c in cells])
    return RaggedFrames(np.concatenate(cells), lengths)


@pytest.mark.parametrize(
    "index", [slice(None), slice(1, 4), np.array([4, 0, 2]), torch.tensor([3, 1])]
)
def test_padded_rows_are_the_padders_rows(index):
    cells = sequences([4, 0, 7, 1, 3])
    block, lengths = pad(cells)
    rows = np.arange(5)[index.numpy() if torch.is_tensor(index) else index]
    batch = ragged(cells)[index].padded().numpy()
    # cut to the batch's own longest sequence, as the encoder would cut it
    longest = max(lengths[rows].max(), 1)
    assert batch.shape == (len(rows), longest, 3)
    assert_array_equal(batch, block[rows, :longest])


def pad(cells):
    frame = pd.DataFrame({"x": pd.Series(cells, dtype=object)})
    padder = SequencePadder().fit(frame)
    return padder.transform_sequences(frame)[0]


def test_rows_of_rows_share_the_frames():
    cells = sequences([2, 5, 3, 6])
    whole = ragged(cells)
    part = whole[np.array([3, 1, 2])][np.array([2, 0])]
    assert part.frames is whole.frames
    assert_array_equal(part.lengths, [3, 6])
    assert_array_equal(part.padded()[0, :3].numpy(), cells[2])
    assert_array_equal(part.padded()[1].numpy(), cells[3])
    assert len(part) == 2


def test_only_missing_rows_pad_to_one_frame_of_zeros():
    batch = RaggedFrames(np.zeros((0, 3), dtype=np.float32), [0, 0]).padded()
    assert batch.shape == (2, 1, 3)
    assert (batch == 0).all()


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("iterator", [TensorBatchIterator, LengthBucketIterator])
def test_iterators_pad_each_batch_to_its_longest_sequence(iterator, shuffle):
    lengths = np.random.RandomState(0).randint(0, 30, size=70)
    cells = sequences(lengths)
    block, _ = pad(cells)
    data = Dataset(
        {"frames_0": ragged(cells), "lengths_0": lengths}, np.arange(len(lengths))
    )
    served = []
    torch.manual_seed(0)
    for X_batch, y_batch in iterator(data, 16, shuffle=shuffle):
        rows = y_batch.numpy()
        longest = max(lengths[rows].max(), 1)
        assert_array_equal(X_batch["frames_0"].numpy(), block[rows, :longest])
        assert_array_equal(X_batch["lengths_0"].numpy(), lengths[rows])
        served.extend(rows)
    assert sorted(served) == list(range(len(lengths)))


def test_frame_statistics_weigh_frames_and_read_in_chunks(monkeypatch):
    frames = np.random.RandomState(0).normal(3.0, 2.0, size=(500, 4))
    frames[:, 3] = 7.0
    weights = np.random.RandomState(1).randint(0, 3, size=500).astype(float)
    monkeypatch.setattr("sklearn_mmer.neural._data.CHUNK_VALUES", 40)
    mean, scale = frame_statistics(frames.astype(np.float32), weights)
    repeated = np.repeat(frames, weights.astype(int), axis=0)
    assert_allclose(mean, repeated.mean(axis=0), rtol=1e-6)
    assert_allclose(scale[:3], repeated.std(axis=0)[:3], rtol=1e-6)
    # a constant feature keeps its scale, as in StandardScaler
    assert scale[3] == 1.0


def test_fit_holds_the_frames_not_a_padded_block():
    # one utterance of 900 frames among 200 of 5: padding every utterance to
    # 900 frames would take 46 MB; the frames themselves take 0.5 MB
    rng = np.random.RandomState(0)
    lengths = [900] + [5] * 200
    y = rng.randint(2, size=len(lengths))
    X = pd.DataFrame(
        {"acoustic": [rng.normal(size=(n, 64)).astype(np.float32) for n in lengths]}
    )
    padded_bytes = len(lengths) * 900 * 64 * 4
    clf = SequenceClassifier(hidden_dim=4, max_iter=1, batch_size=64, random_state=0)
    # a first fit imports what fitting imports, whose memory is not at issue
    clf.fit(X.iloc[1:], y[1:])
    tracemalloc.start()
    try:
        clf.fit(X, y)
        clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert clf.padders_["acoustic"].max_lengths_ == [900]
    assert peak < 0.2 * padded_bytes
