"""scikit-learn's parameter names, warm_start, partial_fit and fitted curves."""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import EarlyStopping

from sklearn_mmer import load, save
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)

KINDS = {
    "mlp": lambda **p: MLPClassifier((8,), **p),
    "ensemble": lambda **p: MLPEnsembleClassifier((8,), n_members=2, **p),
    "attention": lambda **p: AttentionFusionClassifier(hidden_dim=8, **p),
    "sequence": lambda **p: SequenceClassifier(hidden_dim=8, **p),
}

#: old name -> (new name, a value other than the default)
RENAMED = {
    "lr": ("learning_rate_init", 0.02),
    "weight_decay": ("alpha", 0.01),
    "max_epochs": ("max_iter", 3),
    "patience": ("n_iter_no_change", 1),
}


@pytest.fixture
def blobs():
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(-1, 1, (30, 4)), rng.normal(1, 1, (30, 4))]
    y = np.array(["sad"] * 30 + ["happy"] * 30)
    return X, y


def weights(clf):
    return [p.detach().clone() for p in clf.net_.module_.parameters()]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("old", list(RENAMED))
def test_old_name_warns_and_acts_as_the_new_one(blobs, kind, old):
    X, y = blobs
    new, value = RENAMED[old]
    base = {"max_iter": 4, "early_stopping": True, "random_state": 0}
    if new == "max_iter":
        del base["max_iter"]
    with pytest.warns(FutureWarning, match=f"`{old}` was renamed `{new}` in 0.1 "):
        old_clf = KINDS[kind](**base, **{old: value}).fit(X, y)
    new_clf = KINDS[kind](**base, **{new: value}).fit(X, y)
    assert_allclose(old_clf.predict_proba(X), new_clf.predict_proba(X))
    assert old_clf.loss_curve_ == new_clf.loss_curve_
    assert getattr(old_clf, old) == value and getattr(old_clf, new) != value


@pytest.mark.parametrize("make", [MLPClassifier, MLPEnsembleClassifier])
def test_hidden_dims_warns_and_sets_the_layer_sizes(blobs, make):
    X, y = blobs
    with pytest.warns(FutureWarning, match="`hidden_layer_sizes` in 0.1"):
        clf = make(hidden_dims=(5,), max_iter=1).fit(X, y)
    shapes = [tuple(p.shape) for p in clf.net_.module_.parameters()]
    assert any(5 in shape for shape in shapes)
    assert not any(128 in shape for shape in shapes)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": 0.1, "learning_rate_init": 0.01}, "lr=0.1 and learning_rate_init=0.01"),
        ({"max_epochs": 3, "max_iter": 4}, "max_epochs=3 and max_iter=4 were both"),
        ({"hidden_dims": (4,), "hidden_layer_sizes": (8,)}, "hidden_dims=\\(4,\\)"),
    ],
)
def test_old_and_new_names_set_apart_are_refused(blobs, params, match):
    X, y = blobs
    with pytest.raises(ValueError, match=match):
        MLPClassifier(**params).fit(X, y)


def test_old_and_new_names_set_alike_only_warn(blobs):
    X, y = blobs
    with pytest.warns(FutureWarning, match="`max_epochs`"):
        clf = MLPClassifier(max_epochs=2, max_iter=2).fit(X, y)
    assert clf.n_iter_ == 2


def test_old_names_survive_clone_and_get_params():
    clf = clone(MLPClassifier(lr=0.1, hidden_dims=(4,)))
    params = clf.get_params()
    assert params["lr"] == 0.1 and params["hidden_dims"] == (4,)
    assert params["learning_rate_init"] == 1e-3
    assert MLPClassifier().get_params()["lr"] == "deprecated"


def test_grid_search_takes_the_new_names_without_warnings(blobs):
    X, y = blobs
    grid = {"hidden_layer_sizes": [(4,), (8,)], "alpha": [1e-4, 1e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search = GridSearchCV(MLPClassifier(max_iter=2, random_state=0), grid, cv=2)
        search.fit(X, y)
    assert set(search.best_params_) == {"hidden_layer_sizes", "alpha"}


def test_code_written_for_sklearn_mlp_runs_unchanged(blobs):
    X, y = blobs
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=5,
        learning_rate_init=1e-3,
        alpha=1e-4,
        batch_size=32,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        random_state=0,
    )
    clf.fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) <= 5
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ in clf.validation_scores_
    assert clf.predict(X).shape == (60,)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_)


@pytest.mark.parametrize("kind", list(KINDS))
def test_validation_scores_are_none_without_early_stopping(blobs, kind):
    X, y = blobs
    plain = KINDS[kind](max_iter=3, random_state=0).fit(X, y)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)
    assert len(plain.loss_curve_) == plain.n_iter_ == 3
    stopped = KINDS[kind](max_iter=3, early_stopping=True, random_state=0).fit(X, y)
    scores = stopped.validation_scores_
    assert len(scores) == stopped.n_iter_ and all(0 <= s <= 1 for s in scores)
    assert stopped.best_loss_ is None
    assert 0 <= stopped.best_validation_score_ <= 1


def test_best_validation_score_is_the_kept_epochs(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), max_iter=6, early_stopping=True, random_state=0)
    clf.fit(X, y)
    assert clf.best_validation_score_ == clf.validation_scores_[clf.best_epoch_ - 1]


@pytest.mark.parametrize("kind", list(KINDS))
def test_warm_start_continues_from_the_fitted_weights(blobs, kind):
    X, y = blobs
    clf = KINDS[kind](max_iter=3, learning_rate_init=0.01, random_state=0)
    clf.fit(X, y)
    first, curve = weights(clf), list(clf.loss_curve_)
    # a learning rate too small to move the weights: a warm fit stays put
    clf.set_params(warm_start=True, learning_rate_init=1e-12, max_iter=1).fit(X, y)
    cold = clone(clf).set_params(warm_start=False).fit(X, y)
    for a, b in zip(first, weights(clf)):
        assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    assert any(
        not torch.allclose(a, c, atol=1e-3) for a, c in zip(first, weights(cold))
    )
    assert clf.loss_curve_[:3] == curve and len(clf.loss_curve_) == clf.n_iter_ == 4


def test_warm_start_keeps_the_fitted_preprocessing(blobs):
    X, y = blobs
    clf = AttentionFusionClassifier(hidden_dim=4, max_iter=1, warm_start=True)
    scaler = clf.fit(X, y).scalers_["x0"]
    clf.fit(X + 5.0, y)
    assert clf.scalers_["x0"] is scaler
    assert_allclose(scaler.mean_, X.mean(axis=0))


def test_warm_start_refuses_other_classes_or_widths(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), max_iter=1, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has"):
        clf.fit(X, np.where(y == "sad", "angry", y))
    with pytest.raises(ValueError, match="X has 3 features, but MLPClassifier"):
        clf.fit(X[:, :3], y)


@pytest.mark.parametrize("kind", list(KINDS))
def test_partial_fit_raises_accuracy_one_epoch_at_a_time(blobs, kind):
    X, y = blobs
    clf = KINDS[kind](learning_rate_init=0.01, random_state=0)
    clf.partial_fit(X, y, classes=["happy", "sad"])
    early = clf.score(X, y)
    for _ in range(14):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 15
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert clf.score(X, y) >= max(early, 0.85)


def test_partial_fit_needs_classes_first_and_no_unknown_class(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:40], y[:40], classes=["happy", "sad", "angry"])
    assert list(clf.classes_) == ["angry", "happy", "sad"]
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X, np.where(y == "sad", "calm", y))
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X, y, classes=["happy", "sad"])


def test_partial_fit_continues_a_fit_and_refuses_balanced(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == clf.n_iter_ == 3
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=["a", "b"])


def test_partial_fit_keeps_the_optimiser_state(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), random_state=0).partial_fit(
        X, y, classes=["happy", "sad"]
    )
    clf.partial_fit(X, y)
    state = clf.net_.optimizer_.state_dict()["state"]
    # Adam counts its steps: two epochs of two batches each
    assert int(next(iter(state.values()))["step"]) == 4


NEW_OF = {
    "hidden_dims": "hidden_layer_sizes",
    "lr": "learning_rate_init",
    "weight_decay": "alpha",
    "max_epochs": "max_iter",
    "patience": "n_iter_no_change",
}
CURVES = ("loss_curve_", "validation_scores_", "best_validation_score_", "best_loss_")


def as_written_before(clf):
    """``clf`` with the attributes a classifier fitted before 0.1 had."""
    state = vars(clf)
    for old, new in NEW_OF.items():
        state[old] = state.pop(new)
    curve = state["loss_curve_"]
    for name in ("warm_start", *CURVES):
        del state[name]
    if isinstance(clf, MLPEnsembleClassifier):
        # the ensemble recorded its members' mean training loss as an array
        state["loss_curve_"] = np.asarray(curve)
    return clf


@pytest.mark.parametrize("make", [MLPClassifier, MLPEnsembleClassifier])
def test_a_model_file_written_before_the_renaming_loads(
    blobs, make, tmp_path, monkeypatch
):
    X, y = blobs
    clf = make((8,), max_iter=3, early_stopping=True, random_state=0).fit(X, y)
    expected, curve = clf.predict_proba(X), list(clf.loss_curve_)
    # the earlier release's parameters: the old names, no warm_start
    names = sorted(set(make._get_param_names()) - set(NEW_OF.values()) - {"warm_start"})
    old = as_written_before(clf)
    with monkeypatch.context() as patch:
        patch.setattr(make, "_get_param_names", classmethod(lambda cls: names))
        save(old, tmp_path / "old.mmer")
    loaded = load(tmp_path / "old.mmer")
    assert_allclose(loaded.predict_proba(X), expected)
    assert loaded.hidden_layer_sizes == (8,) and loaded.max_iter == 3
    assert loaded.lr == "deprecated" and loaded.max_epochs == "deprecated"
    assert loaded.warm_start is False
    assert loaded.loss_curve_ == pytest.approx(curve)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.set_params(warm_start=True).fit(X, y)
    assert len(loaded.loss_curve_) > len(curve)


def by_tol(losses, tol, patience):
    """tol's rule worked by hand: ``(epochs run, last improving epoch(s))``.

    An epoch improves when its loss is below the last improving one's by more
    than ``tol``; a run stops once every column of ``losses`` (an epoch per
    row, a member per column) has gone ``patience`` epochs without.
    """
    losses = np.asarray(losses, dtype=float).reshape(len(losses), -1)
    best = np.full(losses.shape[1], np.inf)
    stale = np.zeros(losses.shape[1], dtype=int)
    kept = np.zeros(losses.shape[1], dtype=int)
    for epoch, row in enumerate(losses, start=1):
        better = row < best - tol
        best, kept[better] = np.where(better, row, best), epoch
        stale = np.where(better, 0, stale + 1)
        if np.all(stale >= patience):
            return epoch, kept
    return len(losses), kept


SETTLING = {"max_iter": 60, "n_iter_no_change": 3, "learning_rate_init": 0.03}


@pytest.mark.parametrize("kind", list(KINDS))
def test_tol_none_trains_every_epoch(blobs, kind):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = KINDS[kind](**SETTLING, random_state=0).fit(X, y)
    assert clf.tol is None and clf.n_iter_ == 60
    # the same curve would have stopped a run with a tol
    assert by_tol(clf.loss_curve_, 0.05, 3)[0] < 60


@pytest.mark.parametrize("kind", list(KINDS))
def test_tol_stops_once_the_training_loss_settles(blobs, kind):
    X, y = blobs
    with warnings.catch_warnings():
        # a run that stops on tol has converged: no ConvergenceWarning
        warnings.simplefilter("error")
        clf = KINDS[kind](**SETTLING, tol=0.05, random_state=0).fit(X, y)
    assert clf.n_iter_ < 60
    assert clf.n_iter_ == by_tol(clf.loss_curve_, 0.05, 3)[0]
    # the run is the untouched one cut short, and keeps its last epoch
    cut = KINDS[kind](**{**SETTLING, "max_iter": clf.n_iter_}, random_state=0)
    cut.fit(X, y)
    assert cut.loss_curve_ == clf.loss_curve_
    assert_allclose(cut.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("kind", list(KINDS))
def test_tol_not_met_in_max_iter_warns(blobs, kind):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match="tol=0.05"):
        clf = KINDS[kind](max_iter=2, tol=0.05, random_state=0).fit(X, y)
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("kind", list(KINDS))
def test_tol_is_the_validation_threshold_with_early_stopping(blobs, kind):
    X, y = blobs
    params = {**SETTLING, "early_stopping": True, "validation_fraction": 0.3}
    runs = {
        tol: KINDS[kind](**params, tol=tol, random_state=0).fit(X, y)
        for tol in (None, 0.0, 0.05)
    }
    for tol, clf in runs.items():
        if kind == "ensemble":
            losses, kept = clf.validation_loss_curve_, clf.best_epochs_
        else:
            losses, kept = clf.validation_losses_, clf.best_epoch_
        epochs, by_hand = by_tol(losses, tol or 0.0, 3)
        assert clf.n_iter_ == epochs
        np.testing.assert_array_equal(
            kept, by_hand if kind == "ensemble" else by_hand[0]
        )
    # None is today's threshold, 0: any decrease counts
    assert runs[None].loss_curve_ == runs[0.0].loss_curve_
    assert runs[0.05].n_iter_ < runs[None].n_iter_


@pytest.mark.parametrize("tol", [-0.1, "1e-3"])
def test_tol_must_be_a_non_negative_float_or_none(blobs, tol):
    X, y = blobs
    with pytest.raises(ValueError, match="'tol' parameter"):
        MLPClassifier(tol=tol, max_iter=1).fit(X, y)


def test_a_run_a_callback_ends_does_not_warn(blobs):
    X, y = blobs
    # a user's callback that ends the run after 2 epochs, before tol could
    ends = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = MLPClassifier(max_iter=30, tol=1e-6, callbacks=[ends]).fit(X, y)
    assert clf.n_iter_ == 2
