"""Sequence padding: frame sequences of varying length to one fixed-length block."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    check_feature_names_in,
    fit_context,
)
from ._cells import (
    cell_as_frames,
    check_fitted_cells,
    fit_cell_columns,
    is_cell_input,
)


def longest_sequence(cells, *, column):
    """Return the number of frames of the longest non-missing cell (0 if none)."""
    longest = 0
    for row, cell in enumerate(cells):
        frames = cell_as_frames(cell, column=column, row=row)
        if frames is not None:
            longest = max(longest, frames.shape[0])
    return longest


def _read_sequence(cell, *, width, column, row):
    """A cell's ``(T, d)`` frames checked against ``width``; None when missing."""
    sequence = cell_as_frames(cell, column=column, row=row)
    if sequence is None:
        return None
    if sequence.shape[1] != width:
        raise ValueError(
            f"column {column!r}, row {row}: feature width {sequence.shape[1]} "
            f"differs from the width {width} seen in fit"
        )
    if not np.isfinite(sequence).all():
        raise ValueError(
            f"column {column!r}, row {row}: the frames contain NaN or inf; "
            "drop or repair this utterance (use None for a missing modality)"
        )
    return sequence


def pad_cells(cells, *, width, length, column, dtype=np.float32, fill=0.0):
    """Pad one column of cells into ``(frames, lengths)``.

    ``frames`` has shape ``(n, length, width)``: row ``i`` holds the first
    ``lengths[i]`` frames of cell ``i`` (a longer sequence is truncated to its
    first ``length`` frames) and ``fill`` after them. A missing cell has length
    0 and is all ``fill``. A ``(d,)`` vector is a sequence of one frame.
    """
    frames = np.full((len(cells), length, width), fill, dtype=dtype)
    lengths = np.zeros(len(cells), dtype=np.int64)
    for row, cell in enumerate(cells):
        sequence = _read_sequence(cell, width=width, column=column, row=row)
        if sequence is None:
            continue
        kept = min(sequence.shape[0], length)
        frames[row, :kept] = sequence[:kept]
        lengths[row] = kept
    return frames, lengths


def stack_cells(cells, *, width, length, column, dtype=np.float32):
    """One column of cells as ``(frames, lengths)``, the frames end to end.

    ``frames`` has shape ``(lengths.sum(), width)``: the first ``lengths[0]``
    rows are cell 0's first frames (at most ``length``), then cell 1's, and so
    on; a missing cell adds none. This is :func:`pad_cells` without the padding.
    """
    kept = []
    lengths = np.zeros(len(cells), dtype=np.int64)
    for row, cell in enumerate(cells):
        sequence = _read_sequence(cell, width=width, column=column, row=row)
        if sequence is None:
            continue
        kept.append(sequence[:length])
        lengths[row] = len(kept[-1])
    if not kept:
        return np.zeros((0, width), dtype=dtype), lengths
    return np.concatenate(kept).astype(dtype, copy=False), lengths


class SequencePadder(TransformerMixin, BaseEstimator):
    """Pad frame sequences of varying length to a fixed number of frames.

    Each cell of the input holds one utterance of one modality: a ``(T, d)``
    sequence of frames, a ``(d,)`` vector (a sequence of one frame) or ``None``
    / an empty array when the modality is missing. Fit learns each column's
    feature width ``d`` and its padded length ``T_max``: the longest sequence
    seen in fit, capped at ``max_length``. Sequences longer than ``T_max`` are
    truncated to their first ``T_max`` frames.

    scikit-learn transformers return 2-D arrays, so :meth:`transform` returns
    each utterance's padded frames flattened, frame after frame, into one row
    of ``T_max * d`` values, with **NaN after the last frame** (and NaN
    throughout for a missing cell). NaN marks padding unambiguously, since real
    frames may not hold NaN, so the lengths survive the flattening and the
    output can feed any scikit-learn step that accepts NaN. Sequence models
    read :meth:`transform_sequences` instead: zero-padded ``(n, T_max, d)``
    frames with the lengths beside them; or :meth:`transform_ragged`, the
    same frames end to end without the padding, to pad one mini-batch at a
    time, as :class:`~sklearn_mmer.neural.SequenceClassifier` does.

    A DataFrame with several columns of cells is padded column by column and
    the results are concatenated. A plain 2-D numeric array is read as one
    vector per row (sequences of one frame) and passes through.

    Parameters
    ----------
    max_length : int or None, default=None
        Cap on the padded length. None pads to the longest sequence seen in
        fit. Memory grows with ``n * T_max * d``, so cap it when a few
        utterances are much longer than the rest.
    dtype : {"float32", "float64"} or None, default="float32"
        Output dtype; float32 halves the memory of float64 and is what torch
        models train in. None keeps float32 input as float32 and turns
        anything else into float64.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns (cell columns, or features of a 2-D array).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input columns. Defined only when X has column names.
    frame_widths_ : list of int or None
        Feature width ``d`` of each cell column; None when fit on a plain
        2-D array.
    max_lengths_ : list of int or None
        Padded length ``T_max`` of each cell column; None when fit on a plain
        2-D array.

    See Also
    --------
    sklearn_mmer.preprocessing.TemporalPooling : Reduces each sequence to one
        vector instead.
    sklearn_mmer.neural.SequenceClassifier : A GRU or Transformer over the
        padded sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.preprocessing import SequencePadder
    >>> cells = [np.array([[1., 2.], [3., 4.]]), np.array([5., 6.]), None]
    >>> padder = SequencePadder().fit(cells)
    >>> padder.transform(cells)
    array([[ 1.,  2.,  3.,  4.],
           [ 5.,  6., nan, nan],
           [nan, nan, nan, nan]], dtype=float32)
    >>> frames, lengths = padder.transform_sequences(cells)[0]
    >>> frames.shape, lengths
    ((3, 2, 2), array([2, 1, 0]))
    """

    _parameter_constraints = {
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "dtype": [StrOptions({"float32", "float64"}), None],
    }

    def __init__(self, max_length=None, *, dtype="float32"):
        self.max_length = max_length
        self.dtype = dtype

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each column's feature width and padded length.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells to pad (see the class docstring).
        y : None
            Ignored.

        Returns
        -------
        self : SequencePadder
            The fitted transformer.
        """
        if not is_cell_input(X):
            validate_data(
                self, X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan"
            )
            self.frame_widths_ = None
            self.max_lengths_ = None
            return self
        names, columns = fit_cell_columns(self, X)
        self.max_lengths_ = []
        for name, cells in zip(names, columns):
            longest = longest_sequence(cells, column=name)
            if self.max_length is not None:
                longest = min(longest, self.max_length)
            self.max_lengths_.append(longest)
        return self

    def _output_dtype(self, input_dtype=None):
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32 if input_dtype == np.float32 else np.float64)

    def _check_cells(self, X):
        """Validate cell input against fit; return ``(names, columns)``."""
        if self.frame_widths_ is None:
            raise ValueError(
                "SequencePadder was fit on a plain 2-D array but got cells holding "
                "arrays; fit and transform the same kind of input"
            )
        return check_fitted_cells(self, X)

    def _cells_dtype(self, columns):
        for cells in columns:
            for cell in cells:
                if isinstance(cell, np.ndarray) and cell.size:
                    return self._output_dtype(cell.dtype)
        return self._output_dtype()

    def transform(self, X):
        """Pad every sequence and flatten it into one row.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells to pad, with the columns and widths seen in fit.

        Returns
        -------
        X_padded : ndarray of shape (n_samples, sum of T_max * d)
            Per column, frame ``t``'s ``d`` features at ``t * d : (t + 1) * d``;
            NaN after each sequence's last frame and where a cell is missing.
        """
        check_is_fitted(self)
        if self.frame_widths_ is None:
            if is_cell_input(X):
                self._check_cells(X)
            X = validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
                reset=False,
            )
            return X.astype(self._output_dtype(X.dtype), copy=False)
        names, columns = self._check_cells(X)
        dtype = self._cells_dtype(columns)
        blocks = []
        for name, cells, width, length in zip(
            names, columns, self.frame_widths_, self.max_lengths_
        ):
            frames, _ = pad_cells(
                cells,
                width=width,
                length=length,
                column=name,
                dtype=dtype,
                fill=np.nan,
            )
            blocks.append(frames.reshape(len(cells), length * width))
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    def transform_sequences(self, X):
        """Pad every sequence, keeping the time axis and the lengths.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells to pad, with the columns and widths seen in fit.

        Returns
        -------
        sequences : list of (frames, lengths) tuples
            One per input column: ``frames`` of shape ``(n_samples, T_max, d)``,
            zero after each sequence's last frame, and ``lengths`` of shape
            ``(n_samples,)`` (int64; 0 where the cell is missing). A plain 2-D
            array gives one column of sequences of one frame.
        """
        check_is_fitted(self)
        if self.frame_widths_ is None:
            X = self.transform(X)
            return [(X[:, np.newaxis, :], np.ones(X.shape[0], dtype=np.int64))]
        return self._read_columns(X, pad_cells)

    def transform_ragged(self, X):
        """Every sequence cut as :meth:`transform_sequences` cuts it, unpadded.

        Sequence models that pad one mini-batch at a time read this: it holds
        the frames only, where a padded block holds ``n * T_max * d`` values.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells, with the columns and widths seen in fit.

        Returns
        -------
        sequences : list of (frames, lengths) tuples
            One per input column: ``frames`` of shape ``(lengths.sum(), d)``,
            each utterance's frames after the previous one's, and ``lengths``
            of shape ``(n_samples,)`` (int64; 0 where the cell is missing). A
            plain 2-D array gives one column of sequences of one frame.
        """
        check_is_fitted(self)
        if self.frame_widths_ is None:
            X = self.transform(X)
            return [(X, np.ones(X.shape[0], dtype=np.int64))]
        return self._read_columns(X, stack_cells)

    def _read_columns(self, X, read_cells):
        """Each cell column of X, read by ``pad_cells`` or ``stack_cells``."""
        names, columns = self._check_cells(X)
        dtype = self._cells_dtype(columns)
        return [
            read_cells(cells, width=width, length=length, column=name, dtype=dtype)
            for name, cells, width, length in zip(
                names, columns, self.frame_widths_, self.max_lengths_
            )
        ]

    def get_feature_names_out(self, input_features=None):
        """Names of the padded features, such as ``acoustic_t3_0``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; defaults to ``feature_names_in_`` (or ``x0``,
            ``x1``, ... when there are none).

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output feature: column, frame ``t`` and feature index.
        """
        check_is_fitted(self)
        input_features = check_feature_names_in(self, input_features)
        if self.frame_widths_ is None:
            return np.asarray(input_features, dtype=object)
        names = [
            f"{column}_t{t}_{j}"
            for column, width, length in zip(
                input_features, self.frame_widths_, self.max_lengths_
            )
            for t in range(length)
            for j in range(width)
        ]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN rows of a 2-D input mean "missing", as for TemporalPooling
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = (
            ["float64", "float32"] if self.dtype is None else [self.dtype]
        )
        return tags
