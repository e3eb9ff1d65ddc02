"""Extractors from recordings: reading, shapes, bad files, the column contract."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_valid_tag_types,
)

from sklearn_mmer.extraction import (
    BaseExtractor,
    ExtractionError,
    LogMelExtractor,
    MFCCExtractor,
    OpenSmileExtractor,
    SpeechEncoderExtractor,
    TextEncoderExtractor,
    list_kinds,
    make_extractor,
    read_audio,
)

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("soxr")
pytest.importorskip("librosa")


def _tone(seconds, rate, frequency=440.0, amplitude=0.5):
    t = np.arange(int(round(seconds * rate))) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _write(folder, name, samples, rate, **kwargs):
    path = folder / name
    soundfile.write(path, samples, rate, **kwargs)
    return path


@pytest.fixture
def recordings(tmp_path):
    """Three good recordings at 8, 16 and 44.1 kHz (one stereo), in a table."""
    noise = np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32)
    _write(tmp_path, "a.wav", _tone(0.5, 16000), 16000)
    _write(tmp_path, "b.flac", noise, 8000)
    stereo = np.stack([_tone(0.3, 44100), _tone(0.3, 44100, 220.0)], axis=1)
    _write(tmp_path, "c.ogg", stereo, 44100)
    table = pd.DataFrame(
        {"speaker": ["s1", "s2", "s1"], "file": ["a.wav", "b.flac", "c.ogg"]},
        index=[10, 11, 12],
    )
    return tmp_path, table


# --- read_audio -----------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_read_audio_resamples_to_the_rate_asked(tmp_path, rate):
    path = _write(tmp_path, "tone.wav", _tone(0.5, rate), rate)
    samples = read_audio(path, 16000)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 8000) <= 1
    # the tone survives: its spectrum peaks at 440 Hz
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(np.argmax(spectrum) * 16000 / len(samples) - 440) < 5


def test_read_audio_mixes_channels_to_mono(tmp_path):
    left, right = _tone(0.2, 16000), -0.5 * _tone(0.2, 16000)
    path = _write(tmp_path, "stereo.wav", np.stack([left, right], axis=1), 16000)
    samples = read_audio(path, 16000)
    np.testing.assert_allclose(samples, (left + right) / 2, atol=1e-4)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda folder: folder / "absent.wav", "missing"),
        (lambda folder: _corrupt(folder), "unreadable"),
        (lambda folder: _write(folder, "e.wav", np.zeros(0), 16000), "empty"),
        (lambda folder: _write(folder, "z.wav", np.zeros(8000), 16000), "silent"),
        (
            lambda folder: _write(folder, "s.wav", _tone(0.05, 16000), 16000),
            "too short",
        ),
    ],
)
def test_read_audio_names_the_file_and_the_reason(tmp_path, make, reason):
    path = make(tmp_path)
    with pytest.raises(ExtractionError, match=path.name) as raised:
        read_audio(path, 16000)
    assert raised.value.reason == reason


def _corrupt(folder):
    path = folder / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x01garbage that is not audio" * 10)
    return path


def test_read_audio_minimum_duration_is_a_parameter(tmp_path):
    path = _write(tmp_path, "s.wav", _tone(0.05, 16000), 16000)
    assert len(read_audio(path, 16000, min_duration=0.01)) == 800


def test_extraction_error_pickles_with_its_reason():
    error = pickle.loads(pickle.dumps(ExtractionError("a.wav", "silent", "peak 0")))
    assert (error.item, error.reason, str(error)) == (
        "a.wav",
        "silent",
        "a.wav: silent (peak 0)",
    )


# --- spectral extractors --------------------------------------------------


@pytest.mark.parametrize(
    ("extractor", "width"),
    [
        (MFCCExtractor(), 13),
        (MFCCExtractor(20, n_mels=64), 20),
        (LogMelExtractor(), 40),
        (LogMelExtractor(80, hop_seconds=0.02), 80),
    ],
)
def test_spectral_frames_have_the_documented_shape(recordings, extractor, width):
    folder, table = recordings
    frames = extractor.set_params(root=folder).extract(table["file"])
    hop = extractor.hop_seconds * 16000
    for cell, seconds in zip(frames, [0.5, 1.0, 0.3]):
        assert cell.dtype == np.float32 and cell.shape == (
            1 + int(seconds * 16000 // hop),
            width,
        )
        assert np.isfinite(cell).all()
    assert extractor.fit().n_features_out_ == width


def test_compile_kernels_computes_frames_with_every_spectral_kind(monkeypatch):
    from sklearn_mmer.extraction._spectral import compile_kernels

    computed = []
    spectral = [MFCCExtractor, LogMelExtractor]
    for cls in spectral:

        def spy(self, samples, frames=cls._frames):
            computed.append(type(self))
            return frames(self, samples)

        monkeypatch.setattr(cls, "_frames", spy)
    compile_kernels()
    assert sorted(computed, key=str) == sorted(spectral, key=str)
    # every kind whose frames librosa computes is one of them
    librosa_kinds = {k["kind"] for k in list_kinds() if "[audio]" in k["install"]}
    assert {cls.kind for cls in spectral} == librosa_kinds


def test_logmel_of_a_tone_peaks_in_the_band_of_its_frequency(tmp_path):
    import librosa

    path = _write(tmp_path, "tone.wav", _tone(0.5, 16000, 1000.0), 16000)
    (frames,) = LogMelExtractor().extract([path])
    centres = librosa.mel_frequencies(40 + 2, fmax=8000)[1:-1]
    assert abs(centres[frames.mean(axis=0).argmax()] - 1000) < 150


def test_transform_replaces_the_media_column_and_keeps_the_rest(recordings):
    folder, table = recordings
    cells = MFCCExtractor(root=folder).fit_transform(table)
    assert list(cells.columns) == ["speaker", "mfcc"]
    assert list(cells.index) == [10, 11, 12]
    assert list(cells["speaker"]) == ["s1", "s2", "s1"]
    assert [c.shape[1] for c in cells["mfcc"]] == [13, 13, 13]
    assert list(table.columns) == ["speaker", "file"]  # X itself untouched


def test_transform_reads_the_column_and_writes_the_name_given(recordings):
    folder, table = recordings
    table = table.rename(columns={"file": "audio"})
    extractor = LogMelExtractor(column="audio", name="acoustic", root=folder)
    assert list(extractor.fit_transform(table).columns) == ["speaker", "acoustic"]
    with pytest.raises(ValueError, match="column 'file' not in X; X has 'speaker'"):
        LogMelExtractor(root=folder).fit_transform(table)


@pytest.mark.parametrize("as_series", [True, False])
def test_transform_of_paths_returns_one_column(recordings, as_series):
    folder, table = recordings
    paths = [str(folder / name) for name in table["file"]]
    X = pd.Series(paths, index=table.index) if as_series else paths
    cells = MFCCExtractor().fit_transform(X)
    assert list(cells.columns) == ["mfcc"]
    assert list(cells.index) == ([10, 11, 12] if as_series else [0, 1, 2])


def test_transform_refuses_a_bad_file_by_name(recordings):
    folder, table = recordings
    _write(folder, "quiet.wav", np.zeros(8000), 16000)
    table.loc[13] = ["s2", "quiet.wav"]
    table.loc[14] = ["s2", "absent.wav"]
    with pytest.raises(ExtractionError, match=r"quiet\.wav: silent.*1 more") as raised:
        MFCCExtractor(root=folder).fit_transform(table)
    assert raised.value.reason == "silent"


def test_extract_returns_the_error_in_place_of_a_bad_item(recordings):
    folder, table = recordings
    items = ["a.wav", "absent.wav", None, "b.flac", np.nan, pd.NA, ""]
    results = MFCCExtractor(root=folder).extract(items)
    assert [isinstance(r, np.ndarray) for r in results] == [
        True,
        False,
        False,
        True,
        False,
        False,
        False,
    ]
    assert (results[1].item, results[1].reason) == ("absent.wav", "missing")
    assert {r.reason for r in results[2:3] + results[4:]} == {"missing"}


def test_extractor_clones_pickles_and_keeps_its_params(recordings):
    folder, table = recordings
    extractor = MFCCExtractor(20, root=str(folder), cache=None).fit()
    assert clone(extractor).get_params() == extractor.get_params()
    again = pickle.loads(pickle.dumps(extractor))
    np.testing.assert_array_equal(
        again.transform(table)["mfcc"].iloc[0],
        extractor.transform(table)["mfcc"].iloc[0],
    )


def test_transform_needs_fit(recordings):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MFCCExtractor().transform(["a.wav"])


def test_parameters_are_validated_at_fit_and_extract():
    with pytest.raises(ValueError, match="n_mfcc"):
        MFCCExtractor(0).fit()
    with pytest.raises(ValueError, match="level"):
        OpenSmileExtractor(level="frames").extract([])


# --- the scikit-learn checks that apply to a transformer of paths ----------

# scikit-learn's estimator checks feed numeric matrices, which an extractor
# cannot read: its tags say so (input_tags.two_d_array=False), and
# parametrize_with_checks then runs none of its data checks. tests/test_common.py
# still lists the extractors; the checks below are those that need no data.
CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_estimator_tags_renamed,
    check_valid_tag_types,
    check_mixin_order,
    check_do_not_raise_errors_in_init_or_set_params,
]
EXTRACTORS = [
    BaseExtractor(),
    MFCCExtractor(),
    LogMelExtractor(),
    OpenSmileExtractor(),
    SpeechEncoderExtractor("model"),
    TextEncoderExtractor("model"),
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("extractor", EXTRACTORS, ids=lambda e: type(e).__name__)
def test_extractor_passes_the_checks_that_need_no_data(extractor, check):
    check(type(extractor).__name__, extractor)


# --- kinds -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "cls", "params"),
    [
        ("mfcc", MFCCExtractor, {}),
        ("logmel", LogMelExtractor, {}),
        ("egemaps", OpenSmileExtractor, {"feature_set": "eGeMAPSv02"}),
        ("compare", OpenSmileExtractor, {"feature_set": "ComParE_2016"}),
        ("encoder:/m/wavlm", SpeechEncoderExtractor, {"path": "/m/wavlm"}),
        ("text:/m/bert", TextEncoderExtractor, {"path": "/m/bert"}),
    ],
)
def test_make_extractor_builds_each_kind(spec, cls, params):
    extractor = make_extractor(spec, cache="here")
    assert type(extractor) is cls and isinstance(extractor, BaseExtractor)
    assert extractor.kind == spec.partition(":")[0]
    assert extractor.get_params().items() >= {**params, "cache": "here"}.items()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("wav2vec", "unknown extractor kind 'wav2vec'.*egemaps, compare, mfcc"),
        ("encoder", "reads a model folder: write encoder:PATH"),
        ("mfcc:/x", "takes no folder"),
    ],
)
def test_make_extractor_refuses_a_bad_spec(spec, match):
    with pytest.raises(ValueError, match=match):
        make_extractor(spec)


def test_list_kinds_says_what_each_kind_needs():
    kinds = {k["kind"]: k for k in list_kinds()}
    assert set(kinds) == {"egemaps", "compare", "mfcc", "logmel", "encoder", "text"}
    assert kinds["mfcc"]["install"] == 'pip install "sklearn-mmer[audio]"'
    assert kinds["text"]["input"] == "text" and kinds["text"]["model_folder"]
    assert "non-commercial" in kinds["egemaps"]["description"]


def test_recipe_names_the_parameters_and_library_versions():
    import json

    recipe = MFCCExtractor(20).recipe()
    assert json.loads(json.dumps(recipe)) == recipe
    assert recipe["kind"] == "mfcc" and recipe["parameters"]["n_mfcc"] == 20
    assert {"soundfile", "soxr", "librosa"} <= set(recipe["versions"])
    assert "cache" not in recipe["parameters"]


def test_optional_libraries_are_imported_on_use_with_one_line_if_absent():
    import subprocess
    import sys

    # one interpreter for both checks: starting one takes seconds
    code = (
        "import sys\n"
        "import sklearn_mmer.extraction as e\n"
        "optional = ('soundfile', 'soxr', 'librosa', 'opensmile', 'transformers')\n"
        "print(sorted(m for m in optional if m in sys.modules))\n"
        "sys.modules['librosa'] = None\n"
        "try:\n"
        "    e.MFCCExtractor().fit()\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        "[]",
        "the 'mfcc' extractor needs the 'librosa' package: "
        'pip install "sklearn-mmer[audio]"',
    ]


def test_a_pipeline_runs_from_recordings_under_cross_validation(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from sklearn_mmer.fusion import make_modality_pipeline

    rows, rng = [], np.random.default_rng(0)
    for speaker in range(4):
        for i, (emotion, frequency) in enumerate(
            [("low", 150.0), ("high", 1500.0)] * 2
        ):
            name = f"s{speaker}_{i}.wav"
            tone = _tone(0.3, 16000, frequency * (1 + 0.05 * speaker))
            tone += rng.normal(0, 0.01, len(tone)).astype(np.float32)
            _write(tmp_path, name, tone, 16000)
            rows.append({"file": name, "speaker": f"s{speaker}", "emotion": emotion})
    table = pd.DataFrame(rows)
    model = make_pipeline(
        LogMelExtractor(root=tmp_path, name="acoustic"),
        make_modality_pipeline("acoustic", classifier=LogisticRegression()),
    )
    scores = cross_val_score(
        model,
        table[["file", "speaker"]],
        table["emotion"],
        groups=table["speaker"],
        cv=GroupKFold(2),
    )
    # a low and a high tone are told apart for speakers never seen in training
    assert scores.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("spec", ["mfcc", "logmel", "egemaps", "compare"])
def test_the_recipe_parameters_rebuild_the_extractor(spec):
    extractor = make_extractor(spec)
    again = make_extractor(spec, **extractor.recipe()["parameters"])
    assert again.get_params() == extractor.get_params()


def test_make_extractor_refuses_a_feature_set_other_than_its_kind():
    with pytest.raises(ValueError, match="'egemaps' extractor is openSMILE's eGe"):
        make_extractor("egemaps", feature_set="ComParE_2016")
