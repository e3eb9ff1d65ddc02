"""The worker processes of a run end with it, however it is stopped."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
SHM = Path("/dev/shm")
# long enough to be killed mid-run, on a tiny corpus
COMPARE = ["compare", "--n-utterances", "40", "--methods", "lexical", "acoustic"]
COMPARE += ["--epochs", "300", "--folds", "2", "--n-jobs", "2", "--quiet"]


def _started_workers(run, seconds=90):
    """The run's descendants once two loky workers are up (never all at once:
    loky's resource tracker starts first)."""
    parent = psutil.Process(run.pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        found = parent.children(recursive=True)
        workers = [p for p in found if "popen_loky" in " ".join(_cmdline(p))]
        if len(workers) == 2:
            time.sleep(1)  # let them take their first tasks
            return parent.children(recursive=True)
        time.sleep(0.2)
    raise AssertionError(f"no two workers within {seconds} s (status {run.poll()})")


def _cmdline(process):
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _alive(processes):
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


@pytest.mark.skipif(not SHM.is_dir(), reason="needs Linux's /dev/shm")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_workers_and_shared_memory_end_with_the_run(signum, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "sklearn_mmer", *COMPARE, "--out", tmp_path]
    with open(tmp_path / "stderr.txt", "w") as stderr:
        run = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    descendants = []
    try:
        descendants = _started_workers(run)
        os.kill(run.pid, signum)
        status = run.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(descendants) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(descendants), [_cmdline(p) for p in _alive(descendants)]
    finally:
        # what a failed test leaves, ended; the trackers then clean up behind it
        run.kill()
        for process in _alive(descendants):
            if "resource_tracker" not in " ".join(_cmdline(process)):
                with contextlib.suppress(psutil.Error):
                    process.kill()
    # joblib and loky name their semaphores and memmap folders after the run
    ours = (f"-{run.pid}-", f"_{run.pid}_")
    assert not [e for e in os.listdir(SHM) if any(mark in e for mark in ours)]
    if signum != signal.SIGKILL:  # stopped as by Ctrl-C: the run can be resumed
        assert status == 128 + signum
        err = (tmp_path / "stderr.txt").read_text()
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert re.match(r"mmer: interrupted; \d of 4 folds finished", last), err
        assert last.endswith(f"--out {tmp_path} --resume")
