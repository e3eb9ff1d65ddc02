import pickle

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score

from sklearn_mmer._testing import fast_sequence as fast
from sklearn_mmer.neural import SequenceClassifier, SequenceModule
from sklearn_mmer.neural._modules import SequenceEncoder

ARCHITECTURES = ["gru", "residual_gru", "transformer"]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_scores_well_above_chance_on_speaker_folds(
    acoustic_corpus, architecture
):
    X, y, speakers = acoustic_corpus
    cv = GroupKFold(3)
    clf = fast(architecture=architecture)
    informative = cross_val_score(clf, X, y, groups=speakers, cv=cv)
    noise = cross_val_score(
        clf.set_params(modalities="visual"), X, y, groups=speakers, cv=cv
    )
    # four classes: chance is 0.25, and the visual frames are noise
    assert informative.min() > 0.8
    assert noise.mean() < 0.45


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_fuses_modalities(acoustic_corpus, architecture):
    X, y, speakers = acoustic_corpus
    clf = fast(["visual", "acoustic", "lexical"], architecture=architecture)
    scores = cross_val_score(clf, X, y, groups=speakers, cv=GroupKFold(3))
    assert scores.min() > 0.8
    clf.fit(X, y)
    assert len(clf.net_.module_.encoders) == 3
    # lexical vectors are sequences of one frame
    assert clf.padders_["lexical"].max_lengths_ == [1]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_padding_does_not_change_the_logits(architecture):
    torch.manual_seed(0)
    module = SequenceModule([3], 4, hidden_dim=8, architecture=architecture, n_heads=2)
    module.eval()
    sequence = torch.randn(5, 3)

    def logits(padded_length, fill=0.0, length=5):
        frames = torch.full((1, padded_length, 3), fill)
        frames[0, :5] = sequence
        return module(frames_0=frames, lengths_0=torch.tensor([length])).detach()

    alone = logits(5)
    assert_allclose(logits(12), alone, atol=1e-6)
    assert_allclose(logits(12, fill=1e3), alone, atol=1e-6)
    # lengths are respected: the model does read all 5 frames
    assert not np.allclose(logits(12, length=3), alone, atol=1e-3)
    # in a batch beside a longer sequence
    frames = torch.zeros(2, 9, 3)
    frames[0, :5] = sequence
    frames[1] = torch.randn(9, 3)
    batch = module(frames_0=frames, lengths_0=torch.tensor([5, 9])).detach()
    assert_allclose(batch[:1], alone, atol=1e-6)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_padding_does_not_change_the_gradients(architecture):
    """Training, not only prediction, ignores the padding after a sequence."""
    torch.manual_seed(0)
    module = SequenceModule([3], 4, hidden_dim=8, architecture=architecture, n_heads=2)
    sequence = torch.randn(5, 3)

    def gradients(padded_length, fill=0.0):
        module.zero_grad()
        frames = torch.full((1, padded_length, 3), fill)
        frames[0, :5] = sequence
        module(frames_0=frames, lengths_0=torch.tensor([5])).sum().backward()
        return [p.grad.clone() for p in module.parameters() if p.grad is not None]

    module.eval()  # no dropout draws
    alone = gradients(5)
    for got in (gradients(12), gradients(12, fill=1e3)):
        assert len(got) == len(alone)
        for g, a in zip(got, alone):
            assert_allclose(g, a, atol=1e-6)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_missing_cell_encodes_to_zeros(architecture):
    encoder = SequenceEncoder(3, 8, architecture=architecture, n_heads=2).eval()
    frames = torch.randn(2, 4, 3)
    pooled = encoder(frames, torch.tensor([0, 4])).detach()
    assert torch.equal(pooled[0], torch.zeros(8))
    assert torch.isfinite(pooled).all() and pooled[1].abs().sum() > 0


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_predictions_do_not_depend_on_the_batch(acoustic_corpus, architecture):
    X, y, _ = acoustic_corpus
    clf = fast(["acoustic", "lexical"], architecture=architecture, max_iter=2)
    proba = clf.fit(X, y).predict_proba(X)
    for row in (0, 7):
        assert_allclose(clf.predict_proba(X.iloc[[row]])[0], proba[row], atol=1e-6)


def test_sequence_missing_modalities_are_still_classified(acoustic_corpus):
    X, y, _ = acoustic_corpus
    X = X.copy()
    X.loc[[1, 2], "acoustic"] = None
    clf = fast(["acoustic", "lexical"], max_iter=2).fit(X, y)
    X_test = X.iloc[:3].copy()
    X_test.loc[0, ["acoustic", "lexical"]] = None
    proba = clf.predict_proba(X_test)
    assert np.isfinite(proba).all()
    # nothing at all: every encoding is 0, so only the classifier's bias speaks
    with torch.no_grad():
        bias = torch.softmax(clf.net_.module_.head[-1].bias, dim=0).numpy()
    assert_allclose(proba[0], bias, rtol=1e-5)


def test_sequence_max_length_reads_only_the_first_frames(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(max_length=4, max_iter=2).fit(X, y)
    assert clf.padders_["acoustic"].max_lengths_ == [4]
    cut = X.assign(acoustic=[cell[:4] for cell in X["acoustic"]])
    assert_array_equal(clf.predict_proba(cut), clf.predict_proba(X))


def test_sequence_standardises_with_the_training_frames(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(max_iter=1).fit(X, y)
    frames = np.concatenate(list(X["acoustic"]))
    assert_allclose(clf.frame_means_["acoustic"], frames.mean(axis=0), rtol=1e-5)
    assert_allclose(clf.frame_scales_["acoustic"], frames.std(axis=0), rtol=1e-5)


def test_sequence_plain_array_rows_are_one_frame_sequences():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = SequenceClassifier(hidden_dim=8, max_iter=2).fit(X, y)
    assert clf.modalities_ == ["x0"]
    assert not hasattr(clf, "padders_")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_same_random_state_gives_identical_predictions(
    acoustic_corpus, architecture
):
    X, y, _ = acoustic_corpus
    clf = fast(architecture=architecture, max_iter=2)
    first = clone(clf).fit(X, y).predict_proba(X)
    second = clone(clf).fit(X, y).predict_proba(X)
    other = clone(clf).set_params(random_state=1).fit(X, y).predict_proba(X)
    assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sequence_pickle_and_clone_round_trip(acoustic_corpus, architecture):
    X, y, _ = acoustic_corpus
    clf = fast(architecture=architecture, max_iter=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == clf.get_params()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"modalities": "audio"}, "column 'audio' not in X; X has 'visual'"),
        ({"modalities": "speaker"}, "column 'speaker' does not hold frame arrays"),
        (
            {"architecture": "transformer", "hidden_dim": 10, "n_heads": 4},
            "hidden_dim=10 must be divisible by n_heads=4",
        ),
        ({"architecture": "lstm"}, "'architecture' parameter of SequenceClassifier"),
        ({"max_length": 0}, "'max_length' parameter of SequenceClassifier"),
    ],
)
def test_sequence_rejects_bad_parameters(acoustic_corpus, params, match):
    X, y, _ = acoustic_corpus
    with pytest.raises(ValueError, match=match):
        fast(max_iter=1).set_params(**params).fit(X, y)


def test_sequence_rejects_input_unlike_fit(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = fast(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="column 'acoustic' not in X"):
        clf.predict(X.drop(columns="acoustic"))
    with pytest.raises(ValueError, match="fit on a DataFrame of modalities"):
        clf.predict(np.ones((3, 6)))
    with pytest.raises(ValueError, match="feature width 5 differs from the width 6"):
        clf.predict(X.assign(acoustic=[np.ones((3, 5))] * len(X)))
    with pytest.raises(ValueError, match="modalities='acoustic' names columns"):
        fast().fit(np.ones((4, 2)), [0, 1, 0, 1])


def test_sequence_deprecated_modality_still_reads_the_columns(acoustic_corpus):
    X, y, _ = acoustic_corpus
    old = SequenceClassifier(modality="acoustic", hidden_dim=8, max_iter=2)
    with pytest.warns(
        FutureWarning, match=r"renamed `modalities`.*modalities='acoustic'"
    ):
        old.fit(X, y, groups=None)
    new = SequenceClassifier(modalities="acoustic", hidden_dim=8, max_iter=2)
    assert old.modalities_ == new.fit(X, y).modalities_ == ["acoustic"]
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="in modality$"):
        old.set_params(modality="x").fit(X, y)


def test_sequence_rejects_modality_and_modalities_together(acoustic_corpus):
    X, y, _ = acoustic_corpus
    clf = SequenceClassifier(["visual"], modality="acoustic", max_iter=1)
    with pytest.raises(ValueError, match="were both given; modality is the deprecated"):
        clf.fit(X, y)
