"""Spectral frames computed with librosa: MFCCs and log-mel energies."""

from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval
from ._audio import MIN_DURATION, ExtractionError, read_audio, require
from ._base import BaseExtractor

_AUDIO_DISTRIBUTIONS = ("soundfile", "soxr", "librosa", "numpy")


class _SpectralExtractor(BaseExtractor):
    """Frames of a mel spectrogram; subclasses turn it into their features."""

    input_kind = "audio"
    _modules = ("soundfile", "soxr", "librosa")
    _extras = "audio"
    _distributions = _AUDIO_DISTRIBUTIONS

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "sampling_rate": [Interval(Integral, 1000, None, closed="left")],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "window_seconds": [Interval(Real, 0, None, closed="neither")],
        "hop_seconds": [Interval(Real, 0, None, closed="neither")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "min_duration": [Interval(Real, 0, None, closed="left")],
    }

    def _frame_sizes(self):
        window = int(round(self.window_seconds * self.sampling_rate))
        hop = int(round(self.hop_seconds * self.sampling_rate))
        if window < 2 or hop < 1:
            raise ValueError(
                f"window_seconds={self.window_seconds} and hop_seconds="
                f"{self.hop_seconds} give fewer than 2 (1) samples at "
                f"sampling_rate={self.sampling_rate}"
            )
        n_fft = 1 << (window - 1).bit_length()
        return window, hop, n_fft

    def _recipe_parameters(self):
        return {
            "sampling_rate": int(self.sampling_rate),
            "n_mels": int(self.n_mels),
            "window_seconds": float(self.window_seconds),
            "hop_seconds": float(self.hop_seconds),
            "fmin": float(self.fmin),
            "fmax": None if self.fmax is None else float(self.fmax),
        }

    def _mel_power(self, samples):
        import librosa

        window, hop, n_fft = self._frame_sizes()
        return librosa.feature.melspectrogram(
            y=samples,
            sr=self.sampling_rate,
            n_fft=n_fft,
            win_length=window,
            hop_length=hop,
            window="hann",
            center=True,
            power=2.0,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
        )

    def _extract_batch(self, items):
        results = []
        for path in items:
            try:
                samples = read_audio(
                    path, self.sampling_rate, min_duration=self.min_duration
                )
                results.append(self._frames(samples))
            except ExtractionError as error:
                results.append(error)
        return results


class MFCCExtractor(_SpectralExtractor):
    """Mel-frequency cepstral coefficients of each recording, frame by frame.

    Recordings are read with :func:`read_audio` (mono, resampled to
    ``sampling_rate``), cut into Hann windows of 25 ms every 10 ms (centred:
    a recording of ``n`` samples gives ``1 + n // hop`` frames), and each
    window's power spectrum is mapped to ``n_mels`` mel bands, put on a dB
    scale (floored 80 dB below the recording's peak) and turned into
    ``n_mfcc`` coefficients (DCT-II, orthonormal), as ``librosa.feature.mfcc``
    does.

    Parameters
    ----------
    n_mfcc : int, default=13
        Coefficients per frame (the 0th, the log energy, included).
    sampling_rate : int, default=16000
        The rate recordings are resampled to, in Hz.
    n_mels : int, default=40
        Mel bands the coefficients are computed from.
    window_seconds : float, default=0.025
        The window length (the FFT size is the next power of two).
    hop_seconds : float, default=0.010
        The step between frames.
    fmin : float, default=0.0
        The lowest frequency of the mel bands, in Hz.
    fmax : float, default=None
        The highest frequency of the mel bands (half the rate when None).
    min_duration : float, default=0.1
        Shorter recordings are refused (``reason="too short"``).
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``name`` defaults to ``"mfcc"``.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time.
    n_features_out_ : int
        ``n_mfcc``.

    See Also
    --------
    LogMelExtractor : The log-mel energies the coefficients are made from.
    sklearn_mmer.preprocessing.TemporalPooling : Pools the frames per utterance.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd, soundfile
    >>> from sklearn_mmer.extraction import MFCCExtractor
    >>> folder = tempfile.mkdtemp()
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> soundfile.write(os.path.join(folder, "a.wav"), tone, 16000)
    >>> X = pd.DataFrame({"file": ["a.wav"], "speaker": ["s1"]})
    >>> cells = MFCCExtractor(root=folder).fit_transform(X)
    >>> list(cells.columns), cells["mfcc"].iloc[0].shape
    (['mfcc', 'speaker'], (101, 13))
    """

    kind = "mfcc"
    _parameter_constraints = {
        **_SpectralExtractor._parameter_constraints,
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_mfcc=13,
        *,
        sampling_rate=16000,
        n_mels=40,
        window_seconds=0.025,
        hop_seconds=0.010,
        fmin=0.0,
        fmax=None,
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
        self.n_mfcc = n_mfcc
        self.sampling_rate = sampling_rate
        self.n_mels = n_mels
        self.window_seconds = window_seconds
        self.hop_seconds = hop_seconds
        self.fmin = fmin
        self.fmax = fmax
        self.min_duration = min_duration

    def _recipe_parameters(self):
        return {"n_mfcc": int(self.n_mfcc), **super()._recipe_parameters()}

    def _n_features_out(self):
        return int(self.n_mfcc)

    def _frames(self, samples):
        import librosa

        log_mel = librosa.power_to_db(self._mel_power(samples), ref=1.0, amin=1e-10)
        mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=self.n_mfcc, norm="ortho")
        return np.ascontiguousarray(mfcc.T, dtype=np.float32)


class LogMelExtractor(_SpectralExtractor):
    """Log-mel energies of each recording, frame by frame.

    Recordings are read with :func:`read_audio` (mono, resampled to
    ``sampling_rate``), cut into Hann windows of 25 ms every 10 ms (centred:
    ``1 + n // hop`` frames), and each window's power spectrum is summed into
    ``n_mels`` mel bands (Slaney's mel scale, as librosa's default) and put on
    a dB scale: ``10 * log10(max(power, 1e-10))``, with no reference level
    and no clipping of the range.

    Parameters
    ----------
    n_mels : int, default=40
        Mel bands per frame.
    sampling_rate : int, default=16000
        The rate recordings are resampled to, in Hz.
    window_seconds : float, default=0.025
        The window length (the FFT size is the next power of two).
    hop_seconds : float, default=0.010
        The step between frames.
    fmin : float, default=0.0
        The lowest frequency of the mel bands, in Hz.
    fmax : float, default=None
        The highest frequency of the mel bands (half the rate when None).
    min_duration : float, default=0.1
        Shorter recordings are refused (``reason="too short"``).
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``name`` defaults to ``"logmel"``.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time.
    n_features_out_ : int
        ``n_mels``.

    See Also
    --------
    MFCCExtractor : Cepstral coefficients of the same energies.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile
    >>> from sklearn_mmer.extraction import LogMelExtractor
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> soundfile.write(path, np.random.default_rng(0).normal(0, .1, 8000), 16000)
    >>> frames, = LogMelExtractor().extract([path])
    >>> frames.shape, frames.dtype
    ((51, 40), dtype('float32'))
    """

    kind = "logmel"

    def __init__(
        self,
        n_mels=40,
        *,
        sampling_rate=16000,
        window_seconds=0.025,
        hop_seconds=0.010,
        fmin=0.0,
        fmax=None,
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
        self.n_mels = n_mels
        self.sampling_rate = sampling_rate
        self.window_seconds = window_seconds
        self.hop_seconds = hop_seconds
        self.fmin = fmin
        self.fmax = fmax
        self.min_duration = min_duration

    def _n_features_out(self):
        return int(self.n_mels)

    def _frames(self, samples):
        import librosa

        log_mel = librosa.power_to_db(
            self._mel_power(samples), ref=1.0, amin=1e-10, top_db=None
        )
        return np.ascontiguousarray(log_mel.T, dtype=np.float32)


def compile_kernels():
    """Compile librosa's kernels into numba's cache, through every spectral kind.

    librosa compiles its numba kernels when its modules are first imported
    (about 11 s of CPU on a small machine) and keeps them in numba's cache
    (``__pycache__`` beside them). Until the cache holds them, every process
    that extracts spectral frames compiles them again: each worker of a first
    parallel extraction, each process of a first test run. The setup scripts
    call this once, beside the pooling kernels' ``compile_kernels``, so that
    no run pays it. It computes one recording's frames with each spectral
    extractor (the path every extraction takes after reading the audio), so
    that it compiles what extraction uses.
    """
    require(_SpectralExtractor._modules, _SpectralExtractor._extras, "compile_kernels")
    samples = np.zeros(1600, dtype=np.float32)
    for kind in _SpectralExtractor.__subclasses__():
        kind()._frames(samples)
