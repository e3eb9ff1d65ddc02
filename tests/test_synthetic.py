"""make_multimodal_emotion: IEMOCAP's shape, and signal ordered as in the study."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from threadpoolctl import threadpool_limits

from sklearn_mmer.datasets import (
    DEFAULT_MODALITIES,
    ISSUE_COLUMNS,
    make_multimodal_emotion,
)
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import SpeakerKFold

SMALL = {"visual": 16, "acoustic": 8, "lexical": 12}


@pytest.fixture(scope="module")
def small_corpus():
    return make_multimodal_emotion(
        200, modalities=SMALL, n_frames=(3, 7), random_state=0
    )


def test_bunch_has_the_data_contract_fields(small_corpus):
    corpus = small_corpus
    X = corpus.data
    assert list(X.columns) == [*SMALL, "speaker", "session"]
    assert corpus.modalities == list(SMALL)
    assert corpus.target_names == ["anger", "sadness", "happiness", "neutral"]
    assert set(corpus.target) == set(corpus.target_names)
    assert isinstance(corpus.groups, np.ndarray)
    np.testing.assert_array_equal(corpus.groups, X["speaker"])
    np.testing.assert_array_equal(corpus.sessions, X["session"])
    assert corpus.issues.empty and list(corpus.issues.columns) == ISSUE_COLUMNS
    assert "SYNTHETIC" in corpus.DESCR


def test_cells_are_float32_frames_and_vectors(small_corpus):
    X = small_corpus.data
    for modality, width in SMALL.items():
        shapes = {cell.shape for cell in X[modality]}
        assert {cell.dtype for cell in X[modality]} == {np.dtype("float32")}
        if modality == "lexical":
            assert shapes == {(width,)}
        else:
            assert {s[1] for s in shapes} == {width}
            assert {s[0] for s in shapes} == set(range(3, 8))


def test_speakers_pair_into_sessions(small_corpus):
    corpus = small_corpus
    speakers = sorted(set(corpus.groups))
    assert speakers == [f"Ses{s:02d}{g}" for s in range(1, 6) for g in "FM"]
    for speaker in speakers:
        assert set(corpus.sessions[corpus.groups == speaker]) == {int(speaker[3:5])}
    for _, test in SpeakerKFold(5).split(corpus.data, groups=corpus.groups):
        assert len(set(corpus.sessions[test])) == 1


def test_utterance_ids_look_like_iemocap(small_corpus):
    index = small_corpus.data.index
    assert index.is_unique
    assert all(re.fullmatch(r"Ses\d\d[FM]_impro\d\d_[FM]\d{3}", i) for i in index)
    assert all(i.startswith(s + "_") for i, s in zip(index, small_corpus.groups))


def test_class_counts_follow_iemocap_imbalance():
    _, y = make_multimodal_emotion(
        1336, modalities={"lexical": 2}, random_state=0, return_X_y=True
    )
    counts = pd.Series(y).value_counts()
    expected = np.array([1103, 1084, 595, 1708]) / 4490 * 1336
    names = ["anger", "sadness", "happiness", "neutral"]
    np.testing.assert_allclose(counts[names], expected, atol=1.5)
    assert counts.idxmax() == "neutral" and counts.idxmin() == "happiness"


def test_class_weights_dict_sets_the_target_names():
    corpus = make_multimodal_emotion(
        30,
        n_speakers=3,
        n_sessions=3,
        modalities={"lexical": 2},
        class_weights={"calm": 2, "angry": 1},
        random_state=0,
    )
    assert corpus.target_names == ["calm", "angry"]
    assert pd.Series(corpus.target).value_counts().to_dict() == {
        "calm": 20,
        "angry": 10,
    }


def test_random_state_makes_the_corpus_reproducible():
    kwargs = {"n_speakers": 2, "n_sessions": 1, "modalities": SMALL}
    a = make_multimodal_emotion(20, random_state=3, **kwargs)
    b = make_multimodal_emotion(20, random_state=3, **kwargs)
    c = make_multimodal_emotion(20, random_state=4, **kwargs)
    np.testing.assert_array_equal(a.target, b.target)
    for cell_a, cell_b in zip(a.data["visual"], b.data["visual"]):
        np.testing.assert_array_equal(cell_a, cell_b)
    assert not np.array_equal(a.data["lexical"].iloc[0], c.data["lexical"].iloc[0])


def test_return_X_y_and_options():
    X, y = make_multimodal_emotion(
        12,
        n_speakers=6,
        n_sessions=2,
        modalities={"face": 3, "text": 4},
        n_frames=2,
        vector_modalities=["text"],
        random_state=0,
        return_X_y=True,
    )
    assert X["face"].iloc[0].shape == (2, 3) and X["text"].iloc[0].shape == (4,)
    assert sorted(set(X["speaker"])) == [
        "Ses01F",
        "Ses01F2",
        "Ses01M",
        "Ses02F",
        "Ses02F2",
        "Ses02M",
    ]
    assert len(y) == 12


def test_return_X_y_gives_the_bunchs_data_and_target():
    kwargs = {"n_speakers": 2, "n_sessions": 1, "modalities": SMALL, "random_state": 1}
    result = make_multimodal_emotion(10, return_X_y=True, **kwargs)
    corpus = make_multimodal_emotion(10, **kwargs)
    assert isinstance(result, tuple) and len(result) == 2
    pd.testing.assert_frame_equal(result[0], corpus.data)
    np.testing.assert_array_equal(result[1], corpus.target)


def test_n_samples_sizes_the_corpus():
    X, _ = make_multimodal_emotion(
        n_samples=14, n_speakers=2, n_sessions=1, modalities=SMALL, return_X_y=True
    )
    assert X.shape[0] == 14


def test_n_utterances_is_a_deprecated_alias_of_n_samples():
    kwargs = {"n_speakers": 2, "n_sessions": 1, "modalities": SMALL, "random_state": 2}
    with pytest.warns(FutureWarning, match="n_utterances was renamed n_samples"):
        old = make_multimodal_emotion(n_utterances=14, **kwargs)
    new = make_multimodal_emotion(n_samples=14, **kwargs)
    np.testing.assert_array_equal(old.target, new.target)
    assert old.data.shape == new.data.shape == (14, len(SMALL) + 2)


def test_default_modalities_are_public_and_read_only():
    assert list(DEFAULT_MODALITIES) == ["visual", "acoustic", "lexical"]
    with pytest.raises(TypeError):
        DEFAULT_MODALITIES["visual"] = 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_sessions": 11}, "n_sessions=11 exceeds n_speakers=10"),
        ({"n_samples": 5}, "n_samples=5 is smaller than n_speakers=10"),
        ({"modalities": {"visual": 0}}, r"modalities\['visual'\] must be a positive"),
        ({"modalities": {"speaker": 3}}, "may not be named 'speaker'"),
        ({"signal": {"audio": 1.0}}, r"signal names \['audio'\]"),
        ({"class_weights": [1, 2]}, "must give 4 weights"),
        ({"class_weights": {"a": 1, "b": -1}}, "must be positive"),
        ({"n_frames": (5, 2)}, "1 <= min <= max"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"modalities": {"content": 3}}, "may not be named 'content'"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multimodal_emotion(**{"modalities": {"lexical": 2}, **kwargs})


def _speaker_cv(model, X, y, groups):
    scores = cross_val_score(
        model, X, y, groups=groups, cv=SpeakerKFold(5), scoring="f1_micro"
    )
    return scores.mean()


def _random_cv(model, X, y):
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    return cross_val_score(model, X, y, cv=cv, scoring="f1_micro").mean()


def _linear_proxy():
    # the defaults were tuned with the default MLPClassifier; a logistic
    # regression keeps the same order at a fraction of the cost
    return LogisticRegression(C=0.05, max_iter=200)


def test_modalities_rank_lexical_acoustic_visual():
    # default widths, fewer utterances and frames than the default corpus
    X, y = make_multimodal_emotion(
        800, n_frames=(5, 10), random_state=0, return_X_y=True
    )
    groups = X["speaker"].to_numpy()
    with threadpool_limits(1):  # BLAS threads only contend on a small machine
        scores = {
            m: _speaker_cv(
                make_modality_pipeline(m, classifier=_linear_proxy()), X, y, groups
            )
            for m in ("visual", "acoustic", "lexical")
        }
    assert scores["lexical"] > scores["acoustic"] + 0.03
    assert scores["acoustic"] > scores["visual"] + 0.03
    assert scores["visual"] > 0.3


@pytest.mark.parametrize("variation, gap", [(1.0, (0.08, 1.0)), (0.0, (-0.05, 0.05))])
def test_speaker_effects_make_speaker_cv_harder(variation, gap):
    X, y = make_multimodal_emotion(
        800,
        modalities={"lexical": 768},
        speaker_variation=variation,
        random_state=0,
        return_X_y=True,
    )
    groups = X["speaker"].to_numpy()
    model = make_modality_pipeline("lexical", classifier=_linear_proxy())
    with threadpool_limits(1):
        difference = _random_cv(model, X, y) - _speaker_cv(model, X, y, groups)
    assert gap[0] < difference < gap[1]


@pytest.mark.parametrize(
    "pooling, low, high", [("mean", 0.15, 0.35), ("std", 0.5, 1.0)]
)
def test_frame_spread_carries_arousal(pooling, low, high):
    # with no class signal in the means, only the frames' spread tells classes apart
    X, y = make_multimodal_emotion(
        400,
        modalities={"acoustic": 16},
        signal=0.0,
        n_frames=(20, 40),
        random_state=0,
        return_X_y=True,
    )
    groups = X["speaker"].to_numpy()
    model = make_modality_pipeline(
        "acoustic", pooling=pooling, classifier=LogisticRegression()
    )
    scores = cross_val_score(
        model, X, y, groups=groups, cv=SpeakerKFold(5), scoring="balanced_accuracy"
    )
    assert low < scores.mean() < high
