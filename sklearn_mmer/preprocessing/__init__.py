"""Transformers from per-utterance frame arrays to plain feature matrices."""

from ._padding import SequencePadder
from ._pooling import TemporalPooling
from ._speaker import SpeakerNormalizer

__all__ = ["SequencePadder", "SpeakerNormalizer", "TemporalPooling"]
