"""Temporal pooling: frame sequences of varying length to one vector each."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._data import POOLING_STATISTICS
from ..utils._sklearn_compat import StrOptions, check_feature_names_in, fit_context
from ._cells import (
    cell_as_frames,
    check_fitted_cells,
    fit_cell_columns,
    is_cell_input,
)


def _frames(cell, *, column, row):
    """``cell`` as ``(T, d)`` frames; a fast path for the common well-formed case."""
    if (
        type(cell) is np.ndarray
        and cell.ndim == 2
        and cell.shape[0]
        and cell.dtype.kind in "fiu"
    ):
        return cell
    return cell_as_frames(cell, column=column, row=row)


def _pool_cells(cells, *, width, method, column):
    """Pool one column of cells into an ``(n, k * width)`` array, NaN where missing.

    Each sequence is reduced on its own, by one call of the compiled
    ``pool_sequence``, straight into its output row: no padded
    ``(n, T_max, d)`` tensor and no per-sequence temporary is ever built.
    """
    # numba is imported on first use: importing the package stays quick
    from ._kernels import METHOD_CODES, pool_sequence

    codes = np.array(METHOD_CODES[method])
    dtype = np.float64
    for row, cell in enumerate(cells):
        frames = _frames(cell, column=column, row=row)
        if frames is not None:
            dtype = np.float32 if frames.dtype == np.float32 else np.float64
            break
    n_blocks = len(POOLING_STATISTICS[method])
    out = np.empty((len(cells), n_blocks, width), dtype=dtype)
    scratch = np.empty((2, width), dtype=dtype)
    for row, cell in enumerate(cells):
        frames = _frames(cell, column=column, row=row)
        if frames is None:
            out[row] = np.nan
            continue
        if frames.shape[1] != width:
            raise ValueError(
                f"column {column!r}, row {row}: feature width {frames.shape[1]} "
                f"differs from the width {width} seen in fit"
            )
        if frames.dtype != dtype or not frames.flags.c_contiguous:
            frames = np.ascontiguousarray(frames, dtype=dtype)
        if not pool_sequence(frames, out, row, codes, scratch):
            raise ValueError(
                f"column {column!r}, row {row}: the frames contain NaN or inf; "
                "drop or repair this utterance (use None for a missing modality)"
            )
    return out.reshape(len(cells), n_blocks * width)


def compile_kernels():
    """Compile the pooling kernels for every kind of frames, into numba's cache.

    Pooling compiles its kernels on first use, for each kind of frames
    (float32 or float64, writeable or read-only): about 5 to 8 s each on a
    small machine. Until that is in numba's cache (``__pycache__``
    beside the kernels), every process that pools compiles them again: each
    worker of a first parallel run, each process of a first test run. The
    setup scripts call this once, after compiling the modules, so that no run
    pays it; a later pooling in any process loads them (a fraction of a
    second). It pools through :func:`_pool_cells`, the path every pooling
    takes, so that it compiles exactly the signatures pooling uses.
    """
    for dtype in (np.float32, np.float64):
        for writeable in (True, False):  # numba types read-only arrays apart
            frames = np.zeros((2, 1), dtype=dtype)
            frames.flags.writeable = writeable
            _pool_cells([frames], width=1, method="stats", column="frames")


def _select_layers(X, layer):
    """X with every ``(L, T, d)`` cell reduced to ``(T, d)`` by ``layer``.

    Raises a ValueError for a 3-D cell when ``layer`` is None, and for a
    layer index out of range. Returns X itself when it holds no 3-D cell.
    """
    if isinstance(X, pd.DataFrame):
        columns = {name: X[name] for name in X.columns}
    elif isinstance(X, pd.Series):
        columns = {X.name: X}
    else:
        columns = {None: pd.Series(list(X), dtype=object)}
    changed = {}
    for name, cells in columns.items():
        layered = [row for row, cell in enumerate(cells) if np.ndim(cell) == 3]
        if not layered:
            continue
        if layer is None:
            shape = np.shape(cells.iloc[layered[0]])
            raise ValueError(
                f"column {name!r}, row {layered[0]}: got an array of shape {shape}, "
                "a cell of every encoder layer (L, T, d); "
                "TemporalPooling pools (T, d) frames, so choose the layers: "
                "layer=INDEX (one layer, e.g. -1 for the last), layer=[i, j, ...] "
                '(their average) or layer="mean" (every layer averaged)'
            )
        objects = np.empty(len(cells), dtype=object)
        for row, cell in enumerate(cells):
            objects[row] = _layer_of(cell, layer, column=name, row=row)
        changed[name] = objects
    if not changed:
        return X
    if isinstance(X, pd.DataFrame):
        X = X.copy()
        for name, objects in changed.items():
            X[name] = objects
        return X
    objects = changed[next(iter(changed))]
    if isinstance(X, pd.Series):
        return pd.Series(objects, index=X.index, name=X.name)
    return list(objects)


def _layer_of(cell, layer, *, column, row):
    """One ``(L, T, d)`` cell's chosen layer (or their average) as ``(T, d)``."""
    if np.ndim(cell) != 3:
        return cell
    cell = np.asarray(cell)
    if isinstance(layer, str):
        return cell.mean(axis=0, dtype=np.float64).astype(cell.dtype)
    indices = np.atleast_1d(np.asarray(layer))
    n_layers = cell.shape[0]
    if ((indices < -n_layers) | (indices >= n_layers)).any():
        raise ValueError(
            f"column {column!r}, row {row}: layer={layer!r} is out of range for "
            f"a cell of {n_layers} layers"
        )
    if np.ndim(layer) == 0:
        return cell[int(layer)]
    return cell[indices].mean(axis=0, dtype=np.float64).astype(cell.dtype)


def _pool_vectors(X, method):
    """Pool a plain 2-D array whose rows are single-frame vectors."""
    pooled = []
    for statistic in POOLING_STATISTICS[method]:
        if statistic == "std":
            # one frame has no spread; keep NaN rows (missing values) as NaN
            pooled.append(np.where(np.isnan(X), np.nan, 0.0).astype(X.dtype))
        else:
            pooled.append(X.copy())
    return np.hstack(pooled) if len(pooled) > 1 else pooled[0]


class TemporalPooling(TransformerMixin, BaseEstimator):
    """Pool frame sequences of varying length over time into fixed-width vectors.

    Each cell of the input holds one utterance of one modality: a ``(T, d)``
    sequence of frames (``T`` varying between utterances), a ``(d,)`` vector
    (treated as a single frame) or ``None`` / an empty array when the modality is
    missing. Each sequence is reduced over its frames on its own, so pooling a
    corpus never builds a padded 3-D tensor. Missing cells become rows of NaN, so
    that a :class:`~sklearn.impute.SimpleImputer` can follow.

    A DataFrame with several columns of cells is pooled column by column and the
    results are concatenated. A plain 2-D numeric array is read as one vector per
    row and passes through (``std`` of a single frame is 0).

    Parameters
    ----------
    method : {"mean", "max", "min", "std", "first", "last", "stats"}, \
            default="mean"
        The reduction over time. ``"stats"`` concatenates the mean and the
        standard deviation (statistics pooling) and doubles the output width.
    layer : int, list of int, "mean" or None, default=None
        For cells holding every layer of an encoder, ``(L, T, d)`` (as
        ``make_extractor("encoder:PATH", layer="all")`` returns): the layer
        pooled (an index; negative counts from the last), a list of layers
        averaged frame by frame, or ``"mean"`` for the average of every layer.
        None reads ``(T, d)`` cells only, and a 3-D cell is an error that says
        to choose. The neural classifiers that read cells learn the layers'
        weights instead (``SequenceClassifier``).

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns (cell columns, or features of a 2-D array).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input columns. Defined only when X has column names (a
        DataFrame, or a named Series).
    frame_widths_ : list of int or None
        Feature width ``d`` of each cell column seen in fit; None when fit on a
        plain 2-D array.

    See Also
    --------
    sklearn_mmer.preprocessing.SequencePadder : Keeps the frames, padded, for
        sequence models.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.preprocessing import TemporalPooling
    >>> TemporalPooling("max").fit_transform([np.array([[0., 1.], [2., -1.]])])
    array([[2., 1.]])
    >>> TemporalPooling("stats").fit_transform(
    ...     [np.array([[0., 1.], [2., 1.]]), np.array([4., 4.])])
    array([[1., 1., 1., 0.],
           [4., 4., 0., 0.]])
    """

    _parameter_constraints = {
        "method": [StrOptions(set(POOLING_STATISTICS))],
        "layer": [Integral, list, StrOptions({"mean"}), None],
    }

    def __init__(self, method="mean", *, layer=None):
        self.method = method
        self.layer = layer

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the number of columns and each column's feature width.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells to pool (see the class docstring).
        y : None
            Ignored.

        Returns
        -------
        self : TemporalPooling
            The fitted transformer.
        """
        if is_cell_input(X):
            fit_cell_columns(self, _select_layers(X, self.layer))
        else:
            validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
            )
            self.frame_widths_ = None
        return self

    def transform(self, X):
        """Pool every cell over time.

        Parameters
        ----------
        X : DataFrame, Series, list of arrays or array-like of shape (n, d)
            The cells to pool, with the columns and widths seen in fit.

        Returns
        -------
        X_pooled : ndarray of shape (n_samples, n_features_out)
            Pooled features; rows of NaN where a cell was missing.
        """
        check_is_fitted(self)
        if self.frame_widths_ is None:
            if is_cell_input(X):
                raise ValueError(
                    "TemporalPooling was fit on a plain 2-D array but transform got "
                    "cells holding arrays; fit and transform the same kind of input"
                )
            X = validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan",
                reset=False,
            )
            return _pool_vectors(X, self.method)
        names, columns = check_fitted_cells(self, _select_layers(X, self.layer))
        pooled = [
            _pool_cells(cells, width=width, method=self.method, column=name)
            for name, cells, width in zip(names, columns, self.frame_widths_)
        ]
        return np.hstack(pooled) if len(pooled) > 1 else pooled[0]

    def get_feature_names_out(self, input_features=None):
        """Names of the pooled features, such as ``visual_mean_0``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; defaults to ``feature_names_in_`` (or ``x0``,
            ``x1``, ... when there are none).

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output feature.
        """
        check_is_fitted(self)
        input_features = check_feature_names_in(self, input_features)
        statistics = POOLING_STATISTICS[self.method]
        if self.frame_widths_ is None:
            names = [f"{f}_{s}" for s in statistics for f in input_features]
        else:
            names = [
                f"{column}_{s}_{j}"
                for column, width in zip(input_features, self.frame_widths_)
                for s in statistics
                for j in range(width)
            ]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN rows of a 2-D input mean "missing" and pass through to an imputer
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
