import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_val_score,
)
from sklearn.svm import LinearSVC

from sklearn_mmer.fusion import (
    StackingFusionClassifier,
    make_late_fusion,
    make_modality_pipeline,
    make_stacking_fusion,
)

MODALITIES = ["visual", "acoustic", "lexical"]
CALLS = []


class SpeakerRecorder(ClassifierMixin, BaseEstimator):
    """Records the speakers it is fit on and those it is asked to predict.

    Speakers are read from X's ``speaker`` column, or from column 0 of an array.
    """

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.seen_ = set(_speakers_of(X))
        return self

    def predict_proba(self, X):
        CALLS.append((self.seen_, set(_speakers_of(X)), len(X)))
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X):
        return self.classes_[np.zeros(len(X), dtype=int)]


def _speakers_of(X):
    return X["speaker"].tolist() if hasattr(X, "columns") else X[:, 0].tolist()


@pytest.mark.parametrize("source", ["speaker column", "groups"])
def test_out_of_fold_probabilities_never_come_from_a_member_that_saw_the_speaker(
    tiny_corpus, source
):
    X, y, speakers = tiny_corpus
    codes = np.unique(speakers, return_inverse=True)[1]
    if source == "groups":
        X = np.c_[codes, np.zeros(len(y))].astype(float)
    CALLS.clear()
    stack = StackingFusionClassifier([("rec", SpeakerRecorder())], cv=3)
    stack.fit(X, y, groups=speakers if source == "groups" else None)
    assert stack.grouped_ and isinstance(stack.inner_cv_, GroupKFold)
    assert len(CALLS) == 3  # one per inner fold; the refit member predicts nothing
    for trained_on, predicted_for, _ in CALLS:
        assert trained_on and predicted_for
        assert not trained_on & predicted_for
    assert sum(n for *_, n in CALLS) == len(y)  # every row predicted exactly once
    all_speakers = set(_speakers_of(X))
    assert set().union(*(p for _, p, _ in CALLS)) == all_speakers


def test_without_speakers_the_inner_folds_are_stratified():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0, "anger", "neutral")
    stack = StackingFusionClassifier([("lr", LogisticRegression())], cv=4).fit(X, y)
    assert not stack.grouped_
    assert stack.inner_cv_.n_splits == 4
    assert stack.score(X, y) > 0.9


def test_inner_folds_shrink_to_the_number_of_training_speakers(tiny_corpus):
    X, y, speakers = tiny_corpus
    rows = np.isin(speakers, ["spk00", "spk01", "spk02"])
    stack = make_stacking_fusion(["lexical"], classifier=LogisticRegression(), cv=5)
    stack.fit(X[rows], y[rows])
    assert stack.inner_cv_.n_splits == 3


def test_stacking_learns_to_trust_the_informative_modality(tiny_corpus):
    """Only lexical carries the label: a majority vote is dragged down by the two
    noise modalities, the meta-classifier learns to ignore them."""
    X, y, speakers = tiny_corpus

    def score(estimator):
        return cross_val_score(
            estimator, X, y, groups=speakers, cv=GroupKFold(3), scoring="f1_micro"
        ).mean()

    clf = LogisticRegression()
    lexical = score(make_modality_pipeline("lexical", classifier=clf))
    hard = score(make_late_fusion(MODALITIES, classifier=clf))
    stack = score(make_stacking_fusion(MODALITIES, classifier=clf, cv=3))
    # measured: lexical 1.000, hard vote 0.781, stacking 1.000
    assert hard < 0.85
    assert stack > hard + 0.1
    assert stack >= lexical - 0.03


def test_stacking_probabilities_and_round_trip(tiny_corpus):
    X, y, _ = tiny_corpus
    stack = make_stacking_fusion(
        ["acoustic", "lexical"], classifier=LogisticRegression(), cv=3
    ).fit(X, y)
    proba = stack.predict_proba(X.iloc[:7])
    assert proba.shape == (7, 4)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(stack.classes_[proba.argmax(axis=1)], stack.predict(X[:7]))
    restored = pickle.loads(pickle.dumps(stack))
    assert_array_equal(restored.predict(X), stack.predict(X))
    assert_array_equal(clone(stack).fit(X, y).predict(X), stack.predict(X))
    assert list(stack.feature_names_in_) == list(X.columns)


def test_stacking_grid_search_over_nested_parameters(tiny_corpus):
    X, y, speakers = tiny_corpus
    stack = make_stacking_fusion(
        ["acoustic", "lexical"], classifier=LogisticRegression(), cv=2
    )
    grid = {
        "lexical__columntransformer__lexical__temporalpooling__method": ["mean", "max"],
        "final_estimator": [LogisticRegression(C=0.1), LogisticRegression(C=10.0)],
    }
    search = GridSearchCV(stack, grid, cv=GroupKFold(2)).fit(X, y, groups=speakers)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.8


def test_stacking_rejects_bad_members_and_folds(tiny_corpus):
    X, y, speakers = tiny_corpus
    no_proba = StackingFusionClassifier([("svc", LinearSVC())])
    with pytest.raises(ValueError, match="member 'svc' \\(LinearSVC\\) has no"):
        no_proba.fit(X[["lexical"]].apply(lambda column: column.map(np.mean)), y)
    one = X[speakers == "spk00"]
    with pytest.raises(ValueError, match="at least 2 training speakers; got 1"):
        make_stacking_fusion(["lexical"]).fit(one, y[speakers == "spk00"])
    overlapping = [(np.arange(100), np.arange(80)), (np.arange(80), np.arange(60, 160))]
    stack = make_stacking_fusion(
        ["lexical"], classifier=LogisticRegression(), cv=overlapping
    )
    with pytest.raises(ValueError, match="exactly one test fold; 20 rows are not"):
        stack.fit(X, y)
    assert make_stacking_fusion(["lexical"], cv=KFold(2)).cv.n_splits == 2


def test_stacking_factory_default_final_estimator_is_tunable_by_name(tiny_corpus):
    X, y, speakers = tiny_corpus
    stack = make_stacking_fusion(
        ["acoustic", "lexical"], classifier=LogisticRegression(), cv=2
    )
    assert isinstance(stack.final_estimator, LogisticRegression)
    grid = {"final_estimator__C": [1e-5, 10.0]}
    search = GridSearchCV(stack, grid, cv=GroupKFold(2)).fit(X, y, groups=speakers)
    assert search.best_params_ == {"final_estimator__C": 10.0}
    assert search.best_estimator_.final_estimator_.C == 10.0
    # C reaches the meta-classifier: so strong a penalty predicts one class
    weak, strong = search.cv_results_["mean_test_score"]
    assert weak < 0.5 < strong


def test_stacking_factory_clones_the_final_estimator():
    final = LogisticRegression(C=3.0)
    stack = make_stacking_fusion(["lexical"], final_estimator=final)
    assert stack.final_estimator is not final
    assert stack.set_params(final_estimator__C=1.0).final_estimator.C == 1.0
    assert final.C == 3.0
