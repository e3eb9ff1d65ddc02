"""SequenceClassifier's segment means, its skip path of average frames and its head."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from sklearn_mmer._testing import fast_sequence as fast
from sklearn_mmer.neural import SequenceClassifier, SequenceModule
from sklearn_mmer.neural._data import segment_means
from sklearn_mmer.preprocessing import TemporalPooling

ARCHITECTURES = ["gru", "residual_gru", "transformer"]


def by_definition(frames, n_segments):
    """Segment j: frames floor(j T / S) up to floor((j + 1) T / S), averaged."""
    length = len(frames)
    if length <= n_segments:
        return frames
    return np.stack(
        [
            frames[j * length // n_segments : (j + 1) * length // n_segments].mean(0)
            for j in range(n_segments)
        ]
    )


def module_inputs(clf, X):
    """The keyword inputs the network reads when ``clf`` predicts X."""
    seen = {}

    def record(module, args, kwargs):
        seen.update({k: v.detach().clone() for k, v in kwargs.items()})

    handle = clf.net_.module_.register_forward_pre_hook(record, with_kwargs=True)
    try:
        clf.set_params(batch_size=len(X))
        clf.net_.set_params(batch_size=len(X))
        clf.predict_proba(X)
    finally:
        handle.remove()
    return seen


@pytest.mark.parametrize("length", [1, 3, 7, 8, 9, 30])
def test_segment_means_are_the_segments_averages(length):
    frames = np.random.RandomState(length).normal(size=(length, 4))
    means = segment_means(frames, 3)
    assert means.shape == (min(length, 3), 4)
    assert_allclose(means, by_definition(frames, 3))
    if length > 3:
        # segment sizes differ by at most one frame, so the segment means
        # weighted by their sizes give back the mean frame
        sizes = np.diff((np.arange(4) * length) // 3)
        assert sizes.max() - sizes.min() <= 1
        assert_allclose(sizes @ means / length, frames.mean(0))


def test_segments_give_what_fitting_on_segment_means_gives(acoustic_corpus):
    X, y, _ = acoustic_corpus
    assert max(len(cell) for cell in X["acoustic"]) > 3
    clf = fast(n_segments=3, max_iter=3).fit(X, y)
    assert clf.padders_["acoustic"].max_lengths_ == [3]
    reduced = X.assign(acoustic=[by_definition(c, 3) for c in X["acoustic"]])
    reference = fast(max_iter=3).fit(reduced, y)
    assert_allclose(clf.frame_means_["acoustic"], reference.frame_means_["acoustic"])
    assert_allclose(clf.predict_proba(X), reference.predict_proba(reduced), atol=1e-6)


def test_segments_cut_after_max_length(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(n_segments=2, max_length=4, max_iter=2).fit(X, y)
    cut = X.assign(acoustic=[cell[:4] for cell in X["acoustic"]])
    assert_array_equal(clf.predict_proba(cut), clf.predict_proba(X))
    # the 5th frame onwards is never read
    changed = X.assign(acoustic=[np.r_[c[:4], c[4:] + 100.0] for c in X["acoustic"]])
    assert_array_equal(clf.predict_proba(changed), clf.predict_proba(X))


def test_sequences_no_longer_than_the_segments_are_read_as_they_are(acoustic_corpus):
    X, y, _ = acoustic_corpus
    whole = fast(max_iter=2).fit(X, y)
    segmented = fast(max_iter=2, n_segments=100).fit(X, y)
    assert_array_equal(segmented.predict_proba(X), whole.predict_proba(X))


def test_segments_keep_the_order_of_the_utterance():
    # the label is whether the frames rise or fall; the average frame is the
    # same for both, so only the order of the segments tells them apart
    rng = np.random.RandomState(0)
    y = np.array(["rise", "fall"] * 40)
    ramps = [np.linspace(-1, 1, rng.randint(20, 40))[:, None] for _ in y]
    X = np.empty(len(y), dtype=object)
    X[:] = [r if label == "rise" else r[::-1] for r, label in zip(ramps, y)]
    X = pd.DataFrame({"acoustic": X})
    clf = fast(n_segments=4, architecture="gru", max_iter=40).fit(X, y)
    assert clf.padders_["acoustic"].max_lengths_ == [4]
    assert clf.score(X, y) == 1.0


def test_segments_silence_the_long_sequence_warning():
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"acoustic": [rng.normal(size=(1001, 2)) for _ in range(4)]})
    y = [0, 1, 0, 1]
    with pytest.warns(UserWarning, match="or n_segments"):
        SequenceClassifier(hidden_dim=4, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = SequenceClassifier(hidden_dim=4, max_iter=1, n_segments=8).fit(X, y)
    assert clf.padders_["acoustic"].max_lengths_ == [8]


def test_segments_report_frames_that_are_not_finite(acoustic_corpus):
    X, y, _ = acoustic_corpus
    cells = list(X["acoustic"])
    cells[5] = cells[5].copy()
    cells[5][1, 0] = np.inf
    with pytest.raises(ValueError, match="column 'acoustic', row 5: the frames"):
        fast(n_segments=2, pooled_skip=True, max_iter=1).fit(
            X.assign(acoustic=cells), y
        )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_pooled_skip_reads_early_fusions_view(acoustic_corpus, architecture):
    X, y, _ = acoustic_corpus
    clf = fast(
        ["acoustic", "lexical"],
        architecture=architecture,
        pooled_skip=True,
        n_segments=2,
        max_iter=2,
    ).fit(X, y)
    # the average frames are standardised as early fusion's scaler does it
    for modality in ("acoustic", "lexical"):
        pooled = TemporalPooling("mean").fit_transform(X[modality])
        scaler = StandardScaler().fit(pooled)
        assert_allclose(clf.pooled_means_[modality], scaler.mean_, rtol=1e-5)
        assert_allclose(clf.pooled_scales_[modality], scaler.scale_, rtol=1e-5)
    seen = module_inputs(clf, X)
    expected = StandardScaler().fit_transform(
        TemporalPooling().fit_transform(X["acoustic"])
    )
    assert_allclose(seen["pooled_0"].numpy(), expected, rtol=1e-4, atol=1e-5)
    assert seen["frames_0"].shape[1] == 2
    assert clf.net_.module_.head[1].in_features == 2 * 16 + 6 + 8


def test_pooled_skip_reads_zeros_where_a_modality_is_missing(acoustic_corpus):
    X, y, _ = acoustic_corpus
    missing = X.copy()
    missing.loc[:9, "acoustic"] = None
    clf = fast(["acoustic", "lexical"], pooled_skip=True, max_iter=2).fit(missing, y)
    seen = module_inputs(clf, missing)
    assert (seen["pooled_0"][:10] == 0).all()
    assert (seen["pooled_0"][10:] != 0).any(dim=1).all()
    # the missing rows do not count towards the standardisation
    pooled = TemporalPooling().fit_transform(X["acoustic"][10:])
    assert_allclose(clf.pooled_means_["acoustic"], pooled.mean(0), rtol=1e-5)
    assert np.isfinite(clf.predict_proba(missing)).all()


class SilenceEncoders(Callback):
    """Make every sequence encoder output zeros, in training and prediction."""

    def on_train_begin(self, net, **kwargs):
        for encoder in net.module_.encoders:
            encoder.register_forward_hook(lambda module, args, out: out * 0)


def test_pooled_skip_alone_carries_the_average_frame(acoustic_corpus):
    # the label moves the average frame: with the encoders silenced, the skip
    # path alone still learns it, and without it nothing is left to learn from
    X, y, speakers = acoustic_corpus
    clf = fast(pooled_skip=True, head_dims=(16,), callbacks=[SilenceEncoders()])
    scores = cross_val_score(clf, X, y, groups=speakers, cv=GroupKFold(3))
    assert scores.min() > 0.8
    clf.set_params(pooled_skip=False)
    scores = cross_val_score(clf, X, y, groups=speakers, cv=GroupKFold(3))
    assert scores.max() < 0.45


def test_head_dims_build_the_head_and_are_checked(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(head_dims=(12, 5), max_iter=1).fit(X, y)
    widths = [
        (layer.in_features, layer.out_features)
        for layer in clf.net_.module_.head
        if isinstance(layer, torch.nn.Linear)
    ]
    assert widths == [(16, 12), (12, 5), (5, 4)]
    with pytest.raises(ValueError, match="head_dims must be a sequence of positive"):
        fast(head_dims=(8, 0), max_iter=1).fit(X, y)


def test_default_head_keeps_its_parameter_names():
    # model files store the state dict by name: the linear head stays head.1
    module = SequenceModule([3], 2, hidden_dim=4)
    assert [k for k in module.state_dict() if k.startswith("head")] == [
        "head.1.weight",
        "head.1.bias",
    ]


def test_refit_without_pooled_skip_drops_its_statistics(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(pooled_skip=True, max_iter=1).fit(X, y)
    assert set(clf.pooled_means_) == {"acoustic"}
    clf.set_params(pooled_skip=False).fit(X, y)
    assert not hasattr(clf, "pooled_means_")
    assert not hasattr(clf, "pooled_scales_")


def test_pooled_skip_on_a_plain_array():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = SequenceClassifier(
        hidden_dim=8, pooled_skip=True, max_iter=20, learning_rate_init=0.02
    )
    clf.fit(X, y)
    assert_allclose(clf.pooled_means_["x0"], X.mean(0), rtol=1e-5)
    assert clf.score(X, y) > 0.9
    # the frames are standardised with their own statistics, not twice
    assert_allclose(clf.frame_means_["x0"], X.mean(0), rtol=1e-5)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_segmented_skip_model_round_trips(acoustic_corpus, architecture):
    X, y, _ = acoustic_corpus
    clf = fast(
        ["acoustic", "lexical"],
        architecture=architecture,
        n_segments=3,
        pooled_skip=True,
        head_dims=(8,),
        max_iter=2,
    ).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()
