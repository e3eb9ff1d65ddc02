"""Frames of pretrained transformers encoders read from a local folder."""

import os
from numbers import Integral, Real

from ..utils._sklearn_compat import Interval, StrOptions
from ._audio import MIN_DURATION
from ._base import BaseExtractor

_ENCODER_CONSTRAINTS = {
    **BaseExtractor._parameter_constraints,
    "path": [str, os.PathLike],
    "layer": [Integral, StrOptions({"all"})],
    "dtype": [StrOptions({"float32", "float16"})],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "allow_download": ["boolean"],
}


class SpeechEncoderExtractor(BaseExtractor):
    """Frames of a transformers speech encoder from a local folder.

    Work in progress: the parameters are final, extraction lands next.

    Parameters
    ----------
    path : str or path-like
        The model folder (``save_pretrained``'s output).
    layer : int or "all", default=-1
        The hidden layer whose frames are returned (0 is the input to the
        first transformer layer, -1 the last), or ``"all"`` for every layer
        stacked ``(L, T, D)``.
    dtype : {"float32", "float16"}, default="float32"
        The type of the frames returned.
    batch_size : int, default=8
        Recordings per forward pass.
    chunk_seconds : float, default=30
        Longer recordings are encoded in chunks of this length.
    allow_download : bool, default=False
        Whether a hub name may be downloaded.
    min_duration : float, default=0.1
        Shorter recordings are refused (``reason="too short"``).
    column, name, root, cache, device
        As in :class:`BaseExtractor`.

    See Also
    --------
    TextEncoderExtractor : Token vectors of a text encoder.

    Examples
    --------
    >>> from sklearn_mmer.extraction import SpeechEncoderExtractor
    >>> SpeechEncoderExtractor("/models/wavlm-base-plus", layer="all")
    SpeechEncoderExtractor(layer='all', path='/models/wavlm-base-plus')
    """

    kind = "encoder"
    input_kind = "audio"
    _parameter_constraints = {
        **_ENCODER_CONSTRAINTS,
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


class TextEncoderExtractor(BaseExtractor):
    """Token vectors of a transformers text encoder from a local folder.

    Work in progress: the parameters are final, extraction lands next.

    Parameters
    ----------
    path : str or path-like
        The model folder (``save_pretrained``'s output).
    layer : int or "all", default=-1
        The hidden layer returned, or ``"all"`` stacked ``(L, T, D)``.
    dtype : {"float32", "float16"}, default="float32"
        The type of the vectors returned.
    batch_size : int, default=32
        Texts per forward pass.
    max_length : int, default=512
        Longer texts are cut to this many tokens.
    allow_download : bool, default=False
        Whether a hub name may be downloaded.
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``column`` defaults to ``"text"``.

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
    _parameter_constraints = {
        **_ENCODER_CONSTRAINTS,
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
