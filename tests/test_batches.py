import numpy as np
import torch
from numpy.testing import assert_array_equal
from skorch.dataset import Dataset
from torch.utils.data import TensorDataset

from sklearn_mmer.neural._data import TensorBatchIterator


def test_batches_cover_every_row_once_when_shuffled():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    batches = list(TensorBatchIterator(Dataset(X, y), batch_size=4, shuffle=True))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    seen = torch.cat([yb for _, yb in batches]).numpy()
    assert sorted(seen) == list(range(10))
    assert not np.array_equal(seen, y)
    for X_batch, y_batch in batches:
        assert_array_equal(X_batch.numpy(), X[y_batch.numpy()])


def test_batches_keep_order_without_shuffle_and_slice_dicts():
    X = {"a": np.arange(5.0), "b": np.arange(10.0).reshape(5, 2)}
    iterator = TensorBatchIterator(Dataset(X, None), batch_size=2)
    batches = list(iterator)
    assert len(iterator) == 3
    assert_array_equal(batches[1][0]["b"].numpy(), [[4.0, 5.0], [6.0, 7.0]])
    assert batches[0][1] is None


def test_batches_fall_back_to_a_data_loader_for_other_data():
    dataset = TensorDataset(torch.ones(5, 2), torch.arange(5))
    batches = list(TensorBatchIterator(dataset, batch_size=2))
    assert [len(yb) for _, yb in batches] == [2, 2, 1]
