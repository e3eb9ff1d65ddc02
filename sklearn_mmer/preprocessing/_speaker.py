"""Per-speaker standardisation of features, with speaker ids read from X."""

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._data import SPEAKER, is_cell_column
from ..utils._sklearn_compat import Interval, check_feature_names_in, fit_context
from ._cells import cell_as_frames, is_missing


def _standardise(cell, mean, scale):
    """``(cell - mean) / scale``, keeping a float cell's dtype."""
    cell = np.asarray(cell)
    dtype = cell.dtype if cell.dtype.kind == "f" else np.float64
    return ((cell - mean) / scale).astype(dtype, copy=False)


def _statistics(frames):
    """``(mean, scale)`` per feature over the rows of ``frames``, NaN-aware.

    A feature with no value gets a NaN mean; one with no spread a scale of 1.
    """
    frames = np.asarray(frames, dtype=np.float64)
    with warnings.catch_warnings():
        # all-NaN features: their NaN mean is checked by the callers
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(frames, axis=0)
        std = np.nanstd(frames, axis=0)
    scale = np.where(std > 10 * np.finfo(np.float64).eps, std, 1.0)
    return mean, scale


def choose_columns(frame, speaker_column, columns):
    """Split the columns to standardise into ``(cell_columns, float_columns)``."""
    if columns is None:
        candidates = [c for c in frame.columns if c != speaker_column]
    else:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ValueError(
                f"columns names {unknown}, which are not in X; X has "
                f"{[str(c) for c in frame.columns]}"
            )
        candidates = list(columns)
    cells, floats = [], []
    for c in candidates:
        values = frame[c]
        if pd.api.types.is_float_dtype(values.dtype):
            floats.append(c)
        elif is_cell_column(values.to_numpy()):
            cells.append(c)
        elif columns is not None and all(is_missing(v) for v in values):
            raise ValueError(
                f"column {c!r} has no value in X, so its statistics cannot be learned"
            )
        elif columns is not None:
            raise ValueError(
                f"column {c!r} holds neither float features nor arrays of frames "
                f"(dtype {values.dtype}); leave it out of columns"
            )
    return cells, floats


class _Layout:
    """Reads the columns to standardise from a DataFrame.

    Float columns are read together as one block, so that wide numeric input
    (a plain 2-D array) costs one vectorised pass per speaker.
    """

    def __init__(self, frame, cells, floats):
        missing = [c for c in cells + floats if c not in frame.columns]
        if missing:
            raise ValueError(f"column {missing[0]!r}, seen in fit, is not in X")
        self.cells = {c: frame[c].to_numpy() for c in cells}
        self.floats = floats
        self.block = None
        if floats:
            self.block = np.asarray(frame[floats].to_numpy(), dtype=np.float64)
            if np.isinf(self.block).any():
                raise ValueError(
                    "X holds inf in a float column; replace it (NaN is read as a "
                    "missing value)"
                )

    def statistics(self, rows, min_utterances):
        """``{column: (mean, scale)}`` over ``rows``; None where too few values."""
        stats = {}
        for c, cells in self.cells.items():
            frames = [
                cell_as_frames(cells[r], column=c, row=int(r))
                for r in rows
                if not is_missing(cells[r])
            ]
            if len(frames) < min_utterances:
                stats[c] = None
            else:
                stats[c] = _statistics(np.concatenate(frames))
        if self.floats:
            block = self.block[rows]
            enough = np.sum(~np.isnan(block), axis=0) >= min_utterances
            mean, scale = _statistics(block)
            for j, c in enumerate(self.floats):
                usable = len(rows) and enough[j] and np.isfinite(mean[j])
                stats[c] = (mean[j : j + 1], scale[j : j + 1]) if usable else None
        return stats


class SpeakerNormalizer(TransformerMixin, BaseEstimator):
    """Standardise each speaker's features by that speaker's own statistics.

    Speakers differ in pitch, loudness, face and wording far more than one
    speaker's emotions do, so features are often standardised per speaker (the
    corpus of the study this toolkit grew from was). For each speaker and each
    modality column, the mean and standard deviation of every feature are taken
    over all the speaker's frames (over the speaker's rows for a float column),
    and the speaker's cells are standardised by them.

    The speaker of each row is read from X's ``speaker_column``, because
    scikit-learn's scorers pass no metadata to ``predict``. Training speakers
    keep the statistics learned in ``fit``. **A speaker not seen in fit is
    standardised by statistics computed from the rows of that speaker in the X
    given to** ``transform`` **(its unlabelled features)**: the usual
    speaker-normalisation protocol, which assumes a test speaker's utterances
    are available together at test time. Its labels are never used. Scores in
    speaker-independent cross-validation are then those of a system that sees a
    batch of each new speaker's speech before predicting it.

    A speaker (in fit or in transform) with fewer than ``min_utterances``
    utterances holding a column is standardised by the statistics of all the
    training data for that column instead. Without a ``speaker_column`` in X
    (for example a plain 2-D array), every row is read as one speaker, the one
    seen in fit, so the transformer standardises by the training statistics,
    as :class:`~sklearn.preprocessing.StandardScaler` does.

    It sits in front of the pooling step, on the DataFrame of the data contract:
    ``make_early_fusion(..., speaker_normalization=True)`` puts it there, or
    ``make_pipeline(SpeakerNormalizer(), make_early_fusion(...))``.

    Parameters
    ----------
    speaker_column : str, default="speaker"
        The column of X holding each row's speaker id. It passes through
        unchanged.
    columns : list of str or None, default=None
        The columns to standardise. None takes every column of frame arrays
        (cells) and every float column other than ``speaker_column``; other
        columns (ids, integer sessions, labels) pass through unchanged.
    min_utterances : int, default=10
        Fewest utterances holding a column for a speaker to be standardised by
        its own statistics of that column; a speaker with fewer falls back to
        the training data's statistics.

    Attributes
    ----------
    speakers_ : ndarray of shape (n_speakers,)
        Training speakers, in sorted order; ``[None]`` when X had no
        ``speaker_column``.
    cell_columns_ : list
        The columns of frame arrays standardised.
    float_columns_ : list
        The float columns standardised (integer positions for a 2-D array).
    speaker_statistics_ : dict
        ``speaker -> {column -> (mean, scale)}`` learned in fit; a column maps
        to None where that speaker had fewer than ``min_utterances`` utterances
        holding it.
    mean_ : dict
        ``column -> ndarray``: mean of each feature over all training frames.
    scale_ : dict
        ``column -> ndarray``: standard deviation of each feature over all
        training frames (1 where it is 0).
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns of X. Defined only when X has string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : One set of statistics for everyone.
    sklearn_mmer.preprocessing.TemporalPooling : The usual next step.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_mmer.preprocessing import SpeakerNormalizer
    >>> X = pd.DataFrame({
    ...     "acoustic": [np.array([[1.0], [3.0]]), np.array([[11.0], [13.0]])],
    ...     "speaker": ["Ses01F", "Ses01M"]})
    >>> Xt = SpeakerNormalizer(min_utterances=1).fit_transform(X)
    >>> Xt["acoustic"].tolist()
    [array([[-1.],
           [ 1.]]), array([[-1.],
           [ 1.]])]
    """

    _parameter_constraints = {
        "speaker_column": [str],
        "columns": [list, None],
        "min_utterances": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, speaker_column=SPEAKER, *, columns=None, min_utterances=10):
        self.speaker_column = speaker_column
        self.columns = columns
        self.min_utterances = min_utterances

    def _frame(self, X, reset):
        """X as a DataFrame (arrays get integer column labels)."""
        if isinstance(X, pd.DataFrame):
            if X.shape[0] == 0:
                raise ValueError(
                    "Found array with 0 sample(s) (shape=(0, "
                    f"{X.shape[1]})) while a minimum of 1 is required."
                )
            # checks (or, when reset, records) feature names and their number
            validate_data(self, X, reset=reset, skip_check_array=True)
            return X
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
        )
        return pd.DataFrame(X, copy=False)

    def _speakers(self, frame):
        if self.speaker_column not in frame.columns:
            return np.full(frame.shape[0], None, dtype=object)
        speakers = frame[self.speaker_column]
        unknown = np.flatnonzero(speakers.isna().to_numpy())
        if unknown.size:
            raise ValueError(
                f"column {self.speaker_column!r} of X has no speaker in row "
                f"{unknown[0]} ({unknown.size} rows in all); every row needs one"
            )
        return speakers.to_numpy()

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each training speaker's statistics and the overall ones.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The data contract's DataFrame (cells of frames and a speaker
            column), or plain numeric features.
        y : None
            Ignored; labels are never used.

        Returns
        -------
        self : SpeakerNormalizer
            The fitted transformer.
        """
        frame = self._frame(X, reset=True)
        cells, floats = choose_columns(frame, self.speaker_column, self.columns)
        layout = _Layout(frame, cells, floats)
        overall = layout.statistics(np.arange(frame.shape[0]), 1)
        empty = [c for c, stats in overall.items() if stats is None]
        if empty:
            raise ValueError(
                f"column {empty[0]!r} has no value in X, so its statistics cannot "
                "be learned"
            )
        self.cell_columns_, self.float_columns_ = cells, floats
        self.mean_ = {c: stats[0] for c, stats in overall.items()}
        self.scale_ = {c: stats[1] for c, stats in overall.items()}
        if self.speaker_column not in frame.columns:
            self.speakers_ = np.array([None], dtype=object)
            self.speaker_statistics_ = {None: overall}
            return self
        speakers = self._speakers(frame)
        self.speakers_ = np.array(sorted(set(speakers)), dtype=object)
        self.speaker_statistics_ = {
            speaker: layout.statistics(
                np.flatnonzero(speakers == speaker), self.min_utterances
            )
            for speaker in self.speakers_
        }
        return self

    def transform(self, X):
        """Standardise each row by its speaker's statistics.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Input with the columns seen in fit. Rows of a speaker not seen in
            fit are standardised by that speaker's statistics over these rows.

        Returns
        -------
        X_normalised : DataFrame or ndarray
            X with its standardised columns replaced (missing cells stay
            missing), of the same kind, index and columns as X.
        """
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        layout = _Layout(frame, self.cell_columns_, self.float_columns_)
        speakers = self._speakers(frame)
        cells_out = {c: cells.copy() for c, cells in layout.cells.items()}
        block = layout.block.copy() if layout.floats else None
        for speaker in pd.unique(speakers):
            rows = np.flatnonzero(speakers == speaker)
            stats = self.speaker_statistics_.get(speaker)
            if stats is None:
                stats = layout.statistics(rows, self.min_utterances)
            for c, cells in cells_out.items():
                mean, scale = stats[c] or (self.mean_[c], self.scale_[c])
                for r in rows:
                    if not is_missing(cells[r]):
                        cells[r] = _standardise(cells[r], mean, scale)
            for j, c in enumerate(layout.floats):
                mean, scale = stats[c] or (self.mean_[c], self.scale_[c])
                block[rows, j] = (block[rows, j] - mean[0]) / scale[0]
        if not isinstance(X, pd.DataFrame):
            return block.astype(np.result_type(*frame.dtypes), copy=False)
        out = X.copy()
        for c, cells in cells_out.items():
            out[c] = pd.Series(cells, index=out.index, dtype=object)
        for j, c in enumerate(layout.floats):
            out[c] = block[:, j].astype(X[c].dtype, copy=False)
        return out

    def get_feature_names_out(self, input_features=None):
        """The input column names: every column passes through, in order.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; defaults to ``feature_names_in_`` (or ``x0``,
            ``x1``, ... when there are none).

        Returns
        -------
        feature_names_out : ndarray of str objects
            The same names.
        """
        check_is_fitted(self)
        return check_feature_names_in(self, input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN in a float column is a missing value: left out of the statistics
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
