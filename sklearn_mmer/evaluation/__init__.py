"""Speaker-independent evaluation: metrics, method comparison and plots."""

from ._checkpoint import ConfigurationMismatchError
from ._checks import modality_columns
from ._compare import compare_methods, summarize
from ._folds import FoldWarning
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
from ._outputs import confusion_table, format_table, save_comparison
from ._plots import (
    plot_confusion_matrices,
    plot_method_comparison,
    plot_modality_contribution,
    save_figures,
)

__all__ = [
    "ConfigurationMismatchError",
    "METHOD_KINDS",
    "SCORING",
    "FoldWarning",
    "Method",
    "compare_methods",
    "confusion_table",
    "format_table",
    "make_methods",
    "method_kind",
    "method_names",
    "modality_columns",
    "plot_confusion_matrices",
    "plot_method_comparison",
    "plot_modality_contribution",
    "register_method",
    "registered_methods",
    "save_comparison",
    "save_figures",
    "set_every",
    "summarize",
    "unregister_method",
    "unweighted_accuracy",
    "unweighted_accuracy_scorer",
]
