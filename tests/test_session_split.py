"""The IEMOCAP evaluation protocol: leave-one-session-out folds, and class
weighting judged by unweighted accuracy (mean per-class recall)."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_val_predict,
    cross_val_score,
)

from sklearn_mmer.evaluation import unweighted_accuracy
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import LeaveOneSessionOut
from sklearn_mmer.neural import MLPClassifier

SPEAKERS = np.array(
    [f"Ses0{s}{g}" for s in range(1, 6) for g in "FM" for _ in range(3)]
)


def partner(speaker, speakers):
    """The other speaker of ``speaker``'s IEMOCAP session."""
    return next(s for s in set(speakers) if s[:5] == speaker[:5] and s != speaker)


def test_no_test_speakers_dyad_partner_is_in_training():
    rng = np.random.RandomState(0)
    speakers = rng.permutation(SPEAKERS)
    for train, test in LeaveOneSessionOut().split(speakers, groups=speakers):
        training = set(speakers[train])
        for speaker in set(speakers[test]):
            assert speaker not in training
            assert partner(speaker, speakers) not in training


def test_session_folds_follow_iemocap_speaker_ids():
    folds = [
        sorted(set(SPEAKERS[test]))
        for _, test in LeaveOneSessionOut().split(SPEAKERS, groups=SPEAKERS)
    ]
    assert folds == [[f"Ses0{s}F", f"Ses0{s}M"] for s in range(1, 6)]
    assert LeaveOneSessionOut().get_n_splits(groups=SPEAKERS) == 5
    tested = np.concatenate(
        [test for _, test in LeaveOneSessionOut().split(SPEAKERS, groups=SPEAKERS)]
    )
    assert_array_equal(np.sort(tested), np.arange(len(SPEAKERS)))


def test_session_column_of_x_wins_over_speaker_ids():
    speakers = np.array([f"Ses0{s}{g}" for s in (1, 2, 3) for g in "FM"])
    X = pd.DataFrame({"speaker": speakers, "session": [7, 9, 7, 9, 8, 8]})
    folds = [
        sorted(speakers[test])
        for _, test in LeaveOneSessionOut().split(X, groups=speakers)
    ]
    assert folds == [["Ses01F", "Ses02F"], ["Ses03F", "Ses03M"], ["Ses01M", "Ses02M"]]
    assert LeaveOneSessionOut().get_n_splits(X, groups=speakers) == 3


def test_other_speaker_ids_are_paired_in_sorted_order():
    speakers = np.array(["p3", "p1", "p5", "p2", "p4", "p1"])
    folds = [
        sorted(set(speakers[test]))
        for _, test in LeaveOneSessionOut().split(speakers, groups=speakers)
    ]
    assert folds == [["p1", "p2"], ["p3", "p4"], ["p5"]]


def test_session_folds_reject_bad_input():
    with pytest.raises(ValueError, match="pass groups=speakers"):
        next(LeaveOneSessionOut().split(SPEAKERS))
    with pytest.raises(ValueError, match="at least 2 sessions"):
        speakers = np.array(["Ses01F", "Ses01M"])
        next(LeaveOneSessionOut().split(speakers, groups=speakers))
    X = pd.DataFrame({"session": [1, 2, 2]})
    with pytest.raises(ValueError, match="speaker 'a' is in sessions \\[1, 2\\]"):
        next(LeaveOneSessionOut().split(X, groups=["a", "a", "b"]))
    with pytest.raises(ValueError, match="session_column"):
        LeaveOneSessionOut(session_column=3)


def test_session_folds_work_as_cv_in_scikit_learn(tiny_corpus):
    X, y, _ = tiny_corpus
    X = X.assign(speaker=[f"Ses0{i % 3 + 1}{'FM'[i % 2]}" for i in range(len(X))])
    speakers = X["speaker"].to_numpy()
    pipe = make_modality_pipeline("lexical", classifier=LogisticRegression())
    scores = cross_val_score(pipe, X, y, groups=speakers, cv=LeaveOneSessionOut())
    assert scores.shape == (3,)
    assert scores.min() > 0.8
    search = GridSearchCV(
        pipe, {"logisticregression__C": [0.1, 1.0]}, cv=LeaveOneSessionOut()
    )
    search.fit(X, y, groups=speakers)
    assert search.n_splits_ == 3


def imbalanced_corpus(seed):
    """``make_tiny_corpus`` thinned to an IEMOCAP-like imbalance: few happiness."""
    from sklearn_mmer._testing import make_tiny_corpus

    X, y, speakers = make_tiny_corpus(
        n_utterances=400, widths=(("lexical", 8),), signal=0.8, seed=seed
    )
    keep = {"anger": 1.0, "sadness": 0.4, "happiness": 0.15, "neutral": 1.0}
    rows = np.random.RandomState(seed).rand(len(y)) < [keep[c] for c in y]
    return X[rows].reset_index(drop=True), y[rows], speakers[rows]


def test_balanced_class_weight_raises_unweighted_accuracy():
    gains = []
    for seed in range(3):
        X, y, speakers = imbalanced_corpus(seed)
        scores = {}
        for class_weight in (None, "balanced"):
            clf = MLPClassifier(
                hidden_layer_sizes=(16,),
                max_iter=20,
                class_weight=class_weight,
                random_state=seed,
            )
            pipe = make_modality_pipeline("lexical", classifier=clf)
            predicted = cross_val_predict(pipe, X, y, groups=speakers, cv=GroupKFold(2))
            scores[class_weight] = unweighted_accuracy(y, predicted)
        gains.append(scores["balanced"] - scores[None])
    # measured: +0.105, +0.096, +0.082 (UA 0.48/0.38/0.51 -> 0.58/0.47/0.60),
    # while plain accuracy fell in two of the three seeds
    assert min(gains) > 0.04, gains
    assert np.mean(gains) > 0.07, gains
