"""Speaker-independent evaluation: metrics, method comparison and plots.

Two halves, one schema. The driver (:func:`compare_methods`: checks, folds,
parallel fits, checkpoints) computes a comparison; the reporting (statistics,
tables, figures, per-speaker and per-class breakdowns, model cards, in the
private ``_reporting`` package) reads it. Both name the columns and files of a
comparison from one private module, ``_schema``; :data:`COMPARISON_FILES` is
its public list of the files a comparison's folder may hold.
"""

import importlib

from ._schema import COMPARISON_FILES as _COMPARISON_FILES
from ._schema import CROSS_CORPUS_FILES as _CROSS_CORPUS_FILES

# Where each public name lives. They are imported on first use (PEP 562), so
# that importing one private module of the package (as a worker process does
# to run a fit task) does not import every method family, torch among them.
_SOURCES = {
    "..methods": [
        "METHOD_KINDS",
        "Method",
        "make_methods",
        "method_availability",
        "method_kind",
        "method_names",
        "register_method",
        "registered_methods",
        "unregister_method",
    ],
    "..utils._files": [
        "RunLockedError",
    ],
    "._checkpoint": [
        "CheckpointError",
        "ConfigurationMismatchError",
    ],
    "._checks": [
        "modality_columns",
    ],
    "._compare": [
        "compare_methods",
    ],
    "._folds": [
        "FoldWarning",
    ],
    "._metrics": [
        "SCORING",
        "unweighted_accuracy",
        "unweighted_accuracy_scorer",
    ],
    "._params": [
        "set_epochs",
        "set_every",
    ],
    "._reporting": [
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
        "missing_modalities",
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
        "prediction_table",
        "save_comparison",
        "save_figures",
        "score_bounds",
        "score_columns",
        "summarize",
        "summarize_cross_corpus",
    ],
}
_WHERE = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__():
    return sorted({*globals(), *__all__})


#: Every file a comparison's folder may hold (besides the hidden
#: ``.checkpoint`` folder and lock): ``manifest.json`` (the run's
#: configuration, from :func:`compare_methods` with a ``checkpoint``),
#: ``issues.csv`` (what loading the corpus skipped, from
#: :func:`sklearn_mmer.datasets.save_issues`), then the CSV tables and PNG
#: figures of :func:`save_comparison`. ``mmer compare`` checks each one in
#: ``--out`` before any work.
COMPARISON_FILES = _COMPARISON_FILES
#: The files of :data:`COMPARISON_FILES` written only for a comparison with
#: test corpora (``compare_methods(..., test_sets=...)``, ``mmer compare
#: --test-data`` or ``--cv corpus``).
CROSS_CORPUS_FILES = _CROSS_CORPUS_FILES

# the lazily loaded names, then the two constants above
__all__ = [*_WHERE, "COMPARISON_FILES", "CROSS_CORPUS_FILES"]
