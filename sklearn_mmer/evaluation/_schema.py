"""The results schema: the tables a comparison returns and the files it writes.

The one place that names them. The driver (:func:`compare_methods` and its
checkpoint) builds its tables from these names, and the reporting (statistics,
tables, figures, breakdowns) reads them by the same names; the command line
checks ``--out`` against :data:`COMPARISON_FILES`. Nothing here imports the
rest of the package.
"""

import numpy as np

# --- results: one row per method, repeat and fold ------------------------------

#: Columns of ``compare_methods(...).results`` that say which fit a row is;
#: the metrics (one column per scorer) follow them.
RESULT_KEYS = ("method", "repeat", "fold", "test_corpus", "seed", "n_train", "n_test")
#: Column of results naming the corpus a row was scored on: ``""`` for the
#: compared corpus's own held-out speakers (in-corpus), a test corpus's name
#: (``compare_methods(..., test_sets={name: ...})``) for every utterance of it.
TEST_CORPUS = "test_corpus"
#: The value of :data:`TEST_CORPUS` on in-corpus rows.
IN_CORPUS = ""
#: Columns after the metrics and ``fit_seconds``: what a fit left to read.
RESULT_NOTES = ("best_params", "warnings", "error")
#: Seconds each fit took, between the metrics and the notes.
FIT_SECONDS = "fit_seconds"
#: Columns of results that are not metrics.
NOT_METRICS = (*RESULT_KEYS, *RESULT_NOTES)
#: Columns of results that describe a fold, not a score of it.
NON_SCORE_COLUMNS = (*NOT_METRICS, FIT_SECONDS)
#: Columns of results that describe a fold and are kept beside a metric.
FOLD_COLUMNS = ("method", "repeat", "fold", "n_train", "n_test")
#: Types of the results columns besides the metrics (``seed`` is None for a
#: method without one, so it is pandas' nullable integer).
RESULT_DTYPES = {
    "method": object,
    "repeat": np.int64,
    "fold": np.int64,
    "test_corpus": object,
    "seed": "Int64",
    "n_train": np.int64,
    "n_test": np.int64,
    FIT_SECONDS: np.float64,
    "best_params": object,
    "warnings": object,
    "error": object,
}


def result_columns(scoring):
    """The columns of results for the metrics ``scoring``, in order."""
    return [*RESULT_KEYS, *scoring, FIT_SECONDS, *RESULT_NOTES]


# --- predictions, confusion matrices and paired comparisons --------------------

#: Column of predictions holding the row of the compared X.
ROW_COLUMN = "row"
#: Columns of ``compare_methods(...).predictions``: one row per method,
#: repeat, fold and test utterance.
PREDICTION_COLUMNS = ("method", "repeat", "fold", ROW_COLUMN, "y_true", "y_pred")
#: Column of predictions after :data:`PREDICTION_COLUMNS`: the utterance's
#: id, X's index (``file_name_list`` of a corpus on disk), as text.
ID_COLUMN = "utterance_id"
#: Prefix of the columns after it, one per class in the comparison's label
#: order, where a method has probabilities (NaN for one without, such as a
#: hard vote, or for a fold resumed from a run that kept none).
PROBA_PREFIX = "proba_"


def prediction_columns(labels):
    """Every column of ``compare_methods(...).predictions`` for ``labels``."""
    return [*PREDICTION_COLUMNS, ID_COLUMN, *(f"{PROBA_PREFIX}{c}" for c in labels)]


def cross_prediction_columns(labels):
    """Every column of ``compare_methods(...).cross_predictions`` for
    ``labels``: those of predictions, with the test corpus after ``fold``
    (``row`` and ``utterance_id`` are then the test corpus's own)."""
    keys = ("method", "repeat", "fold", TEST_CORPUS)
    rest = prediction_columns(labels)[3:]
    return [*keys, *rest]


#: Columns of :func:`confusion_table`: one row per method, repeat, fold and
#: pair of classes.
CONFUSION_COLUMNS = ("method", "repeat", "fold", "true", "predicted", "count")
#: Columns of the cross-corpus tables' keys: the method and the test corpus.
CROSS_CORPUS_KEYS = ("method", TEST_CORPUS)
#: Columns of :func:`compare_to_reference`'s table.
COMPARISON_COLUMNS = (
    "method",
    "reference",
    "metric",
    "n_pairs",
    "mean",
    "reference_mean",
    "difference",
    "ci_low",
    "ci_high",
    "t_statistic",
    "t_p_value",
    "t_p_adjusted",
    "wilcoxon_statistic",
    "wilcoxon_p_value",
    "wilcoxon_p_adjusted",
    "significant",
)

# --- the files of a comparison's folder ------------------------------------------

#: The run's configuration, written by :func:`compare_methods` with a checkpoint.
MANIFEST_FILE = "manifest.json"
#: The hidden folder of a checkpoint's finished folds.
CHECKPOINT_FOLDER = ".checkpoint"
#: What loading the corpus skipped (the name ``datasets.save_issues`` writes).
ISSUES_FILE = "issues.csv"
#: CSV files :func:`save_comparison` writes (``comparisons.csv`` with a
#: reference, ``per_speaker.csv`` with speakers).
TABLE_FILES = (
    "results.csv",
    "summary.csv",
    "confusion_matrices.csv",
    "predictions.csv",
    "comparisons.csv",
    "per_speaker.csv",
    "per_class_recall.csv",
)
#: File names of the figures :func:`save_figures` draws, by figure.
FIGURE_FILES = {
    "method_comparison": "method_comparison.png",
    "modality_contribution": "modality_contribution.png",
    "confusion_matrices": "confusion_matrices.png",
    "per_speaker": "per_speaker.png",
    "per_class_recall": "per_class_recall.png",
    "cross_corpus": "cross_corpus.png",
}
#: Files :func:`save_comparison` writes only for a comparison with test
#: corpora (``cross_corpus_comparisons.csv`` with a reference) and, for
#: ``label_harmonization.csv``, what harmonising their labels dropped.
CROSS_CORPUS_FILES = (
    "cross_corpus_summary.csv",
    "cross_corpus_drop.csv",
    "cross_corpus_comparisons.csv",
    "cross_corpus_confusion_matrices.csv",
    "cross_corpus_per_class_recall.csv",
    "cross_corpus_predictions.csv",
    "label_harmonization.csv",
    FIGURE_FILES["cross_corpus"],
)
#: Every file a comparison's folder may hold besides the hidden
#: ``.checkpoint`` folder (see ``sklearn_mmer.evaluation.COMPARISON_FILES``).
COMPARISON_FILES = (
    MANIFEST_FILE,
    ISSUES_FILE,
    *TABLE_FILES,
    *FIGURE_FILES.values(),
    *CROSS_CORPUS_FILES[:-1],
)

# --- a fitted model's predictions on a corpus (``mmer predict``) ----------------

#: Columns of :func:`prediction_table` before the ``proba_<class>`` columns:
#: the utterance's id, the predicted label and, for a labelled corpus, its label.
PREDICTION_TABLE_COLUMNS = ("file_name_list", "predicted_label", "emotion_labels")
#: Column of :func:`prediction_table` naming the modalities missing from a
#: row (``"visual;lexical"``), ``""`` for a complete row; before the
#: ``proba_<class>`` columns.
MISSING_COLUMN = "missing_modalities"
