"""Options and inputs of the mmer command refused before any work, in one line."""

import inspect
import os

import numpy as np
import pytest

from sklearn_mmer._testing import run
from sklearn_mmer.cli import MIN_UTTERANCES, PER_CORE
from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table

QUICK = ["--epochs", "1", "--n-jobs", "1", "--folds", "2", "--no-figures"]


def assert_one_line_error(status, out, err, *expected):
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mmer: error: ")
    for text in expected:
        assert text in err


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--seed", "-1"], ["--seed", "from 0 to 4294967295", "got -1"]),
        (["--seed", str(2**32)], ["--seed", "(2**32-1", "got 4294967296"]),
        (["--threads", "100000"], ["--threads", f"{PER_CORE} per CPU core"]),
        (["--n-jobs", "100000"], ["--n-jobs", "or -1 for every core; got 100000"]),
        (["--n-utterances", "8"], ["--n-utterances", "from 10 to", "per speaker"]),
        (["--n-utterances", str(10**9)], ["--n-utterances", "got 1000000000"]),
        (["--repeats", str(10**8)], ["--repeats", "from 1 to 1000; got 100000000"]),
        (
            ["--seed", str(2**32 - 1), "--repeats", "2"],
            ["--seed 4294967295 with --repeats 2", "use --seed 4294967294 or less"],
        ),
    ],
)
def test_compare_refuses_out_of_range_options(args, expected, tmp_path):
    if "--n-utterances" not in args:
        args = [*args, "--n-utterances", "20"]
    status, out, err = run("compare", *args, "--out", tmp_path, *QUICK)
    assert_one_line_error(status, out, err, *expected)
    assert not (tmp_path / "results.csv").exists()


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_model_commands_refuse_a_seed_numpy_rejects(command, tmp_path):
    args = ["--model", tmp_path / "m.mmer", "--seed", "-5"]
    args += ["--method", "lexical"] if command == "fit" else []
    status, out, err = run(command, *args)
    assert_one_line_error(status, out, err, "--seed", "got -5")


def test_min_utterances_is_the_bundled_speakers():
    defaults = inspect.signature(make_multimodal_emotion).parameters
    assert MIN_UTTERANCES == defaults["n_speakers"].default


def _corpus(folder, *, n_speakers=4, label=None):
    X, y = make_multimodal_emotion(
        24,
        n_speakers=n_speakers,
        n_sessions=1,
        random_state=0,
        return_X_y=True,
        modalities={"acoustic": 4, "lexical": 3},
    )
    write_feature_table(X, np.full(len(y), label) if label else y, folder)
    return folder


def test_compare_refuses_a_single_emotion_corpus_up_front(tmp_path):
    data = _corpus(tmp_path / "c", label="anger")
    status, out, err = run("compare", "--data", data, "--out", tmp_path / "o", *QUICK)
    assert_one_line_error(status, out, err, "every utterance is labelled 'anger'")
    assert "at least 2 emotions" in err


def test_compare_asks_a_one_speaker_corpus_for_another_speaker(tmp_path):
    data = _corpus(tmp_path / "c", n_speakers=1)
    status, out, err = run("compare", "--data", data, "--out", tmp_path / "o", *QUICK)
    assert_one_line_error(status, out, err, "the corpus has a single speaker")
    assert "need at least 2 speakers" in err and "--folds 1" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("command", ["compare", "fit"])
def test_data_naming_a_named_pipe_is_refused_at_once(command, tmp_path):
    fifo = tmp_path / "corpus.csv"
    os.mkfifo(fifo)
    args = ["--data", fifo, "--out", tmp_path / "o"] if command == "compare" else []
    if command == "fit":
        args = ["--data", fifo, "--method", "lexical", "--model", tmp_path / "m"]
    status, out, err = run(command, *args)
    assert_one_line_error(status, out, err, f"--data {fifo}: ", "a named pipe")


def test_compare_refuses_a_modality_named_speaker(tmp_path):
    data = _corpus(tmp_path / "c")
    csv = data / "dataset.csv"
    lines = csv.read_text().splitlines()
    rows = [f"{line},{line.split(',')[2]}" for line in lines[1:]]
    csv.write_text("\n".join([f"{lines[0]},speaker_features", *rows]) + "\n")
    status, out, err = run("compare", "--data", data, "--out", tmp_path / "o", *QUICK)
    assert_one_line_error(status, out, err, "'speaker_features' would be a modality")
