"""Speaker-independent evaluation: metrics, method comparison and plots."""

from ..methods import (
    METHOD_KINDS,
    Method,
    make_methods,
    method_kind,
    method_names,
    register_method,
    registered_methods,
    unregister_method,
)
from ..utils._files import RunLockedError
from ._breakdown import per_class_recall, per_speaker_scores
from ._checkpoint import CheckpointError, ConfigurationMismatchError
from ._checks import modality_columns
from ._compare import compare_methods, summarize
from ._folds import FoldWarning
from ._metrics import SCORING, unweighted_accuracy, unweighted_accuracy_scorer
from ._model_card import best_inductive_method, model_card
from ._outputs import confusion_table, format_table, save_comparison
from ._params import set_every
from ._plots import (
    plot_confusion_matrices,
    plot_method_comparison,
    plot_modality_contribution,
    plot_per_class_recall,
    plot_per_speaker,
    save_figures,
)
from ._stats import (
    compare_to_reference,
    confidence_intervals,
    corrected_resampled_ttest,
    holm_adjust,
    score_columns,
)

__all__ = [
    "CheckpointError",
    "ConfigurationMismatchError",
    "METHOD_KINDS",
    "RunLockedError",
    "SCORING",
    "FoldWarning",
    "Method",
    "best_inductive_method",
    "compare_methods",
    "compare_to_reference",
    "confidence_intervals",
    "confusion_table",
    "corrected_resampled_ttest",
    "format_table",
    "holm_adjust",
    "make_methods",
    "method_kind",
    "method_names",
    "modality_columns",
    "model_card",
    "per_class_recall",
    "per_speaker_scores",
    "plot_confusion_matrices",
    "plot_method_comparison",
    "plot_modality_contribution",
    "plot_per_class_recall",
    "plot_per_speaker",
    "register_method",
    "registered_methods",
    "save_comparison",
    "save_figures",
    "score_columns",
    "set_every",
    "summarize",
    "unregister_method",
    "unweighted_accuracy",
    "unweighted_accuracy_scorer",
]
