"""Frame cells pooled inside the MLPs: ``pooling="mean"`` or ``"attentive"``."""

import numpy as np
import pandas as pd
import pytest
import torch

import sklearn_mmer
from sklearn_mmer.neural import EnsembleMLPModule, MLPClassifier, MLPEnsembleClassifier
from sklearn_mmer.neural._pooling import FramePooling

QUICK = {"hidden_layer_sizes": (8,), "batch_size": 8, "max_iter": 3, "random_state": 0}
CLASSES = [MLPClassifier, MLPEnsembleClassifier]


def _make(cls, **params):
    members = {"n_members": 3} if cls is MLPEnsembleClassifier else {}
    return cls(**{**QUICK, **members, **params})


def _cells(n=40, n_layers=None, width=4, informative=2, seed=0):
    """``(T, d)`` cells (or ``(L, T, d)`` ones, the class in one layer only)."""
    rng = np.random.RandomState(seed)
    y = np.array(["calm", "angry"] * (n // 2))
    cells = []
    for label in y:
        length = rng.randint(2, 12)
        if n_layers is None:
            cell = rng.normal(size=(length, width)) + 2.0 * (label == "angry")
        else:
            cell = rng.normal(size=(n_layers, length, width))
            cell[informative] += 2.0 * (label == "angry")
        cells.append(cell.astype(np.float32))
    speakers = np.repeat([f"s{i}" for i in range(4)], n // 4)
    return pd.DataFrame({"acoustic": cells, "speaker": speakers}), y


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("n_layers", [None, 3])
def test_attentive_pooling_gives_the_same_output_with_and_without_padding(
    cls, n_layers
):
    X, y = _cells(n_layers=n_layers)
    clf = _make(cls, pooling="attentive").fit(X, y)
    # together, each utterance is padded to the longest in the batch; alone, not
    together = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X.iloc[[i]]) for i in range(8)])
    lengths = [cell.shape[-2] for cell in X["acoustic"]]
    assert min(lengths[:8]) < max(lengths)
    np.testing.assert_allclose(alone, together[:8], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_layer_weights_sum_to_one_and_are_trained(cls, pooling):
    X, y = _cells(n_layers=3)
    clf = _make(cls, pooling=pooling).fit(X, y)
    weights = np.atleast_2d(clf.layer_weights_)
    expected = 3 if cls is MLPEnsembleClassifier else 1
    assert weights.shape == (expected, 3)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    # they start equal: training moved them
    assert not np.allclose(weights, 1 / 3, atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_layer_weights_receive_gradients(pooling):
    X, y = _cells(n_layers=3)
    clf = _make(MLPClassifier, pooling=pooling).fit(X, y)
    module = clf.net_.module_
    module.zero_grad()
    frames = torch.randn(5, 7, 3 * 4)
    module(frames_0=frames, lengths_0=torch.tensor([7, 3, 1, 5, 2])).sum().backward()
    assert module.pooling.mix.logits.grad.abs().sum() > 0


def test_layer_weights_favour_the_informative_layer():
    X, y = _cells(n=80, n_layers=3, informative=1)
    clf = MLPClassifier(
        (16,), pooling="mean", learning_rate_init=0.02, max_iter=30, random_state=0
    ).fit(X, y)
    assert np.argmax(clf.layer_weights_) == 1
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("pooling", ["mean", "attentive"])
def test_layered_cells_save_load_and_predict_identically(tmp_path, cls, pooling):
    X, y = _cells(n_layers=3)
    clf = _make(cls, pooling=pooling).fit(X, y)
    sklearn_mmer.save(clf, tmp_path / "model.mmer")
    loaded = sklearn_mmer.load(tmp_path / "model.mmer")
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.layer_weights_, clf.layer_weights_)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_cells_come_as_a_series_a_list_or_a_dataframe_column(cls):
    X, y = _cells()
    frame = _make(cls, pooling="attentive").fit(X, y).predict_proba(X)
    for form in (X["acoustic"], list(X["acoustic"]), X[["acoustic"]]):
        clf = _make(cls, pooling="attentive").fit(form, y)
        np.testing.assert_array_equal(clf.predict_proba(form), frame)
        assert clf.n_features_in_ == 1


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "option",
    [
        {"mixup_alpha": 0.4},
        {"early_stopping": True},
        {"class_weight": {"calm": 3.0}},
        {"label_smoothing": 0.1},
    ],
    ids=str,
)
def test_training_options_apply_to_pooled_frames(cls, option):
    X, y = _cells(n_layers=2, informative=1)
    default = _make(cls, pooling="attentive").fit(X, y).predict_proba(X)
    changed = _make(cls, pooling="attentive", **option).fit(X, y).predict_proba(X)
    assert not np.allclose(default, changed)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_sample_weights_weigh_the_frames_and_the_loss(cls):
    X, y = _cells()
    default = _make(cls, pooling="mean").fit(X, y)
    weights = np.where(y == "calm", 3.0, 1.0)
    weighted = _make(cls, pooling="mean").fit(X, y, sample_weight=weights)
    assert not np.allclose(default.frame_means_, weighted.frame_means_)
    assert not np.allclose(default.predict_proba(X), weighted.predict_proba(X))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_missing_cell_pools_to_zeros(cls):
    X, y = _cells()
    clf = _make(cls, pooling="attentive").fit(X, y)
    missing = pd.DataFrame({"acoustic": [None, X["acoustic"][1]]})
    proba = clf.predict_proba(missing)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba[1], clf.predict_proba(X.iloc[[1]])[0], rtol=1e-5)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_defaults_read_pooled_features_as_before(cls):
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 5)), np.array([0, 1, 2] * 10)
    clf = _make(cls).fit(X, y)
    assert clf.pooling is None
    assert type(clf.net_.module_).__name__ in {"MLPModule", "EnsembleMLPModule"}
    assert not hasattr(clf, "padder_")
    assert not hasattr(clf, "layer_weights_")
    explicit = _make(cls, pooling=None).fit(X, y)
    np.testing.assert_array_equal(explicit.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_refit_on_pooled_features_forgets_the_frames(cls):
    X, y = _cells()
    clf = _make(cls, pooling="mean").fit(X, y)
    plain = np.stack([cell.mean(axis=0) for cell in X["acoustic"]])
    clf.set_params(pooling=None).fit(plain, y)
    assert not hasattr(clf, "padder_") and not hasattr(clf, "frame_means_")
    assert clf.n_features_in_ == 4


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_frame_cells_without_pooling_are_refused(cls):
    X, y = _cells()
    for form in (X, X["acoustic"], list(X["acoustic"])):
        with pytest.raises(ValueError, match="pass pooling='mean' or"):
            _make(cls).fit(form, y)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_pooled_features_with_pooling_are_refused(cls):
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match="pass pooling=None"):
        _make(cls, pooling="mean").fit(rng.normal(size=(6, 3)), [0, 1] * 3)
    X, y = _cells()
    clf = _make(cls).fit(np.stack([c.mean(0) for c in X["acoustic"]]), y)
    with pytest.raises(ValueError, match="was fit with pooling=None"):
        clf.set_params(pooling="mean").predict(X)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_cells_of_the_wrong_shape_are_refused(cls):
    X, y = _cells(n_layers=3)
    mixed = X.assign(acoustic=[X["acoustic"][0][0]] + list(X["acoustic"][1:]))
    with pytest.raises(ValueError, match="mixes cells"):
        _make(cls, pooling="mean").fit(mixed, y)
    clf = _make(cls, pooling="mean").fit(X, y)
    fewer = X.assign(acoustic=[cell[:2] for cell in X["acoustic"]])
    with pytest.raises(ValueError, match="fit on 3"):
        clf.predict(fewer)
    narrower = X.assign(acoustic=[cell[..., :3] for cell in X["acoustic"]])
    with pytest.raises(ValueError, match="feature width"):
        clf.predict(narrower)
    two = X.assign(visual=list(X["acoustic"]))
    with pytest.raises(ValueError, match="one column of frame cells"):
        _make(cls, pooling="mean").fit(two, y)


def test_frame_pooling_mean_reads_valid_frames_only():
    frames = torch.tensor([[[1.0], [3.0], [50.0]], [[2.0], [0.0], [0.0]]])
    pooled = FramePooling(1)(frames, torch.tensor([2, 1]))
    torch.testing.assert_close(pooled, torch.tensor([[2.0], [2.0]]))


def test_ensemble_module_reads_one_input_per_member():
    torch.manual_seed(0)
    module = EnsembleMLPModule(3, 2, 2, hidden_dims=(4,))
    X = torch.randn(5, 3)
    shared = module(X)
    torch.testing.assert_close(module(torch.stack([X, X])), shared)
