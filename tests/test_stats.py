"""Corrected resampled t intervals and tests, Wilcoxon, Holm, summaries."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import (
    compare_methods,
    compare_to_reference,
    confidence_intervals,
    corrected_resampled_ttest,
    holm_adjust,
    make_methods,
    per_speaker_scores,
    score_bounds,
    score_columns,
    set_epochs,
    summarize,
)

SCORES = [0.6, 0.7, 0.65, 0.75, 0.55]


def fold_results(scores_by_method, *, n_repeats=1, n_train=80, n_test=20):
    """A results table: one row per method, repeat and fold."""
    rows = []
    for method, scores in scores_by_method.items():
        n_folds = len(scores) // n_repeats
        for k, score in enumerate(scores):
            rows.append(
                {
                    "method": method,
                    "repeat": k // n_folds + 1,
                    "fold": k % n_folds + 1,
                    "f1_micro": score,
                    "n_train": n_train,
                    "n_test": n_test,
                    "fit_seconds": 1.0,
                }
            )
    return pd.DataFrame(rows)


def test_corrected_interval_matches_a_hand_computation():
    result = corrected_resampled_ttest(SCORES, test_train_ratio=20 / 80)
    # mean 0.65; squared deviations sum to 0.025, so s**2 = 0.025 / 4;
    # corrected variance (1/5 + 1/4) * s**2; t_{0.975, 4} = 2.776445
    std_error = np.sqrt((1 / 5 + 1 / 4) * 0.025 / 4)
    assert result.n == 5
    assert result.mean == pytest.approx(0.65)
    assert result.std_error == pytest.approx(std_error)
    assert result.ci_low == pytest.approx(0.65 - 2.776445 * std_error, abs=1e-6)
    assert result.ci_high == pytest.approx(0.797243, abs=1e-6)


def test_uncorrected_test_is_scipys_one_sample_t_test():
    differences = np.array([0.02, -0.01, 0.05, 0.03, 0.04, 0.0, 0.01])
    result = corrected_resampled_ttest(differences, test_train_ratio=0.0)
    expected = stats.ttest_1samp(differences, 0.0)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("ratio", [0.25, 1 / 9])
def test_correction_shrinks_the_t_statistic_by_the_variance_ratio(ratio):
    differences = np.array([0.02, -0.01, 0.05, 0.03, 0.04, 0.0, 0.01])
    result = corrected_resampled_ttest(differences, test_train_ratio=ratio)
    naive = stats.ttest_1samp(differences, 0.0).statistic
    J = differences.size
    statistic = naive * np.sqrt((1 / J) / (1 / J + ratio))
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(2 * stats.t.sf(statistic, df=J - 1))


def test_interval_skips_nan_and_is_nan_below_two_values():
    with_nan = corrected_resampled_ttest([*SCORES, np.nan], test_train_ratio=0.25)
    assert with_nan.n == 5
    assert with_nan.ci_low == pytest.approx(0.502757, abs=1e-6)
    single = corrected_resampled_ttest([0.5, np.nan], test_train_ratio=0.25)
    assert single.n == 1 and single.mean == 0.5 and np.isnan(single.ci_low)


def test_equal_values_give_a_point_interval():
    zero = corrected_resampled_ttest([0.0] * 4, test_train_ratio=0.25)
    assert (zero.ci_low, zero.ci_high, zero.p_value) == (0.0, 0.0, 1.0)
    shift = corrected_resampled_ttest([0.1] * 4, test_train_ratio=0.25)
    assert shift.p_value == 0.0 and shift.ci_low == pytest.approx(0.1)


def test_holm_matches_a_hand_computation():
    # sorted: 0.005 * 4, 0.01 * 3, 0.03 * 2, then max(0.06, 0.04 * 1)
    adjusted = holm_adjust([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_leaves_nan_out_of_the_family():
    np.testing.assert_allclose(holm_adjust([0.6, 0.7]), [1.0, 1.0])
    np.testing.assert_allclose(holm_adjust([0.02, np.nan, 0.04]), [0.04, np.nan, 0.04])


def test_comparison_tests_the_paired_differences():
    ref = [0.60, 0.62, 0.58, 0.61, 0.59, 0.63]
    better = [0.66, 0.64, 0.65, 0.70, 0.62, 0.69]
    same = [0.61, 0.61, 0.59, 0.60, 0.60, 0.62]
    results = fold_results({"ref": ref, "better": better, "same": same}, n_repeats=2)
    table = compare_to_reference(results, "ref").set_index("method")
    assert table.index.tolist() == ["better", "same"]
    differences = np.subtract(better, ref)
    t = corrected_resampled_ttest(differences, test_train_ratio=0.25)
    row = table.loc["better"]
    assert row.n_pairs == 6 and row.difference == pytest.approx(differences.mean())
    assert (row.ci_low, row.ci_high) == pytest.approx((t.ci_low, t.ci_high))
    assert row.t_p_value == pytest.approx(t.p_value)
    expected = stats.wilcoxon(differences)
    assert row.wilcoxon_statistic == pytest.approx(expected.statistic)
    assert row.wilcoxon_p_value == pytest.approx(expected.pvalue)
    np.testing.assert_allclose(table.t_p_adjusted, holm_adjust(table.t_p_value))
    np.testing.assert_allclose(
        table.wilcoxon_p_adjusted, holm_adjust(table.wilcoxon_p_value)
    )
    assert table.significant.tolist() == (table.t_p_adjusted < 0.05).tolist()


def test_comparison_pairs_rows_by_repeat_and_fold_not_by_order():
    results = fold_results(
        {"ref": [0.5, 0.6, 0.7, 0.4], "b": [0.6, 0.6, 0.9, 0.4]}, n_repeats=2
    )
    shuffled = results.sample(frac=1.0, random_state=0)
    expected = compare_to_reference(results, "ref")
    pd.testing.assert_frame_equal(compare_to_reference(shuffled, "ref"), expected)
    assert expected.difference.iloc[0] == pytest.approx(0.075)


def test_comparison_accepts_the_comparison_itself():
    from sklearn.utils import Bunch

    results = fold_results({"ref": [0.5, 0.6, 0.7, 0.4], "b": [0.6, 0.6, 0.9, 0.4]})
    pd.testing.assert_frame_equal(
        compare_to_reference(Bunch(results=results, summary=None), "ref"),
        compare_to_reference(results, "ref"),
    )


def test_comparison_leaves_out_folds_where_either_method_failed():
    results = fold_results(
        {"ref": [0.5, 0.6, np.nan, 0.5, 0.6], "b": [0.6, np.nan, 0.8, 0.7, 0.7]}
    )
    row = compare_to_reference(results, "ref").iloc[0]
    assert row.n_pairs == 3
    assert row.difference == pytest.approx(np.mean([0.1, 0.2, 0.1]))
    assert row["mean"] == pytest.approx(np.mean([0.6, 0.7, 0.7]))


def test_comparison_without_the_reference_names_the_methods():
    results = fold_results({"a": [0.5, 0.6], "b": [0.6, 0.7]})
    with pytest.raises(ValueError, match=r"reference 'early_fusion' .*\['a', 'b'\]"):
        compare_to_reference(results)


def test_comparison_rejects_two_rows_for_one_fold():
    results = fold_results({"a": [0.5, 0.6], "b": [0.6, 0.7]})
    with pytest.raises(ValueError, match="more than one row"):
        compare_to_reference(pd.concat([results, results.iloc[:1]]), "a")


def test_sizes_come_from_the_columns_or_from_the_number_of_folds():
    results = fold_results({"a": SCORES}, n_train=90, n_test=10)
    low = confidence_intervals(results).f1_micro_ci_low.iloc[0]
    expected = corrected_resampled_ttest(SCORES, test_train_ratio=1 / 9).ci_low
    assert low == pytest.approx(expected)
    # without sizes, k folds of equal size: n_test / n_train = 1 / (k - 1)
    bare = results.drop(columns=["n_train", "n_test"])
    low = confidence_intervals(bare).f1_micro_ci_low.iloc[0]
    assert low == pytest.approx(
        corrected_resampled_ttest(SCORES, test_train_ratio=0.25).ci_low
    )


@pytest.mark.parametrize(
    "scores", [[0.0, 0.05, 0.3, 0.0, 0.02], [1.0, 0.97, 0.7, 1, 1]]
)
def test_intervals_of_bounded_scores_stay_within_0_and_1(scores):
    results = fold_results({"a": scores}).assign(f1_macro=scores, neg_loss=scores)
    plain = corrected_resampled_ttest(scores, test_train_ratio=0.25)
    assert plain.ci_low < 0 or plain.ci_high > 1  # the t interval crosses a bound
    summary = summarize(results).iloc[0]
    for metric in ("f1_micro", "f1_macro"):
        low, high = summary[f"{metric}_ci_low"], summary[f"{metric}_ci_high"]
        assert 0 <= low <= high <= 1
        assert [low, high] == pytest.approx(
            np.clip([plain.ci_low, plain.ci_high], 0, 1)
        )
    # an unbounded score, or clip=False, keeps the t interval
    assert summary["neg_loss_ci_low"] == pytest.approx(plain.ci_low)
    unclipped = confidence_intervals(results, clip=False).iloc[0]
    assert unclipped["f1_micro_ci_low"] == pytest.approx(plain.ci_low)


def test_score_bounds_know_the_scorers_in_0_and_1():
    for name in ("f1_micro", "unweighted_accuracy", "recall_macro", "roc_auc_ovr"):
        assert score_bounds(name) == (0.0, 1.0)
    for name in ("neg_log_loss", "fit_seconds", "f1ish", "matthews_corrcoef"):
        assert score_bounds(name) is None


def test_intervals_of_differences_stay_within_minus_1_and_1():
    results = fold_results({"ref": [1.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 0.0]})
    row = compare_to_reference(results, "ref").iloc[0]
    assert -1 <= row.ci_low <= row.ci_high <= 1


def test_summary_has_intervals_and_skips_failed_folds():
    results = fold_results({"a": [*SCORES, np.nan], "b": [0.5] * 6})
    summary = summarize(results).set_index("method")
    assert summary.index.tolist() == ["a", "b"]
    assert summary.columns.tolist() == [
        "n_folds",
        "n_repeats",
        "n_failed",
        "f1_micro_mean",
        "f1_micro_std",
        "f1_micro_ci_low",
        "f1_micro_ci_high",
        "fit_seconds_mean",
        "fit_seconds_std",
    ]
    assert summary.loc["a", "f1_micro_mean"] == pytest.approx(0.65)
    expected = corrected_resampled_ttest(SCORES, test_train_ratio=0.25)
    assert summary.loc["a", "f1_micro_ci_low"] == pytest.approx(expected.ci_low)
    assert summary.loc["b", ["f1_micro_ci_low", "f1_micro_ci_high"]].tolist() == [
        0.5,
        0.5,
    ]


def test_score_columns_leave_out_fold_metadata():
    results = fold_results({"a": SCORES}).assign(seed=0, error="", f1_macro=0.5)
    assert score_columns(results) == ["f1_micro", "f1_macro"]


@pytest.fixture(scope="module")
def repeated():
    """Three methods, three speaker folds, two seeds, on a tiny bundled corpus."""
    corpus = make_multimodal_emotion(
        60,
        n_speakers=6,
        n_sessions=3,
        modalities={"acoustic": 6, "lexical": 8},
        random_state=0,
    )

    def methods(seed):
        built = make_methods(
            ["acoustic", "lexical"],
            ["acoustic", "lexical", "early_fusion"],
            random_state=seed,
        )
        for method in built.values():
            set_epochs(method, 3)
        return built

    comparison = compare_methods(
        methods,
        corpus.data,
        corpus.target,
        corpus.groups,
        cv=3,
        n_repeats=2,
        random_state=0,
    )
    return corpus, comparison


def test_bundled_summary_intervals_use_the_fold_sizes(repeated):
    _, comparison = repeated
    results, summary = comparison.results, comparison.summary.set_index("method")
    for method, rows in results.groupby("method"):
        values = rows.f1_micro.to_numpy()
        assert values.size == 6
        ratio = rows.n_test.mean() / rows.n_train.mean()
        half = stats.t.ppf(0.975, 5) * np.sqrt((1 / 6 + ratio) * values.var(ddof=1))
        assert summary.loc[method, "f1_micro_ci_low"] == pytest.approx(
            values.mean() - half
        )
        assert summary.loc[method, "f1_micro_ci_high"] == pytest.approx(
            values.mean() + half
        )


def test_bundled_comparisons_pair_repeats_and_folds(repeated):
    _, comparison = repeated
    results = comparison.results
    table = compare_to_reference(results).set_index(["method", "metric"])
    wide = results.pivot_table(
        index=["repeat", "fold"], columns="method", values="f1_macro"
    )
    for method in ["acoustic", "lexical"]:
        differences = (wide[method] - wide["early_fusion"]).to_numpy()
        row = table.loc[(method, "f1_macro")]
        assert row.n_pairs == 6
        assert row.difference == pytest.approx(differences.mean())
        assert row.wilcoxon_p_value == pytest.approx(
            stats.wilcoxon(np.round(differences, 12)).pvalue
        )
        ratio = results.n_test.mean() / results.n_train.mean()
        t = differences.mean() / np.sqrt((1 / 6 + ratio) * differences.var(ddof=1))
        assert row.t_p_value == pytest.approx(2 * stats.t.sf(abs(t), 5))


def test_bundled_speaker_scores_recombine_into_fold_scores(repeated):
    corpus, comparison = repeated
    per_speaker = per_speaker_scores(comparison.predictions, corpus.groups)
    assert len(per_speaker) == 3 * 2 * 6
    # micro F1 is accuracy: a fold's is its speakers', weighted by utterances
    keys = ["method", "repeat", "fold"]
    correct = per_speaker.f1_micro * per_speaker.n_utterances
    weighted = (
        correct.groupby([per_speaker[key] for key in keys]).sum()
        / per_speaker.groupby(keys).n_utterances.sum()
    )
    fold = comparison.results.set_index(["method", "repeat", "fold"]).f1_micro
    np.testing.assert_allclose(weighted.sort_index(), fold.sort_index())
