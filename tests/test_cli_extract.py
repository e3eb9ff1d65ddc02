"""``mmer extract``, then ``mmer compare``, ``mmer fit`` and ``mmer predict
--input`` on recordings the tests write (tones in noise), and the refusal of a
model whose encoder folder changed (a tiny random wav2vec 2.0)."""

import shutil

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer._testing import run, save_tiny_wav2vec, write_recordings
from sklearn_mmer.cli import _steps
from sklearn_mmer.io import read_manifest

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return write_recordings(tmp_path_factory.mktemp("recordings"))


@pytest.fixture(scope="module")
def corpus(recordings, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "mfcc"
    status, _, err = run(
        "extract", "--input", recordings, "--out", out, "--features", "mfcc"
    )
    assert status == 0, err
    return out


def _with_a_silent_file(csv):
    soundfile.write(csv.parent / "audio" / "quiet.wav", np.zeros(8000), 16000)
    table = pd.read_csv(csv)
    row = {"file": "audio/quiet.wav", "speaker": "spk1", "emotion": "anger"}
    spoiled = csv.parent / "with_silence.csv"
    pd.concat([table, pd.DataFrame([row])]).to_csv(spoiled, index=False)
    return spoiled


def test_list_says_each_kind_and_its_extra():
    status, out, _ = run("extract", "--list")
    assert status == 0
    assert "encoder:PATH" in out and "egemaps" in out
    assert 'pip install "sklearn-mmer[audio]"' in out
    assert "non-commercial" in out


def test_extract_needs_input_out_and_features():
    status, _, err = run("extract", "--input", "x.csv")
    assert status == 2 and "needs --out, --features" in err


def test_a_silent_file_is_listed_and_the_exit_status_is_1(recordings, tmp_path):
    spoiled = _with_a_silent_file(recordings)
    out = tmp_path / "c"
    status, _, err = run(
        "extract", "--input", spoiled, "--out", out, "--features", "mfcc", "--quiet"
    )
    assert status == 1
    assert "audio/quiet.wav: silent" in err
    assert "files," not in err and "wrote" not in err  # --quiet: errors only
    issues = pd.read_csv(out / "issues.csv")
    assert issues[["id", "reason"]].values.tolist() == [["quiet", "silent"]]
    assert len(pd.read_csv(out / "dataset.csv")) == 20


def test_an_interrupted_extraction_resumes(recordings, tmp_path, monkeypatch):
    out = tmp_path / "c"
    show = _steps.ExtractionProgress.__call__

    def stop(self, record):
        show(self, record)
        if record["n_done"] >= 16:
            raise KeyboardInterrupt

    monkeypatch.setattr(_steps.ExtractionProgress, "__call__", stop)
    argv = ["extract", "--input", recordings, "--out", out, "--features", "mfcc"]
    status, _, err = run(*argv)
    assert status == 130 and "--resume" in err
    assert len(list(out.rglob("*.npy"))) == 16
    monkeypatch.setattr(_steps.ExtractionProgress, "__call__", show)
    status, _, err = run(*argv)
    assert status == 2 and "already holds a corpus" in err
    status, _, err = run(*argv[:-1], "logmel", "--resume")
    assert status == 2 and "started with the features mfcc=mfcc" in err
    status, _, err = run(*argv, "--resume")
    assert status == 0, err
    assert "20 of 20 utterances (16 from an earlier run)" in err
    assert "extracted 4/4 files" in err


def test_extract_compare_fit_then_predict_from_recordings(recordings, corpus, tmp_path):
    status, out, err = run(
        "compare", "--data", corpus, "--methods", "mfcc", "--folds", "2",
        "--epochs", "2", "--n-jobs", "1", "--out", tmp_path / "cmp", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    assert len(pd.read_csv(tmp_path / "cmp" / "results.csv")) == 2
    model = tmp_path / "m.mmer"
    status, _, err = run(
        "fit", "--data", corpus, "--method", "mfcc", "--model", model,
        "--epochs", "2", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    (entry,) = read_manifest(model)["recipe"]["features"]
    assert entry["name"] == "mfcc" and entry["recipe"]["parameters"]["n_mfcc"] == 13
    assert "## Feature extraction" in model.with_suffix(".card.md").read_text()
    predicted = tmp_path / "predicted"
    status, _, err = run(
        "predict", "--model", model, "--input", _with_a_silent_file(recordings),
        "--out", predicted, "--quiet",
    )  # fmt: skip
    assert status == 1 and "1 utterances could not be extracted" in err
    table = pd.read_csv(predicted / "predictions.csv")
    assert len(table) == 20 and set(table["predicted_label"]) <= {
        "anger",
        "sadness",
        "happiness",
        "neutral",
    }
    issues = pd.read_csv(predicted / "predictions.issues.csv")
    assert issues["reason"].tolist() == ["silent"]


def test_predict_input_refuses_a_changed_encoder_folder(tmp_path):
    pytest.importorskip("transformers")
    csv = write_recordings(tmp_path / "rec", n_speakers=2, per_speaker=4)
    folder = save_tiny_wav2vec(tmp_path / "wav2vec")
    corpus = tmp_path / "c"
    status, _, err = run(
        "extract", "--input", csv, "--out", corpus, "--features",
        f"acoustic=encoder:{folder}", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    model = tmp_path / "m.mmer"
    status, _, err = run(
        "fit", "--data", corpus, "--method", "acoustic", "--model", model,
        "--epochs", "1", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    before = read_manifest(model)["recipe"]["features"][0]["recipe"]
    status, _, err = run(
        "predict", "--model", model, "--input", csv, "--out", tmp_path / "p"
    )
    assert status == 0, err
    save_tiny_wav2vec(folder, seed=1)  # other weights in the same folder
    status, _, err = run(
        "predict", "--model", model, "--input", csv, "--out", tmp_path / "q"
    )
    assert status == 2
    assert before["model_fingerprint"] in err and "now has fingerprint" in err
    assert str(folder) in err


def test_predict_input_needs_a_model_with_a_recipe(corpus, recordings, tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(corpus, plain)
    (plain / "extraction.json").unlink()  # features made elsewhere
    model = tmp_path / "m.mmer"
    status, _, err = run(
        "fit", "--data", plain / "dataset.csv", "--method", "mfcc", "--model",
        model, "--epochs", "1", "--quiet",
    )  # fmt: skip
    assert status == 0, err
    assert "recipe" not in read_manifest(model)
    status, _, err = run("predict", "--model", model, "--input", recordings)
    assert status == 2 and "keeps no recipe" in err
    status, _, err = run(
        "predict", "--model", model, "--input", recordings, "--data", corpus
    )
    assert status == 2 and "not with --data" in err
