"""extract_corpus: a CSV of recordings to a corpus, row by row, resumable.

The recordings are tones in noise the tests write (write_recordings), so no
test needs real speech or a download.
"""

import json

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer._testing import write_recordings
from sklearn_mmer.datasets import (
    load_feature_table,
    write_feature_index,
    write_feature_row,
)
from sklearn_mmer.extraction import (
    MFCCExtractor,
    extract_corpus,
    extract_table,
    read_recipe,
)

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return write_recordings(tmp_path_factory.mktemp("recordings"))


def _spoil(csv, tmp_path):
    """A copy of the CSV with an unreadable, an empty, a silent, a too short
    and a missing file added."""
    folder = csv.parent
    (folder / "audio" / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    soundfile.write(folder / "audio" / "empty.wav", np.zeros(0, np.float32), 16000)
    soundfile.write(folder / "audio" / "silent.wav", np.zeros(8000, np.float32), 16000)
    soundfile.write(folder / "audio" / "short.wav", 0.3 * np.ones(400), 16000)
    table = pd.read_csv(csv)
    bad = ["corrupt", "empty", "silent", "short", "absent"]
    extra = pd.DataFrame(
        {
            "file": [f"audio/{b}.wav" for b in bad],
            "speaker": "spk0",
            "emotion": "anger",
            "session": 1,
        }
    )
    spoiled = folder / "spoiled.csv"
    pd.concat([table, extra]).to_csv(spoiled, index=False)
    return spoiled


def test_rows_written_one_by_one_load_back(tmp_path):
    rng = np.random.default_rng(0)
    frames = {u: rng.normal(size=(3 + i, 2)) for i, u in enumerate(["a", "b", "c"])}
    rows = {u: write_feature_row(tmp_path, u, {"x": f}) for u, f in frames.items()}
    files = pd.DataFrame.from_dict(rows, orient="index")
    write_feature_index(
        tmp_path,
        files,
        ["s1", "s1", "s2"],
        labels=["anger", "neutral", "anger"],
        columns=pd.DataFrame({"transcript": ["Hi!", "so", "no"]}),
    )
    corpus = load_feature_table(tmp_path)
    assert list(corpus.data.index) == ["a", "b", "c"]
    np.testing.assert_allclose(corpus.data["x"]["b"], frames["b"].astype(np.float32))
    assert list(corpus.data["content"]) == ["hi", "so", "no"]
    assert not list(tmp_path.rglob(".part-*"))


def test_the_index_refuses_a_column_of_the_layout(tmp_path):
    files = pd.DataFrame({"x": ["/features/x_features/a.npy"]}, index=["a"])
    with pytest.raises(ValueError, match="'speakers' would take a name"):
        write_feature_index(
            tmp_path, files, ["s"], columns=pd.DataFrame({"speakers": ["t"]})
        )


def test_extract_corpus_writes_what_the_loader_reads(recordings, tmp_path):
    result = extract_corpus(recordings, tmp_path / "c", ["mfcc", "mel=logmel"])
    corpus = load_feature_table(tmp_path / "c")
    assert result.n_extracted == 20 and len(result.issues) == 0
    assert corpus.modalities == ["mfcc", "mel"]
    assert corpus.data["mfcc"].iloc[0].shape[1] == 13
    assert corpus.data["mel"].iloc[0].shape[1] == 40
    table = pd.read_csv(recordings)
    assert list(corpus.target) == list(table["emotion"])
    assert list(corpus.groups) == list(table["speaker"])
    # the frames are the extractor's own
    first = MFCCExtractor(root=recordings.parent).extract([table["file"][0]])[0]
    np.testing.assert_array_equal(corpus.data["mfcc"].iloc[0], first)
    # other columns are carried over; the recipe is beside dataset.csv
    assert "session" in pd.read_csv(tmp_path / "c" / "dataset.csv")
    recipe = read_recipe(tmp_path / "c")
    assert [e["name"] for e in recipe["features"]] == ["mfcc", "mel"]
    assert recipe["features"][0]["recipe"]["parameters"]["n_mfcc"] == 13


def test_bad_files_are_listed_and_the_others_extracted(recordings, tmp_path):
    spoiled = _spoil(recordings, tmp_path)
    result = extract_corpus(spoiled, tmp_path / "c", ["mfcc"])
    issues = pd.read_csv(tmp_path / "c" / "issues.csv")
    reasons = dict(zip(issues["id"], issues["reason"]))
    assert reasons == {
        "corrupt": "unreadable",
        "empty": "empty",
        "silent": "silent",
        "short": "too short",
        "absent": "missing",
    }
    assert issues["file"].tolist()[0] == "audio/corrupt.wav"
    assert result.n_extracted == 20
    assert len(load_feature_table(tmp_path / "c").data) == 20


def test_an_interrupted_run_resumes_with_only_what_is_missing(recordings, tmp_path):
    out = tmp_path / "c"

    def stop(record):
        if record["n_done"] >= 16:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_corpus(recordings, out, ["mfcc"], progress=stop)
    written = sorted(out.rglob("*.npy"))
    assert len(written) == 16 and not (out / "dataset.csv").exists()
    times = {p: p.stat().st_mtime_ns for p in written}
    with pytest.raises(ValueError, match="already holds a corpus"):
        extract_corpus(recordings, out, ["mfcc"])
    totals = []
    result = extract_corpus(
        recordings, out, ["mfcc"], resume=True, progress=totals.append
    )
    assert totals[-1]["n_total"] == 4 and result.n_resumed == 16
    assert all(p.stat().st_mtime_ns == t for p, t in times.items())
    assert len(load_feature_table(out).data) == 20


def test_resume_refuses_other_features(recordings, tmp_path):
    extract_corpus(recordings, tmp_path / "c", ["mfcc"])
    with pytest.raises(ValueError, match="started with the features mfcc=mfcc"):
        extract_corpus(recordings, tmp_path / "c", ["logmel"], resume=True)
    with pytest.raises(ValueError, match="other parameters"):
        extract_corpus(
            recordings, tmp_path / "c", {"mfcc": MFCCExtractor(20)}, resume=True
        )
    with pytest.raises(ValueError, match="nothing to resume"):
        extract_corpus(recordings, tmp_path / "new", ["mfcc"], resume=True)


def test_n_jobs_gives_the_same_features(recordings, tmp_path):
    extract_corpus(recordings, tmp_path / "one", ["mfcc"], n_jobs=1)
    extract_corpus(recordings, tmp_path / "two", ["mfcc"], n_jobs=2)
    one = load_feature_table(tmp_path / "one").data["mfcc"]
    two = load_feature_table(tmp_path / "two").data["mfcc"]
    assert all(np.array_equal(a, b) for a, b in zip(one, two))


def test_an_extractor_keeps_its_parameters_in_the_recipe(recordings, tmp_path):
    extract_corpus(recordings, tmp_path / "c", {"acoustic": MFCCExtractor(20)})
    recipe = json.loads((tmp_path / "c" / "extraction.json").read_text())
    (entry,) = recipe["features"]
    assert (entry["name"], entry["spec"], entry["params"]) == (
        "acoustic",
        "mfcc",
        {"n_mfcc": 20},
    )
    corpus = extract_table(recordings, recipe)
    assert corpus.data["acoustic"].iloc[0].shape[1] == 20
    assert corpus.target is not None and len(corpus.issues) == 0


@pytest.mark.parametrize(
    "features, match",
    [
        (["mfcc", "mfcc"], "twice"),
        (["speaker=mfcc"], "cannot name a modality"),
        (["words=text:/nowhere"], "no model folder|needs the"),
        (["sound=wave"], "unknown extractor kind"),
    ],
)
def test_bad_features_are_refused_by_name(recordings, tmp_path, features, match):
    with pytest.raises((ValueError, ImportError), match=match):
        extract_corpus(recordings, tmp_path / "c", features)


def test_a_table_without_speakers_or_with_repeated_ids_is_refused(tmp_path):
    table = pd.DataFrame({"file": ["a/x.wav", "b/x.wav"], "speaker": ["s", "t"]})
    with pytest.raises(ValueError, match="distinct.*'utterance' column"):
        extract_corpus(table, tmp_path / "c", ["mfcc"])
    with pytest.raises(ValueError, match="no 'speaker' column"):
        extract_corpus(table.iloc[:1].drop(columns="speaker"), tmp_path / "c", ["mfcc"])


def test_a_model_file_keeps_a_plain_json_recipe(recordings, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from sklearn_mmer import save
    from sklearn_mmer.io import load, read_manifest

    extract_corpus(recordings, tmp_path / "c", ["mfcc"])
    recipe = read_recipe(tmp_path / "c")
    model = LogisticRegression().fit([[0.0], [1.0], [0.1], [0.9]], ["a", "b", "a", "b"])
    save(model, tmp_path / "m.mmer", recipe=recipe)
    assert read_manifest(tmp_path / "m.mmer")["recipe"] == recipe
    assert load(tmp_path / "m.mmer").predict([[0.0]]) == ["a"]
    with pytest.raises(TypeError, match="ndarray is not plain JSON"):
        save(model, tmp_path / "n.mmer", recipe={"features": np.zeros(2)})
