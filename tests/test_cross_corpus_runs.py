"""Cross-corpus runs as any other run: checkpoint and resume, --save-model,
--content-disjoint, and predictions that name each corpus's own utterances."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import sklearn_mmer
from sklearn_mmer._testing import make_clean_corpus, make_tiny_corpus, run
from sklearn_mmer.datasets import write_feature_table
from sklearn_mmer.evaluation import (
    CheckpointError,
    ConfigurationMismatchError,
    compare_methods,
)
from sklearn_mmer.evaluation._records import checksum
from sklearn_mmer.fusion import make_late_fusion, make_modality_pipeline

QUICK = ["--methods", "lexical", "--epochs", "2", "--n-jobs", "1", "--quiet"]
QUICK += ["--no-figures"]  # the tables are what these runs compare


def _methods():
    linear = LogisticRegression(max_iter=300)
    return {
        "lexical": make_modality_pipeline("lexical", classifier=linear),
        "late_fusion": make_late_fusion(["acoustic", "lexical"], classifier=linear),
    }


@pytest.fixture
def corpora():
    widths = (("acoustic", 6), ("lexical", 8))
    a = make_tiny_corpus(60, n_speakers=3, widths=widths, seed=0)
    X_b, y_b, s_b = make_tiny_corpus(40, n_speakers=2, widths=widths, seed=1)
    X_b = X_b.set_axis([f"b{i}" for i in range(len(X_b))])
    return a, (X_b, y_b, s_b)


def without_time(results):
    return results.drop(columns="fit_seconds")


# --- checkpoint and resume -------------------------------------------------------


def test_a_cross_corpus_run_cut_by_ctrl_c_resumes_to_one_run_s_results(
    corpora, tmp_path
):
    (X_a, y_a, s_a), test = corpora
    options = {"cv": 3, "test_sets": {"B": test}, "test_standardization": "corpus"}
    whole = compare_methods(_methods(), X_a, y_a, s_a, **options)

    def ctrl_c_after_two_folds(record):
        if record["n_finished"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare_methods(
            _methods(), X_a, y_a, s_a, checkpoint=tmp_path,
            progress=ctrl_c_after_two_folds, **options,
        )  # fmt: skip
    kept = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert kept["test_corpus"].tolist() == ["", "", "B", "B"]
    resumed = compare_methods(
        _methods(), X_a, y_a, s_a, checkpoint=tmp_path, resume=True, **options
    )
    pd.testing.assert_frame_equal(
        without_time(whole.results), without_time(resumed.results)
    )
    pd.testing.assert_frame_equal(whole.predictions, resumed.predictions)
    pd.testing.assert_frame_equal(whole.cross_predictions, resumed.cross_predictions)
    for name, matrices in whole.cross_confusion_matrices["B"].items():
        np.testing.assert_array_equal(
            matrices, resumed.cross_confusion_matrices["B"][name]
        )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"test_sets": None}, "tested on the corpora B, this run has none"),
        ({"name": "C"}, "tested on the corpora B, this run tests on C"),
        ({"shift": 1.0}, "the test corpus B differs"),
        ({"test_standardization": "corpus"}, "standardisation was none, now corpus"),
    ],
)
def test_resume_refuses_other_test_corpora(corpora, tmp_path, change, message):
    (X_a, y_a, s_a), (X_b, y_b, s_b) = corpora
    compare_methods(
        _methods(), X_a, y_a, s_a, cv=2, test_sets={"B": (X_b, y_b)},
        checkpoint=tmp_path,
    )  # fmt: skip
    X_b = X_b.assign(lexical=[c + change.get("shift", 0.0) for c in X_b["lexical"]])
    test_sets = change.get("test_sets", {change.get("name", "B"): (X_b, y_b)})
    with pytest.raises(ConfigurationMismatchError, match=message):
        compare_methods(
            _methods(), X_a, y_a, s_a, cv=2, test_sets=test_sets,
            test_standardization=change.get("test_standardization"),
            checkpoint=tmp_path, resume=True,
        )  # fmt: skip


def test_a_record_with_edited_test_corpus_predictions_is_refused(corpora, tmp_path):
    (X_a, y_a, s_a), test = corpora
    options = {"cv": 2, "test_sets": {"B": test}, "checkpoint": tmp_path}
    compare_methods(_methods(), X_a, y_a, s_a, **options)
    path = sorted((tmp_path / ".checkpoint").glob("*.json"))[0]
    record = json.loads(path.read_text())
    predicted = record["cross"]["B"]["y_pred"]
    predicted[0] = next(label for label in set(y_a) if label != predicted[0])
    record["sha256"] = checksum(record)  # as a careful edit would
    path.write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="confusion matrix does not match"):
        compare_methods(_methods(), X_a, y_a, s_a, resume=True, **options)


# --- mmer compare across corpora --------------------------------------------------


@pytest.fixture
def corpus_folders(tmp_path):
    """A (with a content column), B and C on disk; C calls neutral 'calm', so
    neutral is dropped from every corpus."""
    folders = []
    for name, seed in (("A", 0), ("B", 1), ("C", 2)):
        X, y, _ = make_clean_corpus(seed=seed)
        if name == "C":
            y = np.where(y == "neutral", "calm", y)
        write_feature_table(X, y, tmp_path / name, target_names=None)
        folders.append(tmp_path / name)
    table = pd.read_csv(folders[0] / "dataset.csv")
    table["content"] = [f"line{i % 5}" if i % 2 else f"own{i}" for i in range(30)]
    table.to_csv(folders[0] / "dataset.csv", index=False)
    return folders


def kept_ids(folder):
    """The ids of a corpus's utterances that harmonising the labels keeps."""
    table = pd.read_csv(folder / "dataset.csv", dtype=str)
    return table.loc[
        ~table["emotion_labels"].isin(["neutral", "calm"]), "file_name_list"
    ]


def test_mmer_compare_test_data_resumes_and_refuses_other_test_data(
    corpus_folders, tmp_path
):
    a, b, c = corpus_folders
    out = tmp_path / "out"
    args = ["compare", "--data", a, "--test-data", b, c, "--folds", 2, "--out", out]
    status, _, err = run(*args, *QUICK)
    assert status == 0, err
    whole = pd.read_csv(out / "results.csv", keep_default_na=False)
    predictions = pd.read_csv(
        out / "cross_corpus_predictions.csv", dtype={"utterance_id": str}
    )
    for part in sorted((out / ".checkpoint").glob("*.json"))[::2]:
        part.unlink()  # as if the run had been killed before these folds
    status, _, err = run(*args, "--resume", *QUICK)
    assert status == 0, err
    resumed = pd.read_csv(out / "results.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(without_time(whole), without_time(resumed))
    pd.testing.assert_frame_equal(
        predictions,
        pd.read_csv(out / "cross_corpus_predictions.csv", dtype={"utterance_id": str}),
    )
    mine = predictions[(predictions["test_corpus"] == "C") & (predictions["fold"] == 1)]
    assert mine["row"].tolist() == list(range(len(kept_ids(c))))
    assert mine["utterance_id"].tolist() == kept_ids(c).tolist()
    status, _, err = run(*args[:4], b, *args[6:], "--resume", *QUICK)
    assert status == 2
    assert "tested on the corpora B, C, this run tests on B" in err


def test_mmer_compare_test_data_cut_by_ctrl_c_says_how_to_resume(
    corpus_folders, tmp_path, monkeypatch
):
    from sklearn_mmer.utils._runtime import Progress

    a, b, _ = corpus_folders
    args = ["compare", "--data", a, "--test-data", b, "--folds", 2, *QUICK]
    status, _, err = run(*args, "--out", tmp_path / "whole")
    assert status == 0, err
    count = Progress.__call__

    def ctrl_c_after_one_fold(self, record):
        count(self, record)
        raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "__call__", ctrl_c_after_one_fold)
    out = tmp_path / "cut"
    status, _, err = run(*args, "--out", out)
    assert status == 130
    assert f"mmer: interrupted; 1 of 2 folds finished are kept in {out}" in err
    assert err.strip().endswith(f"--out {out} --resume")
    monkeypatch.undo()
    status, _, err = run(*args, "--out", out, "--resume")
    assert status == 0, err
    for name in ("results.csv", "cross_corpus_predictions.csv"):
        got, expected = (
            pd.read_csv(folder / name, keep_default_na=False)
            for folder in (out, tmp_path / "whole")
        )
        columns = [c for c in expected.columns if c != "fit_seconds"]
        pd.testing.assert_frame_equal(got[columns], expected[columns])


def test_mmer_compare_test_data_saves_a_model_fit_on_all_of_a(corpus_folders, tmp_path):
    a, b, c = corpus_folders
    models = tmp_path / "models"
    status, _, err = run(
        "compare", "--data", a, "--test-data", b, c, "--folds", 2,
        "--out", tmp_path / "out", "--save-model", models, *QUICK,
    )  # fmt: skip
    assert status == 0, err
    model = sklearn_mmer.io.load(models / "lexical.mmer")
    assert model.classes_.tolist() == ["anger", "happiness", "sadness"]
    manifest = sklearn_mmer.io.read_manifest(models / "lexical.mmer")
    assert manifest["n_samples"] == len(kept_ids(a))
    assert "speaker folds of A" in (models / "lexical.card.md").read_text()


def test_mmer_compare_leave_one_corpus_out_names_each_corpus_s_utterances(
    corpus_folders, tmp_path
):
    out, models = tmp_path / "out", tmp_path / "models"
    status, _, err = run(
        "compare", "--data", *corpus_folders, "--cv", "corpus", "--out", out,
        "--save-model", models, *QUICK,
    )  # fmt: skip
    assert status == 0, err
    predictions = pd.read_csv(
        out / "cross_corpus_predictions.csv", dtype={"utterance_id": str}
    )
    for folder in corpus_folders:
        mine = predictions[predictions["test_corpus"] == folder.name]
        assert mine["row"].tolist() == list(range(len(kept_ids(folder))))
        assert mine["utterance_id"].tolist() == kept_ids(folder).tolist()
    assert {f"proba_{c}" for c in ("anger", "happiness", "sadness")} <= set(
        predictions.columns
    )
    manifest = sklearn_mmer.io.read_manifest(models / "lexical.mmer")
    assert manifest["n_samples"] == sum(
        len(kept_ids(folder)) for folder in corpus_folders
    )


def test_mmer_compare_test_data_folds_are_content_disjoint(corpus_folders, tmp_path):
    a, b, _ = corpus_folders
    out = tmp_path / "out"
    args = ["compare", "--data", a, "--test-data", b, "--folds", 2, *QUICK]
    status, _, err = run(*args, "--content-disjoint", "--out", out)
    assert status == 0, err
    plain = tmp_path / "plain"
    status, _, err = run(*args, "--out", plain)
    assert status == 0, err
    disjoint = pd.read_csv(out / "results.csv", keep_default_na=False)
    usual = pd.read_csv(plain / "results.csv", keep_default_na=False)
    assert (disjoint["n_train"] < usual["n_train"]).all()
    assert disjoint["n_test"].tolist() == usual["n_test"].tolist()
    status, _, err = run(
        "compare", "--data", *corpus_folders, "--cv", "corpus",
        "--content-disjoint", "--out", tmp_path / "loco", *QUICK,
    )  # fmt: skip
    assert status == 2 and "no meaning there" in err
