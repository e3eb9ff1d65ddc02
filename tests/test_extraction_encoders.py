"""Encoders from local folders, on tiny random models the tests save; the cache.

The models are randomly initialised and saved with ``save_pretrained`` to a
temporary folder, so that the real loading code runs with no download.
"""

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer.extraction import (
    ExtractionError,
    MFCCExtractor,
    OpenSmileExtractor,
    SpeechEncoderExtractor,
    TextEncoderExtractor,
    make_extractor,
    read_audio,
)

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("soxr")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "am", "so", "happy"]
WORDS += ["sad", "today", "the", "cat", "is", "not", "here"]


def _frames(n_samples):
    """Output frames of the tiny wav2vec 2.0 below (kernels 10, 3; strides 5, 2)."""
    return ((n_samples - 10) // 5 + 1 - 3) // 2 + 1


def _wav2vec(folder, norm):
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        conv_dim=(8, 8),
        conv_kernel=(10, 3),
        conv_stride=(5, 2),
        feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer",
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    transformers.Wav2Vec2Model(config).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, do_normalize=True, return_attention_mask=norm == "layer"
    ).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def wav2vec(tmp_path_factory):
    """A tiny wav2vec 2.0 whose padding with a mask is exact (layer norms)."""
    return _wav2vec(tmp_path_factory.mktemp("wav2vec"), "layer")


@pytest.fixture(scope="module")
def wav2vec_base(tmp_path_factory):
    """A tiny wav2vec 2.0 "base": a group norm over the padded input."""
    return _wav2vec(tmp_path_factory.mktemp("wav2vec_base"), "group")


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    """A tiny BERT with a tokenizer built from a vocabulary file."""
    folder = tmp_path_factory.mktemp("bert")
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    if int(transformers.__version__.split(".")[0]) >= 5:
        vocab = (folder / "vocab.txt").read_text().split()
        tokenizer = transformers.BertTokenizer(
            vocab={w: i for i, w in enumerate(vocab)}
        )
    else:
        tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=20,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """Recordings of different lengths (noise and tones) at 16 and 8 kHz."""
    folder = tmp_path_factory.mktemp("speech")
    rng = np.random.default_rng(0)
    names = []
    for i, seconds in enumerate([0.3, 0.8, 0.5, 1.1, 0.2]):
        n = int(seconds * 16000)
        t = np.arange(n) / 16000
        samples = 0.3 * np.sin(2 * np.pi * (200 + 100 * i) * t) + rng.normal(0, 0.05, n)
        names.append(f"u{i}.wav")
        soundfile.write(folder / names[-1], samples.astype(np.float32), 16000)
    return folder, names


def test_speech_encoder_gives_the_frames_of_its_last_layer(wav2vec, speech):
    folder, names = speech
    extractor = SpeechEncoderExtractor(wav2vec, root=folder).fit()
    assert extractor.n_features_out_ == 32
    for name, frames in zip(names, extractor.extract(names)):
        n = len(soundfile.read(folder / name)[0])
        assert frames.shape == (_frames(n), 32) and frames.dtype == np.float32


@pytest.mark.parametrize("model", ["wav2vec", "wav2vec_base"])
def test_batched_output_equals_one_at_a_time(model, speech, request):
    folder, names = speech
    model = request.getfixturevalue(model)
    batched = SpeechEncoderExtractor(model, root=folder, batch_size=4).extract(names)
    single = SpeechEncoderExtractor(model, root=folder, batch_size=1).extract(names)
    for one, other in zip(batched, single):
        np.testing.assert_allclose(one, other, atol=1e-4)


def test_every_layer_stacked_and_float16_on_request(wav2vec, speech):
    folder, names = speech
    every = SpeechEncoderExtractor(wav2vec, root=folder, layer="all", dtype="float16")
    last = SpeechEncoderExtractor(wav2vec, root=folder)
    (stacked,), (frames,) = every.extract(names[:1]), last.extract(names[:1])
    assert stacked.shape == (3, *frames.shape) and stacked.dtype == np.float16
    np.testing.assert_allclose(stacked[-1], frames, atol=1e-2)


def test_long_recordings_are_encoded_in_chunks(wav2vec, speech):
    folder, names = speech
    n = len(soundfile.read(folder / names[3])[0])  # 1.1 s: 3 chunks of 0.4 s
    (frames,) = SpeechEncoderExtractor(wav2vec, root=folder, chunk_seconds=0.4).extract(
        names[3:4]
    )
    sizes = [len(part) for part in np.array_split(np.zeros(n), 3)]
    assert frames.shape == (sum(_frames(s) for s in sizes), 32)


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    """A tiny Whisper: its encoder takes 30 s of log-mel frames, padded."""
    folder = tmp_path_factory.mktemp("whisper")
    torch.manual_seed(0)
    config = transformers.WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=16,
        decoder_ffn_dim=16,
        d_model=16,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )
    transformers.WhisperModel(config).save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


def test_whisper_encoder_frames_are_cut_to_the_recording(whisper, speech):
    folder, names = speech
    batched = SpeechEncoderExtractor(whisper, root=folder, layer="all").extract(names)
    single = SpeechEncoderExtractor(whisper, root=folder, batch_size=1, layer="all")
    for name, one, other in zip(names, batched, single.extract(names)):
        n = len(soundfile.read(folder / name)[0])
        # one frame per 20 ms: two 10 ms mel frames per encoder frame
        assert one.shape == (2, (n // 160 + 1) // 2, 16)
        np.testing.assert_allclose(one, other, atol=1e-4)


def test_a_bad_recording_among_good_ones_is_reported_in_place(wav2vec, speech):
    folder, names = speech
    results = SpeechEncoderExtractor(wav2vec, root=folder).extract(
        [names[0], "absent.wav", names[1]]
    )
    assert isinstance(results[1], ExtractionError) and results[1].reason == "missing"
    assert results[0].shape[1] == results[2].shape[1] == 32


def test_a_name_without_a_local_folder_is_one_clear_error(tmp_path):
    extractor = make_extractor("encoder:microsoft/wavlm-base-plus")
    with pytest.raises(ValueError, match="no model folder at 'microsoft/wavlm") as e:
        extractor.fit()
    assert "allow_download=True" in str(e.value) and "\n" not in str(e.value)


def test_the_recipe_holds_the_model_folder_fingerprint(wav2vec, tmp_path):
    copy = shutil.copytree(wav2vec, tmp_path / "copy")
    recipe = SpeechEncoderExtractor(wav2vec, layer=1).recipe()
    assert recipe["parameters"]["layer"] == 1 and "transformers" in recipe["versions"]
    assert (
        SpeechEncoderExtractor(copy).recipe()["model_fingerprint"]
        == (recipe["model_fingerprint"])
    )
    config = (
        (copy / "config.json")
        .read_text()
        .replace('"layer_norm_eps": 1e-05', '"layer_norm_eps": 1e-06')
    )
    (copy / "config.json").write_text(config)
    assert (
        SpeechEncoderExtractor(copy).recipe()["model_fingerprint"]
        != (recipe["model_fingerprint"])
    )


@pytest.mark.parametrize("kind", ["encoder", "text"])
def test_the_recipe_parameters_rebuild_the_encoder(kind, wav2vec, bert):
    folder = wav2vec if kind == "encoder" else bert
    extractor = make_extractor(f"{kind}:{folder}", layer=1, dtype="float16")
    again = make_extractor(f"{kind}:{folder}", **extractor.recipe()["parameters"])
    assert again.get_params() == extractor.get_params()
    assert again.recipe() == extractor.recipe()


def test_text_encoder_gives_a_vector_per_token(bert):
    texts = pd.DataFrame(
        {"text": ["i am so happy today", "sad", "the cat is not here"], "speaker": "a"}
    )
    cells = TextEncoderExtractor(bert).fit_transform(texts)
    assert list(cells.columns) == ["text", "speaker"]
    # [CLS] and [SEP] around the words
    assert [c.shape for c in cells["text"]] == [(7, 16), (3, 16), (7, 16)]


def test_text_batched_equals_one_at_a_time_and_layers(bert):
    texts = ["i am so happy today", "sad", "the cat is not here", "i am"]
    batched = TextEncoderExtractor(bert, batch_size=4, layer="all").extract(texts)
    single = TextEncoderExtractor(bert, batch_size=1, layer="all").extract(texts)
    for one, other in zip(batched, single):
        assert one.shape[0] == 3
        np.testing.assert_allclose(one, other, atol=1e-4)


def test_an_empty_text_is_reported(bert):
    results = TextEncoderExtractor(bert).extract(["i am", "  "])
    assert results[1].reason == "empty" and results[0].shape == (4, 16)


# --- the cache -----------------------------------------------------------------


class _Counting(MFCCExtractor):
    """MFCCs that count the recordings they compute."""

    computed = 0

    def _extract_batch(self, items):
        type(self).computed += len(items)
        return super()._extract_batch(items)


def test_a_second_transform_is_served_from_the_cache(speech, tmp_path):
    folder, names = speech
    X = pd.DataFrame({"file": names, "speaker": "a"})
    _Counting.computed = 0
    first = _Counting(root=folder, cache=tmp_path).fit_transform(X)
    assert _Counting.computed == len(names)
    again = _Counting(root=folder, cache=tmp_path).fit_transform(X)
    assert _Counting.computed == len(names)
    for one, other in zip(first["mfcc"], again["mfcc"]):
        np.testing.assert_array_equal(one, other)
    # another parameter is another recipe: a miss
    _Counting(20, root=folder, cache=tmp_path).fit_transform(X)
    assert _Counting.computed == 2 * len(names)


def test_the_cache_is_keyed_by_content_not_by_path(speech, tmp_path):
    folder, names = speech
    shutil.copy(folder / names[0], tmp_path / "renamed.wav")
    _Counting.computed = 0
    _Counting(root=folder, cache=tmp_path / "cache").extract(names[:1])
    _Counting(cache=tmp_path / "cache").extract([tmp_path / "renamed.wav"])
    assert _Counting.computed == 1
    stored = [f for _, _, files in os.walk(tmp_path / "cache") for f in files]
    assert len(stored) == 1 and stored[0].endswith(".npy")


def test_the_cache_serves_encoders_and_texts(wav2vec, bert, speech, tmp_path):
    folder, names = speech
    speech_first = SpeechEncoderExtractor(wav2vec, root=folder, cache=tmp_path)
    text_first = TextEncoderExtractor(bert, cache=tmp_path)
    a, t = speech_first.extract(names[:2]), text_first.extract(["i am so sad"])
    b = SpeechEncoderExtractor(wav2vec, root=folder, cache=tmp_path).extract(names[:2])
    u = TextEncoderExtractor(bert, cache=tmp_path).extract(["i am so sad"])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(t[0], u[0])
    stored = [f for _, _, files in os.walk(tmp_path) for f in files]
    assert len(stored) == 3


# --- openSMILE ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "level", "width"),
    [("egemaps", "lld", 25), ("compare", "lld", 65), ("egemaps", "functionals", 88)],
)
def test_opensmile_descriptors_have_their_documented_width(speech, spec, level, width):
    pytest.importorskip("opensmile")
    folder, names = speech
    extractor = make_extractor(spec, level=level, root=folder).fit()
    (frames,) = extractor.extract(names[1:2])  # 0.8 s
    assert extractor.n_features_out_ == width and frames.dtype == np.float32
    assert frames.shape[1] == width
    assert frames.shape[0] == (
        1 if level == "functionals" else pytest.approx(78, abs=3)
    )
    assert isinstance(extractor, OpenSmileExtractor)


# --- speech -------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None,
    reason="espeak-ng is not installed (apt-get install espeak-ng)",
)
def test_a_spoken_sentence_is_extracted(tmp_path, wav2vec):
    path = tmp_path / "sentence.wav"
    subprocess.run(
        ["espeak-ng", "-w", str(path), "I am so happy to see you today"], check=True
    )
    table = pd.DataFrame({"file": [path.name], "speaker": ["espeak"]})
    n = len(read_audio(path, 16000))
    assert 1.0 < n / 16000 < 5.0  # a sentence of about 2 s
    mfcc = MFCCExtractor(root=tmp_path).fit_transform(table)["mfcc"].iloc[0]
    assert mfcc.shape == (1 + n // 160, 13) and np.isfinite(mfcc).all()
    encoder = SpeechEncoderExtractor(wav2vec, root=tmp_path)
    frames = encoder.fit_transform(table)["encoder"].iloc[0]
    assert frames.shape == (_frames(n), 32) and np.isfinite(frames).all()
