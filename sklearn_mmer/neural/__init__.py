"""Neural classifiers: plain torch modules behind thin scikit-learn estimators."""

from ._mlp import MLPClassifier
from ._modules import MLPModule

__all__ = ["MLPClassifier", "MLPModule"]
