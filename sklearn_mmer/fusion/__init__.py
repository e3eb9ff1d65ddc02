"""Early and late fusion of modalities, built from scikit-learn pieces."""

from ._early import make_early_fusion, make_modality_pipeline
from ._late import LateFusionClassifier, make_late_fusion

__all__ = [
    "LateFusionClassifier",
    "make_early_fusion",
    "make_late_fusion",
    "make_modality_pipeline",
]
