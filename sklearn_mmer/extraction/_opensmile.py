"""openSMILE's standard feature sets: eGeMAPS and ComParE."""

from numbers import Integral, Real

import numpy as np

from ..utils._sklearn_compat import Interval, StrOptions
from ._audio import MIN_DURATION, ExtractionError, read_audio
from ._base import BaseExtractor

#: Values per frame of each feature set, by level.
WIDTHS = {
    ("eGeMAPSv02", "lld"): 25,
    ("eGeMAPSv02", "functionals"): 88,
    ("ComParE_2016", "lld"): 65,
    ("ComParE_2016", "functionals"): 6373,
}

_LEVELS = {"lld": "LowLevelDescriptors", "functionals": "Functionals"}

# one configured openSMILE per (feature set, level), built on first use
_SMILES = {}


class OpenSmileExtractor(BaseExtractor):
    """openSMILE's eGeMAPS or ComParE descriptors of each recording.

    The ``opensmile`` package is an extra apart (``pip install
    "sklearn-mmer[opensmile]"``) because openSMILE's licence allows research
    and non-commercial use only: a commercial use needs a licence from
    audEERING.

    Recordings are read with :func:`read_audio` (mono, resampled to
    ``sampling_rate``) and given to openSMILE, whose low-level descriptors
    come every 10 ms: 25 per frame for eGeMAPSv02, 65 for ComParE_2016.
    With ``level="functionals"`` each recording is one frame of statistics
    over its descriptors (88 values for eGeMAPSv02, 6373 for ComParE_2016).

    Parameters
    ----------
    feature_set : {"eGeMAPSv02", "ComParE_2016"}, default="eGeMAPSv02"
        The feature set (``make_extractor("egemaps")`` and ``("compare")``).
    level : {"lld", "functionals"}, default="lld"
        Frames of low-level descriptors ``(T, D)``, or one row of functionals
        ``(1, D)``.
    sampling_rate : int, default=16000
        The rate recordings are resampled to, in Hz.
    min_duration : float, default=0.1
        Shorter recordings are refused (``reason="too short"``).
    column, name, root, cache, device
        As in :class:`BaseExtractor`; ``name`` defaults to ``"egemaps"`` or
        ``"compare"``.

    Attributes
    ----------
    recipe_ : dict
        :meth:`recipe` at fit time.
    n_features_out_ : int
        Values per frame (25, 65, 88 or 6373).

    See Also
    --------
    MFCCExtractor : Spectral frames, with no licence restriction.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile
    >>> from sklearn_mmer.extraction import OpenSmileExtractor
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> soundfile.write(path, np.random.default_rng(0).normal(0, .1, 16000), 16000)
    >>> frames, = OpenSmileExtractor("eGeMAPSv02").extract([path])
    >>> frames.shape[1], frames.dtype
    (25, dtype('float32'))
    """

    input_kind = "audio"
    _modules = ("soundfile", "soxr", "opensmile")
    _extras = "audio,opensmile"
    _distributions = ("soundfile", "soxr", "opensmile", "numpy")

    _parameter_constraints = {
        **BaseExtractor._parameter_constraints,
        "feature_set": [StrOptions({"eGeMAPSv02", "ComParE_2016"})],
        "level": [StrOptions(set(_LEVELS))],
        "sampling_rate": [Interval(Integral, 1000, None, closed="left")],
        "min_duration": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        feature_set="eGeMAPSv02",
        *,
        level="lld",
        sampling_rate=16000,
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
        self.feature_set = feature_set
        self.level = level
        self.sampling_rate = sampling_rate
        self.min_duration = min_duration

    @property
    def kind(self):
        """The kind's name: ``"egemaps"`` or ``"compare"``, by ``feature_set``."""
        return "egemaps" if self.feature_set == "eGeMAPSv02" else "compare"

    def _recipe_parameters(self):
        return {
            "feature_set": self.feature_set,
            "level": self.level,
            "sampling_rate": int(self.sampling_rate),
        }

    def _n_features_out(self):
        return WIDTHS[self.feature_set, self.level]

    def _smile(self):
        import opensmile

        key = (self.feature_set, self.level)
        if key not in _SMILES:
            _SMILES[key] = opensmile.Smile(
                feature_set=getattr(opensmile.FeatureSet, self.feature_set),
                feature_level=getattr(opensmile.FeatureLevel, _LEVELS[self.level]),
            )
        return _SMILES[key]

    def _extract_batch(self, items):
        smile = self._smile()
        results = []
        for path in items:
            try:
                samples = read_audio(
                    path, self.sampling_rate, min_duration=self.min_duration
                )
            except ExtractionError as error:
                results.append(error)
                continue
            table = smile.process_signal(samples, self.sampling_rate)
            frames = np.ascontiguousarray(table.to_numpy(), dtype=np.float32)
            if frames.shape[0] == 0:
                results.append(
                    ExtractionError(path, "too short", "openSMILE made no frame")
                )
            else:
                results.append(frames)
        return results
