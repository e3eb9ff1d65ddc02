"""Speaker-independent evaluation: metrics, method comparison and plots."""

from ._compare import compare_methods, modality_columns, summarize
from ._methods import (
    METHOD_KINDS,
    Method,
    make_methods,
    method_kind,
    method_names,
    register_method,
    registered_methods,
    set_every,
    unregister_method,
)
from ._metrics import SCORING, unweighted_accuracy, unweighted_accuracy_scorer

__all__ = [
    "METHOD_KINDS",
    "SCORING",
    "Method",
    "compare_methods",
    "make_methods",
    "method_kind",
    "method_names",
    "modality_columns",
    "register_method",
    "registered_methods",
    "set_every",
    "summarize",
    "unregister_method",
    "unweighted_accuracy",
    "unweighted_accuracy_scorer",
]
