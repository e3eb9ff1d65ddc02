"""``mmer fit`` and ``mmer predict`` end to end, on a tiny corpus on disk."""

import re

import numpy as np
import pandas as pd
import pytest

import sklearn_mmer
from sklearn_mmer._testing import run
from sklearn_mmer.datasets import (
    load_feature_table,
    make_multimodal_emotion,
    write_feature_table,
)

WIDTHS = {"visual": 10, "acoustic": 6, "lexical": 8}


def _write_corpus(folder, widths=WIDTHS, *, labels=True, seed=0):
    X, y = make_multimodal_emotion(
        40,
        n_speakers=4,
        n_sessions=2,
        random_state=seed,
        return_X_y=True,
        modalities=widths,
    )
    write_feature_table(X, y, folder)
    if not labels:
        table = pd.read_csv(folder / "dataset.csv", dtype=str)
        table.drop(columns="emotion_labels").to_csv(folder / "dataset.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """``mmer fit --folds 2`` of early fusion on a small corpus: status, err, paths."""
    folder = tmp_path_factory.mktemp("fit")
    corpus = _write_corpus(folder / "corpus")
    model = folder / "early.mmer"
    status, _, err = run(
        "fit",
        "--data",
        corpus,
        "--method",
        "early_fusion",
        "--epochs",
        2,
        "--folds",
        2,
        "--n-jobs",
        1,
        "--model",
        model,
    )
    return status, err, corpus, model


def test_fit_writes_a_model_and_its_card(fitted):
    status, err, corpus, model = fitted
    assert status == 0, err
    manifest = sklearn_mmer.io.read_manifest(model)
    assert manifest["method"] == "early_fusion"
    assert manifest["modalities"] == WIDTHS
    card = model.with_suffix(".card.md").read_text()
    y = load_feature_table(corpus).target
    for label, count in zip(*np.unique(y, return_counts=True)):
        assert f"| {label} | {count} |" in card
    assert "## Cross-validated scores (2 speaker folds)" in card
    f1 = re.search(r"\| f1_micro \| ([0-9.]+) \| ([0-9.]+) \|", card)
    assert f1 is not None and 0 <= float(f1.group(1)) <= 1
    assert card.count("| Ses0") == 4  # one row per speaker


def test_fit_records_the_threads_it_computed_with(fitted):
    status, err, _, model = fitted
    assert status == 0, err
    assert sklearn_mmer.io.read_manifest(model)["threads"] == 1
    assert ", 1 threads" in model.with_suffix(".card.md").read_text()


def test_predict_writes_one_row_per_utterance_without_labels(fitted, tmp_path):
    model = fitted[3]
    corpus = _write_corpus(tmp_path / "new", labels=False, seed=1)
    out = tmp_path / "out"
    status, _, err = run("predict", "--model", model, "--data", corpus, "--out", out)
    assert status == 0, err
    table = pd.read_csv(out / "predictions.csv")
    X = load_feature_table(corpus, require_labels=False).data
    expected = sklearn_mmer.load(model)
    proba = expected.predict_proba(X)
    columns = [f"proba_{c}" for c in expected.classes_]
    assert table.columns.tolist() == [
        "file_name_list",
        "predicted_label",
        "missing_modalities",
        *columns,
    ]
    assert table.missing_modalities.isna().all()  # "" in the CSV: none missing
    assert table.file_name_list.tolist() == X.index.tolist()
    assert table.predicted_label.tolist() == expected.predict(X).tolist()
    assert np.allclose(table[columns].to_numpy(), proba, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "widths, message",
    [
        ({"visual": 10, "acoustic": 6}, "modality 'lexical'"),
        ({"visual": 10, "acoustic": 7, "lexical": 8}, "'acoustic' has feature width 7"),
    ],
)
def test_predict_refuses_data_unlike_the_training_data(
    fitted, tmp_path, widths, message
):
    corpus = _write_corpus(tmp_path / "other", widths)
    status, _, err = run(
        "predict",
        "--model",
        fitted[3],
        "--data",
        corpus,
        "--out",
        tmp_path / "p",
    )
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("mmer: error:")
    assert message in err
    assert not (tmp_path / "p" / "predictions.csv").exists()


def test_predict_refuses_a_damaged_model(fitted, tmp_path):
    damaged = tmp_path / "damaged.mmer"
    damaged.write_bytes(fitted[3].read_bytes()[:-200])
    status, _, err = run("predict", "--model", damaged, "--data", fitted[2])
    assert status == 2 and err.startswith("mmer: error: --model")
    assert "truncated" in err


def test_fit_refuses_an_unknown_method(fitted, tmp_path):
    status, _, err = run(
        "fit", "--data", fitted[2], "--method", "nope", "--model", tmp_path / "m"
    )
    assert status == 2 and "unknown method 'nope'" in err


def test_compare_saves_the_best_inductive_method(fitted, tmp_path):
    out, models = tmp_path / "results", tmp_path / "models"
    status, _, err = run(
        "compare",
        "--no-figures",
        "--data",
        fitted[2],
        "--methods",
        "acoustic",
        "lexical",
        "--folds",
        2,
        "--epochs",
        2,
        "--n-jobs",
        1,
        "--out",
        out,
        "--save-model",
        models,
    )
    assert status == 0, err
    predictions = pd.read_csv(out / "predictions.csv")
    ids = pd.read_csv(fitted[2] / "dataset.csv", dtype=str).file_name_list
    assert (predictions.utterance_id == ids[predictions.row].to_numpy()).all()
    assert {"proba_anger", "proba_sadness"} <= set(predictions.columns)
    summary = pd.read_csv(out / "summary.csv")
    best = summary.sort_values("f1_micro_mean", ascending=False).method.iloc[0]
    assert sorted(p.name for p in models.glob("*.mmer")) == [f"{best}.mmer"]
    card = (models / f"{best}.card.md").read_text()
    mean = summary.set_index("method").loc[best, "f1_micro_mean"]
    assert f"| f1_micro | {mean:.3f} |" in card
    assert sklearn_mmer.io.read_manifest(models / f"{best}.mmer")["method"] == best


def test_best_inductive_method_skips_transductive_ones():
    from sklearn_mmer.evaluation import best_inductive_method

    summary = pd.DataFrame(
        {
            "method": ["early_fusion_speaker_norm", "lexical", "early_fusion"],
            "f1_micro_mean": [0.9, np.nan, 0.5],
        }
    )
    assert best_inductive_method(summary, ["lexical"]) == "early_fusion"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--save-model-methods", "lexical"], "needs --save-model"),
        (
            ["--save-model", "m", "--save-model-methods", "visual"],
            "not among the compared methods",
        ),
    ],
)
def test_compare_save_model_options_are_checked_first(
    fitted, tmp_path, options, message
):
    status, _, err = run(
        "compare",
        "--data",
        fitted[2],
        "--methods",
        "lexical",
        "--folds",
        2,
        "--out",
        tmp_path / "r",
        *options,
    )
    assert status == 2 and message in err
    assert not (tmp_path / "r" / "results.csv").exists()


def test_predict_lists_skipped_utterances_beside_the_predictions(fitted, tmp_path):
    corpus = _write_corpus(tmp_path / "new", labels=False, seed=2)
    table = pd.read_csv(corpus / "dataset.csv", dtype=str)
    broken = table.file_name_list.iloc[3]
    (corpus / table.lexical_features.iloc[3].lstrip("/")).unlink()
    out = tmp_path / "out"
    status, _, err = run(
        "predict",
        "--model",
        fitted[3],
        "--data",
        corpus,
        "--out",
        out,
        "--missing",
        "skip",
    )
    assert status == 0, err
    assert "predictions.issues.csv" in err
    predicted = pd.read_csv(out / "predictions.csv")
    assert len(predicted) == len(table) - 1
    assert broken not in set(predicted.file_name_list)
    issues = pd.read_csv(out / "predictions.issues.csv")
    assert issues.id.tolist() == [broken]


def test_fit_refuses_all_with_a_message_that_does_not_offer_it(fitted, tmp_path):
    status, _, err = run(
        "fit", "--data", fitted[2], "--method", "all", "--model", tmp_path / "m"
    )
    assert status == 2 and err.count("\n") == 1, err
    assert "unknown method 'all'" in err and "trains one method" in err
    assert "or 'all'" not in err


def test_fit_creates_the_missing_folder_of_its_model(fitted, tmp_path):
    model = tmp_path / "models" / "deeper" / "lexical.mmer"
    status, _, err = run(
        "fit",
        "--data",
        fitted[2],
        "--method",
        "lexical",
        "--epochs",
        1,
        "--model",
        model,
    )
    assert status == 0, err
    assert model.is_file() and model.with_suffix(".card.md").is_file()


def test_fit_refuses_a_model_in_a_system_folder(fitted):
    status, _, err = run(
        "fit",
        "--data",
        fitted[2],
        "--method",
        "lexical",
        "--model",
        "/usr/mmer-no-such-folder/m.mmer",
    )
    assert status == 2 and "system folder" in err


@pytest.fixture
def no_gpu(monkeypatch):
    """torch finds no CUDA GPU, whatever the machine."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("command", ["compare", "fit", "predict"])
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_device_cuda_without_a_gpu_is_a_usage_error(
    fitted, tmp_path, no_gpu, command, device
):
    options = {"fit": ["--method", "lexical", "--model", tmp_path / "m.mmer"]}
    options["predict"] = ["--model", fitted[3], "--out", tmp_path / "p"]
    options["compare"] = ["--out", tmp_path / "r", "--folds", 2]
    status, _, err = run(
        command, "--data", fitted[2], *options[command], "--device", device
    )
    assert status == 2 and err.count("\n") == 1, err
    assert f"--device {device}: torch finds no CUDA GPU here" in err
    assert not any(tmp_path.rglob("*.csv")) and not any(tmp_path.rglob("*.mmer"))


def test_device_takes_cpu_cuda_n_or_auto_only(fitted):
    status, _, err = run("predict", "--model", fitted[3], "--device", "gpu0")
    assert status == 2 and "'gpu0' is not a device" in err


def test_device_auto_without_a_gpu_fits_on_the_cpu(fitted, tmp_path, no_gpu):
    model = tmp_path / "lexical.mmer"
    status, _, err = run(
        "fit",
        "--data",
        fitted[2],
        "--method",
        "lexical",
        "--epochs",
        1,
        "--device",
        "auto",
        "--model",
        model,
    )
    assert status == 0 and "device cpu" in err, err
    assert ", on cpu" in model.with_suffix(".card.md").read_text()
    assert sklearn_mmer.load(model).get_params()["mlpclassifier__device"] == "cpu"


def test_configure_sets_the_device_of_every_network():
    from argparse import Namespace

    from sklearn_mmer.cli._steps import configure
    from sklearn_mmer.methods import make_methods

    late = make_methods(["acoustic", "lexical"], ["late_fusion"])["late_fusion"]
    configure(Namespace(epochs=None, device="cuda:1"), late)
    devices = {k: v for k, v in late.get_params().items() if k.endswith("device")}
    assert len(devices) == 2 and set(devices.values()) == {"cuda:1"}


def test_predict_predicts_utterances_with_a_missing_modality(fitted, tmp_path):
    corpus = _write_corpus(tmp_path / "new", labels=False, seed=2)
    table = pd.read_csv(corpus / "dataset.csv", dtype=str)
    table.loc[3, "lexical_features"] = ""  # an empty cell
    (corpus / table.visual_features.iloc[5].lstrip("/")).unlink()
    for m in ("visual", "acoustic", "lexical"):
        table.loc[7, f"{m}_features"] = ""  # nothing left to predict from
    table.to_csv(corpus / "dataset.csv", index=False)
    out = tmp_path / "out"
    status, _, err = run(
        "predict", "--model", fitted[3], "--data", corpus, "--out", out
    )
    assert status == 0, err
    predicted = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    ids = table.file_name_list
    assert predicted.file_name_list.tolist() == ids.drop(7).tolist()
    gaps = predicted.set_index("file_name_list").missing_modalities
    assert gaps[ids[3]] == "lexical" and gaps[ids[5]] == "visual"
    assert (gaps.drop([ids[3], ids[5]]) == "").all()
    X = load_feature_table(corpus, require_labels=False, errors="keep").data
    expected = sklearn_mmer.load(fitted[3]).predict(X.drop(ids[7]))
    assert predicted.predicted_label.tolist() == expected.tolist()
    issues = pd.read_csv(out / "predictions.issues.csv")
    assert set(issues.id) == {ids[3], ids[5], ids[7]}
    assert "1 skipped" in err and "2 with a missing modality" in err


def test_prediction_table_skips_what_a_model_cannot_predict():
    from sklearn.linear_model import LogisticRegression

    from sklearn_mmer.evaluation import prediction_table

    class Cells(LogisticRegression):
        """Reads one cell column; raises on a missing cell, as some models do."""

        def _x(self, X):
            return np.stack([np.asarray(c, dtype=float) for c in X["a"]])

        def fit(self, X, y):
            return super().fit(self._x(X), y)

        def predict(self, X):
            return super().predict(self._x(X))

        def predict_proba(self, X):
            return super().predict_proba(self._x(X))

    X = pd.DataFrame(
        {
            "a": [np.array([0.0]), np.array([1.0]), None, np.array([0.1])],
            "b": [np.array([1.0])] * 4,
        },
        index=["u1", "u2", "u3", "u4"],
    )
    y = np.array(["calm", "angry", "calm", "calm"])
    model = Cells().fit(X.drop("u3"), np.delete(y, 2))
    with pytest.warns(UserWarning, match="cannot predict with a missing modality"):
        table = prediction_table(model, X, y)
    assert table.file_name_list.tolist() == ["u1", "u2", "u4"]
    skipped = prediction_table(model, X, y, missing="skip")
    assert skipped.file_name_list.tolist() == ["u1", "u2", "u4"]
