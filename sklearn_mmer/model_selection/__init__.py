"""Speaker-independent (and content-disjoint) cross-validation, and leaving
one corpus out."""

from ._content import ContentDisjointSplit
from ._corpus import LeaveOneCorpusOut
from ._split import LeaveOneSessionOut, SpeakerKFold

__all__ = [
    "ContentDisjointSplit",
    "LeaveOneCorpusOut",
    "LeaveOneSessionOut",
    "SpeakerKFold",
]
