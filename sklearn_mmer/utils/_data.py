"""The data contract: its column names and cells, speakers and their splits.

X is a DataFrame with one column of *cells* per modality and the metadata
columns ``speaker`` (each utterance's speaker id), ``session`` (its recording
session, where known) and ``content`` (a script-line id or normalised
transcript, where known). A *cell* is a ``(T, d)`` float array of frames, a
``(d,)`` vector, or ``None`` / an empty array when the modality is missing for
that utterance.

Every package reads the data through the helpers here: which columns hold
cells, the modality names a caller gives and their pooling, the sessions of
IEMOCAP-style ids, the speaker of each sample by the toolkit's one speaker rule
(:func:`speakers_of`), the one implementation of every split of whole speakers,
the columns a member estimator reads, and the data's fingerprint.
"""

import hashlib
import math
import numbers
import re

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from sklearn.pipeline import Pipeline

# --- the data contract's metadata columns ---------------------------------------------

#: The column of X holding each utterance's speaker id.
SPEAKER = "speaker"

#: The column of X holding each utterance's recording session, where known.
SESSION = "session"

#: The column of X holding what was said (a script-line id or a transcript).
CONTENT = "content"

#: Columns of the data contract that hold metadata, not modalities.
METADATA_COLUMNS = (SPEAKER, SESSION, CONTENT)


# --- cells: what one utterance has for one modality -----------------------------------

#: The types a present cell may have.
CELL_TYPES = (np.ndarray, list, tuple)


def is_missing(cell):
    """Return True when ``cell`` stands for a missing modality."""
    if cell is None:
        return True
    if isinstance(cell, numbers.Real) and not isinstance(cell, bool):
        # pandas turns None into NaN in some constructors
        return bool(np.isnan(cell))
    return np.size(cell) == 0


def is_cell_column(values):
    """Whether a column holds cells: objects, at least one present, all arrays.

    ``values`` is a Series or a 1-D array. A column of only missing cells is
    not a cell column (nothing tells it from an empty metadata column).
    """
    if np.asarray(values).dtype != object:
        return False
    present = [cell for cell in values if not is_missing(cell)]
    return bool(present) and all(isinstance(cell, CELL_TYPES) for cell in present)


def cell_columns(X, *, exclude=METADATA_COLUMNS):
    """The columns of the DataFrame X holding cells, in X's order.

    Columns named in ``exclude`` (by default the data contract's metadata
    columns) are left out even when they hold arrays.
    """
    return [
        column
        for column in X.columns
        if column not in exclude and is_cell_column(X[column].to_numpy())
    ]


def is_cell_input(X):
    """Tell whether ``X`` holds cells (arrays per utterance) or is a plain 2-D array.

    A DataFrame with an object column, a Series, a 1-D object array or a list whose
    items are not all equal-length vectors hold cells; everything else is read as an
    ordinary numeric 2-D array.
    """
    if isinstance(X, pd.Series):
        return True
    if isinstance(X, pd.DataFrame):
        return any(dtype == np.dtype(object) for dtype in X.dtypes)
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)):
        return _list_holds_cells(X)
    return False


def _list_holds_cells(X):
    if len(X) == 0:
        return False
    first = X[0]
    if isinstance(first, np.ndarray) and first.ndim != 1:
        return True
    if any(is_missing(c) for c in X):
        return True
    try:
        arr = np.asarray(X, dtype=float)
    except (ValueError, TypeError):
        return True
    return arr.ndim != 2


def cell_as_frames(cell, *, column, row):
    """Return ``cell`` as a 2-D ``(T, d)`` float array, or None when missing."""
    if is_missing(cell):
        return None
    arr = np.asarray(cell)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(
            f"column {column!r}, row {row}: cells must hold numeric arrays, "
            f"got dtype {arr.dtype}"
        )
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    elif arr.ndim != 2:
        raise ValueError(
            f"column {column!r}, row {row}: cells must be (T, d) frame sequences "
            f"or (d,) vectors, got an array of shape {arr.shape}"
        )
    return arr


# --- modality names and their pooling -------------------------------------------------


def check_modalities(modalities, *, parameter="modalities"):
    """Return ``modalities`` as a list of distinct names, at least one.

    A single string names one modality. Raises a ValueError naming
    ``parameter`` when the list is empty or repeats a name.
    """
    names = [modalities] if isinstance(modalities, str) else list(modalities)
    if not names:
        raise ValueError(f"{parameter} must name at least one column of X; got none")
    if len(set(names)) != len(names):
        raise ValueError(f"{parameter} must be distinct; got {names}")
    return names


#: What each pooling method outputs, in order ("stats" is the usual
#: statistics pooling: mean then standard deviation).
POOLING_STATISTICS = {
    "mean": ("mean",),
    "max": ("max",),
    "min": ("min",),
    "std": ("std",),
    "first": ("first",),
    "last": ("last",),
    "stats": ("mean", "std"),
}


def pooling_methods(pooling, modalities):
    """The pooling method of each modality, from one method or a dict of them.

    A dict may leave modalities out (they get ``"mean"``) but may not name a
    modality that is not among ``modalities``.
    """
    if not isinstance(pooling, dict):
        return dict.fromkeys(modalities, pooling)
    unknown = sorted(set(pooling) - set(modalities), key=str)
    if unknown:
        raise ValueError(
            f"pooling names modalities {unknown} that are not among the "
            f"modalities read, {list(modalities)}"
        )
    return {m: pooling.get(m, "mean") for m in modalities}


# --- session numbers parsed from IEMOCAP-style ids ------------------------------------

_SESSION_ID = re.compile(r"^Ses(\d+)")


def parse_session(text):
    """The session number of an IEMOCAP-style id (``"Ses03M_..."`` -> 3), or None."""
    match = _SESSION_ID.match(str(text))
    return None if match is None else int(match.group(1))


def parse_sessions(*candidates):
    """Session numbers of the first sequence of ids that parses in full, or None.

    Each candidate is a sequence of ids (utterance ids, speaker ids, ...); the
    first non-empty one whose every id has the IEMOCAP form gives the sessions,
    as an int array.
    """
    for values in candidates:
        sessions = [parse_session(v) for v in values]
        if sessions and None not in sessions:
            return np.asarray(sessions)
    return None


# --- sample counts and the one speaker rule -------------------------------------------


def num_samples(X):
    """The number of samples (rows) of an array-like, DataFrame or sparse matrix.

    An object with neither a length nor a shape is read through ``__array__``;
    a TypeError says when X is not a collection of samples.
    """
    if not hasattr(X, "__len__") and not hasattr(X, "shape"):
        if not hasattr(X, "__array__"):
            raise TypeError(f"Expected sequence or array-like, got {type(X)}")
        X = np.asarray(X)
    shape = getattr(X, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                f"Singleton array {X!r} cannot be considered a valid collection."
            )
        if isinstance(shape[0], numbers.Integral):
            return int(shape[0])
    return len(X)


def check_groups(groups, n_samples):
    """Return ``groups`` as a 1-D array of one speaker per sample.

    Raises a ValueError naming the shape when it is not one.
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n_samples:
        raise ValueError(
            f"groups must be 1-D with one speaker per sample; got shape "
            f"{groups.shape} for {n_samples} samples"
        )
    return groups


def speakers_of(X, groups=None, *, column=SPEAKER, needed_by=None, fix=None):
    """The speaker of each sample, by the toolkit's one speaker rule.

    ``groups`` when given, else X's ``column`` when X is a DataFrame that has
    it (the data contract puts the speakers there, because scikit-learn passes
    no ``groups`` to an inner splitter or to ``fit`` without metadata routing).
    When both are given they must name the same speaker on every row (compared
    as strings, so that ``1`` and ``"1"`` agree); a ValueError names both when
    they do not.

    Parameters
    ----------
    X : DataFrame, array-like or None
        The samples.
    groups : array-like of shape (n_samples,) or None, default=None
        Speaker ids passed by the caller.
    column : str, default="speaker"
        The column of X holding each row's speaker.
    needed_by : str or None, default=None
        Who needs the speakers. When given and neither source has them, a
        ValueError says so in those words; when None, None is returned.
    fix : str or None, default=None
        The fix that error suggests; by default passing ``groups=speakers``
        or adding the column to X.

    Returns
    -------
    speakers : ndarray of shape (n_samples,) or None
        One speaker per sample; None when neither source has them and
        ``needed_by`` is None.
    """
    in_X = hasattr(X, "columns") and column in X.columns
    if groups is not None:
        n_samples = num_samples(X) if X is not None else len(np.asarray(groups))
        groups = check_groups(groups, n_samples)
        if in_X:
            column_speakers = np.asarray(X[column])
            differ = np.flatnonzero(column_speakers.astype(str) != groups.astype(str))
            if differ.size:
                first = differ[0]
                # as Python values, so that the message reads 's1', not np.str_
                given = groups[first : first + 1].tolist()[0]
                held = column_speakers[first : first + 1].tolist()[0]
                raise ValueError(
                    f"groups and X[{column!r}] disagree on {differ.size} rows "
                    f"(first: row {first}, {given!r} vs {held!r}); pass the "
                    "speaker column as groups, or leave groups out to use the "
                    "column"
                )
        return groups
    if in_X:
        return np.asarray(X[column])
    if needed_by is None:
        return None
    if fix is None:
        fix = f"pass groups=speakers, or add the speakers to X as a {column!r} column"
    raise ValueError(
        f"{needed_by} needs the speaker of each sample, but got no groups and X "
        f"has no {column!r} column; {fix}"
    )


# --- splits of whole speakers ---------------------------------------------------------

# Four places hold whole speakers out of a training part: the public
# SpeakerKFold, the tuned method's inner folds (SpeakerColumnGroupKFold),
# stacking's inner folds and early stopping's validation split. Each reads its
# speakers through the speaker rule (speakers_of) and splits them here, so that
# all of them count speakers, refuse too few and cut folds the same way. Each cut
# is the one its caller always made (the same folds for the same speakers and
# seed), so that no score moves.


def count_speakers(speakers, *, needed_by, fix=""):
    """The number of distinct speakers, at least 2.

    Parameters
    ----------
    speakers : ndarray of shape (n_samples,)
        One speaker per sample.
    needed_by : str
        Who splits them, for the error message.
    fix : str, default=""
        A sentence appended to the error message.

    Returns
    -------
    n_speakers : int
        The number of distinct speakers.
    """
    n_speakers = np.unique(speakers).shape[0]
    if n_speakers < 2:
        raise ValueError(
            f"{needed_by} needs at least 2 training speakers; got {n_speakers}"
            + (f". {fix}" if fix else "")
        )
    return n_speakers


def speaker_group_kfold(speakers, n_splits, *, needed_by, fix=""):
    """``GroupKFold`` over whole speakers, with ``n_splits`` capped at their number.

    The cap lets an inner cross-validation run nested in an outer speaker fold
    that leaves fewer speakers than folds.

    Parameters
    ----------
    speakers : ndarray of shape (n_samples,)
        One speaker per sample (the groups the folds are split by).
    n_splits : int
        The folds asked for.
    needed_by, fix : str
        As for :func:`count_speakers`.

    Returns
    -------
    splitter : GroupKFold
        A splitter of ``min(n_splits, n_speakers)`` folds; call it as
        ``split(X, y, speakers)``.
    """
    n_speakers = count_speakers(speakers, needed_by=needed_by, fix=fix)
    return GroupKFold(min(n_splits, n_speakers))


def sorted_speaker_folds(speakers, n_splits):
    """Test masks of contiguous groups of sorted speakers (``SpeakerKFold``).

    Parameters
    ----------
    speakers : ndarray of shape (n_samples,)
        One speaker per sample.
    n_splits : int
        Number of folds, at most the number of speakers.

    Yields
    ------
    test : ndarray of bool, shape (n_samples,)
        The samples of one fold's speakers.
    """
    unique = np.unique(speakers)
    if n_splits > unique.shape[0]:
        raise ValueError(
            f"Cannot have n_splits={n_splits} greater than the number of "
            f"speakers ({unique.shape[0]})"
        )
    for test_speakers in np.array_split(unique, n_splits):
        yield np.isin(speakers, test_speakers)


def speaker_holdout(speakers, fraction, seed, *, needed_by, fix=""):
    """Indices ``(train, held_out)`` holding out a random ``fraction`` of speakers.

    Parameters
    ----------
    speakers : ndarray of shape (n_samples,)
        One speaker per sample.
    fraction : float
        The share of speakers held out (``GroupShuffleSplit``'s ``test_size``).
    seed : int
        The seed of the draw.
    needed_by, fix : str
        As for :func:`count_speakers`.

    Returns
    -------
    train, held_out : ndarray of int
        Sample indices; no speaker is in both.
    """
    count_speakers(speakers, needed_by=needed_by, fix=fix)
    splitter = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
    return next(splitter.split(np.zeros(len(speakers)), groups=speakers))


# --- the columns a member estimator reads ---------------------------------------------


def member_reads(estimator):
    """How ``estimator`` reads X: ``(step, branches)``, or None when unknown.

    The estimator reads X through its first
    :class:`~sklearn.compose.ColumnTransformer`: the estimator itself, or a step
    of a Pipeline. ``step`` is that step's position (0 for the transformer
    itself), so that a caller can tell whether earlier steps (such as a speaker
    normaliser) see X first. ``branches`` is a list of ``(transformer,
    columns)``, ``columns`` a list of names or positions; dropped branches are
    left out. The fitted ``transformers_`` are read when the transformer is
    fitted. None when there is no ColumnTransformer, when it also reads a
    remainder, or when a branch selects columns by other means (a callable, a
    slice, a boolean mask), so that what is read cannot be told.
    """
    steps = (
        [s for _, s in estimator.steps]
        if isinstance(estimator, Pipeline)
        else [estimator]
    )
    for step, transformer in enumerate(steps):
        if isinstance(transformer, ColumnTransformer):
            branches = _branches(transformer)
            return None if branches is None else (step, branches)
    return None


def _branches(transformer):
    transformers = getattr(transformer, "transformers_", None)
    if transformers is None:
        transformers = list(transformer.transformers) + [
            ("remainder", transformer.remainder, None)
        ]
    branches = []
    for name, branch, selected in transformers:
        if isinstance(branch, str) and branch == "drop":
            continue
        if name == "remainder":
            if selected is None or len(selected):
                return None
            continue
        if isinstance(selected, (str, int, np.integer)):
            selected = [selected]
        if not isinstance(selected, (list, tuple, np.ndarray)):
            return None
        branches.append((branch, list(selected)))
    return branches


def member_columns(estimator):
    """The columns a member reads (names or positions, in order), or None.

    None when that cannot be told (see :func:`member_reads`).
    """
    reads = member_reads(estimator)
    if reads is None:
        return None
    return [column for _, columns in reads[1] for column in columns]


# --- the data's fingerprint -----------------------------------------------------------


def fingerprint_data(X, y=None, groups=None):
    """A SHA-256 of the data: every cell's shape, dtype and bytes, y and groups.

    A comparison's ``manifest.json`` records it (a resumed run must see the same
    data) and so does a model file's (what it was trained on). Run folders
    written before keep resuming only while this digest stays the same bytes
    for the same data: ``tests/test_utils.py`` pins it.

    Parameters
    ----------
    X : DataFrame, cells or array-like
        The samples: a DataFrame is read column by column and a Series or
        list of cells cell by cell (see :func:`is_cell_input`).
    y, groups : array-like or None, default=None
        The labels and the speakers; None counts as missing.

    Returns
    -------
    fingerprint : str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        for column in X.columns:
            digest.update(f"column {column!s}".encode())
            for cell in X[column]:
                _update(digest, cell)
    elif is_cell_input(X):
        for cell in X:
            _update(digest, cell)
    else:
        _update(digest, np.asarray(X))
    _update(digest, None if y is None else np.asarray(y))
    _update(digest, None if groups is None else np.asarray(groups))
    return digest.hexdigest()


def _update(digest, value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        digest.update(b"missing;")
        return
    array = np.asarray(value)
    if array.dtype == object:
        digest.update(repr(array.tolist()).encode())
    else:
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
