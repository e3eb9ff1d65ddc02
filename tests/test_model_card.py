"""The library side of ``mmer fit`` and ``compare --save-model``: which method
to keep (``best_inductive_method``) and its card (``model_card``)."""

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_mmer import save
from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import best_inductive_method, model_card
from sklearn_mmer.fusion import make_modality_pipeline


def _summary(**means):
    return pd.DataFrame({"method": list(means), "f1_micro_mean": list(means.values())})


@pytest.mark.parametrize(
    "means, expected",
    [
        # a transductive method is passed over, however well it scored
        ({"early_fusion_speaker_norm": 0.9, "early_fusion": 0.5}, "early_fusion"),
        # a method whose every fit failed has no mean
        ({"lexical": np.nan, "late_fusion": 0.4}, "late_fusion"),
        # a modality is a method of its own, inductive
        ({"lexical": 0.7, "early_fusion": 0.6}, "lexical"),
        # ties keep the summary's order
        ({"late_fusion": 0.6, "early_fusion": 0.6}, "late_fusion"),
        # a name the registry does not know counts as inductive
        ({"my_method": 0.8, "early_fusion": 0.6}, "my_method"),
    ],
)
def test_best_inductive_method_ranks_by_mean_skipping_transductive(means, expected):
    assert best_inductive_method(_summary(**means), ["lexical"]) == expected


def test_best_inductive_method_ranks_by_the_metric_asked_for():
    summary = _summary(early_fusion=0.6, late_fusion=0.5)
    summary["f1_macro_mean"] = [0.3, 0.4]
    assert best_inductive_method(summary, metric="f1_macro") == "late_fusion"


def test_best_inductive_method_raises_without_an_inductive_score():
    summary = _summary(early_fusion_speaker_norm=0.9, early_fusion=np.nan)
    with pytest.raises(ValueError, match="no inductive method has a f1_micro"):
        best_inductive_method(summary)
    with pytest.raises(ValueError, match="no 'f1_macro_mean' column"):
        best_inductive_method(summary, metric="f1_macro")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A lexical pipeline fitted on a small corpus, and its manifest."""
    corpus = make_multimodal_emotion(
        40, n_speakers=4, n_sessions=2, modalities={"lexical": 4}, random_state=0
    )
    model = make_modality_pipeline("lexical", classifier=LogisticRegression())
    model.fit(corpus.data, corpus.target)
    path = tmp_path_factory.mktemp("card") / "lexical.mmer"
    manifest = save(
        model, path, X=corpus.data, y=corpus.target, method="lexical", threads=1
    )
    return corpus, model, manifest


def test_model_card_says_what_was_trained_on_what(saved):
    corpus, model, manifest = saved
    card = model_card(
        model,
        manifest,
        corpus.target,
        corpus.groups,
        source="the test corpus",
        file_name="lexical.mmer",
        fit_seconds=1.25,
        random_state=7,
        max_iter=3,
        trained_at=datetime(2025, 6, 2, 14, 3, tzinfo=timezone.utc),
    )
    lines = card.splitlines()
    assert lines[0] == "# Model card: lexical"
    assert "- Method: `lexical`: one modality alone" in lines
    assert f"- Model file: `lexical.mmer`, format {manifest['format_version']}" in lines
    assert (
        "- Trained: 2025-06-02 14:03 UTC in 1.2 s, seed 7, max_iter 3, 1 threads"
        in lines
    )
    assert any(
        line.startswith("- Data: the test corpus; 40 utterances, 4 speakers;")
        for line in lines
    )
    for label, count in zip(*np.unique(corpus.target, return_counts=True)):
        assert f"| {label} | {count} |" in lines
    assert "| lexical | 4 |" in lines
    assert sum(line.startswith("| Ses0") for line in lines) == 4
    assert "| `logisticregression__C` | `1.0` |" in lines
    assert lines[-2:] == ["", "Not measured."]
    assert "Transductive" not in card


def test_model_card_gives_the_cross_validated_scores(saved):
    corpus, model, manifest = saved
    row = pd.Series(
        {
            "method": "lexical",
            "f1_micro_mean": 0.61234,
            "f1_micro_std": 0.05,
            "n_folds": 2,
        }
    )
    card = model_card(
        model,
        manifest,
        corpus.target,
        corpus.groups,
        scores=row,
        cv_description="2 speaker folds",
    )
    assert "## Cross-validated scores (2 speaker folds)" in card
    assert card.endswith("| f1_micro | 0.612 | 0.050 |\n")


def test_model_card_says_a_method_is_transductive(saved):
    corpus, model, manifest = saved
    manifest = {**manifest, "method": "early_fusion_speaker_norm"}
    card = model_card(model, manifest, corpus.target, corpus.groups)
    assert card.startswith("# Model card: early_fusion_speaker_norm\n")
    assert "- Transductive: normalises each speaker" in card
