"""Cross-corpus evaluation: one label set, test corpora scored by each fold's
model, leave one corpus out, and what the outputs say."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from sklearn_mmer._testing import make_tiny_corpus
from sklearn_mmer.datasets import harmonize_labels, read_label_map
from sklearn_mmer.evaluation import (
    COMPARISON_FILES,
    CROSS_CORPUS_FILES,
    compare_methods,
    cross_corpus_drop,
    format_cross_corpus_table,
    save_comparison,
)
from sklearn_mmer.evaluation._cross import speakers_of_test_sets
from sklearn_mmer.fusion import make_early_fusion, make_modality_pipeline
from sklearn_mmer.model_selection import LeaveOneCorpusOut


def _methods():
    linear = LogisticRegression(max_iter=300)
    return {
        "lexical": make_modality_pipeline("lexical", classifier=linear),
        "acoustic": make_modality_pipeline("acoustic", classifier=linear),
        "early_fusion": make_early_fusion(["acoustic", "lexical"], classifier=linear),
    }


@pytest.fixture
def corpora():
    """Two tiny corpora with the same classes; B is shifted."""
    widths = (("acoustic", 6), ("lexical", 8))
    a = make_tiny_corpus(80, n_speakers=4, widths=widths, seed=0)
    X_b, y_b, s_b = make_tiny_corpus(60, n_speakers=3, widths=widths, seed=0)
    X_b = X_b.assign(lexical=[c + 0.5 for c in X_b["lexical"]])
    return a, (X_b.iloc[:50].reset_index(drop=True), y_b[:50], s_b[:50])


# --- labels ----------------------------------------------------------------


def test_harmonize_keeps_common_classes_and_counts_dropped():
    X = pd.DataFrame({"x": range(6)})
    a = (X, np.array(["angry", "sad", "neu", "sad", "angry", "neu"]), None)
    b = (X.iloc[:4], np.array(["anger", "sad", "hap", "hap"]), np.arange(4))
    harmonized = harmonize_labels({"A": a, "B": b}, label_map={"A": {"angry": "anger"}})
    assert harmonized.labels == ["anger", "sad"]
    dropped = harmonized.dropped.set_index(["corpus", "label"])["n_utterances"]
    assert dropped.to_dict() == {("A", "neu"): 2, ("B", "hap"): 2}
    X_a, y_a, _ = harmonized.corpora["A"]
    assert y_a.tolist() == ["anger", "sad", "sad", "anger"]
    assert X_a["x"].tolist() == [0, 1, 3, 4]
    assert harmonized.corpora["B"][2].tolist() == [0, 1]


def test_harmonize_labels_named_and_class_lacking():
    X = pd.DataFrame({"x": range(4)})
    a = (X, np.array(["a", "b", "c", "c"]), None)
    b = (X, np.array(["a", "b", "b", "a"]), None)
    harmonized = harmonize_labels({"A": a, "B": b}, labels=["a", "b"])
    assert harmonized.dropped["n_utterances"].tolist() == [2]
    assert harmonized.dropped["reason"].tolist() == ["not in labels"]
    with pytest.raises(ValueError, match="'c', which corpus 'B' lacks"):
        harmonize_labels({"A": a, "B": b}, labels=["a", "c"])
    with pytest.raises(ValueError, match="share 1 class"):
        harmonize_labels({"A": (X, np.array(["a", "c"] * 2), None), "B": b})
    with pytest.raises(ValueError, match="corpus 'C'"):
        harmonize_labels({"A": a, "B": b}, label_map={"C": {"a": "b"}})


def test_read_label_map(tmp_path):
    path = tmp_path / "map.csv"
    path.write_text("corpus,from,to\nA,angry,anger\n,exc,happiness\n\n")
    assert read_label_map(path) == {"A": {"angry": "anger"}, "*": {"exc": "happiness"}}
    path.write_text("corpus,source,to\n")
    with pytest.raises(ValueError, match="corpus,from,to"):
        read_label_map(path)
    path.write_text("corpus,from,to\nA,x,y\nA,x,z\n")
    with pytest.raises(ValueError, match="line 3: 'x' of corpus 'A' is mapped twice"):
        read_label_map(path)


# --- leave one corpus out -----------------------------------------------------


def test_leave_one_corpus_out_tests_each_corpus_once():
    corpus = np.array(["B", "A", "C", "A", "B", "C", "C"])
    folds = list(LeaveOneCorpusOut().split(np.zeros(7), groups=corpus))
    assert LeaveOneCorpusOut().get_n_splits(groups=corpus) == 3
    assert [sorted(set(corpus[test])) for _, test in folds] == [["A"], ["B"], ["C"]]
    for train, test in folds:
        assert not set(corpus[train]) & set(corpus[test])
        assert len(train) + len(test) == 7
    with pytest.raises(ValueError, match="at least 2 corpora"):
        LeaveOneCorpusOut().get_n_splits(groups=["A", "A"])
    X = pd.DataFrame({"corpus": corpus})
    assert len(list(LeaveOneCorpusOut().split(X))) == 3


# --- test corpora in compare_methods ----------------------------------------------


def test_cross_rows_equal_each_folds_model_scored_by_hand(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    comparison = compare_methods(
        _methods(),
        X_a,
        y_a,
        s_a,
        cv=2,
        test_sets={"B": (X_b, y_b, s_b)},
        return_estimator=True,
    )
    results = comparison.results
    assert results["test_corpus"].tolist() == [""] * 6 + ["B"] * 6
    cross = results[results["test_corpus"] == "B"]
    assert (cross["n_test"] == len(y_b)).all()
    for _, row in cross.iterrows():
        model = comparison.estimators[row["method"], row["repeat"], row["fold"]]
        y_pred = model.predict(X_b)
        assert row["f1_micro"] == pytest.approx(f1_score(y_b, y_pred, average="micro"))
        assert row["f1_macro"] == pytest.approx(f1_score(y_b, y_pred, average="macro"))
    matrices = comparison.cross_confusion_matrices["B"]["lexical"]
    assert matrices.shape == (2, 4, 4) and (matrices.sum(axis=(1, 2)) == 50).all()


def test_cross_predictions_equal_each_folds_model_by_hand(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    X_a = X_a.set_axis([f"a{i}" for i in range(len(X_a))])
    X_b = X_b.set_axis([f"b{i}" for i in range(len(X_b))])
    comparison = compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b, s_b)},
        return_estimator=True,
    )  # fmt: skip
    predictions = comparison.cross_predictions
    assert set(predictions["test_corpus"]) == {"B"}
    for (method, repeat, fold), model in comparison.estimators.items():
        mine = predictions[
            (predictions["method"] == method) & (predictions["fold"] == fold)
        ]
        assert mine["row"].tolist() == list(range(len(y_b)))
        assert mine["utterance_id"].tolist() == X_b.index.tolist()
        assert mine["y_true"].tolist() == y_b.tolist()
        assert mine["y_pred"].tolist() == model.predict(X_b).tolist()
        columns = [f"proba_{label}" for label in model.classes_]
        np.testing.assert_allclose(mine[columns], model.predict_proba(X_b))
    own = comparison.predictions
    assert own["utterance_id"].tolist() == X_a.index[own["row"]].tolist()


def test_in_corpus_rows_do_not_change_with_test_sets(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    alone = compare_methods(_methods(), X_a, y_a, s_a, cv=2).results
    both = compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b, s_b)}
    ).results
    columns = ["method", "fold", "test_corpus", "f1_micro", "f1_macro", "n_test"]
    pd.testing.assert_frame_equal(alone[columns], both.iloc[: len(alone)][columns])
    assert set(alone["test_corpus"]) == {""}


def test_test_corpus_lacking_a_modality_is_scored_as_missing(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    comparison = compare_methods(
        _methods(),
        X_a,
        y_a,
        s_a,
        cv=2,
        test_sets={"B": (X_b.drop(columns="acoustic"), y_b, s_b)},
    )
    cross = comparison.results[comparison.results["test_corpus"] == "B"]
    assert cross["warnings"].str.contains("lacks modality acoustic").all()
    assert (cross["error"] == "").all()
    assert cross.loc[cross["method"] == "lexical", "f1_micro"].notna().all()


def test_feature_widths_that_differ_are_an_error(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    X_b = X_b.assign(lexical=[c[:5] for c in X_b["lexical"]])
    with pytest.raises(ValueError, match="'lexical' has 5 features per frame.*8"):
        compare_methods(_methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b)})


def test_test_corpus_speakers_follow_the_one_speaker_rule(corpora):
    """groups that disagree with the test corpus's speaker column are an
    error naming the corpus and both, as they are for the compared corpus;
    groups that agree, or either source alone, give the same speakers."""
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    assert "speaker" in X_b.columns
    shuffled = np.roll(np.asarray(X_b["speaker"]), 1)
    with pytest.raises(
        ValueError, match=r"test_sets\['B'\]: groups and X\['speaker'\] disagree on"
    ):
        compare_methods(
            _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b, shuffled)}
        )
    column = np.asarray(X_b["speaker"])
    for test_set in [
        (X_b, y_b, column),
        (X_b, y_b),
        (X_b.drop(columns="speaker"), y_b, column),
    ]:
        assert_array_equal(speakers_of_test_sets({"B": test_set})["B"], column)


def test_corpus_lacking_a_class_is_scored_on_its_classes(corpora):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    keep = y_b != "neutral"
    comparison = compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b[keep], y_b[keep])}
    )
    matrices = comparison.cross_confusion_matrices["B"]["lexical"]
    assert matrices[:, list(comparison.labels).index("neutral"), :].sum() == 0
    assert (comparison.results["n_test"].iloc[6:] == keep.sum()).all()


@pytest.mark.parametrize("how", ["corpus", "speaker"])
def test_test_standardization_is_flagged(corpora, how):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    comparison = compare_methods(
        _methods(),
        X_a,
        y_a,
        s_a,
        cv=2,
        test_sets={"B": (X_b, y_b, s_b)},
        test_standardization=how,
    )
    cross = comparison.results[comparison.results["test_corpus"] == "B"]
    assert cross["warnings"].str.contains("standardised").all()
    assert cross["warnings"].str.contains("transductive").all() == (how == "speaker")


def test_cross_corpus_outputs(corpora, tmp_path):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    comparison = compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b, s_b)}
    )
    summary = comparison.cross_corpus_summary
    assert (
        summary.groupby("method")["test_corpus"].apply(list).tolist() == [["", "B"]] * 3
    )
    drops = cross_corpus_drop(comparison.results)
    own = comparison.results.set_index(["method", "fold", "test_corpus"])["f1_micro"]
    lexical = drops[(drops["method"] == "lexical") & (drops["metric"] == "f1_micro")]
    expected = np.mean([own["lexical", f, "B"] - own["lexical", f, ""] for f in (1, 2)])
    assert lexical["drop"].iloc[0] == pytest.approx(expected)
    table = format_cross_corpus_table(summary, drops)
    assert "drop B" in table and "lexical" in table
    dropped = pd.DataFrame(
        [["B", "surprise", 3, "not in every corpus"]],
        columns=["corpus", "label", "n_utterances", "reason"],
    )
    save_comparison(comparison, tmp_path, reference="early_fusion", dropped=dropped)
    written = {p.name for p in tmp_path.iterdir()}
    assert set(CROSS_CORPUS_FILES) <= written <= set(COMPARISON_FILES)
    recall = pd.read_csv(tmp_path / "cross_corpus_per_class_recall.csv")
    assert set(recall["test_corpus"]) == {"B"}


# --- mmer compare across corpora ------------------------------------------------


@pytest.fixture
def corpus_folders(tmp_path):
    """Three tiny corpora on disk: B calls anger 'angry' and lacks visual, C has
    'calm' instead of neutral."""
    from sklearn_mmer._testing import make_clean_corpus
    from sklearn_mmer.datasets import write_feature_table

    folders = []
    for name, seed in (("A", 0), ("B", 1), ("C", 2)):
        X, y, _ = make_clean_corpus(seed=seed)
        if name == "B":
            X, y = X.drop(columns="visual"), np.where(y == "anger", "angry", y)
        if name == "C":
            y = np.where(y == "neutral", "calm", y)
        write_feature_table(X, y, tmp_path / name, target_names=None)
        folders.append(tmp_path / name)
    (tmp_path / "map.csv").write_text("corpus,from,to\nB,angry,anger\n")
    return folders, tmp_path / "map.csv"


def test_mmer_compare_test_data_counts_every_drop(corpus_folders, tmp_path):
    from sklearn_mmer._testing import run

    (a, b, c), label_map = corpus_folders
    out = tmp_path / "out"
    status, stdout, stderr = run(
        "compare", "--data", a, "--test-data", b, c, "--label-map", label_map,
        "--folds", "2", "--methods", "lexical", "--epochs", "2", "--n-jobs", "1",
        "--out", out,
        "--quiet",
    )  # fmt: skip
    assert status == 0, stderr
    assert "drop B" in stdout and "drop C" in stdout
    dropped = pd.read_csv(out / "label_harmonization.csv")
    y = {name: make_clean_corpus_labels(seed) for name, seed in (("A", 0), ("C", 2))}
    expected = {
        ("A", "neutral"): int((y["A"] == "neutral").sum()),
        ("C", "calm"): int((y["C"] == "neutral").sum()),  # C's neutral is calm
    }
    got = dropped.set_index(["corpus", "label"])["n_utterances"].to_dict()
    assert {k: v for k, v in got.items() if k[0] != "B"} == expected
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert results["test_corpus"].tolist() == ["", "", "B", "B", "C", "C"]
    assert (
        results.loc[results["test_corpus"] == "B", "warnings"]
        .str.contains("lacks modality visual")
        .all()
    )
    # no reference (early_fusion is not run): no cross_corpus_comparisons.csv
    written = {p.name for p in out.iterdir()}
    assert set(CROSS_CORPUS_FILES) - written == {"cross_corpus_comparisons.csv"}


def make_clean_corpus_labels(seed):
    from sklearn_mmer._testing import make_clean_corpus

    return make_clean_corpus(seed=seed)[1]


def test_mmer_compare_leaves_each_corpus_out(corpus_folders, tmp_path):
    from sklearn_mmer._testing import run

    (a, b, c), label_map = corpus_folders
    out = tmp_path / "out"
    status, stdout, stderr = run(
        "compare", "--data", a, b, c, "--cv", "corpus", "--label-map", label_map,
        "--methods", "lexical", "--epochs", "2", "--n-jobs", "1",
        "--out", out, "--quiet",
    )  # fmt: skip
    assert status == 0, stderr
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert results["test_corpus"].tolist() == ["A", "B", "C"]
    sizes = {n: len(make_clean_corpus_labels(s)) for n, s in zip("ABC", (0, 1, 2))}
    kept = results["n_test"] + results["n_train"]
    dropped = pd.read_csv(out / "label_harmonization.csv")["n_utterances"].sum()
    assert kept.iloc[0] == sum(sizes.values()) - dropped
    status, _, stderr = run("compare", "--data", a, "--cv", "corpus", "--out", out)
    assert status != 0 and "two or more corpora" in stderr


# --- mmer predict on a labelled corpus -------------------------------------------


def test_bootstrap_scores_resample_whole_speakers():
    from sklearn_mmer.evaluation import bootstrap_scores

    y_true = np.array(["a", "b"] * 6)
    y_pred = y_true.copy()
    y_pred[:4] = y_pred[:4][::-1]  # speaker s0 all wrong, the others right
    speakers = np.repeat(["s0", "s1", "s2"], 4)
    table = bootstrap_scores(y_true, y_pred, speakers, n_resamples=200)
    f1 = table.set_index("metric").loc["f1_micro"]
    assert f1["score"] == pytest.approx(8 / 12)
    # a resample holds 0 to 3 copies of s0, so its score is 1, 2/3, 1/3 or 0
    assert f1["ci_low"] in (0.0, 1 / 3) and f1["ci_high"] == 1.0
    single = bootstrap_scores(y_true, y_pred, ["s"] * 12)
    assert single["ci_low"].isna().all()


def test_mmer_predict_prints_scores_with_intervals(corpus_folders, tmp_path):
    from sklearn_mmer._testing import run

    (a, b, _), _ = corpus_folders
    model = tmp_path / "m.mmer"
    status, _, stderr = run(
        "fit", "--data", a, "--method", "lexical", "--epochs", "2",
        "--model", model, "--quiet",
    )  # fmt: skip
    assert status == 0, stderr
    status, stdout, stderr = run(
        "predict", "--data", a, "--model", model, "--out", tmp_path, "--quiet"
    )
    assert status == 0, stderr
    table = pd.read_csv(tmp_path / "predictions.csv")
    score = f1_score(table["emotion_labels"], table["predicted_label"], average="micro")
    assert f"f1_micro             {score:.3f}  [" in stdout
    assert "bootstrap over 4 speakers" in stdout


def test_resume_refuses_a_run_written_before_test_corpus(corpora, tmp_path):
    import json

    from sklearn_mmer.evaluation import ConfigurationMismatchError

    (X_a, y_a, s_a), _ = corpora
    compare_methods(_methods(), X_a, y_a, s_a, cv=2, checkpoint=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["format"] = 2  # rows without test_corpus
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigurationMismatchError, match="has format 2, not 3"):
        compare_methods(
            _methods(), X_a, y_a, s_a, cv=2, checkpoint=tmp_path, resume=True
        )
