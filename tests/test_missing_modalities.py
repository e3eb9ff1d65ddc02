"""Utterances with a missing modality (a None cell) are still classified."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression

from sklearn_mmer._testing import make_tiny_corpus
from sklearn_mmer.fusion import (
    LateFusionClassifier,
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
    make_stacking_fusion,
)
from sklearn_mmer.neural import MLPClassifier

MODALITIES = ["visual", "acoustic", "lexical"]
TRAIN_SPEAKERS = ["spk00", "spk01", "spk02", "spk03"]


def drop_modalities(X, p, seed=0, modalities=MODALITIES):
    """X with each modality cell set to None independently with probability p."""
    rng = np.random.RandomState(seed)
    X = X.copy()
    for m in modalities:
        dropped = rng.rand(len(X)) < p
        X[m] = [None if d else cell for d, cell in zip(dropped, X[m])]
    return X


@pytest.fixture(scope="module")
def split():
    """Two informative modalities out of three; four training, two test speakers."""
    X, y, speakers = make_tiny_corpus(
        n_utterances=240, informative=("lexical", "acoustic"), signal=1.0
    )
    train = np.isin(speakers, TRAIN_SPEAKERS)
    test = X[~train].reset_index(drop=True), y[~train]
    return X[train], y[train], *test


def small_mlp():
    return MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0)


FUSIONS = {
    "early": lambda: make_early_fusion(MODALITIES, classifier=small_mlp()),
    "late-hard": lambda: make_late_fusion(MODALITIES, classifier=small_mlp()),
    "late-soft": lambda: make_late_fusion(
        MODALITIES, voting="soft", classifier=small_mlp()
    ),
}


@pytest.mark.parametrize("kind", sorted(FUSIONS))
def test_accuracy_degrades_gracefully_as_modalities_drop_out(split, kind):
    X_train, y_train, X_test, y_test = split
    fusion = FUSIONS[kind]().fit(X_train, y_train)
    chance = np.max(np.unique(y_test, return_counts=True)[1]) / len(y_test)
    accuracy = []
    for p in (0.0, 0.2, 0.4, 0.6):
        X_dropped = drop_modalities(X_test, p)
        predicted = fusion.predict(X_dropped)
        assert predicted.shape == y_test.shape
        assert set(predicted) <= set(y_train)
        accuracy.append(np.mean(predicted == y_test))
    # measured (early, hard, soft): p=0 .96/.96/1.0, .2 .89/.88/.91,
    # .4 .80/.84/.84, .6 .69/.70/.69; chance is .29
    assert accuracy[0] > 0.9
    assert all(b <= a + 0.03 for a, b in zip(accuracy, accuracy[1:])), accuracy
    assert accuracy[2] > chance + 0.35, accuracy
    assert accuracy[3] > chance + 0.25, accuracy


def late_pair():
    """Late fusion of the informative lexical and the noise-only visual modality."""
    return LateFusionClassifier(
        [
            (
                "lexical",
                make_modality_pipeline("lexical", classifier=LogisticRegression()),
            ),
            (
                "visual",
                make_modality_pipeline("visual", classifier=LogisticRegression()),
            ),
        ],
        voting="soft",
    )


def test_late_fusion_votes_only_among_the_modalities_present(split):
    X_train, y_train, X_test, _ = split
    late = late_pair().fit(X_train, y_train)
    no_visual = X_test.assign(visual=None)
    lexical = late.named_estimators_["lexical"]
    assert_allclose(late.predict_proba(no_visual), lexical.predict_proba(X_test))
    late.set_params(voting="hard")
    # members are fit on encoded labels, as in VotingClassifier
    assert_array_equal(late.predict(no_visual), late.classes_[lexical.predict(X_test)])
    both = late.set_params(voting="soft").predict_proba(X_test)
    assert not np.allclose(both, lexical.predict_proba(X_test))


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_a_row_with_every_modality_missing_gets_the_class_prior(split, voting):
    X_train, y_train, X_test, _ = split
    late = late_pair().set_params(voting=voting).fit(X_train, y_train)
    labels, counts = np.unique(y_train, return_counts=True)
    assert_allclose(late.class_prior_, counts / counts.sum())
    empty = X_test.iloc[:3].assign(visual=None, lexical=None)
    assert_array_equal(late.predict(empty), [labels[np.argmax(counts)]] * 3)
    if voting == "soft":
        assert_allclose(late.predict_proba(empty), np.tile(late.class_prior_, (3, 1)))


def test_early_fusion_imputes_the_training_mean(split):
    X_train, y_train, X_test, _ = split
    early = make_early_fusion(["acoustic", "lexical"], classifier=LogisticRegression())
    early.fit(X_train, y_train)
    features = early[:-1].transform(X_test.iloc[:4].assign(acoustic=None))
    assert_array_equal(features[:, :6], 0.0)  # scaled, so the training mean is 0
    assert np.isfinite(features).all()


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_early_fusion(MODALITIES, classifier=LogisticRegression()),
        lambda: make_late_fusion(MODALITIES, classifier=LogisticRegression()),
        lambda: make_stacking_fusion(MODALITIES, classifier=LogisticRegression(), cv=2),
    ],
    ids=["early", "late", "stacking"],
)
def test_fusion_trains_and_predicts_with_modalities_missing(split, make):
    X_train, y_train, X_test, y_test = split
    fusion = make().fit(drop_modalities(X_train, 0.3, seed=1), y_train)
    predicted = fusion.predict(drop_modalities(X_test, 0.3, seed=2))
    assert predicted.shape == y_test.shape
    assert np.mean(predicted == y_test) > 0.7
