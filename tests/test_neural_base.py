"""The template shared by the neural classifiers: rebuilding a fitted network
without training, and skorch callbacks passed through to the net."""

import copy
import os
import pickle
import signal
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from skorch.callbacks import Callback, LRScheduler

from sklearn_mmer._testing import ctrl_c_raises, lexical_matrix
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    SequenceClassifier,
)

MODALITIES = ["visual", "acoustic", "lexical"]


CLASSIFIERS = {
    "mlp": lambda: MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, random_state=0),
    "sequence": lambda: SequenceClassifier(
        MODALITIES, hidden_dim=8, max_iter=2, random_state=0
    ),
    "transformer": lambda: SequenceClassifier(
        ["acoustic"],
        architecture="transformer",
        hidden_dim=8,
        n_heads=2,
        max_iter=2,
        random_state=0,
    ),
    "attention": lambda: AttentionFusionClassifier(
        MODALITIES, hidden_dim=8, max_iter=3, early_stopping=True, random_state=0
    ),
}


def _data(kind, corpus):
    X, y, speakers = corpus
    return (lexical_matrix(X) if kind == "mlp" else X), y, speakers


class EpochRecorder(Callback):
    """Records the number of each epoch as it ends."""

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_.append(len(net.history))


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_fitted_network_is_rebuilt_from_parameters_and_state_dict(tiny_corpus, kind):
    X, y, speakers = _data(kind, tiny_corpus)
    fitted = CLASSIFIERS[kind]().fit(X, y, groups=speakers)
    state = copy.deepcopy(fitted.net_.module_.state_dict())

    restored = type(fitted)(**fitted.get_params())
    for name, value in vars(fitted).items():
        if name.endswith("_") and not name.startswith("_") and name != "net_":
            setattr(restored, name, copy.deepcopy(value))
    net = restored._initialize_net()
    assert net is restored.net_ and len(net.history) == 0  # nothing was trained
    untrained = restored.predict_proba(X)
    restored.net_.module_.load_state_dict(state)

    assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    assert not np.allclose(untrained, fitted.predict_proba(X))


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_callbacks_run_alongside_early_stopping(tiny_corpus, kind):
    X, y, speakers = _data(kind, tiny_corpus)
    recorder = EpochRecorder()
    clf = CLASSIFIERS[kind]().set_params(
        callbacks=[recorder], early_stopping=True, n_iter_no_change=1, max_iter=6
    )
    clf.fit(X, y, groups=speakers)
    fitted = dict(clf.net_.callbacks_)
    assert fitted["EpochRecorder"].epochs_ == list(range(1, clf.n_iter_ + 1))
    assert "early_stopping" in fitted
    # the parameter itself is never trained: each fit works on a copy
    assert clf.callbacks[0] is recorder and not hasattr(recorder, "epochs_")


def test_lr_scheduler_callback_steps_the_learning_rate(tiny_corpus):
    X, y, _ = _data("mlp", tiny_corpus)
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        learning_rate_init=0.01,
        max_iter=3,
        callbacks=[scheduler],
    )
    clf.fit(X, y)
    assert_allclose(clf.history_[:, "event_lr"], [0.01, 0.005, 0.0025])
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.00125)


def test_callbacks_keep_the_estimator_clone_and_pickle_safe(tiny_corpus):
    X, y, _ = _data("mlp", tiny_corpus)
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        max_iter=2,
        random_state=0,
        callbacks=[("steps", LRScheduler(policy="StepLR", step_size=1))],
    )
    twin = clone(clf)
    assert twin.callbacks[0][1] is not clf.callbacks[0][1]
    assert_array_equal(twin.fit(X, y).predict_proba(X), clf.fit(X, y).predict_proba(X))
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize(
    "callbacks, match",
    [
        (["progress"], "callbacks must hold skorch callbacks"),
        ([("early_stopping", EpochRecorder())], "is the estimator's own early"),
    ],
)
def test_bad_callbacks_are_rejected(tiny_corpus, callbacks, match):
    X, y, _ = _data("mlp", tiny_corpus)
    with pytest.raises(ValueError, match=match):
        MLPClassifier(max_iter=1, callbacks=callbacks).fit(X, y)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_fitted_network_keeps_no_validation_data(tiny_corpus, kind):
    # early stopping's split holds the held-out rows; a fitted model (and its
    # pickle) has no use for them, so it must not carry them. Wide inputs, so
    # that carried data would dwarf the network.
    X, y, _ = _data(kind, tiny_corpus)
    if kind == "mlp":
        X = np.tile(X, (1, 500))
        data_bytes = X.nbytes
    else:
        X = X.assign(acoustic=[np.tile(c, (1, 200)) for c in X["acoustic"]])
        data_bytes = sum(cell.nbytes for cell in X["acoustic"])
    clf = CLASSIFIERS[kind]().set_params(early_stopping=True, validation_fraction=0.5)
    clf.fit(X, y)
    assert clf.net_.train_split is None
    assert len(pickle.dumps(clf)) < 0.25 * data_bytes
    assert_array_equal(pickle.loads(pickle.dumps(clf)).predict(X), clf.predict(X))


class CtrlCInEpoch(Callback):
    """Sends this process a SIGINT, as Ctrl-C does, in epoch ``epoch``'s
    first batch (before the epoch's loss is recorded)."""

    def __init__(self, epoch=1):
        self.epoch = epoch

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == self.epoch and len(net.history[-1]["batches"]) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the signal lands here


class StopsAtEpoch(Callback):
    """Ends training the skorch way, by raising KeyboardInterrupt."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("epoch", [1, 3])
@pytest.mark.parametrize("kind", ["mlp", "attention"])
def test_ctrl_c_stops_fit_as_in_scikit_learn(tiny_corpus, kind, epoch):
    """skorch catches Ctrl-C and keeps a half-trained network; the estimator
    raises it again, in the first epoch (where skorch's history then holds no
    loss) as in a later one, and leaves Ctrl-C's handler as it found it."""
    X, y, speakers = _data(kind, tiny_corpus)
    clf = CLASSIFIERS[kind]().set_params(
        callbacks=[CtrlCInEpoch(epoch)], max_iter=5, batch_size=8
    )
    with ctrl_c_raises(), pytest.raises(KeyboardInterrupt):
        clf.fit(X, y, groups=speakers)
    with ctrl_c_raises():
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert len(clf.net_.history) == epoch  # training stopped where Ctrl-C came


def test_a_callback_that_raises_keyboard_interrupt_still_ends_training(tiny_corpus):
    X, y, speakers = _data("mlp", tiny_corpus)
    clf = CLASSIFIERS["mlp"]().set_params(callbacks=[StopsAtEpoch(2)], max_iter=5)
    with ctrl_c_raises():
        clf.fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2


@pytest.mark.parametrize("kind", [*sorted(CLASSIFIERS), "ensemble"])
def test_a_cpu_fit_seeds_no_accelerator_and_leaves_the_callers_rng_be(
    tiny_corpus, kind, monkeypatch
):
    import torch

    from sklearn_mmer.neural import MLPEnsembleClassifier

    seeded = []
    for name in ["cuda", "xpu", "mtia"]:
        monkeypatch.setattr(
            getattr(torch, name),
            "manual_seed_all",
            lambda seed, n=name: seeded.append(n),
        )
    monkeypatch.setattr(torch.mps, "manual_seed", lambda seed: seeded.append("mps"))
    if kind == "ensemble":
        estimator = MLPEnsembleClassifier((8,), n_members=2, max_iter=2, random_state=0)
        X, y, speakers = _data("mlp", tiny_corpus)
    else:
        estimator = CLASSIFIERS[kind]()
        X, y, speakers = _data(kind, tiny_corpus)
    torch.manual_seed(7)  # the caller's seed, drawn from after the fit
    seeded.clear()
    expected = torch.random.get_rng_state()
    first = estimator.fit(X, y).predict_proba(X)
    assert seeded == []  # the lazily seeded devices a CPU fit never uses
    assert torch.equal(torch.random.get_rng_state(), expected)
    # and the fit's own seed is the CPU generator's: the same again
    assert_array_equal(clone(estimator).fit(X, y).predict_proba(X), first)
