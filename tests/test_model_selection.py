import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from sklearn_mmer.evaluation import unweighted_accuracy, unweighted_accuracy_scorer
from sklearn_mmer.model_selection import SpeakerKFold

SPEAKERS = np.array(
    [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM" for _ in range(3)]
)


def test_speaker_folds_are_disjoint():
    for train, test in SpeakerKFold(5).split(SPEAKERS, groups=SPEAKERS):
        assert not set(SPEAKERS[train]) & set(SPEAKERS[test])


def test_speaker_folds_follow_the_studys_split():
    """Sorted unique speakers cut into contiguous groups (np.array_split)."""
    rng = np.random.RandomState(0)
    speakers = rng.permutation(SPEAKERS)
    folds = [
        sorted(set(speakers[test]))
        for _, test in SpeakerKFold(5).split(speakers, groups=speakers)
    ]
    assert folds == [[f"Ses0{s}F", f"Ses0{s}M"] for s in range(1, 6)]
    uneven = [
        sorted(set(speakers[test]))
        for _, test in SpeakerKFold(3).split(speakers, groups=speakers)
    ]
    assert [len(f) for f in uneven] == [4, 3, 3]


def test_speaker_folds_cover_every_sample_once():
    tested = np.concatenate(
        [test for _, test in SpeakerKFold(4).split(SPEAKERS, groups=SPEAKERS)]
    )
    assert_array_equal(np.sort(tested), np.arange(len(SPEAKERS)))


def test_speaker_folds_need_groups_and_enough_speakers():
    with pytest.raises(ValueError, match="pass groups=speakers"):
        next(SpeakerKFold(2).split(SPEAKERS))
    with pytest.raises(ValueError, match="n_splits=11 greater than the number of"):
        next(SpeakerKFold(11).split(SPEAKERS, groups=SPEAKERS))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        next(SpeakerKFold(2).split(SPEAKERS, groups=SPEAKERS[:-1]))


def test_speaker_folds_work_as_cv_in_scikit_learn():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(len(SPEAKERS), 3))
    y = (X[:, 0] > 0).astype(int)
    scores = cross_val_score(
        LogisticRegression(), X, y, groups=SPEAKERS, cv=SpeakerKFold(5)
    )
    assert scores.shape == (5,)
    assert SpeakerKFold(5).get_n_splits() == 5


def test_unweighted_accuracy_is_the_mean_per_class_recall():
    y_true = ["anger"] * 8 + ["sadness"] * 2
    y_pred = ["anger"] * 8 + ["anger", "sadness"]
    # recalls: anger 1.0, sadness 0.5; plain accuracy would be 0.9
    assert unweighted_accuracy(y_true, y_pred) == pytest.approx(0.75)


def test_unweighted_accuracy_scorer_works_in_cross_validation():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 1, "anger", "neutral")
    scores = cross_val_score(
        LogisticRegression(), X, y, cv=3, scoring=unweighted_accuracy_scorer
    )
    assert np.all((scores >= 0) & (scores <= 1))


def _wrong_groups_consumers():
    import pandas as pd

    from sklearn_mmer.evaluation import compare_methods
    from sklearn_mmer.fusion import StackingFusionClassifier
    from sklearn_mmer.model_selection import LeaveOneSessionOut
    from sklearn_mmer.neural import MLPClassifier

    stacking = StackingFusionClassifier([("lr", LogisticRegression())], cv=2)
    mlp = MLPClassifier(early_stopping=True, max_iter=1)
    return {
        "SpeakerKFold": lambda X, y, g: list(SpeakerKFold(2).split(X, y, g)),
        "LeaveOneSessionOut": lambda X, y, g: list(LeaveOneSessionOut().split(X, y, g)),
        "StackingFusionClassifier": lambda X, y, g: stacking.fit(X, y, groups=g),
        "MLPClassifier": lambda X, y, g: mlp.fit(X, y, groups=g),
        "compare_methods": lambda X, y, g: compare_methods(
            {"lr": LogisticRegression()}, pd.DataFrame(X), y, g, cv=SpeakerKFold(2)
        ),
    }


@pytest.mark.parametrize("consumer", sorted(_wrong_groups_consumers()))
@pytest.mark.parametrize(
    "groups", [np.arange(3), np.zeros((10, 2))], ids=["too-short", "2-D"]
)
def test_every_reader_of_groups_names_a_wrong_shape(consumer, groups):
    X = np.random.RandomState(0).normal(size=(10, 3)).astype(np.float32)
    y = np.tile([0, 1], 5)
    ours = (
        "groups must be 1-D with one speaker per sample; got shape "
        f"{re.escape(str(groups.shape))} for 10 samples"
    )
    # a splitter's split() first runs scikit-learn's own length check
    theirs = r"inconsistent numbers of samples: \[10, 10, 3\]"
    with pytest.raises(ValueError, match=f"{ours}|{theirs}"):
        _wrong_groups_consumers()[consumer](X, y, groups)
