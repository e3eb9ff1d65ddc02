"""Reporting of a comparison: statistics, tables, figures, breakdowns, cards.

These modules read a comparison's results (``compare_methods(...)``'s Bunch,
or its tables read back from CSV) by the column and file names of
``evaluation/_schema.py``, and never import the driver that computes them
(``_compare``, ``_tasks``, ``_checkpoint`` and the rest of ``evaluation/``).

matplotlib is imported where a figure is made, never at import: tables,
statistics and model cards (``mmer fit``, ``mmer serve``, ``mmer compare
--no-figures``) do without its half a second.
"""

from .bootstrap import bootstrap_scores
from .breakdown import per_class_recall, per_speaker_scores
from .confusion import ConfusionMatricesDisplay
from .cross_corpus import (
    compare_on_corpora,
    cross_corpus_drop,
    format_cross_corpus_table,
    summarize_cross_corpus,
)
from .displays import MethodComparisonDisplay, ModalityContributionDisplay
from .heatmaps import PerClassRecallDisplay, PerSpeakerDisplay
from .left_out import name_left_out_corpora
from .model_card import best_inductive_method, model_card
from .plots import (
    plot_confusion_matrices,
    plot_cross_corpus,
    plot_method_comparison,
    plot_modality_contribution,
    plot_per_class_recall,
    plot_per_speaker,
    save_figures,
)
from .stats import (
    compare_to_reference,
    confidence_intervals,
    corrected_resampled_ttest,
    holm_adjust,
    score_bounds,
    score_columns,
)
from .summary import summarize
from .tables import (
    confusion_table,
    format_table,
    missing_modalities,
    prediction_table,
    save_comparison,
)

__all__ = [
    "ConfusionMatricesDisplay",
    "MethodComparisonDisplay",
    "ModalityContributionDisplay",
    "PerClassRecallDisplay",
    "PerSpeakerDisplay",
    "best_inductive_method",
    "bootstrap_scores",
    "compare_on_corpora",
    "compare_to_reference",
    "confidence_intervals",
    "confusion_table",
    "corrected_resampled_ttest",
    "cross_corpus_drop",
    "format_cross_corpus_table",
    "format_table",
    "holm_adjust",
    "model_card",
    "name_left_out_corpora",
    "per_class_recall",
    "per_speaker_scores",
    "plot_confusion_matrices",
    "plot_cross_corpus",
    "plot_method_comparison",
    "plot_modality_contribution",
    "plot_per_class_recall",
    "plot_per_speaker",
    "missing_modalities",
    "prediction_table",
    "save_comparison",
    "save_figures",
    "score_bounds",
    "score_columns",
    "summarize",
    "summarize_cross_corpus",
]
