"""Sample counts and speaker groups."""

import numbers

import numpy as np

from ._columns import SPEAKER


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
