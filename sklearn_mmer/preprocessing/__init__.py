"""Transformers from per-utterance frame arrays to plain feature matrices."""

from ._pooling import TemporalPooling

__all__ = ["TemporalPooling"]
