"""mmer compare on long runs: killed and resumed, interrupted, outputs that
cannot be written, progress, repeats."""

import errno
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from sklearn_mmer._testing import mmer_command, run
from sklearn_mmer.utils._runtime import Progress

ROOT = Path(__file__).resolve().parents[1]
# 3 methods x 3 folds; one thread per fit so that every run computes alike
RUN = ["--n-utterances", "60", "--folds", "3", "--seed", "0", "--threads", "1"]
# the figures are checked in test_cli.py; these runs compare tables
RUN += ["--no-figures"]
RUN += ["--methods", "acoustic", "lexical", "late_fusion", "--epochs", "15"]
N_FOLDS_TOTAL = 9
DEADLINE = 240  # seconds: a bound for a stuck run, never a speed claim


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, in this process."""
    out = tmp_path_factory.mktemp("reference")
    status, _, err = run("compare", *RUN, "--n-jobs", 1, "--out", out)
    assert status == 0, err
    return out


def start_and_stop(out, sig, n_jobs):
    """Start a real ``mmer compare`` process, send ``sig`` once a
    fold has finished (results.csv is written), and return ``(returncode,
    stderr, n_finished)``."""
    command = mmer_command("compare", *RUN, "--n-jobs", n_jobs, "--out", out)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    start = time.monotonic()
    parts = out / ".checkpoint"
    while not finished_rows(out / "results.csv"):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() - start < DEADLINE, "no fold finished"
        time.sleep(0.05)
    process.send_signal(sig)
    _, err = process.communicate(timeout=DEADLINE)
    return process.returncode, err, len(list(parts.glob("*.json")))


def finished_rows(path):
    """Rows in results.csv (written whole or not at all, so always readable)."""
    return len(pd.read_csv(path)) if path.exists() else 0


def assert_same_results(out, reference):
    for name in ["results.csv", "predictions.csv", "confusion_matrices.csv"]:
        got = pd.read_csv(out / name, keep_default_na=False)
        expected = pd.read_csv(reference / name, keep_default_na=False)
        columns = [c for c in expected.columns if c != "fit_seconds"]
        pd.testing.assert_frame_equal(got[columns], expected[columns])


def test_a_killed_run_leaves_whole_files_and_resumes_to_the_same_bits(
    reference, tmp_path
):
    status, _, n_finished = start_and_stop(tmp_path, signal.SIGKILL, n_jobs=1)
    assert status == -signal.SIGKILL
    assert 1 <= n_finished < N_FOLDS_TOTAL  # killed mid-way
    partial = pd.read_csv(tmp_path / "results.csv")  # a valid CSV
    assert len(partial) >= 1 and partial.f1_micro.between(0, 1).all()
    assert (tmp_path / ".mmer.lock").exists()  # a kill cannot remove it
    status, out, err = run(
        "compare", *RUN, "--n-jobs", 1, "--out", tmp_path, "--resume"
    )
    assert status == 0, err
    assert "taking over the lock of a run that ended" in err
    assert_same_results(tmp_path, reference)
    # a temporary file the kill cut off is swept away by the resumed run
    assert not list(tmp_path.rglob("*.tmp"))
    assert not (tmp_path / ".mmer.lock").exists()


def test_ctrl_c_stops_keeps_finished_folds_and_says_how_to_resume(reference, tmp_path):
    # one job: Ctrl-C lands in a network's fit in the process itself, which
    # skorch would end early and return; with worker processes the interrupt
    # lands between folds, as SIGTERM's does in test_processes.py
    status, err, n_finished = start_and_stop(tmp_path, signal.SIGINT, n_jobs=1)
    assert status == 130, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"mmer: interrupted; {n_finished} of 9 folds finished")
    assert last.endswith(f"--n-jobs 1 --out {tmp_path} --resume")
    # besides it, only the first line and one line per finished fold
    assert err.startswith("mmer compare: 60 utterances")
    assert (
        len([line for line in err.splitlines() if line.startswith("[")]) == n_finished
    )
    assert len(err.splitlines()) == n_finished + 2
    assert len(pd.read_csv(tmp_path / "results.csv")) == n_finished
    assert not (tmp_path / ".mmer.lock").exists()  # released on Ctrl-C
    # resumed: the same bits as one uninterrupted run
    status, _, err = run("compare", *RUN, "--n-jobs", 1, "--out", tmp_path, "--resume")
    assert status == 0, err
    assert_same_results(tmp_path, reference)


def test_resume_refuses_other_options(reference, tmp_path):
    status, _, err = run("compare", *RUN, "--n-jobs", 1, "--out", tmp_path, "--resume")
    assert status == 2 and "nothing to resume in" in err
    run("compare", *RUN[:-1], "3", "--n-jobs", 1, "--out", tmp_path, "--quiet")
    status, out, err = run(
        "compare", *RUN, "--n-jobs", 1, "--out", tmp_path, "--resume", "--quiet"
    )
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("mmer: error: --resume: cannot resume the run in ")
    assert "the parameters of acoustic, lexical, late_fusion differ" in err


@pytest.mark.parametrize(
    "where", [["--n-jobs", "1"], ["--n-jobs", "2"], ["--scheduler", "local:2"]]
)
def test_scores_do_not_depend_on_n_jobs_or_the_scheduler(reference, tmp_path, where):
    at = RUN.index("--threads")
    default_threads = RUN[:at] + RUN[at + 2 :]
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the caller's own setting, which --n-jobs 1 took
    try:
        status, _, err = run(
            "compare", *default_threads, *where, "--out", tmp_path, "--quiet"
        )
    finally:
        torch.set_num_threads(before)
    assert status == 0, err
    assert_same_results(tmp_path, reference)


def test_resume_refuses_other_threads(reference, tmp_path):
    assert json.loads((reference / "manifest.json").read_text())["threads"] == 1
    run("compare", *RUN[:-1], "3", "--n-jobs", 1, "--out", tmp_path, "--quiet")
    other = [*RUN[:-1], "3", "--threads", "2"]
    status, _, err = run("compare", *other, "--out", tmp_path, "--resume", "--quiet")
    assert status == 2 and err.count("\n") == 1
    assert "it ran with 1 threads per fit, now 2" in err
    assert "use --threads 1" in err


def test_a_read_only_output_is_refused_before_any_work(tmp_path):
    (tmp_path / "summary.csv").write_text("kept\n")
    (tmp_path / "summary.csv").chmod(0o444)
    status, out, err = run("compare", *RUN, "--out", tmp_path)
    assert status == 2 and out == ""
    assert err == (
        f"mmer: error: --out {tmp_path}: summary.csv is read-only; make it "
        "writable or use another --out\n"
    )
    assert not (tmp_path / "manifest.json").exists()


def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    def full(self, path, *args, **kwargs):
        Path(path).write_text("method,fo")  # a partial write, then the error
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    status, _, err = run("compare", *RUN[:-1], "2", "--n-jobs", 1, "--out", tmp_path)
    assert status == 1
    assert err.strip().splitlines()[-1] == (
        f"mmer: error: --out {tmp_path}: No space left on device (the folds "
        "finished are kept; to finish the run: mmer compare "
        + " ".join(RUN[:-1])
        + f" 2 --n-jobs 1 --out {tmp_path} --resume)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".checkpoint",
        "manifest.json",
    ]
    assert not list(tmp_path.rglob("*.tmp"))


def test_repeats_are_rows_of_their_own(tmp_path):
    args = ["--n-utterances", 40, "--folds", 2, "--methods", "lexical", "--epochs", 2]
    status, _, err = run(
        "compare", *args, "--repeats", 2, "--out", tmp_path, "--n-jobs", 1
    )
    assert status == 0, err
    results = pd.read_csv(tmp_path / "results.csv")
    assert results[["repeat", "fold", "seed"]].values.tolist() == [
        [1, 1, 0],
        [1, 2, 0],
        [2, 1, 1],
        [2, 2, 1],
    ]
    assert "[lexical] repeat 2/2 fold 1/2  f1_micro=" in err


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere():
    lines = []

    def say(line):
        lines.append(line)

    say.quiet = False
    record = {
        "method": "lexical",
        "repeat": 1,
        "fold": 1,
        "n_folds": 2,
        "n_repeats": 1,
        "error": "",
        "f1_micro": 0.5,
        "fit_seconds": 1.0,
        "n_finished": 1,
        "n_total": 2,
    }
    terminal = Terminal()
    bar = Progress(say, stream=terminal)
    bar.start(2)
    bar(record)
    bar.close()
    assert lines == [] and "1/2" in terminal.getvalue() and "<" in terminal.getvalue()
    assert "[lexical] fold 1/2  f1_micro=0.500" in terminal.getvalue()
    logged = Progress(say, stream=io.StringIO())
    logged.start(2)
    logged(record)
    assert lines == ["[lexical] fold 1/2  f1_micro=0.500  (1.0 s)"]
