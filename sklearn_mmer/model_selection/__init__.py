"""Speaker-independent cross-validation."""

from ._split import SpeakerKFold

__all__ = ["SpeakerKFold"]
