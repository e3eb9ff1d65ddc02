"""Neural classifiers: plain torch modules behind thin scikit-learn estimators."""

from ._attention import AttentionFusionClassifier
from ._ensemble import EnsembleMLPModule, MLPEnsembleClassifier
from ._mlp import MLPClassifier
from ._modules import MLPModule
from ._modules_fusion import AttentionFusionModule, SequenceModule
from ._sequence import SequenceClassifier

__all__ = [
    "AttentionFusionClassifier",
    "AttentionFusionModule",
    "EnsembleMLPModule",
    "MLPClassifier",
    "MLPEnsembleClassifier",
    "MLPModule",
    "SequenceClassifier",
    "SequenceModule",
]
