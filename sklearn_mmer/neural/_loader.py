"""A mini-batch iterator that slices whole tensors instead of collating items.

torch's DataLoader fetches samples one by one and collates them, which costs
more than the forward pass of a small MLP. When the data are in-memory arrays
(or a dict of them), slicing a shuffled index is what a hand-written loop does,
and what this iterator does for skorch (``iterator_train`` / ``iterator_valid``).
Anything else falls back to a DataLoader.
"""

import numpy as np
import torch
from torch.utils.data import DataLoader

from ._ragged import RaggedFrames, as_batch


def _as_tensor(data):
    if isinstance(data, dict):
        return {key: _as_tensor(value) for key, value in data.items()}
    if isinstance(data, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(data))
    if isinstance(data, (torch.Tensor, RaggedFrames)):
        return data
    return None


def slice_batch(data, index):
    """The rows ``index`` of an array or a dict of arrays, as the module takes them."""
    if isinstance(data, dict):
        return {key: as_batch(value[index]) for key, value in data.items()}
    return as_batch(data[index])


def _is_sliceable(data):
    if isinstance(data, dict):
        return bool(data) and all(v is not None for v in data.values())
    return data is not None


class TensorBatchIterator:
    """Iterate over ``(X_batch, y_batch)`` slices of a skorch ``Dataset``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (an array or a dict of arrays) and ``y`` (an array or None).
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new permutation (from torch's RNG) at every pass.
    """

    def __init__(self, dataset, batch_size, shuffle=False, **loader_kwargs):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        X = _as_tensor(getattr(dataset, "X", None))
        y = getattr(dataset, "y", None)
        self._X = X
        self._y = None if y is None else _as_tensor(np.asarray(y))
        self._fallback = None
        if not _is_sliceable(X) or (y is not None and self._y is None):
            self._fallback = DataLoader(
                dataset, batch_size=batch_size, shuffle=shuffle, **loader_kwargs
            )

    def __len__(self):
        n = len(self.dataset)
        return (n + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        if self._fallback is not None:
            yield from self._fallback
            return
        n = len(self.dataset)
        order = torch.randperm(n) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start : start + self.batch_size]
            X_batch = slice_batch(self._X, index)
            y_batch = None if self._y is None else self._y[index]
            yield X_batch, y_batch
