"""A corpus narrowed to some modalities, and the order of its labels."""

import numpy as np
import pytest

from sklearn_mmer.datasets import (
    label_order,
    make_multimodal_emotion,
    select_modalities,
)

WIDTHS = {"visual": 5, "acoustic": 3, "lexical": 4}


@pytest.fixture(scope="module")
def corpus():
    return make_multimodal_emotion(
        30, n_speakers=3, n_sessions=3, modalities=WIDTHS, random_state=3
    )


def test_select_modalities_keeps_the_features_of_the_full_corpus(corpus):
    kept = select_modalities(corpus, ["lexical", "visual"])
    assert kept.modalities == ["lexical", "visual"]
    assert list(kept.data.columns) == ["visual", "lexical", "speaker", "session"]
    for name in kept.modalities:
        for a, b in zip(kept.data[name], corpus.data[name]):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(kept.target, corpus.target)
    np.testing.assert_array_equal(kept.groups, corpus.groups)
    # the given corpus is left as it was
    assert corpus.modalities == list(WIDTHS) and "acoustic" in corpus.data


@pytest.mark.parametrize(
    "modalities, message",
    [
        (["audio"], "unknown modality 'audio'; the corpus has visual, acoustic, "),
        (["lexical", "lexical"], "'lexical' is named twice in modalities"),
    ],
)
def test_select_modalities_refuses_unknown_and_repeated_names(
    corpus, modalities, message
):
    with pytest.raises(ValueError, match=message):
        select_modalities(corpus, modalities)


@pytest.mark.parametrize(
    "target, names, expected",
    [
        (
            ["neutral", "anger", "fear"],
            ["anger", "neutral"],
            ["anger", "neutral", "fear"],
        ),
        (["b", "a", "b"], None, ["a", "b"]),
        ([2, 0, 1, 0], [1, 0], [1, 0, 2]),
        # a name without utterances is left out
        (["anger"], ["sadness", "anger"], ["anger"]),
    ],
)
def test_label_order_puts_the_target_names_first(target, names, expected):
    labels = label_order(np.asarray(target), names)
    assert labels.dtype == object and labels.tolist() == expected
