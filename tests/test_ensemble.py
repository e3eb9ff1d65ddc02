import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from sklearn_mmer.neural import EnsembleMLPModule, MLPEnsembleClassifier
from sklearn_mmer.neural._modules import _member_losses


@pytest.fixture
def blobs():
    """Four overlapping classes, 8 features, 12 speakers."""
    rng = np.random.RandomState(0)
    centres = rng.normal(scale=1.5, size=(4, 8))
    codes = rng.randint(4, size=240)
    X = centres[codes] + rng.normal(size=(240, 8))
    labels = np.array(["anger", "sadness", "happiness", "neutral"])[codes]
    speakers = np.repeat(np.arange(12), 20)
    return X, labels, speakers


def test_ensemble_defaults_are_the_regularised_ones():
    clf = MLPEnsembleClassifier()
    assert (clf.n_members, clf.dropout, clf.alpha, clf.max_iter) == (
        5,
        0.5,
        1e-3,
        30,
    )


def test_ensemble_members_start_different_and_stack_their_weights(blobs):
    X, y, _ = blobs
    clf = MLPEnsembleClassifier((16,), n_members=3, max_iter=2, random_state=0)
    clf.fit(X, y)
    weights = clf.module_.weights[0].detach()
    assert weights.shape == (3, 16, 8)  # (n_members, fan_out, fan_in)
    assert not torch.allclose(weights[0], weights[1])
    assert clf.module_.weights[1].shape == (3, 4, 16)


def test_ensemble_proba_is_the_mean_of_member_probabilities(blobs):
    X, y, _ = blobs
    clf = MLPEnsembleClassifier((16,), n_members=4, max_iter=3, random_state=0)
    clf.fit(X, y)
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(X, dtype=torch.float32))
    members = torch.softmax(logits.double(), dim=-1).numpy()
    assert_allclose(clf.predict_proba(X), members.mean(axis=0), atol=1e-6)
    # the members disagree somewhere, else averaging would be pointless
    assert np.abs(members[0] - members[1]).max() > 1e-3


def test_ensemble_batched_members_train_independently(blobs):
    """One member's gradient never depends on another's weights."""
    X, y, _ = blobs
    torch.manual_seed(0)
    module = EnsembleMLPModule(8, 4, n_members=2, hidden_dims=(5,))
    X_t = torch.as_tensor(X[:16], dtype=torch.float32)
    target = torch.as_tensor(np.arange(16) % 4)
    weights = torch.ones(2, 16)
    _member_losses(module(X_t), target, weights)[0].backward()
    for parameter in [*module.weights, *module.biases]:
        assert parameter.grad[1].abs().max() == 0
        assert parameter.grad[0].abs().max() > 0


def test_ensemble_member_loss_weights_rows():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 2.0]]])
    target = torch.tensor([0, 0])
    # member 0 counts both rows, member 1 only the misclassified second one
    weights = torch.tensor([[1.0, 1.0], [0.0, 3.0]])
    losses = _member_losses(logits, target, weights)
    right, wrong = np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))
    assert_allclose(losses.numpy(), [(right + wrong) / 2, wrong], rtol=1e-6)


def test_ensemble_same_random_state_gives_identical_predictions(blobs):
    X, y, _ = blobs
    params = {
        "hidden_layer_sizes": (16,),
        "n_members": 3,
        "bootstrap": True,
        "max_iter": 3,
    }
    a = MLPEnsembleClassifier(**params, random_state=7).fit(X, y)
    state = torch.get_rng_state()
    b = MLPEnsembleClassifier(**params, random_state=7).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_ensemble_early_stopping_keeps_each_members_best_epoch(blobs):
    X, y, _ = blobs
    clf = MLPEnsembleClassifier(
        (32,),
        n_members=3,
        dropout=0.0,
        learning_rate_init=0.05,
        max_iter=40,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    curve = clf.validation_loss_curve_
    assert curve.shape == (clf.n_iter_, 3)
    assert_array_equal(clf.best_epochs_, np.argmin(curve, axis=0) + 1)
    # stopped because no member improved for `n_iter_no_change` epochs
    assert clf.n_iter_ < 40
    assert clf.n_iter_ - clf.best_epochs_.max() == 3
    valid = clf.validation_indices_
    weights = torch.ones(3, len(valid))
    X_valid = clf._logits(clf.module_, X[valid].astype(np.float32))
    target = torch.as_tensor(np.searchsorted(clf.classes_, y[valid]))
    restored = _member_losses(X_valid, target, weights).numpy()
    assert_allclose(restored, curve.min(axis=0), rtol=1e-5)


def test_ensemble_validation_holds_out_whole_speakers(blobs):
    X, y, speakers = blobs
    clf = MLPEnsembleClassifier(
        (8,), n_members=2, max_iter=2, early_stopping=True, random_state=0
    ).fit(X, y, groups=speakers)
    held_out = set(speakers[clf.validation_indices_])
    rest = set(np.delete(speakers, clf.validation_indices_))
    assert held_out and not held_out & rest


def test_ensemble_bootstrap_changes_the_members(blobs):
    X, y, _ = blobs
    params = {
        "hidden_layer_sizes": (16,),
        "n_members": 3,
        "max_iter": 5,
        "random_state": 0,
    }
    plain = MLPEnsembleClassifier(**params).fit(X, y)
    bagged = MLPEnsembleClassifier(**params, bootstrap=True).fit(X, y)
    assert not np.allclose(plain.predict_proba(X), bagged.predict_proba(X))


def test_ensemble_learns_and_round_trips(blobs):
    X, y, _ = blobs
    clf = MLPEnsembleClassifier((32,), n_members=3, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.8
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_members": 0}, "n_members"),
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"device": "gpu7"}, "device"),
        ({"class_weight": {"joy": 2.0}}, "joy"),
    ],
)
def test_ensemble_rejects_bad_parameters(blobs, params, match):
    X, y, _ = blobs
    with pytest.raises(ValueError, match=match):
        MLPEnsembleClassifier(max_iter=1, **params).fit(X, y)
