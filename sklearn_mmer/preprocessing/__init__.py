"""Transformers from per-utterance frame arrays to plain feature matrices."""

from ._padding import SequencePadder
from ._pooling import TemporalPooling

__all__ = ["SequencePadder", "TemporalPooling"]
