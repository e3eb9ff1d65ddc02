"""Encoder layers, attentive pooling, mixup and label smoothing."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks
from test_common import SETTLED as CHECK_QUICK
from test_common import expected_failed_checks

import sklearn_mmer
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    AttentiveStatisticsPooling,
    LayerWeights,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)
from sklearn_mmer.preprocessing import TemporalPooling

QUICK = {"max_iter": 3, "batch_size": 8, "random_state": 0}


def _layered_corpus(n=40, n_layers=3, width=4, informative=2, seed=0):
    """``(L, T, d)`` cells whose class shows in layer ``informative`` only."""
    rng = np.random.RandomState(seed)
    y = np.array(["calm", "angry"] * (n // 2))
    cells = []
    for label in y:
        cell = rng.normal(size=(n_layers, rng.randint(3, 9), width))
        cell[informative] += 2.0 * (label == "angry")
        cells.append(cell.astype(np.float32))
    speakers = np.repeat([f"s{i}" for i in range(4)], n // 4)
    return pd.DataFrame({"encoder": cells, "speaker": speakers}), y


def test_layer_weights_sum_to_one_and_receive_gradients():
    mix = LayerWeights(4)
    frames = torch.randn(5, 7, 4 * 3)
    mix(frames).pow(2).sum().backward()
    assert torch.isclose(mix.weights().sum(), torch.tensor(1.0))
    assert mix.logits.grad is not None
    assert mix.logits.grad.abs().sum() > 0


def test_layer_weights_mix_the_layers_of_each_frame():
    mix = LayerWeights(2)
    with torch.no_grad():
        mix.logits.copy_(torch.tensor([0.0, 100.0]))
    layered = torch.tensor([[1.0, 2.0, 30.0, 40.0]])
    torch.testing.assert_close(mix(layered), torch.tensor([[30.0, 40.0]]))


def test_fitted_layer_weights_sum_to_one_and_favour_the_informative_layer():
    X, y = _layered_corpus()
    clf = SequenceClassifier(
        "encoder",
        architecture="none",
        learning_rate_init=0.05,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    weights = clf.layer_weights_["encoder"]
    assert weights.shape == (3,)
    assert weights.sum() == pytest.approx(1.0)
    assert clf.input_layers_ == {"encoder": 3}
    assert np.argmax(weights) == 2


@pytest.mark.parametrize("pad", [1, 6])
def test_attentive_pooling_ignores_padded_frames(pad):
    torch.manual_seed(0)
    pool = AttentiveStatisticsPooling(3, attention_dim=5)
    frames = torch.randn(1, 4, 3)
    alone = pool(frames, torch.ones(1, 4, dtype=torch.bool))
    padded = torch.cat([frames, 100 * torch.randn(1, pad, 3)], dim=1)
    valid = torch.arange(4 + pad)[None, :] < 4
    torch.testing.assert_close(pool(padded, valid), alone)


def test_attentive_pooling_gives_mean_and_std_of_one_frame_sequences():
    pool = AttentiveStatisticsPooling(2)
    frames = torch.tensor([[[1.0, -2.0], [0.0, 0.0]]])
    out = pool(frames, torch.tensor([[True, False]]))
    torch.testing.assert_close(out[:, :2], frames[:, 0])
    assert out[:, 2:].abs().max() < 1e-3


@pytest.mark.parametrize("architecture", ["gru", "none"])
def test_attentive_sequence_model_predicts_alike_in_any_batch(architecture):
    """Each utterance is padded to its batch's longest: no effect on its output."""
    X, y = _layered_corpus()
    clf = SequenceClassifier(
        "encoder", architecture=architecture, pooling="attentive", hidden_dim=8, **QUICK
    ).fit(X, y)
    together = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X.iloc[[i]]) for i in range(5)])
    np.testing.assert_allclose(alone, together[:5], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooled_skip", [False, True])
def test_layered_cells_save_load_and_predict_identically(tmp_path, pooled_skip):
    X, y = _layered_corpus()
    clf = SequenceClassifier(
        "encoder",
        pooling="attentive",
        hidden_dim=8,
        pooled_skip=pooled_skip,
        n_segments=4,
        **QUICK,
    ).fit(X, y)
    sklearn_mmer.save(clf, tmp_path / "model.mmer")
    loaded = sklearn_mmer.load(tmp_path / "model.mmer")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(
        loaded.layer_weights_["encoder"], clf.layer_weights_["encoder"]
    )


def test_layered_cells_must_keep_their_layer_count():
    X, y = _layered_corpus()
    clf = SequenceClassifier("encoder", hidden_dim=8, **QUICK).fit(X, y)
    fewer = X.assign(encoder=[cell[:2] for cell in X["encoder"]])
    with pytest.raises(ValueError, match="fit on 3"):
        clf.predict(fewer)
    mixed = X.assign(encoder=[X["encoder"][0][0]] + list(X["encoder"][1:]))
    with pytest.raises(ValueError, match="mixes cells"):
        SequenceClassifier("encoder", **QUICK).fit(mixed, y)


def test_plain_cells_have_no_layer_weights():
    X, y = _layered_corpus()
    X = X.assign(encoder=[cell[0] for cell in X["encoder"]])
    clf = SequenceClassifier("encoder", hidden_dim=8, **QUICK).fit(X, y)
    assert clf.layer_weights_ == {}
    assert not any("layer_mixers" in key for key in clf.net_.module_.state_dict())


@pytest.mark.parametrize(
    ("layer", "expected"),
    [(-1, lambda c: c[-1]), ([0, 2], lambda c: c[[0, 2]].mean(0)), ("mean", None)],
)
def test_temporal_pooling_reads_the_chosen_layers(layer, expected):
    X, _ = _layered_corpus(n=4)
    pooled = TemporalPooling(layer=layer).fit_transform(X[["encoder"]])
    expected = expected or (lambda c: c.mean(0))
    means = np.stack([expected(c).mean(0) for c in X["encoder"]])
    np.testing.assert_allclose(pooled, means, rtol=1e-5)


def test_temporal_pooling_asks_for_a_layer_choice_on_layered_cells():
    X, _ = _layered_corpus(n=4)
    with pytest.raises(ValueError, match="choose the layers: layer=INDEX"):
        TemporalPooling().fit(X[["encoder"]])
    with pytest.raises(ValueError, match="out of range"):
        TemporalPooling(layer=5).fit(X[["encoder"]])


def _plain(n=48, seed=0):
    rng = np.random.RandomState(seed)
    y = np.array(["a", "b", "c"] * (n // 3))
    return rng.normal(size=(n, 5)) + (y == "a")[:, None], y


def _classifiers():
    return [
        MLPClassifier(hidden_layer_sizes=(8,), **QUICK),
        MLPEnsembleClassifier(hidden_layer_sizes=(8,), n_members=2, **QUICK),
        AttentionFusionClassifier(hidden_dim=8, **QUICK),
        SequenceClassifier(hidden_dim=8, **QUICK),
    ]


@pytest.mark.parametrize("clf", _classifiers(), ids=lambda c: type(c).__name__)
@pytest.mark.parametrize(
    "option", [{"mixup_alpha": 0.4}, {"label_smoothing": 0.2}], ids=str
)
def test_mixup_and_label_smoothing_change_training(clf, option):
    X, y = _plain()
    default = clf.fit(X, y).predict_proba(X)
    changed = clf.set_params(**option).fit(X, y).predict_proba(X)
    assert not np.allclose(default, changed)


@pytest.mark.parametrize("clf", _classifiers(), ids=lambda c: type(c).__name__)
def test_zero_mixup_and_smoothing_are_the_defaults_bit_for_bit(clf):
    X, y = _plain()
    default = clf.fit(X, y).predict_proba(X)
    explicit = clf.set_params(mixup_alpha=0.0, label_smoothing=0.0)
    np.testing.assert_array_equal(explicit.fit(X, y).predict_proba(X), default)


def test_label_smoothing_softens_the_predictions():
    X, y = _plain()
    params = {"hidden_layer_sizes": (16,), "max_iter": 40, "random_state": 0}
    sharp = MLPClassifier(**params).fit(X, y).predict_proba(X).max(axis=1)
    smooth = MLPClassifier(**params, label_smoothing=0.5).fit(X, y)
    assert smooth.predict_proba(X).max(axis=1).mean() < sharp.mean()


@parametrize_with_checks(
    [
        MLPClassifier(
            hidden_layer_sizes=(16,),
            mixup_alpha=0.2,
            label_smoothing=0.1,
            **CHECK_QUICK,
        ),
        MLPEnsembleClassifier(
            hidden_layer_sizes=(16,), n_members=2, mixup_alpha=0.2, **CHECK_QUICK
        ),
        SequenceClassifier(
            architecture="none",
            pooling="attentive",
            head_dims=(16,),
            mixup_alpha=0.2,
            label_smoothing=0.1,
            **CHECK_QUICK,
        ),
    ],
    expected_failed_checks=lambda estimator: {
        **expected_failed_checks(estimator),
        "check_sample_weight_equivalence_on_dense_data": (
            "mixup pairs each row with another drawn at random, so repeating a "
            "row changes the pairs; equal weights and repeated rows differ"
        ),
    },
)
# 3 epochs with a tol cannot converge (see test_common's SETTLED)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_new_options_pass_the_estimator_checks(estimator, check):
    check(estimator)
