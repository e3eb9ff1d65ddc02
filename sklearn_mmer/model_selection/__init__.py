"""Speaker-independent (and content-disjoint) cross-validation."""

from ._content import ContentDisjointSplit
from ._split import LeaveOneSessionOut, SpeakerKFold

__all__ = ["ContentDisjointSplit", "LeaveOneSessionOut", "SpeakerKFold"]
