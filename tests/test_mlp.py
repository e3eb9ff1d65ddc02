import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mmer.neural import MLPClassifier


@pytest.fixture
def blobs():
    """Four separable classes, 8 features, 12 speakers."""
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=3.0, size=(4, 8))
    codes = rng.randint(4, size=240)
    X = centres[codes] + rng.normal(size=(240, 8))
    labels = np.array(["anger", "sadness", "happiness", "neutral"])[codes]
    speakers = np.repeat(np.arange(12), 20)
    return X, labels, speakers


def test_mlp_defaults_are_the_studys():
    clf = MLPClassifier()
    assert clf.hidden_layer_sizes == (128, 64)
    assert (clf.learning_rate_init, clf.alpha, clf.batch_size, clf.max_iter) == (
        1e-3,
        1e-5,
        32,
        50,
    )


def test_mlp_learns_string_labels(blobs):
    X, y, _ = blobs
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert_array_equal(clf.classes_, sorted(set(y)))
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 4)
    assert_allclose(proba.sum(axis=1), 1.0)


def test_mlp_input_width_is_inferred(blobs):
    X, y, _ = blobs
    clf = MLPClassifier(max_iter=1, random_state=0).fit(X[:, :5], y)
    assert clf.n_features_in_ == 5
    assert clf.net_.module_.layers[0].in_features == 5
    assert [layer.out_features for layer in clf.net_.module_.layers[::2]] == [
        128,
        64,
        4,
    ]


def test_mlp_same_random_state_gives_identical_predictions(blobs):
    X, y, _ = blobs
    first = MLPClassifier(max_iter=5, random_state=3).fit(X, y).predict_proba(X)
    second = MLPClassifier(max_iter=5, random_state=3).fit(X, y).predict_proba(X)
    other = MLPClassifier(max_iter=5, random_state=4).fit(X, y).predict_proba(X)
    assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_mlp_seeding_leaves_global_torch_rng_alone(blobs):
    X, y, _ = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    MLPClassifier(max_iter=1, random_state=0).fit(X, y)
    assert_array_equal(torch.rand(3), expected)


def test_mlp_pickle_and_clone_round_trip(blobs):
    X, y, _ = blobs
    clf = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == clf.get_params()


def test_mlp_early_stopping_restores_the_best_epoch(blobs):
    X, y, _ = blobs
    clf = MLPClassifier(
        max_iter=60,
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        random_state=0,
    ).fit(X, y)
    losses = np.asarray(clf.history_[:, "valid_loss"])
    assert clf.n_iter_ < 60
    assert clf.best_epoch_ == np.argmin(losses) + 1
    valid = clf.validation_indices_
    with torch.no_grad():
        logits = clf.net_.infer(torch.as_tensor(X[valid], dtype=torch.float32))
        codes = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
        loss = torch.nn.functional.cross_entropy(logits, codes).item()
    assert loss == pytest.approx(losses.min(), rel=1e-5)


def test_mlp_validation_split_is_stratified_without_groups(blobs):
    X, y, _ = blobs
    clf = MLPClassifier(max_iter=1, early_stopping=True, validation_fraction=0.2)
    clf.fit(X, y)
    assert len(clf.validation_indices_) == 48
    assert set(y[clf.validation_indices_]) == set(y)


def test_mlp_validation_split_holds_out_whole_speakers(blobs):
    X, y, speakers = blobs
    clf = MLPClassifier(max_iter=2, early_stopping=True, validation_fraction=0.25)
    clf.fit(X, y, groups=speakers)
    valid = np.zeros(len(y), bool)
    valid[clf.validation_indices_] = True
    assert set(speakers[valid]).isdisjoint(speakers[~valid])
    assert len(set(speakers[valid])) == 3


def test_mlp_groups_are_routed_through_a_pipeline(blobs):
    """With metadata routing, cross_validate's groups reach the validation split."""
    X, y, speakers = blobs
    with config_context(enable_metadata_routing=True):
        mlp = MLPClassifier(max_iter=2, early_stopping=True, random_state=0)
        pipe = make_pipeline(StandardScaler(), mlp.set_fit_request(groups=True))
        result = cross_validate(
            pipe,
            X,
            y,
            cv=GroupKFold(3),
            params={"groups": speakers},
            return_estimator=True,
            return_indices=True,
        )
    for estimator, train in zip(result["estimator"], result["indices"]["train"]):
        fitted = estimator[-1]
        train_speakers = speakers[train]
        valid = np.zeros(len(train), bool)
        valid[fitted.validation_indices_] = True
        assert set(train_speakers[valid]).isdisjoint(train_speakers[~valid])


def test_mlp_balanced_class_weight_sets_the_loss_weights(blobs):
    X, y, _ = blobs
    keep = np.r_[np.flatnonzero(y != "anger"), np.flatnonzero(y == "anger")[:6]]
    clf = MLPClassifier(max_iter=1, class_weight="balanced").fit(X[keep], y[keep])
    weight = clf.net_.criterion_.weight.numpy()
    counts = np.array([np.sum(y[keep] == c) for c in clf.classes_])
    assert_allclose(weight, len(keep) / (4 * counts), rtol=1e-6)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"hidden_layer_sizes": (64, 0)},
            "hidden_layer_sizes must be a sequence of positive ints",
        ),
        (
            {"hidden_layer_sizes": "wide"},
            "'hidden_layer_sizes' parameter of MLPClassifier",
        ),
        (
            {"learning_rate_init": -1.0},
            "'learning_rate_init' parameter of MLPClassifier must be a float in",
        ),
        ({"class_weight": "even"}, "'class_weight' parameter"),
        ({"class_weight": {"joy": 2.0}}, r"class_weight names labels \['joy'\]"),
        ({"device": "gpu"}, "device='gpu' is not a torch device"),
    ],
)
def test_mlp_rejects_bad_parameters(blobs, params, match):
    X, y, _ = blobs
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=1, **params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is present")
def test_mlp_cuda_without_a_gpu_is_a_clear_error(blobs):
    X, y, _ = blobs
    with pytest.raises(ValueError, match="device='cuda' but torch finds no CUDA GPU"):
        MLPClassifier(max_iter=1, device="cuda").fit(X, y)


def test_mlp_rejects_nan_features_with_a_clear_error(blobs):
    X, y, _ = blobs
    X = X.copy()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        MLPClassifier(max_iter=1).fit(X, y)


def test_mlp_needs_two_classes(blobs):
    X, _, _ = blobs
    with pytest.raises(ValueError, match="at least 2 classes; got 1 class"):
        MLPClassifier(max_iter=1).fit(X, np.full(len(X), "anger"))
