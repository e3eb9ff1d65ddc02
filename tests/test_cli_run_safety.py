"""mmer never destroys what the run did not make, and runs into one --out never
mix: outputs checked before any work, --out locked, resumes refused in one line."""

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

from sklearn_mmer._testing import run
from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table

RUN = ["--n-utterances", "40", "--folds", "2", "--methods", "lexical", "--no-figures"]
RUN += ["--epochs", "2", "--n-jobs", "1", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run's --out, to be copied by each test."""
    out = tmp_path_factory.mktemp("finished") / "out"
    status, _, err = run("compare", *RUN, "--out", out)
    assert status == 0, err
    return out


@pytest.fixture
def out(finished, tmp_path):
    return shutil.copytree(finished, tmp_path / "out")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus") / "corpus"
    X, y = make_multimodal_emotion(
        24,
        n_speakers=4,
        n_sessions=2,
        random_state=0,
        return_X_y=True,
        modalities={"lexical": 4},
    )
    write_feature_table(X, y, folder)
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.mmer"
    status, _, err = run(
        "fit",
        "--method",
        "lexical",
        "--n-utterances",
        40,
        "--epochs",
        1,
        "--model",
        path,
        "--quiet",
    )
    assert status == 0, err
    return path


def one_error(status, err):
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("mmer: error: ")
    return err


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr/share", "/proc/self", "HOME"])
def test_compare_refuses_a_system_folder_as_out(folder, tmp_path, monkeypatch):
    if folder == "HOME":
        monkeypatch.setenv("HOME", str(tmp_path))
        folder = tmp_path
    # were --out let through, --save-model-methods (without --save-model) would
    # stop the run before it writes anything there
    stop = ["--save-model-methods", "lexical"]
    err = one_error(*run("compare", *RUN, *stop, "--out", folder)[::2])
    assert f"--out {folder}: " in err
    assert "system folder" in err or "home folder" in err or "root of a" in err
    assert list(tmp_path.iterdir()) == []


def test_compare_refuses_an_out_that_would_overwrite_its_data(corpus, tmp_path):
    csv = corpus / "dataset.csv"
    before = csv.read_bytes()
    for out in [corpus, corpus / "results"]:
        err = one_error(
            *run("compare", "--data", corpus, "--folds", 2, "--out", out)[::2]
        )
        assert f"it lies in --data {corpus}" in err
    # a corpus whose CSV is named as a file mmer compare writes
    named = shutil.copytree(corpus, tmp_path / "c")
    (named / "dataset.csv").rename(named / "results.csv")
    data = ["--data", named / "results.csv", "--folds", 2]
    err = one_error(*run("compare", *data, "--out", named)[::2])
    assert "it would overwrite --data" in err
    assert csv.read_bytes() == before and not (corpus / "results").exists()


def write_lock(folder, pid, started):
    holder = {"pid": pid, "host": socket.gethostname(), "started": started}
    (folder / ".mmer.lock").write_text(json.dumps({**holder, "token": "t"}))


def test_a_second_run_into_a_locked_out_is_refused(out):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        write_lock(out, holder.pid, time.time())
        before = (out / "results.csv").read_bytes()
        err = one_error(*run("compare", *RUN, "--out", out)[::2])
    finally:
        holder.kill()
        holder.wait()
    assert f"--out {out}: " in err and f"pid {holder.pid}" in err
    assert (out / "results.csv").read_bytes() == before


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    write_lock(tmp_path, ended.pid, time.time())
    status, _, err = run("compare", *RUN[:-1], "--out", tmp_path)  # not --quiet
    assert status == 0
    assert "mmer: warning: " in err and "taking over the lock of a run" in err
    assert not (tmp_path / ".mmer.lock").exists()


def test_a_refused_resume_leaves_issues_csv_and_every_file_as_they_were(out):
    (out / "issues.csv").write_text("id,reason\nu1,kept\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    err = one_error(
        *run("compare", *RUN[2:], "--n-utterances", "48", "--out", out, "--resume")[::2]
    )
    assert "the data differ" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    "option, seeds", [(["--seed", "1"], "[1]"), (["--repeats", "2"], "[0, 1]")]
)
def test_resume_under_another_seed_names_seed(out, option, seeds):
    err = one_error(*run("compare", *RUN, *option, "--out", out, "--resume")[::2])
    assert f"seeds [0], this run has {seeds} (--seed and --repeats" in err
    assert "--epochs" not in err


@pytest.mark.parametrize(
    "name, text",
    [
        ("manifest.json", "[]"),
        ("manifest.json", '{"format": 3, "run": "x"}'),
        ("manifest.json", "[" * 100_000),
        ("record", '{"format": 3, "ru'),
        ("record", "{" * 100_000),
    ],
)
def test_a_corrupt_run_file_is_one_line_naming_it(out, name, text):
    path = out / name if name != "record" else sorted(out.glob(".checkpoint/*"))[0]
    path.write_text(text)
    err = one_error(*run("compare", *RUN, "--out", out, "--resume")[::2])
    assert err.startswith("mmer: error: --resume: cannot resume")
    assert str(path) in err and "--data" not in err


def test_an_edited_record_is_refused_naming_it(out):
    path = sorted(out.glob(".checkpoint/*.json"))[0]
    record = json.loads(path.read_text())
    record["row"]["f1_micro"] = 0.999
    path.write_text(json.dumps(record))
    err = one_error(*run("compare", *RUN, "--out", out, "--resume")[::2])
    assert f"the record {path} is refused: its content does not match" in err


def test_predict_refuses_an_out_that_holds_its_model_or_is_its_data(
    model, corpus, tmp_path
):
    named = tmp_path / "predictions.csv"
    named.write_bytes(model.read_bytes())
    before = named.read_bytes()
    err = one_error(*run("predict", "--model", named, "--out", tmp_path)[::2])
    assert f"it would overwrite --model {named}" in err
    err = one_error(
        *run("predict", "--model", model, "--data", corpus, "--out", corpus)[::2]
    )
    assert f"it lies in --data {corpus}" in err
    assert named.read_bytes() == before


def test_predict_out_is_a_folder_and_a_csv_name_is_refused_saying_so(model, tmp_path):
    err = one_error(*run("predict", "--model", model, "--out", tmp_path / "p.csv")[::2])
    assert "--out names a folder, not a file" in err
    assert f"for {tmp_path / 'predictions.csv'}, give --out {tmp_path}" in err
    assert not (tmp_path / "p.csv").exists()
    err = one_error(*run("predict", "--model", model, "--out", model)[::2])
    assert f"--out {model}: exists and is not a folder" in err


@pytest.mark.parametrize("blocker", ["card folder", "read-only model", "system"])
def test_fit_checks_its_outputs_before_the_work(tmp_path, blocker):
    model = tmp_path / "m.mmer"
    if blocker == "card folder":
        (tmp_path / "m.card.md").mkdir()
    elif blocker == "read-only model":
        model.write_text("kept")
        model.chmod(0o444)
    else:
        model = "/etc/m.mmer"
    # --method nope, checked after --model, stops a run let through in /etc
    method = "nope" if blocker == "system" else "lexical"
    status, _, err = run(
        "fit", "--method", method, "--n-utterances", 40, "--model", model
    )
    one_error(status, err)
    assert f"--model {model}: " in err and "fitted" not in err
