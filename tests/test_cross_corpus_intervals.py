"""Intervals on each corpus of a cross-corpus comparison: the speaker
bootstrap of a corpus scored by one fit (each corpus left out), the fold t
interval of a corpus scored by every fold (test corpora)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_mmer._testing import make_tiny_corpus
from sklearn_mmer.evaluation import (
    bootstrap_scores,
    compare_methods,
    format_cross_corpus_table,
    name_left_out_corpora,
    summarize_cross_corpus,
)
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import LeaveOneCorpusOut

METRICS = ("f1_micro", "f1_macro", "unweighted_accuracy")


def _methods():
    linear = LogisticRegression(max_iter=300)
    return {
        "lexical": make_modality_pipeline("lexical", classifier=linear),
        "acoustic": make_modality_pipeline("acoustic", classifier=linear),
    }


def _stacked(speakers_per_corpus):
    """Corpora A, B, C one below the other: ``(X, y, speakers, corpus)``."""
    widths = (("acoustic", 4), ("lexical", 6))
    parts, labels, speakers, corpus = [], [], [], []
    for seed, (name, n_speakers) in enumerate(zip("ABC", speakers_per_corpus)):
        X, y, s = make_tiny_corpus(36, n_speakers=n_speakers, widths=widths, seed=seed)
        parts.append(X.drop(columns="speaker"))
        labels.append(y)
        speakers.append([f"{name}/{v}" for v in s])
        corpus.append([name] * len(y))
    return (
        pd.concat(parts, ignore_index=True),
        np.concatenate(labels),
        np.concatenate(speakers),
        np.concatenate(corpus),
    )


def _left_out(speakers_per_corpus, random_state=0):
    X, y, speakers, corpus = _stacked(speakers_per_corpus)
    comparison = compare_methods(
        _methods(),
        X,
        y,
        speakers,
        cv=list(LeaveOneCorpusOut().split(X, y, corpus)),
        random_state=random_state,
    )
    return name_left_out_corpora(comparison, corpus, speakers), speakers, corpus


@pytest.fixture(scope="module")
def left_out():
    return _left_out((3, 4, 3), random_state=5)


def test_each_left_out_corpus_has_a_bootstrap_interval_around_its_score(left_out):
    named, _, _ = left_out
    summary = named.cross_corpus_summary
    assert set(summary["test_corpus"]) == {"A", "B", "C"}
    assert (summary["ci_method"] == "speaker bootstrap").all()
    for metric in METRICS:
        low, high = summary[f"{metric}_ci_low"], summary[f"{metric}_ci_high"]
        assert np.isfinite(low).all() and np.isfinite(high).all()
        assert (low <= summary[f"{metric}_mean"]).all()
        assert (summary[f"{metric}_mean"] <= high).all()
        assert (low < high).any()  # the speakers do change the score


def test_left_out_intervals_are_the_bootstrap_of_each_corpus_s_predictions(left_out):
    named, speakers, corpus = left_out
    summary = named.cross_corpus_summary.set_index(["method", "test_corpus"])
    predictions = named.predictions  # rows of the stacked corpora
    for (method, name), row in summary.iterrows():
        mine = predictions[
            (predictions["method"] == method) & (corpus[predictions["row"]] == name)
        ]
        expected = bootstrap_scores(
            mine["y_true"],
            mine["y_pred"],
            speakers[mine["row"]],
            random_state=5,  # the run's seed
        ).set_index("metric")
        for metric in METRICS:
            assert row[f"{metric}_mean"] == pytest.approx(expected.loc[metric, "score"])
            assert row[f"{metric}_ci_low"] == expected.loc[metric, "ci_low"]
            assert row[f"{metric}_ci_high"] == expected.loc[metric, "ci_high"]


def test_left_out_intervals_follow_the_run_s_seed(left_out):
    named, _, _ = left_out
    options = {"predictions": named.cross_predictions, "speakers": named.cross_speakers}
    again = summarize_cross_corpus(named.results, **options)
    pd.testing.assert_frame_equal(again, named.cross_corpus_summary)
    seeded = summarize_cross_corpus(named.results, random_state=5, **options)
    pd.testing.assert_frame_equal(seeded, named.cross_corpus_summary)
    bounds = [f"{m}_ci_{side}" for m in METRICS for side in ("low", "high")]
    few = {"n_resamples": 20, **options}
    five, six = (
        summarize_cross_corpus(named.results, random_state=seed, **few)[bounds]
        for seed in (5, 6)
    )
    assert not five.equals(six)


def test_a_corpus_of_one_speaker_has_no_interval():
    named, _, _ = _left_out((3, 1, 3))
    summary = named.cross_corpus_summary
    one = summary[summary["test_corpus"] == "B"]
    assert one[[f"{m}_ci_low" for m in METRICS]].isna().all(axis=None)
    assert np.isfinite(
        summary.loc[summary["test_corpus"] != "B", "f1_micro_ci_low"]
    ).all()
    assert (one["ci_method"] == "speaker bootstrap").all()
    table = format_cross_corpus_table(summary).splitlines()
    assert table[-1] == "95% CI: speaker bootstrap on A, B, C"
    for line in table[1:-1]:  # one line per method: A's and C's intervals only
        assert line.count("[") == 2


def test_several_repeats_keep_the_t_interval_over_the_repeats():
    results = pd.DataFrame(
        {
            "method": ["a"] * 4,
            "repeat": [1, 2, 1, 2],
            "fold": [1, 1, 2, 2],
            "test_corpus": ["A", "A", "B", "B"],
            "f1_micro": [0.5, 0.6, 0.7, 0.9],
        }
    )
    predictions = pd.DataFrame(
        {"method": "a", "repeat": 1, "fold": 1, "test_corpus": "A", "row": [0, 1]}
        | {"y_true": ["x", "y"], "y_pred": ["x", "x"]}
    )
    speakers = {"A": ["s1", "s2"], "B": ["s3", "s4"]}
    summary = summarize_cross_corpus(
        results, predictions=predictions, speakers=speakers
    )
    plain = summarize_cross_corpus(results)
    assert (summary["ci_method"] == "t (folds)").all()
    pd.testing.assert_frame_equal(summary, plain)


def test_test_corpora_keep_the_fold_t_intervals():
    widths = (("acoustic", 4), ("lexical", 6))
    X_a, y_a, s_a = make_tiny_corpus(48, n_speakers=4, widths=widths, seed=0)
    X_b, y_b, s_b = make_tiny_corpus(36, n_speakers=3, widths=widths, seed=1)
    comparison = compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b, s_b)}
    )
    summary = comparison.cross_corpus_summary
    assert (summary["ci_method"] == "t (folds)").all()
    assert comparison.cross_speakers["B"].tolist() == list(s_b)
    # the intervals are those of the folds, as without predictions
    plain = summarize_cross_corpus(comparison.results)
    pd.testing.assert_frame_equal(summary, plain)
    assert np.isfinite(summary["f1_micro_ci_low"]).all()
    table = format_cross_corpus_table(summary)
    assert table.splitlines()[-1] == "95% CI: t (folds) on in-corpus, B"


def test_mmer_compare_leaving_corpora_out_prints_and_writes_intervals(tmp_path):
    from sklearn_mmer._testing import make_clean_corpus, run
    from sklearn_mmer.datasets import write_feature_table

    folders = []
    for name, seed in (("A", 0), ("B", 1), ("C", 2)):
        X, y, _ = make_clean_corpus(seed=seed)
        write_feature_table(X, y, tmp_path / name, target_names=None)
        folders.append(tmp_path / name)
    out = tmp_path / "out"
    status, stdout, stderr = run(
        "compare", "--data", *folders, "--cv", "corpus", "--methods", "lexical",
        "--epochs", "2", "--n-jobs", "1", "--seed", "3", "--out", out, "--quiet",
        "--no-figures",
    )  # fmt: skip
    assert status == 0, stderr
    assert "95% CI: speaker bootstrap on A, B, C" in stdout
    summary = pd.read_csv(out / "cross_corpus_summary.csv", keep_default_na=False)
    assert summary["ci_method"].tolist() == ["speaker bootstrap"] * 3
    low = summary["f1_micro_ci_low"].astype(float)
    high = summary["f1_micro_ci_high"].astype(float)
    assert np.isfinite(low).all()
    assert (low <= summary["f1_micro_mean"]).all()
    assert (summary["f1_micro_mean"] <= high).all()
    # the cross-corpus table comes after the in-corpus one
    line = [row for row in stdout.splitlines() if row.startswith("lexical ")][-1]
    for k in range(3):  # each corpus's interval, as written
        assert f"[{low[k]:.3f}, {high[k]:.3f}]" in line


@pytest.mark.parametrize("seed", range(20))
def test_the_bootstrap_metrics_from_counts_are_scikit_learns(seed):
    # the bootstrap scores each resample from summed confusion counts; those
    # formulas must stay the scorers every other table uses, including for a
    # resample that lacks a class or predicts one its labels do not hold
    from sklearn.metrics import confusion_matrix

    from sklearn_mmer.evaluation._reporting.bootstrap import (
        _FROM_COUNTS,
        BOOTSTRAP_METRICS,
    )

    rng = np.random.RandomState(seed)
    labels = np.arange(4)
    n = rng.randint(3, 30)
    y_true = rng.choice(labels[: rng.randint(1, 5)], size=n)
    y_pred = rng.choice(labels[: rng.randint(1, 5)], size=n)
    counts = confusion_matrix(y_true, y_pred, labels=labels)[np.newaxis]
    assert set(_FROM_COUNTS) == set(BOOTSTRAP_METRICS)
    for metric, score in BOOTSTRAP_METRICS.items():
        expected = score(y_true, y_pred)
        assert _FROM_COUNTS[metric](counts.astype(float))[0] == pytest.approx(expected)
