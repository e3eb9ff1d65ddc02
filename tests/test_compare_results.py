"""compare_methods' results: failures, repeats, fold warnings, estimators,
predictions, and the files save_comparison writes."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, cross_val_predict

from sklearn_mmer.datasets import ISSUE_COLUMNS, save_issues
from sklearn_mmer.evaluation import (
    COMPARISON_FILES,
    CROSS_CORPUS_FILES,
    FoldWarning,
    compare_methods,
    make_methods,
    save_comparison,
    set_epochs,
    set_every,
    summarize,
)
from sklearn_mmer.fusion import (
    LateFusionClassifier,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.model_selection import SpeakerKFold

MODALITIES = ["visual", "acoustic", "lexical"]


@pytest.fixture
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(n_utterances=90, informative=("lexical",), signal=1.5)


class FailingLogisticRegression(LogisticRegression):
    """Raises in fit when trained on exactly ``fail_n_rows`` rows."""

    def __init__(self, fail_n_rows=-1, C=1.0):
        super().__init__(C=C)
        self.fail_n_rows = fail_n_rows

    def fit(self, X, y, sample_weight=None):
        if X.shape[0] == self.fail_n_rows:
            raise ValueError("cannot fit\nthese rows")
        return super().fit(X, y, sample_weight=sample_weight)


def linear(modality, fail_n_rows=-1):
    classifier = FailingLogisticRegression(fail_n_rows)
    return make_modality_pipeline(modality, classifier=classifier)


def uneven_folds(speakers):
    """Three speaker folds of 15, 30 and 45 test utterances (75, 60, 45 to train)."""
    tests = [["spk00"], ["spk01", "spk02"], ["spk03", "spk04", "spk05"]]
    return [
        (np.flatnonzero(~np.isin(speakers, t)), np.flatnonzero(np.isin(speakers, t)))
        for t in tests
    ]


def quick_methods(names=None, seed=0):
    methods = make_methods(MODALITIES, names, random_state=seed)
    for method in methods.values():
        set_epochs(method, 2)
        set_every(method, "hidden_layer_sizes", (8,))
    return methods


def test_a_failed_fit_is_recorded_and_the_run_goes_on(corpus):
    X, y, speakers = corpus
    methods = {"visual": linear("visual", 75), "lexical": linear("lexical")}
    with pytest.warns(FitFailedWarning, match="1 of 6 fits failed"):
        comparison = compare_methods(methods, X, y, speakers, cv=uneven_folds(speakers))
    results = comparison.results.set_index(["method", "fold"])
    assert results.loc[("visual", 1), "error"] == "ValueError: cannot fit these rows"
    assert results.loc[("visual", 1), ["f1_micro", "f1_macro"]].isna().all()
    assert results.drop(("visual", 1))[["f1_micro"]].notna().all().all()
    assert (results.drop(("visual", 1)).error == "").all()
    assert comparison.confusion_matrices["visual"][0].sum() == 0
    assert set(comparison.predictions.query("method == 'visual'").fold) == {2, 3}
    summary = comparison.summary.set_index("method")
    assert summary.loc["visual", "n_failed"] == 1
    np.testing.assert_allclose(
        summary.loc["visual", "f1_micro_mean"],
        results.loc["visual"].f1_micro.iloc[1:].mean(),
    )


def test_error_score_raise_propagates_and_a_number_is_used(corpus):
    X, y, speakers = corpus
    methods, cv = {"visual": linear("visual", 75)}, uneven_folds(speakers)
    with pytest.raises(ValueError, match="cannot fit"):
        compare_methods(methods, X, y, speakers, cv=cv, error_score="raise")
    with pytest.warns(FitFailedWarning):
        results = compare_methods(methods, X, y, speakers, cv=cv, error_score=0).results
    assert results.f1_micro[0] == 0 and (results.f1_micro[1:] > 0).all()
    with pytest.raises(ValueError, match="error_score must be 'raise' or a number"):
        compare_methods(methods, X, y, speakers, cv=3, error_score="ignore")


def test_a_failed_member_fails_the_assembled_vote(corpus):
    X, y, speakers = corpus
    failing, fine = linear("visual", 75), linear("lexical")
    methods = {
        "visual": failing,
        "lexical": fine,
        "late_fusion": LateFusionClassifier([("visual", failing), ("lexical", fine)]),
    }
    with pytest.warns(FitFailedWarning, match="2 of 9 fits failed"):
        results = compare_methods(
            methods, X, y, speakers, cv=uneven_folds(speakers)
        ).results
    vote = results.query("method == 'late_fusion'").set_index("fold")
    assert vote.loc[1, "error"] == (
        "member 'visual' failed: ValueError: cannot fit these rows"
    )
    assert (
        np.isnan(vote.loc[1, "f1_micro"]) and vote.loc[[2, 3], "f1_micro"].notna().all()
    )


def test_repeats_use_other_seeds_on_the_same_folds(corpus):
    X, y, speakers = corpus
    names = ["lexical", "late_fusion"]
    once = compare_methods(quick_methods(names), X, y, speakers, cv=2, random_state=0)
    repeated = compare_methods(
        lambda seed: quick_methods(names, seed),
        X,
        y,
        speakers,
        cv=2,
        n_repeats=3,
        random_state=0,
    )
    results = repeated.results
    assert len(results) == 2 * 3 * 2
    assert results.groupby("repeat").seed.unique().map(list).tolist() == [[0], [1], [2]]
    first = results.query("repeat == 1").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        first.drop(columns="fit_seconds"), once.results.drop(columns="fit_seconds")
    )
    lexical = results.query("method == 'lexical'")
    assert lexical.groupby("fold").f1_macro.nunique().max() > 1  # seeds matter
    assert repeated.confusion_matrices["lexical"].shape == (6, 4, 4)
    assert repeated.summary.n_repeats.tolist() == [3, 3]


def test_repeats_reseed_given_estimators_and_need_an_int_seed(corpus):
    X, y, speakers = corpus
    methods = quick_methods(["lexical"])
    with pytest.raises(ValueError, match="n_repeats=2 needs an int random_state"):
        compare_methods(methods, X, y, speakers, cv=2, n_repeats=2)
    results = compare_methods(
        methods, X, y, speakers, cv=2, n_repeats=2, random_state=5
    ).results
    assert results.seed.tolist() == [5, 5, 6, 6]
    # the caller's estimators are cloned, never changed
    assert methods["lexical"].get_params()["mlpclassifier__random_state"] == 0


def test_fold_warnings_name_the_fold_class_and_speakers(corpus):
    X, y, speakers = corpus
    y = y.copy()
    y[speakers == "spk00"] = "fear"  # a class only one speaker has
    splits = [
        (np.flatnonzero(speakers != "spk00"), np.flatnonzero(speakers == "spk00"))
    ]
    with pytest.warns(FoldWarning, match="class 'fear' .* of speaker spk00"):
        results = compare_methods(
            {"lexical": linear("lexical")}, X, y, speakers, cv=splits
        ).results
    assert results.warnings[0].startswith("fold 1: class 'fear' (15 test utterances")
    assert "absent from its training speakers" in results.warnings[0]
    assert results.n_test.tolist() == [15] and results.n_train.tolist() == [75]


def test_a_single_test_utterance_is_warned_of(corpus):
    X, y, speakers = corpus
    splits = [(np.arange(1, len(y)), np.array([0]))]
    with pytest.warns(FoldWarning, match="fold 1 tests a single utterance"):
        results = compare_methods(
            {"lexical": linear("lexical")}, X, y, speakers, cv=splits
        ).results
    assert results.warnings[0].startswith(
        "fold 1 tests a single utterance of speaker spk00"
    )


def test_return_estimator_gives_each_fitted_method(corpus):
    X, y, speakers = corpus
    methods = quick_methods(["lexical", "late_fusion"])
    comparison = compare_methods(methods, X, y, speakers, cv=2, return_estimator=True)
    assert sorted(comparison.estimators) == [
        (m, 1, f) for m in ["late_fusion", "lexical"] for f in (1, 2)
    ]
    predictions = comparison.predictions.set_index(["method", "fold"])
    for (name, _, fold), estimator in comparison.estimators.items():
        assert type(estimator) is type(methods[name])
        test = comparison.splits[fold - 1][1]
        np.testing.assert_array_equal(
            estimator.predict(X.iloc[test]), predictions.loc[(name, fold), "y_pred"]
        )
    assert "estimators" not in compare_methods(methods, X, y, speakers, cv=2)


def test_best_params_of_a_search_are_recorded_as_json(corpus):
    X, y, speakers = corpus
    search = GridSearchCV(
        linear("lexical"), {"failinglogisticregression__C": [0.01, 10.0]}
    )
    methods = {"tuned": search, "lexical": linear("lexical")}
    results = compare_methods(methods, X, y, speakers, cv=2).results
    tuned = results.query("method == 'tuned'").best_params.map(json.loads)
    assert all(set(p) == {"failinglogisticregression__C"} for p in tuned)
    assert (results.query("method == 'lexical'").best_params == "").all()


def test_predictions_are_the_out_of_fold_predictions(corpus):
    X, y, speakers = corpus
    method = linear("lexical")
    comparison = compare_methods({"lexical": method}, X, y, speakers, cv=3)
    predictions = comparison.predictions
    assert sorted(predictions.row) == list(range(len(y)))
    np.testing.assert_array_equal(predictions.y_true, y[predictions.row])
    expected = cross_val_predict(method, X, y, groups=speakers, cv=SpeakerKFold(3))
    np.testing.assert_array_equal(predictions.y_pred, expected[predictions.row])
    for fold, rows in predictions.groupby("fold"):
        score = f1_score(rows.y_true, rows.y_pred, average="micro")
        np.testing.assert_allclose(comparison.results.f1_micro[fold - 1], score)


def test_summary_ignores_failed_fits_and_counts_repeats():
    results = pd.DataFrame(
        {
            "method": ["a"] * 4 + ["b"] * 4,
            "repeat": [1, 1, 2, 2] * 2,
            "fold": [1, 2] * 4,
            "f1_micro": [0.2, 0.4, np.nan, 0.6, np.nan] * 1 + [np.nan] * 3,
            "error": ["", "", "ValueError: x", ""] + ["E"] * 4,
        }
    )
    summary = summarize(results)
    assert summary.method.tolist() == ["a", "b"]  # no score: last
    assert summary.n_folds.tolist() == [2, 2] and summary.n_repeats.tolist() == [2, 2]
    assert summary.n_failed.tolist() == [1, 4]
    np.testing.assert_allclose(summary.f1_micro_mean[0], 0.4)
    np.testing.assert_allclose(summary.f1_micro_std[0], np.std([0.2, 0.4, 0.6]))
    assert np.isnan(summary.f1_micro_mean[1])


def test_save_comparison_writes_every_table_whole(corpus, tmp_path):
    X, y, speakers = corpus
    comparison = compare_methods(
        {
            "lexical": linear("lexical"),
            "late_fusion": make_late_fusion(
                ["visual", "lexical"], classifier=LogisticRegression()
            ),
        },
        X,
        y,
        speakers,
        cv=2,
    )
    paths = save_comparison(comparison, tmp_path / "out", modalities=["lexical"])
    names = [p.name for p in paths]
    assert names[:4] == [
        "results.csv",
        "summary.csv",
        "confusion_matrices.csv",
        "predictions.csv",
    ]
    assert "method_comparison.png" in names
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names)
    counts = pd.read_csv(tmp_path / "out" / "confusion_matrices.csv")
    assert counts.columns.tolist() == [
        "method",
        "repeat",
        "fold",
        "true",
        "predicted",
        "count",
    ]
    assert counts.groupby("method")["count"].sum().tolist() == [len(y)] * 2
    written = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert written.method.tolist() == comparison.results.method.tolist()


def test_comparison_files_are_every_file_a_comparison_writes(corpus, tmp_path):
    X, y, speakers = corpus
    methods = {
        "lexical": linear("lexical"),
        "visual": linear("visual"),
        "late_fusion": make_late_fusion(
            ["visual", "lexical"], classifier=LogisticRegression()
        ),
    }
    out = tmp_path / "out"
    comparison = compare_methods(methods, X, y, speakers, cv=2, checkpoint=out)
    save_comparison(
        comparison,
        out,
        modalities=["visual", "lexical"],
        kinds={"late_fusion": "late_fusion"},
        reference="lexical",
        speakers=speakers,
    )
    issue = [["u1", 1, "visual", "a.npy", "file not found"]]
    save_issues(pd.DataFrame(issue, columns=ISSUE_COLUMNS), out)
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    # the cross-corpus files are written by a comparison with test corpora
    # (tests/test_cross_corpus.py checks that one writes them)
    assert written == sorted(set(COMPARISON_FILES) - set(CROSS_CORPUS_FILES))
    assert len(set(COMPARISON_FILES)) == len(COMPARISON_FILES)
