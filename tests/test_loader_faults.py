"""Fault injection, part two: archives, feature widths, size limits, shared and
outside files, content ids. (Faults of single files are in test_loader.py.)"""

import bz2
import gzip
import lzma
import os
import struct
import tarfile
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import sklearn_mmer.datasets._sources as sources
from sklearn_mmer._testing import WIDTHS, make_clean_corpus, write_course_corpus
from sklearn_mmer._testing import zip_corpus as make_zip
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


def _csv_bytes(corpus):
    return (corpus[0] / "dataset.csv").stat().st_size


@pytest.fixture
def opened(monkeypatch):
    """The names of the zip members opened for reading during the test."""
    names, original = [], zipfile.ZipFile.open

    def spy(self, member, mode="r", *args, **kwargs):
        if mode == "r":
            names.append(getattr(member, "filename", member))
        return original(self, member, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    return names


def test_corpus_size_limit_is_checked_before_reading(corpus, opened):
    with pytest.raises(ValueError, match="the files dataset.csv names: the corpus"):
        load_feature_table(corpus[1], max_total_bytes=_csv_bytes(corpus) + 1000)
    assert opened == ["dataset.csv"]


def test_member_size_limit_names_the_file_and_the_parameter(tmp_path, opened):
    X, y, _ = make_clean_corpus(8)
    X.iat[3, 0] = np.ones((1000, WIDTHS["visual"]), dtype=np.float32)
    csv_path = write_feature_table(X, y, tmp_path / "corpus")
    path = make_zip(tmp_path / "corpus", tmp_path / "corpus.zip")
    member = pd.read_csv(csv_path, dtype=str).loc[3, "visual_features"].lstrip("/")
    pattern = f"{member}: this file expands to 23.6 KiB .*max_member_bytes=10000"
    with pytest.raises(ValueError, match=pattern):
        load_feature_table(path, max_member_bytes=10_000)
    assert opened == ["dataset.csv"]
    assert len(load_feature_table(path, max_member_bytes=None).data) == 8


def test_size_limits_hold_on_the_bytes_read_when_headers_lie(corpus, monkeypatch):
    # declared sizes pass every check (as a zip whose headers understate the
    # sizes would): the bytes actually read must still stop the load
    from sklearn_mmer.datasets._limits import SizeBudget

    monkeypatch.setattr(SizeBudget, "check", lambda *args: None)
    monkeypatch.setattr(SizeBudget, "check_declared", lambda *args: None)
    with pytest.raises(ValueError, match="the corpus expands to .*max_total_bytes"):
        load_feature_table(corpus[1], max_total_bytes=_csv_bytes(corpus) + 1000)


def _understate(zip_path, member, size, out):
    """Copy a zip whose central directory understates one member's size."""
    data = bytearray(zip_path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == name:
            struct.pack_into("<I", data, at + 24, size)
            out.write_bytes(bytes(data))
            return out
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not in {zip_path}")


def test_a_member_understating_its_size_is_never_read_past_it(corpus, tmp_path):
    root, zip_path, X = corpus
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    member = table.loc[2, "acoustic_features"].lstrip("/")
    lying = _understate(zip_path, member, 150, tmp_path / "lying.zip")
    with pytest.warns(CorpusIssuesWarning, match="skipped 1 of 30"):
        loaded = load_feature_table(lying)
    # cut at the declared size: its CRC fails (or its frames are short)
    assert loaded.issues["id"].tolist() == [X.index[2]]
    assert loaded.issues["reason"].iloc[0].startswith("unreadable .npy: ")


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_a_npy_header_claiming_huge_frames_takes_no_memory(tmp_path, kind):
    X, y, _ = make_clean_corpus(6)
    root = tmp_path / "corpus"
    write_feature_table(X, y, root)
    path = next((root / "features" / "lexical_features").rglob("*.npy"))
    with open(path, "wb") as handle:  # 24 TB of frames declared, 16 bytes given
        header = {"descr": "<f4", "fortran_order": False, "shape": (10**12, 6)}
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(bytes(16))
    source = root if kind == "folder" else make_zip(root, tmp_path / "c.zip")
    with pytest.warns(CorpusIssuesWarning, match="skipped 1 of 6"):
        loaded = load_feature_table(source)
    reason = loaded.issues["reason"].iloc[0]
    assert reason.startswith("unreadable .npy: truncated: its header declares")


@pytest.mark.parametrize("kind", ["folder", "zip"])
@pytest.mark.parametrize(
    "shape, reason",
    [((0, 2**62), "empty sequence"), ((2**31, 2**31, 0), "bad shape")],
)
def test_a_npy_header_with_an_empty_huge_shape_is_a_fault(
    tmp_path, kind, shape, reason
):
    """No bytes declared, yet numpy refuses to shape even an empty array so."""
    X, y, _ = make_clean_corpus(6)
    root = tmp_path / "corpus"
    write_feature_table(X, y, root)
    path = next((root / "features" / "lexical_features").rglob("*.npy"))
    with open(path, "wb") as handle:
        header = {"descr": "<f4", "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)
    source = root if kind == "folder" else make_zip(root, tmp_path / "c.zip")
    with pytest.warns(CorpusIssuesWarning, match="skipped 1 of 6"):
        loaded = load_feature_table(source)
    assert loaded.issues["reason"].iloc[0].startswith(f"{reason}: ")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("where", ["path", "dataset.csv"])
def test_a_named_pipe_as_the_corpus_is_refused_without_reading(tmp_path, where):
    fifo = tmp_path / "dataset.csv"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    path = fifo if where == "path" else tmp_path
    with pytest.raises(ValueError, match=r"dataset.csv' is a named pipe \(FIFO\)"):
        load_feature_table(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_named_by_the_csv_is_a_fault_not_a_wait(tmp_path):
    root, X, _, _ = write_course_corpus(tmp_path)
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    os.mkfifo(root / "pipe.npy")
    _rewrite_csv(root, "lexical_features", ["/pipe.npy", *table.lexical_features[1:]])
    with pytest.warns(CorpusIssuesWarning, match="skipped 1 of 30"):
        loaded = load_feature_table(root)
    assert loaded.issues["reason"].iloc[0].startswith("file not found: ")


@pytest.mark.parametrize("name", ["speaker", "session", "content"])
def test_a_modality_named_as_a_metadata_column_is_refused(tmp_path, name):
    root, _, _, _ = write_course_corpus(tmp_path)
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    table[f"{name}_features"] = table["lexical_features"]
    table.to_csv(root / "dataset.csv", index=False)
    with pytest.raises(ValueError, match=f"column '{name}_features' would be a"):
        load_feature_table(root)
    assert load_feature_table(root, modalities=["lexical"]).modalities == ["lexical"]


def _rewrite_csv(root, column, values):
    table = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
    table[column] = values
    table.to_csv(root / "dataset.csv", index=False)
    return table


def test_two_ids_naming_one_file_get_a_warning(tmp_path):
    root, X, _, _ = write_course_corpus(tmp_path)
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    paths = list(table["visual_features"])
    paths[4] = paths[3].replace("/", "\\")  # spelled differently, the same file
    _rewrite_csv(root, "visual_features", paths)
    with pytest.warns(UserWarning, match="1 feature file.* named by more than one"):
        loaded = load_feature_table(root)
    assert loaded.issues.empty and len(loaded.data) == 30
    np.testing.assert_array_equal(
        loaded.data["visual"].iloc[4], loaded.data["visual"].iloc[3]
    )


def test_outside_and_missing_absolute_paths_are_reported_alike(tmp_path):
    root, X, _, _ = write_course_corpus(tmp_path)  # writes tmp_path/outside.npy
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    paths = list(table["lexical_features"])
    paths[1], paths[2] = str(tmp_path / "outside.npy"), str(tmp_path / "absent.npy")
    _rewrite_csv(root, "lexical_features", paths)
    with pytest.warns(CorpusIssuesWarning):
        reasons = load_feature_table(root).issues["reason"].tolist()
    # the same words whether the file exists or not: a corpus cannot probe
    assert reasons == [
        f"file not found: {os.path.realpath(root)}/{paths[k].lstrip('/')}"
        for k in (1, 2)
    ]


@pytest.mark.parametrize(
    "columns, expected",
    [
        (
            {"content": ["s01_line3", " s01_line3 ", ""]},
            ["s01_line3", "s01_line3", None],
        ),
        (
            {"transcript": ["Excuse me, SIR!", "excuse  me sir", "  "]},
            ["excuse me sir", "excuse me sir", None],
        ),
        (
            {"content": ["a", "b", "c"], "transcript": ["x", "x", "x"]},
            ["a", "b", "c"],
        ),
    ],
)
def test_content_ids_are_read_into_x(tmp_path, columns, expected):
    X, y, _ = make_clean_corpus(4)
    write_feature_table(X.iloc[:3], y[:3], tmp_path)
    for column, values in columns.items():
        _rewrite_csv(tmp_path, column, values)
    loaded = load_feature_table(tmp_path)
    assert loaded.data.columns[-1] == "content"
    assert loaded.data["content"].tolist() == expected


def test_no_content_column_without_one_in_the_csv(corpus):
    assert "content" not in load_feature_table(corpus[0]).data
