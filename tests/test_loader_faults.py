"""Fault injection, part two: archives, feature widths, size limits, shared and
outside files, content ids. (Faults of single files are in test_loader.py.)"""

import bz2
import gzip
import lzma
import tarfile
import warnings

import numpy as np
import pandas as pd
import pytest
from _course_layout import make_clean_corpus, write_course_corpus
from _course_layout import zip_corpus as make_zip

import sklearn_mmer.datasets._sources as sources
from sklearn_mmer.datasets import (
    ISSUE_COLUMNS,
    CorpusIssuesWarning,
    load_feature_table,
    save_issues,
    write_feature_table,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """``(root, zip_path, X)`` of a clean corpus, as a folder and a zip."""
    folder = tmp_path_factory.mktemp("clean")
    root, X, _, _ = write_course_corpus(folder)
    return root, make_zip(root, folder / "corpus.zip"), X


@pytest.fixture
def no_pandas(monkeypatch):
    """Fail the test if the CSV reaches pandas."""

    def refuse(*args, **kwargs):
        raise AssertionError("an archive must never reach pandas.read_csv")

    monkeypatch.setattr(sources.pd, "read_csv", refuse)


def _broken_central_directory(zip_path, out):
    data = bytearray(zip_path.read_bytes())
    at = data.rfind(b"PK\x01\x02")
    data[at : at + 4] = b"XX\x01\x02"
    out.write_bytes(bytes(data))


def _archive(kind, corpus, tmp_path):
    root, zip_path, _ = corpus
    csv = (root / "dataset.csv").read_bytes()
    if kind == "random.zip":
        path = tmp_path / "c.zip"
        path.write_bytes(np.random.default_rng(0).bytes(3000))
    elif kind == "truncated.zip":
        path = tmp_path / "c.zip"
        path.write_bytes(zip_path.read_bytes()[:3000])
    elif kind == "bad_directory.zip":
        path = tmp_path / "c.zip"
        _broken_central_directory(zip_path, path)
    elif kind == "corpus.tar":
        path = tmp_path / "corpus.tar"
        with tarfile.open(path, "w") as archive:
            archive.add(root, arcname="corpus")
    elif kind == "dataset.csv.gz":
        path = tmp_path / "dataset.csv.gz"
        path.write_bytes(gzip.compress(csv))
    elif kind == "gzip_named_dataset.csv":
        path = tmp_path / "dataset.csv"
        path.write_bytes(gzip.compress(csv))
    elif kind == "dataset.csv.bz2":
        path = tmp_path / "dataset.csv.bz2"
        path.write_bytes(bz2.compress(csv))
    elif kind == "dataset.csv.xz":
        path = tmp_path / "dataset.csv.xz"
        path.write_bytes(lzma.compress(csv))
    elif kind == "dataset.csv.zst":
        path = tmp_path / "dataset.csv.zst"
        path.write_bytes(b"\x28\xb5\x2f\xfd" + csv)  # a frame pandas cannot read
    return path


ARCHIVES = {
    "random.zip": "is a damaged .zip archive: it has no readable zip directory",
    "truncated.zip": "is a damaged .zip archive: it has no readable zip directory",
    "bad_directory.zip": "is not a readable .zip archive",
    "corpus.tar": "is a tar archive",
    "dataset.csv.gz": "is a gzip-compressed file",
    "gzip_named_dataset.csv": "is a gzip-compressed file",
    "dataset.csv.bz2": "is a bzip2-compressed file",
    "dataset.csv.xz": "is an xz-compressed file",
    "dataset.csv.zst": "is a Zstandard-compressed file",
}


@pytest.mark.parametrize("kind", list(ARCHIVES))
def test_unsupported_or_broken_archive_is_refused(corpus, kind, tmp_path, no_pandas):
    path = _archive(kind, corpus, tmp_path)
    with pytest.raises(ValueError, match=ARCHIVES[kind]):
        load_feature_table(path)


def test_a_folder_whose_csv_is_compressed_is_refused(corpus, tmp_path, no_pandas):
    (tmp_path / "dataset.csv").write_bytes(
        gzip.compress((corpus[0] / "dataset.csv").read_bytes())
    )
    with pytest.raises(ValueError, match="gzip-compressed file.*unpack it"):
        load_feature_table(tmp_path)


def test_a_binary_csv_is_a_clear_error(tmp_path):
    (tmp_path / "dataset.csv").write_bytes(b"\xff\xfe\x00\x81" * 500)
    with pytest.raises(ValueError, match="is not a readable dataset.csv"):
        load_feature_table(tmp_path)


def _with_widths(tmp_path, widths):
    """A corpus whose visual files have the widths given, one per utterance."""
    X, y, _ = make_clean_corpus(len(widths))
    X["visual"] = [np.ones((3, w), dtype=np.float32) * i for i, w in enumerate(widths)]
    write_feature_table(X, y, tmp_path)
    return X


def test_width_majority_keeps_every_correct_file_when_the_first_is_corrupt(tmp_path):
    X = _with_widths(tmp_path, [7, 6, 6, 6, 6, 6])
    with pytest.warns(CorpusIssuesWarning, match="skipped 1 of 6") as record:
        corpus = load_feature_table(tmp_path)
    assert list(corpus.data.index) == list(X.index[1:])
    assert corpus.issues["id"].tolist() == [X.index[0]]
    reason = corpus.issues["reason"].iloc[0]
    assert reason.startswith("wrong feature width: 7, but most visual files have 6")
    assert "5 of 6; the majority decides the expected width" in reason
    assert X.index[0] in str(record[0].message)  # the warning names it


@pytest.mark.parametrize("errors", ["skip", "keep", "raise"])
@pytest.mark.parametrize("widths", [[6, 6, 7, 7], [5, 6, 7, 8], [6, 7, 6, 7, 8]])
def test_widths_without_a_clear_majority_stop_loading(tmp_path, widths, errors):
    _with_widths(tmp_path, widths)
    with pytest.raises(ValueError, match="none holds a clear majority.*of width 6"):
        load_feature_table(tmp_path, errors=errors)


def test_issues_name_line_file_and_reason(tmp_path):
    root, X, _, _ = write_course_corpus(tmp_path, ["missing_file", "unknown_label"])
    with pytest.warns(CorpusIssuesWarning) as record:
        corpus = load_feature_table(root)
    issues = corpus.issues
    assert list(issues.columns) == ISSUE_COLUMNS
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    assert issues.to_dict("records")[0] == {
        "id": X.index[1],
        "line": 3,
        "modality": "visual",
        "file": table.loc[1, "visual_features"],
        "reason": issues["reason"].iloc[0],
    }
    assert issues["file"].iloc[1] is None and issues["line"].iloc[1] == 13
    message = str(record[0].message)
    assert f"first {X.index[1]} (visual: file not found), {X.index[11]}" in message
    assert message.endswith("every fault is listed in the Bunch's issues table")


def test_save_issues_writes_every_fault_and_nothing_when_clean(tmp_path, corpus):
    root, _, _ = write_course_corpus(tmp_path, ["missing_file", "nan", "no_path"])[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusIssuesWarning)
        faulty = load_feature_table(root)
    path = save_issues(faulty.issues, tmp_path)
    written = pd.read_csv(path, dtype={"line": int}, keep_default_na=False)
    assert path.name == "issues.csv" and list(written.columns) == ISSUE_COLUMNS
    assert written["id"].tolist() == faulty.issues["id"].tolist()
    assert written["reason"].tolist() == faulty.issues["reason"].tolist()
    clean = load_feature_table(corpus[0])
    assert save_issues(clean.issues, tmp_path / "clean") is None
    assert not (tmp_path / "clean").exists()
