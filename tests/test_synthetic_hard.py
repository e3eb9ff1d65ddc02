"""make_multimodal_emotion(difficulty="hard"): harder in the ways real corpora are."""

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.datasets._synthetic_hard import (
    AMBIGUOUS_FRACTION,
    N_TOKENS,
    ambiguous_codes,
)

SMALL = {"visual": 6, "acoustic": 5, "lexical": 4}


def corpus(difficulty, n=2000, seed=0):
    return make_multimodal_emotion(
        n, modalities=SMALL, n_frames=(2, 4), difficulty=difficulty, random_state=seed
    )


def test_hard_text_is_a_token_sequence():
    data = corpus("hard", n=200).data
    lengths = [cell.shape[0] for cell in data["lexical"]]
    assert all(cell.shape[1] == 4 for cell in data["lexical"])
    assert N_TOKENS[0] <= min(lengths) and max(lengths) <= N_TOKENS[1]
    assert data["lexical"].iloc[0].dtype == np.float32
    assert data["visual"].iloc[0].ndim == 2


def test_hard_keeps_the_class_counts_and_speakers():
    hard, standard = corpus("hard"), corpus("standard")
    assert pd.Series(hard.target).value_counts().to_dict() == (
        pd.Series(standard.target).value_counts().to_dict()
    )
    assert sorted(set(hard.groups)) == sorted(set(standard.groups))
    assert "HARD VARIANT" in hard.DESCR and "HARD VARIANT" not in standard.DESCR


def test_hard_speakers_have_their_own_emotion_mix():
    def spread(bunch):
        shares = pd.crosstab(bunch.groups, bunch.target, normalize="index")
        return shares.std(axis=0).mean()

    # sampling noise alone gives the standard corpus about 0.03
    assert spread(corpus("hard")) > 2 * spread(corpus("standard"))


def test_hard_rows_are_sorted_by_speaker():
    groups = corpus("hard", n=300).groups
    assert list(groups) == sorted(groups)


def test_ambiguous_codes_pick_a_confusable_emotion():
    names = ["anger", "sadness", "happiness", "neutral"]
    rng = np.random.default_rng(0)
    codes = np.arange(20000) % 4
    features = ambiguous_codes(rng, codes, names)
    flipped = features != codes
    assert abs(flipped.mean() - AMBIGUOUS_FRACTION) < 0.01
    pairs = {(names[a], names[b]) for a, b in zip(codes[flipped], features[flipped])}
    assert pairs == {
        ("anger", "happiness"),
        ("happiness", "anger"),
        ("sadness", "neutral"),
        ("neutral", "sadness"),
    }


def test_standard_corpus_is_the_default():
    a = make_multimodal_emotion(
        60, n_speakers=4, n_sessions=2, modalities=SMALL, random_state=3
    )
    b = make_multimodal_emotion(
        60,
        n_speakers=4,
        n_sessions=2,
        modalities=SMALL,
        difficulty="standard",
        random_state=3,
    )
    np.testing.assert_array_equal(
        a.data["acoustic"].iloc[5], b.data["acoustic"].iloc[5]
    )
    np.testing.assert_array_equal(a.target, b.target)


def test_unknown_difficulty_is_a_clear_error():
    with pytest.raises(ValueError, match="difficulty"):
        make_multimodal_emotion(40, difficulty="brutal")
