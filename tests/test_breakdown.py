"""Per-speaker scores and per-class recall from out-of-fold predictions."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.utils import Bunch

from sklearn_mmer.evaluation import (
    compare_to_reference,
    per_class_recall,
    per_speaker_scores,
    plot_method_comparison,
    plot_per_class_recall,
    plot_per_speaker,
    save_figures,
)

SPEAKERS = np.array(["s1", "s1", "s1", "s2", "s2", "s2"])
Y_TRUE = np.array(["a", "b", "a", "b", "b", "a"])


def predictions_of(preds_by_method_and_repeat):
    """Predictions: folds hold out s1 (fold 1), then s2 (fold 2)."""
    rows = []
    for (method, repeat), y_pred in preds_by_method_and_repeat.items():
        for row, (true, pred) in enumerate(zip(Y_TRUE, y_pred)):
            rows.append(
                {
                    "method": method,
                    "repeat": repeat,
                    "fold": 1 if SPEAKERS[row] == "s1" else 2,
                    "row": row,
                    "y_true": true,
                    "y_pred": pred,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def predictions():
    return predictions_of(
        {
            ("m", 1): ["a", "b", "b", "b", "b", "a"],
            ("m", 2): ["a", "b", "a", "a", "a", "a"],
            ("n", 1): ["b", "b", "b", "b", "b", "b"],
            ("n", 2): ["b", "b", "b", "b", "b", "b"],
        }
    )


def test_per_speaker_scores_are_each_speakers_own_metrics(predictions):
    table = per_speaker_scores(predictions, SPEAKERS)
    assert table[["method", "repeat", "speaker", "fold"]].values.tolist() == [
        ["m", 1, "s1", 1],
        ["m", 1, "s2", 2],
        ["m", 2, "s1", 1],
        ["m", 2, "s2", 2],
        ["n", 1, "s1", 1],
        ["n", 1, "s2", 2],
        ["n", 2, "s1", 1],
        ["n", 2, "s2", 2],
    ]
    assert table.n_utterances.tolist() == [3] * 8
    # m, repeat 1, speaker s1: true a b a, predicted a b b -> 2 of 3 right;
    # recalls a 1/2, b 1/1
    first = table.iloc[0]
    assert first.f1_micro == pytest.approx(2 / 3)
    assert first.unweighted_accuracy == pytest.approx(0.75)
    expected = f1_score(["a", "b", "a"], ["a", "b", "b"], average="macro")
    assert first.f1_macro == pytest.approx(expected)
    # m, repeat 2, speaker s2: true b b a, predicted a a a -> recall a 1, b 0
    assert table.iloc[3].f1_micro == pytest.approx(1 / 3)
    assert table.iloc[3].unweighted_accuracy == pytest.approx(0.5)


def test_per_class_recall_pools_folds_and_repeats(predictions):
    recall = per_class_recall(predictions, labels=["b", "a"])
    assert recall.label.tolist() == ["b", "a", "b", "a"]
    assert recall.n_utterances.tolist() == [6, 6, 6, 6]
    # m: class b (rows 1, 3, 4) right 3 + 1 of 6; class a (0, 2, 5) 2 + 3 of 6
    np.testing.assert_allclose(recall.recall, [4 / 6, 5 / 6, 1.0, 0.0])
    m = predictions[predictions.method == "m"]
    pooled = balanced_accuracy_score(m.y_true, m.y_pred)
    assert recall.recall[:2].mean() == pytest.approx(pooled)


def test_a_class_never_seen_has_no_recall(predictions):
    recall = per_class_recall(predictions, labels=["a", "b", "c"])
    assert np.isnan(recall.recall[2]) and recall.n_utterances[2] == 0


def test_breakdowns_reject_foreign_input(predictions):
    with pytest.raises(ValueError, match=r"predictions lack the columns \['row'\]"):
        per_speaker_scores(predictions.drop(columns="row"), SPEAKERS)
    with pytest.raises(ValueError, match="speakers has 4 entries"):
        per_speaker_scores(predictions, SPEAKERS[:4])


def test_breakdown_figures_show_the_tables(predictions, tmp_path):
    table = per_speaker_scores(predictions, SPEAKERS)
    ax = plot_per_speaker(table, metric="unweighted_accuracy").axes[0]
    shown = ax.images[0].get_array()
    expected = table.groupby(["method", "speaker"]).unweighted_accuracy.mean()
    np.testing.assert_allclose(shown, expected.to_numpy().reshape(2, 2))
    recall = per_class_recall(predictions)
    shown = plot_per_class_recall(recall).axes[0].images[0].get_array()
    np.testing.assert_allclose(shown, [[5 / 6, 4 / 6], [0.0, 1.0]])
    with pytest.raises(ValueError, match="metric 'accuracy' is not a column"):
        plot_per_speaker(table, metric="accuracy")


def test_comparison_figure_marks_the_significant_and_the_reference():
    folds = np.arange(1, 11)
    results = pd.DataFrame(
        {
            "method": ["ref"] * 10 + ["better"] * 10 + ["same"] * 10,
            "fold": np.tile(folds, 3),
            "f1_micro": np.r_[
                0.5 + 0.01 * (folds % 3),
                0.7 + 0.01 * (folds % 2),
                0.5 + 0.01 * (folds % 4),
            ],
        }
    )
    comparisons = compare_to_reference(results, "ref")
    assert comparisons.significant.tolist() == [True, False]
    ax = plot_method_comparison(results, comparisons=comparisons).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert sum(t.endswith(" *") for t in texts) == 1
    assert any(t.startswith("0.705") and t.endswith(" *") for t in texts)
    assert sum(t.endswith("(reference)") for t in texts) == 1


def test_save_figures_draws_the_breakdowns_when_given(predictions, tmp_path):
    results = pd.DataFrame(
        {"method": ["m", "m", "n", "n"], "fold": [1, 2, 1, 2], "f1_micro": [0.5] * 4}
    )
    comparison = Bunch(
        results=results,
        confusion_matrices={"m": np.eye(2, dtype=int), "n": np.eye(2, dtype=int)},
        labels=np.array(["a", "b"]),
    )
    paths = save_figures(
        comparison,
        tmp_path,
        per_speaker=per_speaker_scores(predictions, SPEAKERS),
        recall=per_class_recall(predictions),
    )
    assert [p.name for p in paths] == [
        "method_comparison.png",
        "confusion_matrices.png",
        "per_speaker.png",
        "per_class_recall.png",
    ]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
