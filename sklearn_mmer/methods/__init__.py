"""The method catalogue: every named method of the comparison, declared.

Each built-in method is declared once in :mod:`._catalogue` with its factory,
kind (family), the modalities it reads, its ``transductive`` flag and a
description: the study's baselines (``early_fusion``, ``late_fusion``), the
classical scikit-learn baselines (``logistic_regression``, run by default, and
``svm_rbf``) and the networks beyond the study. The registry functions here (also
importable from :mod:`sklearn_mmer.evaluation`, as before) list them, resolve
names, build the estimators and let users register their own.

The catalogue sits above :mod:`sklearn_mmer.fusion` and
:mod:`sklearn_mmer.neural`, whose estimators it builds, and below
:mod:`sklearn_mmer.evaluation`, whose driver runs them.
"""

from ._catalogue import register_catalogue
from ._registry import (
    METHOD_KINDS,
    make_methods,
    method_availability,
    method_kind,
    method_names,
    register_method,
    registered_methods,
    unregister_method,
)
from ._registry import (
    Method as Method,
)

register_catalogue()

# Method is documented where it has been public since before the catalogue,
# sklearn_mmer.evaluation (one page per object in the API reference)
__all__ = [
    "METHOD_KINDS",
    "make_methods",
    "method_availability",
    "method_kind",
    "method_names",
    "register_method",
    "registered_methods",
    "unregister_method",
]
