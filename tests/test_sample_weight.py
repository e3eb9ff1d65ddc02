"""sample_weight in fit of the neural classifiers and of late fusion."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier as KNN

from sklearn_mmer.fusion import (
    LateFusionClassifier,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)

# one batch holds the whole (repeated) training set, and nothing is random
# after the seeded initialisation: weighting and repeating rows then give the
# same loss at every step, so the same network up to float rounding
FULL_BATCH = {"batch_size": 1024, "max_iter": 8, "random_state": 0}

CLASSIFIERS = {
    "mlp": lambda: MLPClassifier(
        hidden_layer_sizes=(16,), learning_rate_init=0.01, **FULL_BATCH
    ),
    # no dropout: its masks depend on how many rows there are
    "ensemble": lambda: MLPEnsembleClassifier(
        hidden_layer_sizes=(16,),
        n_members=3,
        dropout=0.0,
        learning_rate_init=0.01,
        **FULL_BATCH,
    ),
    "attention": lambda: AttentionFusionClassifier(
        ["acoustic", "lexical"], hidden_dim=8, learning_rate_init=0.01, **FULL_BATCH
    ),
    "sequence": lambda: SequenceClassifier(
        ["acoustic", "lexical"], hidden_dim=8, learning_rate_init=0.01, **FULL_BATCH
    ),
    # the average frames' standardisation is weighted too
    "sequence_skip": lambda: SequenceClassifier(
        ["acoustic", "lexical"],
        hidden_dim=8,
        n_segments=3,
        pooled_skip=True,
        head_dims=(8,),
        learning_rate_init=0.01,
        **FULL_BATCH,
    ),
}


def _data(kind, corpus, n=80):
    X, y, speakers = corpus
    X, y, speakers = X.iloc[:n].reset_index(drop=True), y[:n], speakers[:n]
    if kind in ("mlp", "ensemble"):
        X = np.vstack(X["lexical"].to_numpy())
    return X, y, speakers


def _rows(X, rows):
    return X[rows] if isinstance(X, np.ndarray) else X.iloc[rows].reset_index(drop=True)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_integer_weights_equal_repeated_rows(tiny_corpus, kind):
    X, y, _ = _data(kind, tiny_corpus)
    weight = np.random.RandomState(1).randint(1, 4, size=len(y))
    repeats = np.repeat(np.arange(len(y)), weight)
    weighted = CLASSIFIERS[kind]().fit(X, y, sample_weight=weight)
    repeated = CLASSIFIERS[kind]().fit(_rows(X, repeats), y[repeats])
    assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)
    unweighted = CLASSIFIERS[kind]().fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), weighted.predict_proba(X))


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_zero_weights_ignore_samples(tiny_corpus, kind):
    X, y, _ = _data(kind, tiny_corpus)
    weight = (np.arange(len(y)) % 3 != 0).astype(float)
    kept = np.flatnonzero(weight)
    # the ignored rows carry wrong labels: they must change nothing
    y = np.where(weight > 0, y, "neutral")
    weighted = CLASSIFIERS[kind]().fit(X, y, sample_weight=weight)
    dropped = CLASSIFIERS[kind]().fit(_rows(X, kept), y[kept])
    X_kept = _rows(X, kept)
    assert_allclose(
        weighted.predict_proba(X_kept), dropped.predict_proba(X_kept), atol=1e-5
    )


def test_sample_weight_per_class_equals_class_weight(tiny_corpus):
    X, y, _ = _data("mlp", tiny_corpus)
    by_class = MLPClassifier(class_weight={"anger": 3.0}, **FULL_BATCH).fit(X, y)
    by_sample = MLPClassifier(**FULL_BATCH).fit(
        X, y, sample_weight=np.where(y == "anger", 3.0, 1.0)
    )
    assert_allclose(by_sample.predict_proba(X), by_class.predict_proba(X), atol=1e-5)


def test_weights_follow_samples_into_the_validation_split(tiny_corpus):
    X, y, speakers = _data("mlp", tiny_corpus, n=160)
    weight = np.random.RandomState(0).uniform(0.5, 3.0, size=len(y))
    clf = MLPClassifier(max_iter=4, early_stopping=True, random_state=0)
    clf.fit(X, y, groups=speakers, sample_weight=weight)
    valid = clf.validation_indices_
    with torch.no_grad():
        logits = clf.net_.infer(torch.as_tensor(X[valid], dtype=torch.float32))
    codes = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
    losses = torch.nn.functional.cross_entropy(logits, codes, reduction="none")
    expected = float(
        (losses * torch.as_tensor(weight[valid])).sum() / weight[valid].sum()
    )
    assert expected == pytest.approx(min(clf.history_[:, "valid_loss"]), rel=1e-5)


@pytest.mark.parametrize(
    "weight, match",
    [
        (np.ones(81), r"sample_weight must have shape \(80,\), one weight per sample"),
        (
            np.ones((80, 2)),
            r"shape \(80,\), one weight per sample of X; got shape \(80, 2\)",
        ),
        (-np.ones(80), "finite and non-negative; got -1.0 for sample 0"),
        (np.r_[np.ones(79), np.nan], "non-negative; got nan for sample 79"),
        (np.zeros(80), "sample_weight is zero for every sample"),
    ],
)
def test_bad_sample_weight_is_rejected(tiny_corpus, weight, match):
    X, y, _ = _data("mlp", tiny_corpus)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=1).fit(X, y, sample_weight=weight)


def test_sample_weight_on_a_single_class_is_rejected(tiny_corpus):
    X, y, _ = _data("attention", tiny_corpus)
    weight = (y == "anger").astype(float)
    with pytest.raises(ValueError, match="at least 2 classes; only class 'anger'"):
        CLASSIFIERS["attention"]().fit(X, y, sample_weight=weight)


def test_zero_weight_on_every_validation_sample_is_rejected(tiny_corpus):
    X, y, speakers = _data("mlp", tiny_corpus)
    clf = MLPClassifier(max_iter=1, early_stopping=True, random_state=0)
    # find the speaker the split holds out, then weigh it zero
    held_out = speakers[clf.fit(X, y, groups=speakers).validation_indices_]
    weight = np.where(np.isin(speakers, held_out), 0.0, 1.0)
    with pytest.raises(ValueError, match="zero for every sample of early stopping"):
        clf.fit(X, y, groups=speakers, sample_weight=weight)


def _late_fusion_corpus(tiny_corpus):
    X, y, _ = tiny_corpus
    weight = np.random.RandomState(0).randint(0, 4, size=len(y)).astype(float)
    return X, y, weight


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_late_fusion_weights_each_pipelines_final_step(tiny_corpus, voting):
    X, y, weight = _late_fusion_corpus(tiny_corpus)
    late = make_late_fusion(
        ["acoustic", "lexical"], voting=voting, classifier=LogisticRegression()
    )
    late.fit(X, y, sample_weight=weight)
    for name, member in late.estimators:
        by_hand = clone(member).fit(
            X, late.le_.transform(y), logisticregression__sample_weight=weight
        )
        assert_allclose(
            late.named_estimators_[name].predict_proba(X), by_hand.predict_proba(X)
        )
    unweighted = clone(late).fit(X, y)
    assert not np.allclose(
        unweighted.named_estimators_["lexical"].predict_proba(X),
        late.named_estimators_["lexical"].predict_proba(X),
    )
    counts = np.array([weight[y == label].sum() for label in late.classes_])
    assert_allclose(late.class_prior_, counts / counts.sum())


def test_late_fusion_gives_neural_members_their_weights(tiny_corpus):
    X, y, weight = _late_fusion_corpus(tiny_corpus)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    late = make_late_fusion(["lexical"], classifier=mlp).fit(X, y, sample_weight=weight)
    by_hand = clone(late.estimators[0][1]).fit(
        X, late.le_.transform(y), mlpclassifier__sample_weight=weight
    )
    assert_allclose(late.estimators_[0].predict_proba(X), by_hand.predict_proba(X))


def test_late_fusion_member_without_sample_weight_is_named(tiny_corpus):
    X, y, weight = _late_fusion_corpus(tiny_corpus)
    late = LateFusionClassifier(
        [
            ("lexical", make_modality_pipeline("lexical", classifier=GaussianNB())),
            ("visual", make_modality_pipeline("visual", classifier=KNN())),
        ],
        voting="soft",
    )
    with pytest.raises(TypeError, match="member 'visual' \\(KNeighborsClassifier\\)"):
        late.fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(160,\)"):
        late.fit(X, y, sample_weight=weight[:-1])
    # without weights, the same members are fine
    assert late.fit(X, y).score(X, y) > 0.5


def test_late_fusion_routes_sample_weight_to_members_that_request_it(tiny_corpus):
    X, y, weight = _late_fusion_corpus(tiny_corpus)
    lexical = np.vstack(X["lexical"].to_numpy())
    with config_context(enable_metadata_routing=True):
        late = LateFusionClassifier(
            [
                ("lr", LogisticRegression().set_fit_request(sample_weight=True)),
                ("nb", GaussianNB().set_fit_request(sample_weight=False)),
            ],
            voting="soft",
        ).fit(lexical, y, sample_weight=weight)
        by_hand = LogisticRegression().fit(lexical, late.le_.transform(y), weight)
        unweighted = GaussianNB().fit(lexical, late.le_.transform(y))
    assert_allclose(late.named_estimators_["lr"].coef_, by_hand.coef_)
    assert_allclose(late.named_estimators_["nb"].theta_, unweighted.theta_)


def test_ensemble_validation_loss_weighs_samples(tiny_corpus):
    X, y, speakers = _data("ensemble", tiny_corpus, n=160)
    weight = np.random.RandomState(0).uniform(0.5, 3.0, size=len(y))
    clf = MLPEnsembleClassifier(
        (8,), n_members=2, max_iter=3, early_stopping=True, random_state=0
    )
    clf.fit(X, y, groups=speakers, sample_weight=weight)
    valid = clf.validation_indices_
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X[valid], dtype=torch.float32))
    codes = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
    losses = torch.stack(
        [
            torch.nn.functional.cross_entropy(member, codes, reduction="none")
            for member in logits
        ]
    )
    w = torch.as_tensor(weight[valid], dtype=torch.float32)
    expected = ((losses * w).sum(dim=1) / w.sum()).numpy()
    # each member keeps its best epoch: its loss is that epoch's
    assert_allclose(expected, clf.validation_loss_curve_.min(axis=0), rtol=1e-5)
    zero = np.where(np.isin(np.arange(len(y)), valid), 0.0, 1.0)
    with pytest.raises(ValueError, match="zero for every sample of early stopping"):
        clone(clf).fit(X, y, groups=speakers, sample_weight=zero)
