"""compare_methods(checkpoint=...) keeps runs apart: records tied to their run
and checked before a resume trusts them, a folder locked while a run writes to
it, and nothing removed that the run did not write."""

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_mmer.evaluation import (
    CheckpointError,
    ConfigurationMismatchError,
    RunLockedError,
    compare_methods,
)
from sklearn_mmer.fusion import make_modality_pipeline


@pytest.fixture(scope="module")
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(n_utterances=48, informative=("lexical",))


def methods():
    classifier = LogisticRegression()
    return {m: make_modality_pipeline(m, classifier=classifier) for m in ("lexical",)}


def compare(corpus, folder, **options):
    X, y, speakers = corpus
    return compare_methods(
        methods(), X, y, speakers, cv=3, random_state=0, checkpoint=folder, **options
    )


def records(folder):
    return sorted((folder / ".checkpoint").glob("*.json"))


def resign(record):
    """The record with its checksum written again, as a forger would."""
    content = {k: v for k, v in record.items() if k != "sha256"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return {**content, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def lock_of(pid, host=None, started=None):
    return json.dumps(
        {
            "pid": pid,
            "host": host or socket.gethostname(),
            "started": time.time() if started is None else started,
            "token": "x",
        }
    )


def test_checkpoint_records_carry_their_run_and_a_checksum(corpus, tmp_path):
    compare(corpus, tmp_path)
    run = json.loads((tmp_path / "manifest.json").read_text())["run"]
    for path in records(tmp_path):
        record = json.loads(path.read_text())
        assert record["run"] == run
        assert record["sha256"] == resign(record)["sha256"]
    compare(corpus, tmp_path)  # a fresh run: a run id of its own
    assert json.loads((tmp_path / "manifest.json").read_text())["run"] != run


def _edit(field, value, *, sign):
    def edit(record):
        if field in record["row"]:
            record["row"][field] = value
        else:
            record[field] = value
        return resign(record) if sign else record

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_edit("f1_micro", 0.123, sign=False), "does not match its checksum"),
        (_edit("y_pred", None, sign=False), "does not match its checksum"),
        (_edit("y_pred", "joy", sign=True), "predictions are not one per test"),
        (lambda r: resign({**r, "y_pred": ["joy"] * len(r["test"])}), "'joy'"),
        (lambda r: resign({**r, "test": [10_000] * len(r["test"])}), "test rows"),
        (lambda r: resign({**r, "test": r["test"][::-1]}), "test rows are not"),
        (_edit("matrix", [[0]], sign=True), "confusion matrix does not match"),
        (_edit("repeat", 7, sign=True), r"repeat 7 is not one of 1\.\.1"),
        (_edit("method", "svm", sign=True), "method 'svm' is not one"),
        (_edit("run", "0" * 32, sign=True), "belongs to another run"),
        (lambda r: resign({k: v for k, v in r.items() if k != "row"}), "lacks row"),
        (lambda r: [], "holds a JSON array"),
        (lambda r: {"row": "x"}, "lacks format"),
    ],
)
def test_resume_refuses_an_edited_record_naming_it(corpus, tmp_path, edit, message):
    compare(corpus, tmp_path)
    path = records(tmp_path)[1]
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(CheckpointError, match=f"{re.escape(str(path))}.*{message}"):
        compare(corpus, tmp_path, resume=True)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"format": 3, "run": ', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nests 100000 levels deep"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_resume_refuses_an_unreadable_record(corpus, tmp_path, text, message):
    compare(corpus, tmp_path)
    path = records(tmp_path)[0]
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    with pytest.raises(CheckpointError, match=f"{re.escape(str(path))}.*{message}"):
        compare(corpus, tmp_path, resume=True)


def test_resume_refuses_a_record_copied_from_another_run(corpus, tmp_path):
    compare(corpus, tmp_path / "a")
    compare(corpus, tmp_path / "b")  # the same configuration: the same rows
    copied = records(tmp_path / "a")[0]
    copied.write_bytes(records(tmp_path / "b")[0].read_bytes())
    with pytest.raises(CheckpointError, match="belongs to another run"):
        compare(corpus, tmp_path / "a", resume=True)


@pytest.mark.parametrize(
    "manifest, message",
    [
        ("[]", "holds no JSON object"),
        ('{"format": 3}', "its 'run' is missing"),
        ('{"format": 3, "run": "x", "data": []}', "its 'data' is missing or not"),
        ('{"format": 3, "run"', "not valid JSON"),
        ("{" * 100_000, "nests 100000 levels deep"),
        ('{"format": 1}', "format 1, not 3"),
    ],
)
def test_resume_refuses_a_corrupt_manifest_naming_it(
    corpus, tmp_path, manifest, message
):
    compare(corpus, tmp_path)
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(ConfigurationMismatchError, match=message) as caught:
        compare(corpus, tmp_path, resume=True)
    if "format 1" not in message:
        assert isinstance(caught.value, CheckpointError)
        assert str(tmp_path / "manifest.json") in str(caught.value)


def test_resume_under_another_seed_names_the_seed(corpus, tmp_path):
    X, y, speakers = corpus
    compare(corpus, tmp_path)
    with pytest.raises(ConfigurationMismatchError, match=r"seeds \[0\].*--seed"):
        compare_methods(
            methods(),
            X,
            y,
            speakers,
            cv=3,
            random_state=1,
            checkpoint=tmp_path,
            resume=True,
        )
    assert set(pd.read_csv(tmp_path / "results.csv").seed) == {0}


def test_a_folder_in_use_by_a_live_run_is_refused(corpus, tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".mmer.lock").write_text(lock_of(holder.pid))
        with pytest.raises(RunLockedError, match=f"{tmp_path}.*pid {holder.pid}"):
            compare(corpus, tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".mmer.lock"]


def test_a_lock_on_another_host_is_never_taken_over(corpus, tmp_path):
    (tmp_path / ".mmer.lock").write_text(lock_of(1, host="elsewhere.invalid"))
    with pytest.raises(RunLockedError, match="pid 1 on elsewhere.invalid"):
        compare(corpus, tmp_path)


@pytest.mark.parametrize("holder", ["ended", "this process", "pid reused"])
def test_the_lock_of_a_killed_run_is_taken_over_with_a_warning(
    corpus, tmp_path, holder
):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        if holder == "ended":
            sleeper.kill()
            sleeper.wait()
            lock = lock_of(sleeper.pid)
        elif holder == "this process":  # a run before a container's restart
            lock = lock_of(os.getpid())
        else:  # a live process, started after the lock: it got the pid later
            lock = lock_of(sleeper.pid, started=time.time() - 3600)
        (tmp_path / ".mmer.lock").write_text(lock)
        with pytest.warns(UserWarning, match="taking over the lock of a run that"):
            compare(corpus, tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert len(records(tmp_path)) == 3
    assert not (tmp_path / ".mmer.lock").exists()


def test_the_lock_is_released_after_an_error_and_ctrl_c(corpus, tmp_path):
    with pytest.raises(ConfigurationMismatchError):
        compare(corpus, tmp_path, resume=True)  # nothing to resume
    assert not (tmp_path / ".mmer.lock").exists()

    def interrupt(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compare(corpus, tmp_path, progress=interrupt, n_jobs=1)
    assert not (tmp_path / ".mmer.lock").exists()
    compare(corpus, tmp_path, resume=True)  # and the folder is free again


def test_a_fresh_run_removes_only_the_records_it_would_write(corpus, tmp_path):
    parts = tmp_path / ".checkpoint"
    parts.mkdir()
    (parts / "notes.json").write_text("a user's file")
    (parts / "0123456789abcdef-r9-f9.json").write_text("an earlier run's record")
    (tmp_path / ".results.csv.keep.tmp.txt").write_text("a user's file")
    compare(corpus, tmp_path)
    assert (parts / "notes.json").read_text() == "a user's file"
    assert not (parts / "0123456789abcdef-r9-f9.json").exists()
    assert (tmp_path / ".results.csv.keep.tmp.txt").exists()
    compare(corpus, tmp_path, resume=True)  # a user's file is no record: left alone
    assert (parts / "notes.json").exists()


def test_a_checkpoint_folder_that_is_a_link_is_refused(corpus, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "0123456789abcdef-r1-f1.json").write_text("not the run's")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".checkpoint").symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match="is not a folder of the run's own"):
        compare(corpus, tmp_path / "out")
    assert (elsewhere / "0123456789abcdef-r1-f1.json").exists()
    assert not (tmp_path / "out" / ".mmer.lock").exists()  # released


def test_an_empty_lock_is_refused_while_new_and_taken_over_once_old(corpus, tmp_path):
    lock = tmp_path / ".mmer.lock"
    lock.write_text("")  # a run between creating its lock and writing it
    with pytest.raises(RunLockedError, match="was just created"):
        compare(corpus, tmp_path)
    os.utime(lock, (time.time() - 60, time.time() - 60))  # a kill left it so
    with pytest.warns(UserWarning, match="taking over an unreadable lock"):
        compare(corpus, tmp_path)
    assert not lock.exists()
