"""Mini-batches of sequences of similar lengths (length bucketing).

A sequence model cuts each mini-batch to its longest sequence, so a batch's cost
follows its longest member. Shuffled uniformly, almost every batch holds one
long sequence; grouped by length, most batches are short. Training stays
stochastic: the data are shuffled, cut into pools of ``pool_batches`` batches,
each pool is sorted by length and cut into batches, and the batches are served
in a random order.
"""

import numpy as np
import torch

from ._loader import TensorBatchIterator, slice_batch


def longest_lengths(X):
    """Per row, the longest sequence over the ``lengths_*`` arrays of a dict.

    None when X holds no lengths (then there is nothing to bucket by).
    """
    if not isinstance(X, dict):
        return None
    lengths = [np.asarray(v) for k, v in X.items() if k.startswith("lengths_")]
    if not lengths:
        return None
    return torch.as_tensor(np.max(np.stack(lengths), axis=0))


class LengthBucketIterator(TensorBatchIterator):
    """Shuffled batches of rows of similar sequence length.

    Without ``shuffle`` (validation and prediction, whose outputs must keep the
    row order) it serves the rows in order, as
    :class:`~sklearn_mmer.neural._loader.TensorBatchIterator` does.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (a dict of arrays with ``lengths_*`` entries) and ``y``.
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Shuffle, bucket by length and serve the batches in a random order.
    pool_batches : int, default=50
        Batches per pool sorted by length: larger pools give batches of more
        even lengths, smaller ones keep more randomness in which rows meet.
    """

    def __init__(
        self, dataset, batch_size, shuffle=False, pool_batches=50, **loader_kwargs
    ):
        super().__init__(dataset, batch_size, shuffle=shuffle, **loader_kwargs)
        self.pool_batches = pool_batches
        self._lengths = longest_lengths(self._X)

    def batch_indices(self):
        """The row indices of each batch of one pass, in serving order."""
        n = len(self.dataset)
        order = torch.randperm(n)
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, n, pool):
            chunk = order[start : start + pool]
            chunk = chunk[torch.argsort(self._lengths[chunk], stable=True)]
            batches.extend(torch.split(chunk, self.batch_size))
        return [batches[k] for k in torch.randperm(len(batches))]

    def __iter__(self):
        if self._fallback is not None or self._lengths is None or not self.shuffle:
            yield from super().__iter__()
            return
        for index in self.batch_indices():
            X_batch = slice_batch(self._X, index)
            y_batch = None if self._y is None else self._y[index]
            yield X_batch, y_batch
