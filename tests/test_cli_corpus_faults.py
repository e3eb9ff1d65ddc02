"""mmer compare on faulty corpora: issues.csv in --out, archives, size limits."""

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer._testing import run, write_course_corpus
from sklearn_mmer._testing import zip_corpus as make_zip
from sklearn_mmer.datasets import ISSUE_COLUMNS

QUICK = ["--methods", "lexical", "--folds", "2", "--epochs", "1", "--n-jobs", "1"]
QUICK += ["--no-figures"]


def _one_error_line(status, out, err, message):
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mmer: error: ")
    assert message in err


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A course-layout corpus with two faulty rows and a content column."""
    folder = tmp_path_factory.mktemp("faulty")
    root, X, _, _ = write_course_corpus(folder, ["missing_file", "unknown_label"])
    table = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
    table["transcript"] = [f"Line {i % 5}." for i in range(len(table))]
    table.to_csv(root / "dataset.csv", index=False)
    return root, X


def test_compare_writes_issues_csv_and_names_the_first_skipped(faulty, tmp_path):
    root, X = faulty
    status, _, err = run("compare", "--data", root, "--out", tmp_path, *QUICK)
    assert status == 0, err
    issues = pd.read_csv(tmp_path / "issues.csv", dtype={"line": int})
    assert list(issues.columns) == ISSUE_COLUMNS
    assert issues["id"].tolist() == [X.index[1], X.index[11]]
    assert issues["line"].tolist() == [3, 13]
    assert issues["reason"].str.startswith(("file not found", "unknown label")).all()
    warning = next(line for line in err.splitlines() if "skipped 2 of 30" in line)
    assert warning.startswith("mmer: warning: load_feature_table: skipped")
    assert f"first {X.index[1]} (visual: file not found), {X.index[11]}" in warning
    assert warning.endswith(f"every fault is listed in {tmp_path / 'issues.csv'}")


def test_a_clean_run_leaves_no_stale_issues_csv(faulty, tmp_path):
    (tmp_path / "issues.csv").write_text("id,line,modality,file,reason\nold,2,,,x\n")
    status, _, err = run("compare", "--n-utterances", 40, "--out", tmp_path, *QUICK)
    assert status == 0, err
    assert not (tmp_path / "issues.csv").exists()


def test_out_must_not_be_empty(tmp_path):
    status, out, err = run("compare", "--n-utterances", 40, "--out", "", *QUICK)
    _one_error_line(status, out, err, "argument --out: must name a folder")


@pytest.mark.parametrize(
    "name, message",
    [
        ("c.zip", "is a damaged .zip archive"),
        ("corpus.tar", "is a tar archive, which the loader does not read"),
        ("dataset.csv.xz", "is an xz-compressed file, which the loader does not"),
    ],
)
def test_an_unsupported_or_broken_archive_is_one_error_line(tmp_path, name, message):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    status, out, err = run("compare", "--data", path, "--out", tmp_path / "o", *QUICK)
    _one_error_line(status, out, err, message)


def test_size_limits_are_options(faulty, tmp_path):
    path = make_zip(faulty[0], tmp_path / "corpus.zip")
    args = ["compare", "--data", path, "--out", tmp_path / "o", *QUICK]
    status, out, err = run(*args, "--max-total-bytes", "8K")
    _one_error_line(status, out, err, "more than max_total_bytes=8192")
    assert "--max-total-bytes" in err
    status, out, err = run(*args, "--max-member-bytes", "lots")
    _one_error_line(status, out, err, "'lots' is not a size")
