import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score

from sklearn_mmer.fusion import (
    LateFusionClassifier,
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.neural import MLPClassifier

MODALITIES = ["visual", "acoustic", "lexical"]


def small_mlp(**params):
    return MLPClassifier(
        hidden_layer_sizes=(32,), max_iter=15, random_state=0, **params
    )


PIPELINES = {
    "unimodal": lambda: make_modality_pipeline("lexical", classifier=small_mlp()),
    "early": lambda: make_early_fusion(MODALITIES, classifier=small_mlp()),
    "late": lambda: make_late_fusion(MODALITIES, classifier=small_mlp()),
}


@pytest.mark.parametrize("kind", sorted(PIPELINES))
def test_pipelines_run_under_speaker_grouped_cross_validation(tiny_corpus, kind):
    X, y, speakers = tiny_corpus
    scores = cross_val_score(
        PIPELINES[kind](), X, y, groups=speakers, cv=GroupKFold(3), scoring="f1_micro"
    )
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


GRIDS = {
    "unimodal": {
        "columntransformer__lexical__temporalpooling__method": ["mean", "max"],
        "mlpclassifier__hidden_layer_sizes": [(8,), (16, 8)],
    },
    "early": {
        "columntransformer__visual__temporalpooling__method": ["mean", "stats"],
        "mlpclassifier__hidden_layer_sizes": [(8,), (16, 8)],
    },
    "late": {
        "acoustic__columntransformer__acoustic__temporalpooling__method": [
            "mean",
            "max",
        ],
        "lexical__mlpclassifier__hidden_layer_sizes": [(8,), (16, 8)],
    },
}


@pytest.mark.parametrize("kind", sorted(GRIDS))
def test_grid_search_over_nested_parameters(tiny_corpus, kind):
    X, y, speakers = tiny_corpus
    search = GridSearchCV(PIPELINES[kind](), GRIDS[kind], cv=GroupKFold(2))
    search.fit(X, y, groups=speakers)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.best_params_) == set(GRIDS[kind])
    assert search.predict(X.iloc[:5]).shape == (5,)


def test_the_informative_modality_scores_above_chance_and_noise_does_not(tiny_corpus):
    X, y, speakers = tiny_corpus

    def score(pipe):
        return cross_val_score(
            pipe, X, y, groups=speakers, cv=GroupKFold(3), scoring="f1_micro"
        ).mean()

    lexical = score(make_modality_pipeline("lexical", classifier=small_mlp()))
    visual = score(make_modality_pipeline("visual", classifier=small_mlp()))
    early = score(make_early_fusion(MODALITIES, classifier=small_mlp()))
    chance = max(np.unique(y, return_counts=True)[1]) / len(y)
    assert lexical > 0.8
    assert early > 0.6
    assert visual < chance + 0.1


@pytest.mark.parametrize("kind", sorted(PIPELINES))
def test_fitted_pipelines_are_reproducible_and_round_trip(tiny_corpus, kind):
    X, y, _ = tiny_corpus
    fitted = PIPELINES[kind]().fit(X, y)
    again = PIPELINES[kind]().fit(X, y)
    assert_array_equal(fitted.predict(X), again.predict(X))
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    refit = clone(fitted).fit(X, y)
    assert_array_equal(refit.predict(X), fitted.predict(X))


def test_early_fusion_scales_each_modality_separately(tiny_corpus):
    X, y, _ = tiny_corpus
    pipe = make_early_fusion(["acoustic", "lexical"], classifier=small_mlp())
    features = pipe[:-1].fit_transform(X)
    assert features.shape[1] == 6 + 8
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(features.std(axis=0), 1.0, rtol=1e-5)
    names = pipe[:-1].get_feature_names_out()
    assert names[0] == "acoustic__acoustic_mean_0"


def test_factories_clone_the_given_classifier(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = small_mlp()
    late = make_late_fusion(["acoustic", "lexical"], classifier=clf).fit(X, y)
    assert not hasattr(clf, "net_")
    acoustic, lexical = (late.named_estimators_[m][-1] for m in ("acoustic", "lexical"))
    assert acoustic is not lexical


def test_factories_reject_unknown_columns_and_empty_modalities(tiny_corpus):
    X, y, _ = tiny_corpus
    with pytest.raises(ValueError, match="at least one column"):
        make_early_fusion([])
    with pytest.raises(ValueError, match="distinct"):
        make_early_fusion(["lexical", "lexical"])
    with pytest.raises(ValueError, match="pooling names modalities"):
        make_early_fusion(["lexical"], pooling={"audio": "max"})
    with pytest.raises(ValueError) as raised:
        make_modality_pipeline("audio", classifier=small_mlp()).fit(X, y)
    # scikit-learn names the column in the message; 1.6 in the KeyError it chains
    assert "audio" in str(raised.value) or "audio" in repr(raised.value.__cause__)


class FixedVoter(ClassifierMixin, BaseEstimator):
    """Predicts fixed probabilities (one row repeated), whatever it is fit on."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.tile(self.proba, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def test_hard_vote_ties_are_broken_by_summed_probability():
    y = np.array(["anger", "happiness", "neutral", "sadness"])
    X = np.zeros((4, 1))
    members = [
        ("visual", FixedVoter([0.40, 0.35, 0.15, 0.10])),  # votes anger
        ("acoustic", FixedVoter([0.05, 0.40, 0.30, 0.25])),  # votes happiness
        ("lexical", FixedVoter([0.02, 0.30, 0.23, 0.45])),  # votes sadness
    ]
    vote = LateFusionClassifier(members, voting="hard").fit(X, y)
    # a three-way tie; summed probabilities: anger .47, happiness 1.05, sadness .80
    assert_array_equal(vote.predict(X[:1]), ["happiness"])


def test_hard_vote_majority_wins_over_probability():
    y = np.array(["anger", "happiness", "neutral", "sadness"])
    X = np.zeros((4, 1))
    members = [
        ("visual", FixedVoter([0.99, 0.01, 0.0, 0.0])),
        ("acoustic", FixedVoter([0.0, 0.6, 0.4, 0.0])),
        ("lexical", FixedVoter([0.0, 0.6, 0.0, 0.4])),
    ]
    vote = LateFusionClassifier(members, voting="hard").fit(X, y)
    assert_array_equal(vote.predict(X[:1]), ["happiness"])


def test_soft_vote_averages_probabilities():
    y = np.array(["anger", "happiness", "neutral", "sadness"])
    X = np.zeros((4, 1))
    members = [
        ("visual", FixedVoter([0.7, 0.3, 0.0, 0.0])),
        ("lexical", FixedVoter([0.0, 0.5, 0.5, 0.0])),
    ]
    vote = LateFusionClassifier(members, voting="soft").fit(X, y)
    np.testing.assert_allclose(vote.predict_proba(X[:1]), [[0.35, 0.4, 0.25, 0.0]])
    assert_array_equal(vote.predict(X[:1]), ["happiness"])


def test_hard_vote_needs_members_with_probabilities():
    from sklearn.svm import SVC

    X, y = np.zeros((4, 1)), np.array(["anger", "happiness", "neutral", "sadness"])
    vote = LateFusionClassifier([("a", SVC()), ("b", SVC(probability=True))])
    with pytest.raises(ValueError, match=r"members \['a'\] have no predict_proba"):
        vote.fit(X, y)
