"""Audio in: uploaded recordings and a live stream, extracted as at fit time.

A model fit on a corpus of ``mmer extract`` keeps the corpus's extraction
recipe in its file's manifest (``recipe``: per modality its ``name``, ``spec``,
``params`` and the extractor's ``recipe()``). :class:`AudioFeatures` rebuilds
those extractors once, with :func:`sklearn_mmer.extraction.make_extractor`,
checks that they still give the recorded features, and extracts recordings
through their public ``extract``; :class:`StreamWindow` keeps the last window
of a live stream and says when a hop has passed.
"""

import os
import tempfile

import numpy as np

from ..extraction import ExtractionError, make_extractor

#: The stream's sampling rate: 16 kHz mono, as the recipes' extractors read.
STREAM_RATE = 16_000
#: What a stream's binary messages may hold: 16-bit PCM or 32-bit floats.
ENCODINGS = {"s16": np.dtype("<i2"), "f32": np.dtype("<f4")}


class NoRecipe(Exception):
    """The model keeps no extraction recipe, so it cannot read audio."""


class AudioFeatures:
    """The audio modalities of a recipe, extracted as at fit time.

    Parameters
    ----------
    recipe : dict or None
        The manifest's ``recipe``.
    modalities : list of str
        The model's modalities.
    device : str or None
        Where encoders run.
    """

    def __init__(self, recipe, modalities, *, device=None):
        self.extractors = []
        self.reason = None
        if not recipe:
            self.reason = (
                "the model keeps no extraction recipe (it was fit on features, not "
                "on a corpus of 'mmer extract'): POST its features to /predict"
            )
            return
        for entry in recipe.get("features", []):
            if entry.get("name") not in modalities:
                continue
            if entry.get("recipe", {}).get("input_kind") != "audio":
                continue
            extractor = make_extractor(
                entry["spec"], **entry.get("params", {}), device=device or "cpu"
            )
            now, then = extractor.recipe(), entry.get("recipe", {})
            if now.get("model_fingerprint") != then.get("model_fingerprint") or (
                now.get("parameters") != then.get("parameters")
            ):
                raise ValueError(
                    f"the recipe's features {entry['name']!r} can no longer be "
                    f"extracted as at fit time ({entry['spec']} now gives "
                    f"{now.get('parameters')}, fingerprint "
                    f"{now.get('model_fingerprint')}): extract again and refit"
                )
            self.extractors.append((entry["name"], extractor))
        if not self.extractors:
            self.reason = "the model's extraction recipe reads no audio modality"

    def check(self):
        """Raise NoRecipe (naming why) when this model cannot read audio."""
        if self.reason:
            raise NoRecipe(self.reason)

    def extract(self, paths, names):
        """``{modality: cell}`` per recording, or the ExtractionError of the
        first recording that failed (named as ``names`` says)."""
        rows = [{} for _ in paths]
        for modality, extractor in self.extractors:
            for k, frames in enumerate(extractor.extract(paths)):
                if isinstance(frames, ExtractionError):
                    raise ExtractionError(names[k], frames.reason, frames.detail)
                rows[k][modality] = frames
        return rows

    def extract_samples(self, samples):
        """``{modality: cell}`` of 16 kHz float samples (one stream window)."""
        import soundfile

        handle, path = tempfile.mkstemp(suffix=".wav", prefix="mmer-stream-")
        os.close(handle)
        try:
            soundfile.write(path, samples, STREAM_RATE, subtype="FLOAT")
            return self.extract([path], ["the stream's window"])[0]
        finally:
            os.unlink(path)


class StreamWindow:
    """The last ``window`` seconds of a stream, and the hops that have ended.

    Parameters
    ----------
    hop_seconds, window_seconds : float
        An answer per hop, over the last window.
    encoding : {"s16", "f32"}
        What the binary messages hold.
    """

    def __init__(self, hop_seconds, window_seconds, encoding="s16"):
        self.hop = max(1, int(round(hop_seconds * STREAM_RATE)))
        self.window = max(self.hop, int(round(window_seconds * STREAM_RATE)))
        self.dtype = ENCODINGS[encoding]
        self.samples = np.zeros(0, dtype=np.float32)
        self.received = 0  # samples since the start
        self._partial = b""

    def add(self, chunk):
        """Add a message's bytes; returns ``(start, end, samples)`` per hop it
        ended (start and end in seconds from the stream's start)."""
        data = self._partial + bytes(chunk)
        usable = len(data) - len(data) % self.dtype.itemsize
        self._partial = data[usable:]
        new = np.frombuffer(data[:usable], dtype=self.dtype).astype(np.float32)
        if self.dtype.kind == "i":
            new /= 32768.0
        ended, position = [], 0
        while position < len(new):
            # up to the next hop's end, so that a long message ends each hop
            piece = new[position : position + self.hop - self.received % self.hop]
            position += len(piece)
            self.samples = np.concatenate([self.samples, piece])[-self.window :]
            self.received += len(piece)
            if self.received % self.hop == 0:
                end = self.received
                start = max(0, end - self.window)
                window = self.samples[len(self.samples) - (end - start) :].copy()
                ended.append((start / STREAM_RATE, end / STREAM_RATE, window))
        return ended
