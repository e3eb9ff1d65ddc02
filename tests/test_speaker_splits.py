"""The one speaker-disjoint split implementation keeps every split as it was.

Each caller used to cut its own folds; these tests pin that the shared
implementation (sklearn_mmer.utils._data) gives the very indices the old
code's expression gave, so that no method's score moves.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit

from sklearn_mmer.fusion import StackingFusionClassifier
from sklearn_mmer.methods._stronger import SpeakerColumnGroupKFold
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural._base import validation_split
from sklearn_mmer.utils._data import count_speakers, speaker_holdout

# seven speakers of unequal sizes, out of order
RNG = np.random.RandomState(0)
SPEAKERS = RNG.choice(["s3", "s1", "s7", "s2", "s5", "s4", "s6"], size=60)
Y = RNG.randint(0, 3, size=60)


def _assert_same_folds(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (train, test), (train2, test2) in zip(ours, theirs):
        assert_array_equal(train, train2)
        assert_array_equal(test, test2)


def test_speaker_kfold_cuts_sorted_speakers_in_contiguous_groups():
    unique = np.unique(SPEAKERS)
    expected = [
        (np.flatnonzero(~np.isin(SPEAKERS, s)), np.flatnonzero(np.isin(SPEAKERS, s)))
        for s in np.array_split(unique, 3)
    ]
    _assert_same_folds(SpeakerKFold(3).split(SPEAKERS, groups=SPEAKERS), expected)


@pytest.mark.parametrize("n_splits", [3, 7, 10])
def test_speaker_column_folds_are_group_kfold_capped(n_splits):
    X = pd.DataFrame({"speaker": SPEAKERS, "x": np.zeros(60)})
    expected = GroupKFold(min(n_splits, 7)).split(X, Y, SPEAKERS)
    _assert_same_folds(SpeakerColumnGroupKFold(n_splits).split(X, Y), expected)


@pytest.mark.parametrize("cv", [3, 10])
def test_stacking_inner_folds_are_group_kfold_capped(cv):
    X = pd.DataFrame({"speaker": SPEAKERS, "x": RNG.normal(size=60)})
    stack = StackingFusionClassifier([("lr", LogisticRegression())], cv=cv)
    stack.fit(X[["x"]], Y, groups=SPEAKERS)
    assert isinstance(stack.inner_cv_, GroupKFold)
    assert stack.inner_cv_.n_splits == min(cv, 7)


@pytest.mark.parametrize("seed", [0, 12345])
def test_early_stopping_holds_out_the_same_speakers(seed):
    splitter = GroupShuffleSplit(1, test_size=0.2, random_state=seed)
    expected = [next(splitter.split(np.zeros(60), Y, SPEAKERS))]
    _assert_same_folds([validation_split(Y, SPEAKERS, 0.2, seed)], expected)


def test_speaker_holdout_never_shares_a_speaker():
    train, held_out = speaker_holdout(SPEAKERS, 0.3, 0, needed_by="test")
    assert not set(SPEAKERS[train]) & set(SPEAKERS[held_out])
    assert sorted([*train, *held_out]) == list(range(60))


@pytest.mark.parametrize(
    "split, match",
    [
        (
            lambda: validation_split(Y[:3], ["a"] * 3, 0.2, 0),
            "early_stopping's speaker-disjoint validation split needs at least "
            "2 training speakers; got 1. Set early_stopping=False",
        ),
        (
            lambda: count_speakers(["a", "a"], needed_by="SpeakerKFold"),
            "SpeakerKFold needs at least 2 training speakers; got 1$",
        ),
    ],
)
def test_speaker_splits_refuse_a_single_speaker(split, match):
    with pytest.raises(ValueError, match=match):
        split()
