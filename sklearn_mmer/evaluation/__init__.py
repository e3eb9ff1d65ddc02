"""Speaker-independent evaluation: metrics, method comparison and plots."""

from ._metrics import SCORING, unweighted_accuracy, unweighted_accuracy_scorer

__all__ = ["SCORING", "unweighted_accuracy", "unweighted_accuracy_scorer"]
