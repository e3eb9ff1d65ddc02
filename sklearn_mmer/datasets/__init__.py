"""Corpora: the course-feature layout loader and a synthetic IEMOCAP-shaped corpus."""

__all__ = []
