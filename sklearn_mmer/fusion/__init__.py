"""Early, late and stacking fusion of modalities, built from scikit-learn pieces."""

from ._early import make_early_fusion, make_modality_pipeline
from ._late import LateFusionClassifier, make_late_fusion
from ._stacking import StackingFusionClassifier, make_stacking_fusion

__all__ = [
    "LateFusionClassifier",
    "StackingFusionClassifier",
    "make_early_fusion",
    "make_late_fusion",
    "make_modality_pipeline",
    "make_stacking_fusion",
]
