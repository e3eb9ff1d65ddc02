"""Neural classifiers: plain torch modules behind thin scikit-learn estimators."""

from ._attention import AttentionFusionClassifier
from ._mlp import MLPClassifier, MLPEnsembleClassifier
from ._modules import (
    AttentionFusionModule,
    AttentiveStatisticsPooling,
    EnsembleMLPModule,
    LayerWeights,
    MLPModule,
    SequenceModule,
)
from ._sequence import SequenceClassifier

__all__ = [
    "AttentionFusionClassifier",
    "AttentionFusionModule",
    "AttentiveStatisticsPooling",
    "EnsembleMLPModule",
    "LayerWeights",
    "MLPClassifier",
    "MLPEnsembleClassifier",
    "MLPModule",
    "SequenceClassifier",
    "SequenceModule",
]
