"""Speaker-independent cross-validation."""

from ._split import LeaveOneSessionOut, SpeakerKFold

__all__ = ["LeaveOneSessionOut", "SpeakerKFold"]
