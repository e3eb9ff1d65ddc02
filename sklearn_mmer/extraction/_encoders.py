"""Frames of pretrained transformers encoders read from a local folder.

The model folders are what ``save_pretrained`` (or ``huggingface-cli
download``) writes: a ``config.json``, the weights, and the feature extractor's
or tokenizer's files. Nothing is downloaded unless ``allow_download=True``.
Loaded models are kept per process (keyed by the folder's fingerprint), not
on the extractor, so that an extractor stays small to pickle and clone.
"""

import hashlib
import math
import os
from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions
from ._audio import MIN_DURATION, ExtractionError, read_audio
from ._base import BaseExtractor

_CONSTRAINTS = {
    **BaseExtractor._parameter_constraints,
    "path": [str, os.PathLike],
    "layer": [Integral, StrOptions({"all"})],
    "dtype": [StrOptions({"float32", "float16"})],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "allow_download": ["boolean"],
}

# folders whose files are not the model's (git's, the hub's download cache)
_SKIPPED = {".git", ".cache", ".huggingface"}

_FINGERPRINTS = {}  # (folder, files' names, sizes, times) -> sha256
_MODELS = {}  # (kind, fingerprint, device) -> (processor, model); the last two


def _model_folder(path, allow_download):
    """The local folder of ``path``: a folder, or (on request) a download."""
    folder = os.fspath(path)
    if os.path.isdir(folder):
        return os.path.abspath(folder)
    if not allow_download:
        raise ValueError(
            f"no model folder at {folder!r}: point PATH at a local folder holding "
            "the model (config.json and weights, as save_pretrained or "
            "'huggingface-cli download NAME --local-dir FOLDER' writes them), or "
            "pass allow_download=True to download it from the Hugging Face hub"
        )
    from huggingface_hub import snapshot_download

    return snapshot_download(
        folder, ignore_patterns=["*.msgpack", "*.h5", "*.ot", "*.onnx", "onnx/*"]
    )


def folder_fingerprint(folder):
    """sha256 over the names and contents of the model folder's files.

    Computed once per process for a folder whose files (names, sizes and
    modification times) have not changed.
    """
    files = []
    for top, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if f not in _SKIPPED)
        for name in sorted(names):
            if name.startswith(".") or name.lower().startswith("readme"):
                continue
            path = os.path.join(top, name)
            status = os.stat(path)
            files.append(
                (os.path.relpath(path, folder), status.st_size, status.st_mtime_ns)
            )
    key = (folder, tuple(files))
    if key not in _FINGERPRINTS:
        digest = hashlib.sha256()
        for relative, _, _ in files:
            digest.update(relative.replace(os.sep, "/").encode() + b"\0")
            with open(os.path.join(folder, relative), "rb") as file:
                for block in iter(lambda: file.read(1 << 20), b""):
                    digest.update(block)
        _FINGERPRINTS[key] = digest.hexdigest()
    return _FINGERPRINTS[key]


class _EncoderExtractor(BaseExtractor):
    """What the speech and text encoders share: the folder, the layer, the model."""

    _distributions = ("transformers", "tokenizers", "torch", "numpy")

    def _folder(self):
        return _model_folder(self.path, self.allow_download)

    def _model_fingerprint(self):
        return folder_fingerprint(self._folder())

    def _n_features_out(self):
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(self._folder(), local_files_only=True)
        config = getattr(config, "encoder", None) or config
        width = getattr(config, "hidden_size", None) or getattr(config, "d_model", None)
        return None if width is None else int(width)

    def _loaded(self):
        """``(processor, model)``, loaded once per folder content and device."""
        folder = self._folder()
        key = (self.kind, folder_fingerprint(folder), self.device)
        if key not in _MODELS:
            processor, model = self._load(folder)
            model.eval().to(self.device)
            while len(_MODELS) >= 2:
                _MODELS.pop(next(iter(_MODELS)))
            _MODELS[key] = processor, model
        return _MODELS[key]

    def _pick(self, hidden_states, index, length):
        """Item ``index``'s first ``length`` frames of the layer (or layers)."""
        if self.layer == "all":
            frames = np.stack(
                [h[index, :length].float().cpu().numpy() for h in hidden_states]
            )
        else:
            try:
                chosen = hidden_states[self.layer]
            except IndexError:
                raise ValueError(
                    f"layer={self.layer} is out of range: the model has "
                    f"{len(hidden_states)} hidden states (0 to "
                    f"{len(hidden_states) - 1}, or negative from the last)"
                ) from None
            frames = chosen[index, :length].float().cpu().numpy()
        return frames

    def _recipe_parameters(self):
        return {"layer": self.layer, "dtype": self.dtype}


class SpeechEncoderExtractor(_EncoderExtractor):
    """Frames of a transformers speech encoder from a local folder.

    Any speech encoder ``transformers`` loads with ``AutoFeatureExtractor``
    and ``AutoModel``: wav2vec 2.0, HuBERT, WavLM, data2vec-audio, and
    Whisper (whose encoder alone runs; its output, padded to 30 s, is cut to
    the recording's frames). Frames come every 20 ms for these models.

    Recordings are read with :func:`read_audio` at the feature extractor's
    rate, sorted by duration and encoded ``batch_size`` at a time with an
    attention mask; recordings longer than ``chunk_seconds`` are cut into
    equal chunks encoded apart, and their frames concatenated.

    Batched output equals one-at-a-time output (to float rounding, about
    1e-6) for the models whose feature encoder normalises each frame apart
    (``feat_extract_norm="layer"`` in their ``config.json``: wav2vec 2.0 large
    and XLS-R, HuBERT large, WavLM large), for data2vec-audio, and for
    Whisper (every input padded to 30 s anyway). The base wav2vec 2.0, HuBERT
    and WavLM models (``feat_extract_norm="group"``) normalise over the whole
    padded input, which would change their frames (by as much as the frames'
    own size, on a tiny random model): they are always encoded one recording
    at a time, whatever ``batch_size``.

    Parameters
    ----------
    path : str or path-like
        The model folder (``save_pretrained``'s output), or with
        ``allow_download=True`` a Hugging Face hub name.
    layer : int or "all", default=-1
        The hidden state returned: 0 is the input of the first transformer
        layer, -1 the output of the last; ``"all"`` stacks every one,
        ``(L + 1, T, D)``.
    dtype : {"float32", "float16"}, default="float32"
        The type of the frames returned (the model computes in float32).
    batch_size : int, default=8
        Recordings (or chunks) per forward pass.
    chunk_seconds : float, default=30.0
        Longer recordings are encoded in chunks of at most this length
        (Whisper's encoder takes at most 30 s).
    allow_download : bool, default=False
        Whether ``path`` may name a hub model to download.
    min_duration : float, default=0.1
        Shorter recordings are refused (``reason="too short"``).
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``name`` defaults to ``"encoder"``.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time, with the folder's ``model_fingerprint``.
    n_features_out_ : int
        The model's hidden size.

    See Also
    --------
    TextEncoderExtractor : Token vectors of a text encoder.
    MFCCExtractor : Spectral frames, with no model.

    Examples
    --------
    >>> from sklearn_mmer.extraction import SpeechEncoderExtractor
    >>> SpeechEncoderExtractor("/models/wavlm-base-plus", layer="all")
    SpeechEncoderExtractor(layer='all', path='/models/wavlm-base-plus')
    """

    kind = "encoder"
    input_kind = "audio"
    _modules = ("soundfile", "soxr", "torch", "transformers")
    _extras = "audio,encoders"
    _parameter_constraints = {
        **_CONSTRAINTS,
        "chunk_seconds": [Interval(Real, 0, None, closed="neither")],
        "min_duration": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        path,
        *,
        layer=-1,
        dtype="float32",
        batch_size=8,
        chunk_seconds=30.0,
        allow_download=False,
        min_duration=MIN_DURATION,
        column=None,
        name=None,
        root=None,
        cache=None,
        device="cpu",
    ):
        super().__init__(
            column=column, name=name, root=root, cache=cache, device=device
        )
        self.path = path
        self.layer = layer
        self.dtype = dtype
        self.batch_size = batch_size
        self.chunk_seconds = chunk_seconds
        self.allow_download = allow_download
        self.min_duration = min_duration

    def _recipe_parameters(self):
        return {**super()._recipe_parameters(), "chunk_seconds": self.chunk_seconds}

    def _load(self, folder):
        from transformers import AutoFeatureExtractor, AutoModel

        processor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
        model = AutoModel.from_pretrained(folder, local_files_only=True)
        if getattr(model.config, "model_type", "") == "whisper":
            model = model.get_encoder()
        return processor, model

    def _extract_batch(self, items):
        processor, model = self._loaded()
        rate = int(processor.sampling_rate)
        whisper = getattr(model.config, "model_type", "") == "whisper"
        chunk = int(self.chunk_seconds * rate)
        if whisper:
            chunk = min(chunk, int(processor.n_samples))
        results = [None] * len(items)
        pieces = []  # (item position, piece number, samples)
        for position, path in enumerate(items):
            try:
                samples = read_audio(path, rate, min_duration=self.min_duration)
            except ExtractionError as error:
                results[position] = error
                continue
            n_chunks = max(1, math.ceil(len(samples) / chunk))
            for number, part in enumerate(np.array_split(samples, n_chunks)):
                pieces.append((position, number, part))
        outputs = {}
        pieces.sort(key=lambda piece: len(piece[2]))
        # a group norm over the first convolution's whole output sees the
        # padding: such models (the base wav2vec 2.0, HuBERT and WavLM) are
        # given one recording at a time, so that batching never changes frames
        group_norm = getattr(model.config, "feat_extract_norm", None) == "group"
        size = 1 if group_norm else self.batch_size
        for start in range(0, len(pieces), size):
            batch = pieces[start : start + size]
            frames = self._encode(processor, model, [p[2] for p in batch], whisper)
            for (position, number, _), piece_frames in zip(batch, frames):
                outputs[position, number] = piece_frames
        for position in range(len(items)):
            if results[position] is None:
                parts = [
                    outputs[position, number]
                    for number in range(len(outputs))
                    if (position, number) in outputs
                ]
                joined = np.concatenate(parts, axis=-2)
                results[position] = np.ascontiguousarray(joined, dtype=self.dtype)
        return results

    def _encode(self, processor, model, batch, whisper):
        import torch

        if whisper:
            inputs = processor(
                batch, sampling_rate=processor.sampling_rate, return_tensors="pt"
            )
            values = inputs["input_features"].to(self.device)
            hop = int(processor.hop_length)
            with torch.inference_mode():
                hidden = model(values, output_hidden_states=True).hidden_states
            width = hidden[0].shape[1]
            lengths = [min(width, (len(x) // hop + 1) // 2) for x in batch]
        else:
            inputs = processor(
                batch,
                sampling_rate=processor.sampling_rate,
                return_tensors="pt",
                padding=True,
                return_attention_mask=True,
            )
            values = inputs["input_values"].to(self.device)
            mask = inputs["attention_mask"].to(self.device)
            with torch.inference_mode():
                hidden = model(
                    values, attention_mask=mask, output_hidden_states=True
                ).hidden_states
            lengths = model._get_feat_extract_output_lengths(mask.sum(-1)).tolist()
        return [self._pick(hidden, i, int(n)) for i, n in enumerate(lengths)]


class TextEncoderExtractor(_EncoderExtractor):
    """Token vectors of a transformers text encoder from a local folder.

    Any encoder ``transformers`` loads with ``AutoTokenizer`` and
    ``AutoModel`` (BERT, RoBERTa, MiniLM and the sentence-transformers models
    saved in that form). Each text gives one vector per token, the special
    tokens (``[CLS]``, ``[SEP]``) included; texts are sorted by length and
    encoded ``batch_size`` at a time with an attention mask, and cut to
    ``max_length`` tokens.

    Parameters
    ----------
    path : str or path-like
        The model folder (``save_pretrained``'s output), or with
        ``allow_download=True`` a Hugging Face hub name.
    layer : int or "all", default=-1
        The hidden state returned (0 the embeddings, -1 the last layer), or
        ``"all"`` stacked ``(L + 1, T, D)``.
    dtype : {"float32", "float16"}, default="float32"
        The type of the vectors returned (the model computes in float32).
    batch_size : int, default=32
        Texts per forward pass.
    max_length : int, default=512
        Longer texts are cut to this many tokens.
    allow_download : bool, default=False
        Whether ``path`` may name a hub model to download.
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``column`` defaults to ``"text"`` and
        ``name`` to ``"text"``; ``root`` is unused.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time, with the folder's ``model_fingerprint``.
    n_features_out_ : int
        The model's hidden size.

    See Also
    --------
    SpeechEncoderExtractor : Frames of a speech encoder.

    Examples
    --------
    >>> from sklearn_mmer.extraction import TextEncoderExtractor
    >>> TextEncoderExtractor("/models/all-MiniLM-L6-v2")
    TextEncoderExtractor(path='/models/all-MiniLM-L6-v2')
    """

    kind = "text"
    input_kind = "text"
    _modules = ("torch", "transformers")
    _extras = "encoders"
    _parameter_constraints = {
        **_CONSTRAINTS,
        "max_length": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        path,
        *,
        layer=-1,
        dtype="float32",
        batch_size=32,
        max_length=512,
        allow_download=False,
        column=None,
        name=None,
        root=None,
        cache=None,
        device="cpu",
    ):
        super().__init__(
            column=column, name=name, root=root, cache=cache, device=device
        )
        self.path = path
        self.layer = layer
        self.dtype = dtype
        self.batch_size = batch_size
        self.max_length = max_length
        self.allow_download = allow_download

    def _recipe_parameters(self):
        return {**super()._recipe_parameters(), "max_length": self.max_length}

    def _load(self, folder):
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModel.from_pretrained(folder, local_files_only=True)
        return tokenizer, model

    def _extract_batch(self, items):
        import torch

        tokenizer, model = self._loaded()
        results = [None] * len(items)
        todo = []
        for position, text in enumerate(items):
            if not text.strip():
                results[position] = ExtractionError(text, "empty", "no words")
            else:
                todo.append(position)
        todo.sort(key=lambda position: len(items[position]))
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            inputs = tokenizer(
                [items[p] for p in batch],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            with torch.inference_mode():
                hidden = model(**inputs, output_hidden_states=True).hidden_states
            lengths = inputs["attention_mask"].sum(-1).tolist()
            for i, position in enumerate(batch):
                frames = self._pick(hidden, i, int(lengths[i]))
                results[position] = np.ascontiguousarray(frames, dtype=self.dtype)
        return results
