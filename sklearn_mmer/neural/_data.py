"""What the neural classifiers read, and how it is served in mini-batches.

- Input checks shared by the estimators that read a DataFrame of modalities:
  AttentionFusionClassifier and SequenceClassifier read one column of frame
  cells per modality (or a plain 2-D array as a single modality); the helpers
  here tell the two apart, resolve and check the modality columns, and check
  predict input against fit.
- Frame sequences stored end to end (:class:`RaggedFrames`), padded one
  mini-batch at a time: a padded ``(n, T_max, d)`` block holds mostly padding
  when a few sequences are much longer than the rest.
- Temporal segment means, which shorten frame sequences before a sequence
  model reads them: a sequence longer than ``n_segments`` frames is cut into
  ``n_segments`` consecutive segments of near-equal length, each replaced by
  its average frame, so the model reads at most ``n_segments`` steps per
  utterance whatever the corpus's frame rate, in the utterance's order.
- A mini-batch iterator that slices whole tensors instead of collating items
  (:class:`TensorBatchIterator`): torch's DataLoader fetches samples one by
  one and collates them, which costs more than the forward pass of a small
  MLP. When the data are in-memory arrays (or a dict of them), slicing a
  shuffled index is what a hand-written loop does, and what this iterator does
  for skorch (``iterator_train`` / ``iterator_valid``). Anything else falls
  back to a DataLoader.
- Length bucketing (:class:`LengthBucketIterator`): a sequence model cuts each
  mini-batch to its longest sequence, so a batch's cost follows its longest
  member. Shuffled uniformly, almost every batch holds one long sequence;
  grouped by length, most batches are short. Training stays stochastic: the
  data are shuffled, cut into pools of ``pool_batches`` batches, each pool is
  sorted by length and cut into batches, and the batches are served in a
  random order.
"""

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from ..utils._data import (
    cell_as_frames,
    cell_columns,
    check_modalities,
    is_cell_column,
    is_cell_input,
    is_missing,
)

#: name of the single modality a plain 2-D array stands for
ARRAY_MODALITY = "x0"
#: float64 values per chunk when summing frames (8 MiB)
CHUNK_VALUES = 2**20


def _listing(X):
    return ", ".join(repr(c) for c in X.columns)


def uses_cells(X, modalities, *, owner, parameter):
    """Tell whether ``X`` is a DataFrame of cells (True) or a plain array (False).

    Raises a ValueError for cells that are not in a DataFrame, and for a plain
    array when ``modalities`` names columns.
    """
    if isinstance(X, pd.DataFrame) and (modalities is not None or is_cell_input(X)):
        return True
    if is_cell_input(X):
        raise ValueError(
            f"{owner} reads a DataFrame with one column per modality, but X is a "
            f"{type(X).__name__} of cells; put the cells in a DataFrame column"
        )
    if modalities is not None:
        raise ValueError(
            f"{parameter}={modalities!r} names columns of a DataFrame, but X is a "
            f"plain {type(X).__name__} of numbers; pass the DataFrame, or "
            f"{parameter}=None to read X as a single modality"
        )
    return False


def check_modality_columns(X, names, *, parameter, fitted=False):
    """Raise a ValueError unless every name is a column of X holding arrays.

    After fit (``fitted=True``) a column may be all missing: a batch of
    utterances that all lack that modality.
    """
    for name in names:
        if name not in X.columns:
            raise ValueError(
                f"column {name!r} not in X; X has {_listing(X)}. Name columns of "
                f"X in {parameter}"
            )
        if fitted and all(is_missing(cell) for cell in X[name]):
            continue
        if not is_cell_column(X[name].to_numpy()):
            kinds = sorted({type(c).__name__ for c in X[name] if not is_missing(c)})
            raise ValueError(
                f"column {name!r} does not hold frame arrays (its cells are "
                f"{', '.join(kinds) or 'all missing'}); {parameter} must name "
                "columns whose cells are numpy arrays"
            )


def resolve_modalities(X, modalities, *, parameter):
    """The columns of the DataFrame X to read, in order, checked."""
    if modalities is None:
        names = cell_columns(X)
        if not names:
            raise ValueError(
                f"{parameter}=None reads every column of X holding arrays, but "
                f"none does; X has {_listing(X)}"
            )
        return names
    names = check_modalities(modalities, parameter=parameter)
    check_modality_columns(X, names, parameter=parameter)
    return names


def check_predict_input(estimator, X, *, on_cells, parameter):
    """At predict: X must be of the kind seen in fit, with the fitted modalities."""
    name = type(estimator).__name__
    if not on_cells:
        if is_cell_input(X):
            raise ValueError(
                f"{name} was fit on a plain numeric array but got cells holding "
                "arrays; fit and predict the same kind of input"
            )
        return
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{name} was fit on a DataFrame of modalities {estimator.modalities_} "
            f"but got a {type(X).__name__}; pass a DataFrame with those columns"
        )
    check_modality_columns(X, estimator.modalities_, parameter=parameter, fitted=True)


def modality_cells(X, modality):
    """The one-column DataFrame of a modality's cells, as objects.

    pandas stores a column of only None/NaN as floats, which would read as a
    plain numeric array; as objects it reads as cells, all missing.
    """
    column = X[[modality]]
    is_object = column.dtypes.iloc[0] == np.dtype(object)
    return column if is_object else column.astype(object)


def flatten_layers(cells, *, expected=None):
    """Cells of every layer ``(L, T, d)`` laid out as frames ``(T, L * d)``.

    Each frame then holds its ``L`` layers side by side, layer-major, as
    :class:`~sklearn_mmer.neural.LayerWeights` reads them; the padding and
    ragged code sees ordinary ``(T, width)`` frames.

    Parameters
    ----------
    cells : DataFrame of one column
        One modality's cells, as :func:`modality_cells` returns them.
    expected : int or None, default=None
        The layer count seen in fit (1 for ``(T, d)`` cells); None at fit.

    Returns
    -------
    cells : DataFrame of one column
        The cells, 3-D ones flattened (the same object when none is).
    n_layers : int
        ``L`` of the 3-D cells, 1 when every cell is 2-D (or 1-D).
    """
    (column,) = cells.columns
    found = {np.ndim(c) == 3 for c in cells[column] if not is_missing(c)}
    layers = {np.shape(c)[0] for c in cells[column] if np.ndim(c) == 3}
    if found == {True, False} or len(layers) > 1:
        raise ValueError(
            f"column {column!r} mixes cells of several layer counts "
            f"({sorted(layers)} layers, and frames without layers: "
            f"{False in found}); every cell of a modality must be (L, T, d) with "
            "the same L, or every one (T, d)"
        )
    n_layers = layers.pop() if layers else 1
    if expected is not None and n_layers != expected and found:
        raise ValueError(
            f"column {column!r} holds cells of {n_layers} layer(s) but the "
            f"classifier was fit on {expected}; predict on cells from the same "
            "encoder layers"
        )
    if n_layers == 1 and True not in found:
        return cells, 1
    objects = np.empty(len(cells), dtype=object)
    for row, cell in enumerate(cells[column]):
        if not is_missing(cell):
            cell = np.asarray(cell)
            cell = cell.transpose(1, 0, 2).reshape(cell.shape[1], -1)
        objects[row] = cell
    return pd.DataFrame({column: objects}, index=cells.index), n_layers


class RaggedFrames:
    """The frames of ``n`` sequences end to end, padded a mini-batch at a time.

    Indexing with a slice or an array of row indices gives those rows, sharing
    the frames (nothing is copied); :meth:`padded` builds their
    ``(b, T_b, d)`` block, zero after each sequence's last frame, with ``T_b``
    the longest of them (at least 1). ``len()`` is the number of sequences.

    Parameters
    ----------
    frames : ndarray or Tensor of shape (total, d)
        Sequence 0's frames, then sequence 1's, and so on.
    lengths : ndarray of shape (n,)
        Frames per sequence (0 for a missing one).
    starts : ndarray of shape (n,) or None, default=None
        Row of ``frames`` where each sequence starts; None when the sequences
        follow one another in order.

    Examples
    --------
    >>> import numpy as np
    >>> ragged = RaggedFrames(np.arange(5, dtype=np.float32)[:, None], [2, 0, 3])
    >>> ragged[[2, 0]].padded()[..., 0]
    tensor([[2., 3., 4.],
            [0., 1., 0.]])
    """

    def __init__(self, frames, lengths, starts=None):
        if not torch.is_tensor(frames):
            frames = torch.from_numpy(np.ascontiguousarray(frames))
        self.frames = frames
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if starts is None:
            starts = _first_rows(self.lengths)
        self.starts = np.asarray(starts, dtype=np.int64)

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, index):
        if torch.is_tensor(index):
            index = index.numpy()
        if not isinstance(index, slice):
            index = np.atleast_1d(index)
        return RaggedFrames(self.frames, self.lengths[index], self.starts[index])

    def padded(self):
        """The ``(b, T_b, d)`` block of these sequences, as a Tensor."""
        n, width = len(self.lengths), self.frames.shape[1]
        length = max(int(self.lengths.max(initial=0)), 1)
        block = self.frames.new_zeros((n, length, width))
        total = int(self.lengths.sum())
        if total:
            rows = np.repeat(np.arange(n), self.lengths)
            firsts = np.repeat(_first_rows(self.lengths), self.lengths)
            steps = np.arange(total) - firsts
            source = np.repeat(self.starts, self.lengths) + steps
            block[torch.from_numpy(rows), torch.from_numpy(steps)] = self.frames[
                torch.from_numpy(source)
            ]
        return block


def _first_rows(lengths):
    """Where each sequence starts when sequences of ``lengths`` follow one another."""
    return np.cumsum(lengths) - lengths


def as_batch(value):
    """A mini-batch's value as the module takes it: ragged frames get padded."""
    return value.padded() if isinstance(value, RaggedFrames) else value


def frame_statistics(frames, weights=None):
    """Per-feature mean and standard deviation of ``(total, d)`` frames.

    ``weights`` (one per frame, or None) weigh each frame. Frames are summed in
    float64 chunks, so no float64 copy of the whole array is made. Constant
    features get a scale of 1, as in StandardScaler.
    """
    count = len(frames) if weights is None else float(np.sum(weights))
    count = count if count > 0 else 1
    mean = _column_sums(frames, weights, lambda part: part) / count
    squares = _column_sums(frames, weights, lambda part: (part - mean) ** 2)
    scale = np.sqrt(squares / count)
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return mean, scale


def _column_sums(frames, weights, term):
    """Per-feature (weighted) sum of ``term`` of the frames, in float64 chunks."""
    chunk = max(1, CHUNK_VALUES // max(frames.shape[1], 1))
    total = np.zeros(frames.shape[1])
    for start in range(0, len(frames), chunk):
        part = term(frames[start : start + chunk].astype(np.float64))
        if weights is None:
            total += part.sum(axis=0)
        else:
            total += weights[start : start + chunk] @ part
    return total


def standardise(frames, mean, scale):
    """Standardise ``(total, d)`` frames in place with the given statistics."""
    frames -= mean.astype(frames.dtype)
    frames /= scale.astype(frames.dtype)
    return frames


def segment_means(frames, n_segments):
    """Average ``(T, d)`` frames over ``min(T, n_segments)`` consecutive segments.

    Segment ``j`` of a sequence of ``T > n_segments`` frames holds frames
    ``floor(j * T / n_segments)`` up to (not including)
    ``floor((j + 1) * T / n_segments)``; segment sizes differ by at most one
    frame. A sequence of at most ``n_segments`` frames is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> segment_means(np.arange(5.0)[:, None], 2).ravel()
    array([0.5, 3. ])
    """
    length = frames.shape[0]
    if length <= n_segments:
        return frames
    bounds = (np.arange(n_segments + 1) * length) // n_segments
    # a sum per segment: several times quicker than np.add.reduceat on rows,
    # and the same numbers (each sums its few rows in order)
    means = np.empty((n_segments, frames.shape[1]), dtype=np.float64)
    for j in range(n_segments):
        frames[bounds[j] : bounds[j + 1]].sum(axis=0, dtype=np.float64, out=means[j])
        means[j] /= bounds[j + 1] - bounds[j]
    return means


def reduce_cells(cells, *, max_length=None, n_segments=None):
    """Each cell cut to ``max_length`` frames and to ``n_segments`` segment means.

    Parameters
    ----------
    cells : DataFrame of one column
        One modality's cells, as :func:`modality_cells` returns them.
    max_length, n_segments : int or None
        Frames read (the first ones) and the most steps kept; None for no cap.

    Returns
    -------
    reduced : DataFrame of one column
        The shortened cells, with the name and index of ``cells``. A missing
        cell stays missing; a cell holding NaN or inf is passed on unchanged,
        for the padding step to report it by row.
    means : list of ndarray or None
        Each cell's average frame over the frames read (None where missing or
        not finite): the vector :class:`~sklearn_mmer.preprocessing.TemporalPooling`
        gives with ``"mean"``.
    """
    (column,) = cells.columns
    reduced, means = [], []
    for row, cell in enumerate(cells[column]):
        frames = cell_as_frames(cell, column=column, row=row)
        if frames is None or frames.shape[0] == 0:
            reduced.append(cell)
            means.append(None)
            continue
        frames = frames[:max_length]
        mean = frames.mean(axis=0, dtype=np.float64)
        # NaN or inf in a frame leaves its column's average NaN or inf
        if not np.isfinite(mean).all():
            reduced.append(cell)
            means.append(None)
            continue
        means.append(mean)
        if n_segments is not None:
            frames = segment_means(frames, n_segments)
        reduced.append(frames)
    # filled one by one: numpy would turn equal-shaped cells into one block
    objects = np.empty(len(reduced), dtype=object)
    for row, cell in enumerate(reduced):
        objects[row] = cell
    return pd.DataFrame({column: objects}, index=cells.index), means


def mean_frames(means, width):
    """Stack the average frames of :func:`reduce_cells` into ``(n, width)`` float32.

    Returns the block and each row's presence; a missing row is all zeros.
    """
    block = np.zeros((len(means), width), dtype=np.float32)
    present = np.zeros(len(means), dtype=np.int64)
    for row, mean in enumerate(means):
        if mean is not None:
            block[row] = mean
            present[row] = 1
    return block, present


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
    row order) it serves the rows in order, as :class:`TensorBatchIterator`
    does.

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
