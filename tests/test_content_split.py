"""ContentDisjointSplit: no test content in training, drops reported, errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import (
    ContentDisjointSplit,
    LeaveOneSessionOut,
    SpeakerKFold,
)


@pytest.fixture
def scripted():
    """48 utterances, 4 speakers in 2 sessions; half read from 10 script lines."""
    corpus = make_multimodal_emotion(
        48,
        n_speakers=4,
        n_sessions=2,
        random_state=0,
        modalities={"acoustic": 4, "lexical": 3},
    )
    X, y = corpus.data, corpus.target
    X["content"] = [
        f"line{i // 2 % 10:02d}" if i % 2 == 0 else f"improvised{i:02d}"
        for i in range(len(X))
    ]
    return X, y, X["speaker"].to_numpy()


@pytest.mark.parametrize(
    "inner", [SpeakerKFold(2), SpeakerKFold(4), LeaveOneSessionOut()]
)
def test_no_test_content_is_ever_trained_on(scripted, inner):
    X, y, speakers = scripted
    content = X["content"].to_numpy()
    for train, test in ContentDisjointSplit(inner).split(X, y, speakers):
        assert len(train) > 0
        assert not set(content[train]) & set(content[test])
        assert not set(speakers[train]) & set(speakers[test])


def test_only_training_rows_are_dropped_and_counted(scripted):
    X, y, speakers = scripted
    cv = ContentDisjointSplit(SpeakerKFold(4))
    inner = list(SpeakerKFold(4).split(X, y, speakers))
    folds = list(cv.split(X, y, speakers))
    dropped = cv.n_dropped(X, y, speakers)
    assert cv.get_n_splits(X, y, speakers) == len(folds) == 4
    for (train, test), (inner_train, inner_test), n in zip(folds, inner, dropped):
        np.testing.assert_array_equal(test, inner_test)
        assert set(train) <= set(inner_train)
        assert len(inner_train) - len(train) == n
    # every training row whose line is spoken in the test fold, and no other
    content = X["content"].to_numpy()
    expected = [np.isin(content[tr], content[te]).sum() for tr, te in inner]
    assert dropped.tolist() == expected and sum(expected) > 0


def test_hand_computed_drops_and_rows_without_content():
    X = pd.DataFrame(
        {"content": ["a", "b", "a", None, "c", "", "b", np.nan]},
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    speakers = np.array(["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"])
    folds = list(ContentDisjointSplit(2).split(X, groups=speakers))
    # fold 1 tests s1, s2 (a, b, a, -): training loses b (row 6)
    assert folds[0][0].tolist() == [4, 5, 7]
    # fold 2 tests s3, s4 (c, -, b, -): training loses b (row 1), keeps None
    assert folds[1][0].tolist() == [0, 2, 3]
    assert ContentDisjointSplit(2).n_dropped(X, groups=speakers).tolist() == [1, 1]


def test_content_may_be_given_as_an_array(scripted):
    X, y, speakers = scripted
    ids = X.pop("content").to_numpy()
    by_array = list(ContentDisjointSplit(2, content=ids).split(X, y, speakers))
    X["content"] = ids
    by_column = list(ContentDisjointSplit(2).split(X, y, speakers))
    for (a_train, a_test), (b_train, b_test) in zip(by_array, by_column):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_works_as_cv_in_scikit_learn(scripted):
    X, y, speakers = scripted
    model = make_modality_pipeline("lexical", classifier=LogisticRegression())
    cv = ContentDisjointSplit(SpeakerKFold(2))
    scores = cross_val_score(model, X, y, groups=speakers, cv=cv)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    search = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0]}, cv=cv)
    search.fit(X, y, groups=speakers)
    assert search.cv_results_["split1_test_score"].shape == (2,)
    assert (
        repr(cv)
        == "ContentDisjointSplit(content='content', cv=SpeakerKFold(n_splits=2))"
    )


def test_missing_content_column_names_the_fix(scripted):
    X, y, speakers = scripted
    with pytest.raises(ValueError, match=r"content='content' is not a column of X"):
        next(ContentDisjointSplit(2).split(X.drop(columns="content"), y, speakers))
    with pytest.raises(ValueError, match=r"one id per row of X \(48 rows\)"):
        next(ContentDisjointSplit(2, content=["a"] * 5).split(X, y, speakers))
    with pytest.raises(ValueError, match="cv must be None, an int or a splitter"):
        ContentDisjointSplit("speaker").get_n_splits()


def test_a_fold_left_without_training_rows_is_an_error():
    X = pd.DataFrame({"content": ["same"] * 4})
    with pytest.raises(ValueError, match="every training row shares its content"):
        list(ContentDisjointSplit(2).split(X, groups=["a", "a", "b", "b"]))
