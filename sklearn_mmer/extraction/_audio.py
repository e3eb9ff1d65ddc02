"""Reading recordings, the error a bad item raises, and the optional libraries.

Every audio extractor reads its files through :func:`read_audio`, so that
every kind refuses the same bad recordings for the same reasons, and every
optional library is imported through :func:`require`, so that a missing extra
is one line naming the pip command.
"""

import importlib
import importlib.metadata
import os

import numpy as np

#: A recording whose peak amplitude is below this (-80 dBFS, on samples scaled
#: to [-1, 1]) is silent: no extractor can say anything about its emotion.
SILENCE_PEAK = 1e-4

#: The shortest recording an extractor accepts, in seconds: below a tenth of a
#: second there are too few 10 ms frames for any statistic.
MIN_DURATION = 0.1

#: Why an item could not be extracted: the ``reason`` of :class:`ExtractionError`.
REASONS = ("missing", "unreadable", "empty", "silent", "too short")

#: The pip command that installs each extra.
PIP = 'pip install "sklearn-mmer[{}]"'


class ExtractionError(ValueError):
    """An item (a recording, a text) from which no features can be extracted.

    Parameters
    ----------
    item : str
        The item: the path of the file as given, or the text.
    reason : str
        Why, in a few words: ``"missing"``, ``"unreadable"``, ``"empty"``,
        ``"silent"``, ``"too short"``, or another short text.
    detail : str, default=""
        More about the failure, appended to the message.

    Attributes
    ----------
    item : str
        The item, as given.
    reason : str
        The short reason (what ``mmer extract`` writes to ``issues.csv``).

    See Also
    --------
    read_audio : Raises it for a bad recording.
    BaseExtractor.extract : Returns it, in place of the frames, for a bad item.

    Examples
    --------
    >>> from sklearn_mmer.extraction import ExtractionError
    >>> error = ExtractionError("a.wav", "silent", "peak 0 is below 0.0001")
    >>> error.reason
    'silent'
    >>> print(error)
    a.wav: silent (peak 0 is below 0.0001)
    """

    def __init__(self, item, reason, detail=""):
        self.item = str(item)
        self.reason = reason
        self.detail = detail
        text = f"{self.item}: {reason}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def __reduce__(self):
        # the default would call __init__ with the message alone
        return type(self), (self.item, self.reason, self.detail)


def require(modules, extras, what):
    """Import ``modules`` (names), or raise a one-line ImportError naming the
    pip command that installs ``extras`` (a comma-separated string)."""
    imported = []
    for name in modules:
        try:
            imported.append(importlib.import_module(name))
        except ImportError:
            raise ImportError(
                f"{what} needs the {name!r} package: {PIP.format(extras)}"
            ) from None
    return imported


def library_versions(distributions):
    """``{distribution: version}`` of the installed libraries (None if absent)."""
    versions = {}
    for name in distributions:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def read_audio(
    path,
    sampling_rate,
    *,
    min_duration=MIN_DURATION,
    silence_peak=SILENCE_PEAK,
):
    """Read a recording as float32 mono samples at ``sampling_rate``.

    The file is read with soundfile (WAV, FLAC, OGG/Vorbis and what else
    libsndfile reads), its channels are averaged, and it is resampled with
    soxr (high quality) when its rate differs.

    Parameters
    ----------
    path : str or path-like
        The recording.
    sampling_rate : int
        The rate of the samples returned, in Hz.
    min_duration : float, default=0.1
        The shortest recording accepted, in seconds.
    silence_peak : float, default=1e-4
        A recording whose peak absolute amplitude (samples in [-1, 1]) is below
        this is refused as silent (1e-4 is -80 dBFS).

    Returns
    -------
    samples : ndarray of shape (n_samples,), dtype float32
        The samples, mono, at ``sampling_rate``.

    Raises
    ------
    ExtractionError
        With ``reason`` ``"missing"`` (no such file), ``"unreadable"`` (not
        audio soundfile can decode), ``"empty"`` (no samples), ``"too short"``
        (under ``min_duration``) or ``"silent"`` (peak under ``silence_peak``).
    ImportError
        Without soundfile or soxr (``pip install "sklearn-mmer[audio]"``).

    See Also
    --------
    MFCCExtractor : Reads its recordings with this function.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile
    >>> from sklearn_mmer.extraction import read_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)
    >>> soundfile.write(path, np.stack([tone, tone], axis=1), 8000)
    >>> read_audio(path, 16000).shape
    (16000,)
    """
    soundfile, soxr = require(["soundfile", "soxr"], "audio", "reading audio")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ExtractionError(path, "missing", "no such file")
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as error:  # libsndfile raises several types
        raise ExtractionError(path, "unreadable", str(error).strip()) from None
    if samples.size == 0:
        raise ExtractionError(path, "empty", "the file holds no samples")
    duration = samples.shape[0] / rate
    if duration < min_duration:
        raise ExtractionError(
            path, "too short", f"{duration:.3f} s, under {min_duration} s"
        )
    samples = samples.mean(axis=1, dtype=np.float32)
    peak = float(np.max(np.abs(samples)))
    if not np.isfinite(peak):
        raise ExtractionError(path, "unreadable", "samples are not finite")
    if peak < silence_peak:
        raise ExtractionError(path, "silent", f"peak {peak:.3g} below {silence_peak}")
    if rate != sampling_rate:
        samples = soxr.resample(samples, rate, sampling_rate, quality="HQ")
    return np.ascontiguousarray(samples, dtype=np.float32)
