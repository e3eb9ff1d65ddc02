"""Speaker-disjoint splits: the one implementation behind every split of speakers.

Four places hold whole speakers out of a training part: the public
``SpeakerKFold``, the tuned method's inner folds
(``SpeakerColumnGroupKFold``), stacking's inner folds and early stopping's
validation split. Each reads its speakers through the speaker rule
(:func:`._groups.speakers_of`) and splits them here, so that all of them
count speakers, refuse too few and cut folds the same way. Each cut is the
one its caller always made (the same folds for the same speakers and seed),
so that no score moves.
"""

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit


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
