"""load_feature_table on a tiny corpus in the course-feature layout, faults included."""

import pickle
import re
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer._testing import FAULTS, WIDTHS, make_clean_corpus, write_course_corpus
from sklearn_mmer._testing import zip_corpus as make_zip
from sklearn_mmer.datasets import (
    ISSUE_COLUMNS,
    CorpusIssuesWarning,
    load_feature_table,
    write_feature_table,
)


@pytest.fixture(scope="module")
def clean_corpus(tmp_path_factory):
    """``(root, X, y, speakers)`` of a corpus without faults."""
    return write_course_corpus(tmp_path_factory.mktemp("clean"))


@pytest.fixture(scope="module")
def faulty_corpus(tmp_path_factory):
    """``(root, zip_path, X)``: every fault of ``FAULTS``, as a folder and a zip."""
    folder = tmp_path_factory.mktemp("faulty")
    root, X, _, _ = write_course_corpus(folder, list(FAULTS))
    return root, make_zip(root, folder / "corpus.zip", top="corpus"), X


def _load_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusIssuesWarning)
        return load_feature_table(path, **kwargs)


def _source(clean_corpus, kind, tmp_path):
    root = clean_corpus[0]
    if kind == "folder":
        return root
    if kind == "csv":
        return root / "dataset.csv"
    top = "corpus" if kind == "zip_in_folder" else None
    return make_zip(root, tmp_path / "corpus.zip", top=top)


@pytest.mark.parametrize("kind", ["folder", "csv", "zip", "zip_in_folder"])
def test_load_round_trips_the_corpus(clean_corpus, kind, tmp_path):
    _, X, y, speakers = clean_corpus
    with warnings.catch_warnings():
        warnings.simplefilter("error", CorpusIssuesWarning)
        corpus = load_feature_table(_source(clean_corpus, kind, tmp_path))
    assert list(corpus.data.columns) == [*WIDTHS, "speaker", "session"]
    assert list(corpus.data.index) == list(X.index)
    for modality in WIDTHS:
        for loaded, original in zip(corpus.data[modality], X[modality]):
            assert loaded.dtype == np.float32
            np.testing.assert_array_equal(loaded, original)
    np.testing.assert_array_equal(corpus.target, y)
    np.testing.assert_array_equal(corpus.groups, speakers)
    np.testing.assert_array_equal(corpus.data["speaker"], speakers)
    np.testing.assert_array_equal(corpus.sessions, X["session"])
    assert corpus.issues.empty and list(corpus.issues.columns) == ISSUE_COLUMNS


def test_load_return_X_y_gives_X_and_y_as_scikit_learn_loaders_do(clean_corpus):
    result = load_feature_table(clean_corpus[0], return_X_y=True)
    corpus = load_feature_table(clean_corpus[0])
    assert isinstance(result, tuple) and len(result) == 2
    X, y = result
    pd.testing.assert_frame_equal(X, corpus.data)
    np.testing.assert_array_equal(y, corpus.target)
    np.testing.assert_array_equal(X["speaker"], corpus.groups)


def test_load_parses_sessions_from_ids(clean_corpus):
    corpus = load_feature_table(clean_corpus[0])
    parsed = [int(i[3:5]) for i in corpus.data.index]
    assert corpus.sessions.tolist() == parsed and set(parsed) == {1, 2}


def test_load_sessions_none_when_ids_do_not_parse(tmp_path):
    X, y, _ = make_clean_corpus(8)
    X = X.drop(columns="session").set_axis([f"utt{i}" for i in range(8)])
    X["speaker"] = [f"spk{i % 2}" for i in range(8)]
    write_feature_table(X, y, tmp_path)
    corpus = load_feature_table(tmp_path)
    assert corpus.sessions is None and "session" not in corpus.data


@pytest.mark.parametrize(
    "modalities, expected",
    [
        (["lexical"], ["lexical"]),
        (["acoustic_features", "visual"], ["acoustic", "visual"]),
    ],
)
def test_load_selects_modalities(clean_corpus, modalities, expected):
    corpus = load_feature_table(clean_corpus[0], modalities=modalities)
    assert corpus.modalities == expected
    assert list(corpus.data.columns) == [*expected, "speaker", "session"]


@pytest.mark.parametrize("widths", [{"physio": 3}, {"a": 2, "b": 3, "c": 4, "d": 5}])
def test_load_reads_any_number_of_modalities(tmp_path, widths):
    X, y, _ = make_clean_corpus(6)
    for name, width in widths.items():
        X[name] = [np.full((2, width), i, dtype=np.float32) for i in range(6)]
    write_feature_table(X, y, tmp_path, modalities=list(widths))
    corpus = load_feature_table(tmp_path)
    assert corpus.modalities == list(widths)
    assert corpus.data[list(widths)[-1]].iloc[5][0, 0] == 5


def test_load_rejects_an_unknown_modality(clean_corpus):
    with pytest.raises(ValueError, match=r"modalities=\['audio'\].*'visual'"):
        load_feature_table(clean_corpus[0], modalities=["audio"])


def test_load_maps_int_and_string_labels(tmp_path):
    X, y, _ = make_clean_corpus(8)
    write_feature_table(X, y, tmp_path, target_names=None)
    as_text = load_feature_table(tmp_path)
    assert as_text.target.tolist() == list(y)
    table = pd.read_csv(tmp_path / "dataset.csv", dtype=str)
    names = ["anger", "sadness", "happiness", "neutral"]
    table["emotion_labels"] = [str(names.index(label)) for label in y]
    table.to_csv(tmp_path / "dataset.csv", index=False)
    assert load_feature_table(tmp_path).target.tolist() == list(y)


def test_load_cells_own_their_data(clean_corpus):
    # each cell's memory is its own (maybe a reshaped view of it), never a
    # slice of a stacked buffer of the whole corpus
    corpus = load_feature_table(clean_corpus[0])
    for modality in WIDTHS:
        for cell in corpus.data[modality]:
            owner = cell
            while owner.base is not None:
                owner = owner.base
            assert owner.nbytes == cell.nbytes


@pytest.mark.parametrize("name", list(FAULTS))
@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_load_skips_and_records_each_fault(faulty_corpus, name, kind):
    root, zip_path, X = faulty_corpus
    corpus = _load_quietly(root if kind == "folder" else zip_path)
    row, modality, folder_reason, zip_reason = FAULTS[name]
    uid = X.index[0] if name == "duplicate_id" else X.index[row]
    issues = corpus.issues[corpus.issues["id"] == uid]
    if name != "duplicate_id":
        assert uid not in corpus.data.index
    assert len(issues) == 1
    assert issues["modality"].iloc[0] == modality
    expected = folder_reason if kind == "folder" else zip_reason
    assert issues["reason"].iloc[0].startswith(expected)


def test_load_keeps_the_first_of_duplicate_ids(faulty_corpus):
    root, _, X = faulty_corpus
    corpus = _load_quietly(root)
    first = X.index[0]
    assert list(corpus.data.index).count(first) == 1
    np.testing.assert_array_equal(
        corpus.data.loc[first, "lexical"], X.iloc[0]["lexical"]
    )


def test_load_summary_warning_counts_the_skipped(faulty_corpus):
    with pytest.warns(CorpusIssuesWarning, match="skipped 20 of 30 utterances") as rec:
        corpus = load_feature_table(faulty_corpus[0])
    assert len(corpus.data) == 10 and len(corpus.issues) == 20
    assert rec[0].filename == __file__  # points at the caller


def test_load_keep_sets_faulty_modalities_to_none(faulty_corpus):
    root, _, X = faulty_corpus
    with pytest.warns(CorpusIssuesWarning, match="kept 27 of 30 utterances"):
        corpus = load_feature_table(root, errors="keep")
    assert len(corpus.issues) == 20
    for name, (row, modality, _, _) in FAULTS.items():
        if modality is None:
            assert name == "duplicate_id" or X.index[row] not in corpus.data.index
        else:
            assert corpus.data.loc[X.index[row], modality] is None
            others = [m for m in WIDTHS if m != modality]
            assert corpus.data.loc[X.index[row], others].notna().all()


@pytest.mark.parametrize("name", list(FAULTS))
def test_load_raise_names_the_file(tmp_path, name):
    root, X, _, _ = write_course_corpus(tmp_path, [name])
    row, modality, _, _ = FAULTS[name]
    table = pd.read_csv(root / "dataset.csv", dtype=str, keep_default_na=False)
    if modality is None or name == "no_path":
        named = f"dataset.csv line {row + 2}"
    else:
        named = table.loc[row, f"{modality}_features"]
    pattern = rf"^{re.escape(named)}.*: {re.escape(FAULTS[name][2])}"
    with pytest.raises(ValueError, match=pattern):
        load_feature_table(root, errors="raise")


def test_load_flags_the_odd_width_even_in_the_first_row(tmp_path):
    X, y, _ = make_clean_corpus(6)
    X.iat[0, 0] = np.ones((3, WIDTHS["visual"] - 1), dtype=np.float32)
    write_feature_table(X, y, tmp_path)
    corpus = _load_quietly(tmp_path)
    assert corpus.issues["id"].tolist() == [X.index[0]]
    assert "most visual files have 6" in corpus.issues["reason"].iloc[0]


def test_load_casts_float64_and_int_files_to_float32(tmp_path):
    X, y, _ = make_clean_corpus(4)
    X["lexical"] = [np.arange(5) + i for i in range(4)]
    X["acoustic"] = [c.astype(np.float64) for c in X["acoustic"]]
    write_feature_table(X, y, tmp_path)
    corpus = load_feature_table(tmp_path)
    assert {c.dtype for m in WIDTHS for c in corpus.data[m]} == {np.dtype("float32")}
    assert corpus.data["lexical"].iloc[3].tolist() == [3, 4, 5, 6, 7]


def test_load_accepts_absolute_paths_inside_the_root(tmp_path):
    root, X, _, _ = write_course_corpus(tmp_path)
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    table["visual_features"] = [str(root) + p for p in table["visual_features"]]
    table.to_csv(root / "dataset.csv", index=False)
    corpus = load_feature_table(root)
    assert corpus.issues.empty
    np.testing.assert_array_equal(corpus.data["visual"].iloc[-1], X["visual"].iloc[-1])


def test_load_never_unpickles(faulty_corpus, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_feature_table must never unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    corpus = _load_quietly(faulty_corpus[1])
    assert corpus.issues["reason"].str.startswith("needs unpickling").sum() == 2


def test_load_never_extracts_the_zip(faulty_corpus, monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("load_feature_table must read members in place")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    before = sorted(faulty_corpus[1].parent.rglob("*"))
    corpus = _load_quietly(faulty_corpus[1])
    assert len(corpus.data) == 10
    assert sorted(faulty_corpus[1].parent.rglob("*")) == before


def test_load_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_feature_table(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="folder without dataset.csv"):
        load_feature_table(tmp_path)


def test_load_missing_column_raises(clean_corpus, tmp_path):
    table = pd.read_csv(clean_corpus[0] / "dataset.csv", dtype=str)
    table.drop(columns="speakers").to_csv(tmp_path / "dataset.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['speakers'\]"):
        load_feature_table(tmp_path)


@pytest.mark.parametrize("errors", ["ignore", "warn"])
def test_load_rejects_bad_errors(clean_corpus, errors):
    with pytest.raises(ValueError, match="'errors' parameter"):
        load_feature_table(clean_corpus[0], errors=errors)


def test_missing_cells_round_trip_with_errors_keep(tmp_path):
    X, y, _ = make_clean_corpus()
    X = X.copy()
    visual, acoustic = list(X["visual"]), list(X["acoustic"])
    visual[0] = None
    acoustic[1] = np.zeros((0, WIDTHS["acoustic"]), np.float32)
    X["visual"], X["acoustic"] = (
        pd.Series(visual, dtype=object, index=X.index),
        (pd.Series(acoustic, dtype=object, index=X.index)),
    )
    write_feature_table(X, y, tmp_path)
    with pytest.warns(CorpusIssuesWarning):
        kept = load_feature_table(tmp_path, errors="keep")
    assert len(kept.data) == len(X)
    assert kept.data["visual"].iloc[0] is None
    assert kept.data["acoustic"].iloc[1] is None
    assert set(kept.issues["reason"].str.split(":").str[0]) == {"no file named"}


def test_loader_reads_a_corpus_without_labels_when_asked(tmp_path):
    root = write_course_corpus(tmp_path)[0]
    labelled = load_feature_table(root)
    table = pd.read_csv(root / "dataset.csv", dtype=str)
    table.drop(columns="emotion_labels").to_csv(root / "dataset.csv", index=False)
    with pytest.raises(ValueError, match="lacks the column.*emotion_labels"):
        load_feature_table(root)
    corpus = load_feature_table(root, require_labels=False)
    assert corpus.target is None
    assert list(corpus.data.index) == list(labelled.data.index)
    assert np.array_equal(corpus.data.iloc[0, 0], labelled.data.iloc[0, 0])
