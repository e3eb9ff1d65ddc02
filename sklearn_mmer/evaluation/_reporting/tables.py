"""A comparison written out: text table, CSV files and figures.

Every file is written to a temporary name in the destination folder and then
renamed over the final name (:func:`os.replace`, atomic on POSIX and Windows),
so that a crash, a kill or a full disk never leaves a half-written file.
"""

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ...utils._data import cell_columns, is_missing
from .._files import write_atomically
from .._schema import (
    CONFUSION_COLUMNS,
    IN_CORPUS,
    MISSING_COLUMN,
    PREDICTION_TABLE_COLUMNS,
    TEST_CORPUS,
)
from .breakdown import per_class_recall, per_speaker_scores
from .cross_corpus import cross_corpus_tables
from .plots import save_figures
from .stats import compare_to_reference


def format_table(summary, comparisons=None):
    """The summary as a text table, best method first, and the paired comparisons.

    Parameters
    ----------
    summary : DataFrame
        ``compare_methods(...).summary`` (or :func:`summarize` of results).
    comparisons : DataFrame or None, default=None
        Paired comparisons against a reference, from
        :func:`compare_to_reference`; when given, a second table follows,
        for the summary's first metric: each method's mean difference from
        the reference, its corrected 95% interval and the Holm-adjusted
        p-values of the corrected t-test and of the Wilcoxon test (``*``
        where the difference is significant).

    Returns
    -------
    table : str
        Aligned columns, one line per method: mean ± std per metric, and the
        95% interval of the first metric's mean; a metric without any score
        (every fit failed) shows ``failed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import format_table, summarize
    >>> results = pd.DataFrame({"method": ["a"] * 4, "fold": [1, 2, 3, 4],
    ...                         "f1_micro": [0.5, 0.7, 0.6, 0.6]})
    >>> print(format_table(summarize(results)))
    method       f1_micro          95% CI
    a       0.600 ± 0.071  [0.402, 0.798]
    """
    metrics = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    first = metrics[0] if metrics else None
    with_ci = first is not None and f"{first}_ci_low" in summary.columns
    header = ["method", *metrics[:1], *(["95% CI"] if with_ci else []), *metrics[1:]]
    rows = []
    for _, row in summary.iterrows():
        cells = [str(row["method"])]
        for metric in metrics:
            mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
            digits = 1 if metric == "fit_seconds" else 3
            cells.append(
                "failed" if pd.isna(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"
            )
            if metric == first and with_ci:
                low, high = row[f"{first}_ci_low"], row[f"{first}_ci_high"]
                cells.append("failed" if pd.isna(mean) else _interval(low, high))
        rows.append(cells)
    table = _aligned([header, *rows])
    if comparisons is not None and len(comparisons) and first is not None:
        order = summary["method"].tolist()
        table += "\n\n" + _comparisons_table(comparisons, first, order)
    return table


def _comparisons_table(comparisons, metric, order):
    """Differences from the reference on one metric, as aligned text."""
    rows = comparisons[comparisons["metric"] == metric]
    # in the summary's order, best first
    rank = {method: k for k, method in enumerate(order)}
    rows = rows.sort_values("method", key=lambda m: m.map(rank), kind="stable")
    reference = comparisons["reference"].iloc[0]
    title = (
        f"{metric} minus {reference}, over {rows['n_pairs'].max()} pairs of fold "
        f"scores; p Holm-adjusted over {len(rows)} methods; * significant"
    )
    lines = [["method", "difference", "95% CI", "p (t-test)", "p (Wilcoxon)", ""]]
    for _, row in rows.iterrows():
        lines.append(
            [
                str(row["method"]),
                _number(row["difference"], signed=True),
                _interval(row["ci_low"], row["ci_high"], signed=True),
                _number(row["t_p_adjusted"]),
                _number(row["wilcoxon_p_adjusted"]),
                "*" if row["significant"] else "",
            ]
        )
    return title + "\n" + _aligned(lines)


def _number(value, *, signed=False):
    return "n/a" if pd.isna(value) else f"{value:{'+' if signed else ''}.3f}"


def _interval(low, high, *, signed=False):
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    return f"[{_number(low, signed=signed)}, {_number(high, signed=signed)}]"


def _aligned(lines):
    """Rows of cells as text: the first column left-aligned, the rest right."""
    widths = [max(len(r[k]) for r in lines) for k in range(len(lines[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if k == 0 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()
        for cells in lines
    )


def confusion_table(comparison):
    """The confusion matrices as a long table.

    Parameters
    ----------
    comparison : Bunch
        The result of :func:`compare_methods`.

    Returns
    -------
    table : DataFrame
        Columns ``method, repeat, fold, true, predicted, count``: one row per
        method, repeat, fold and pair of classes.
    """
    labels = [str(label) for label in comparison.labels]
    n_folds = len(comparison.splits)
    rows = [
        (method, k // n_folds + 1, k % n_folds + 1, labels[i], labels[j])
        + (int(matrices[k, i, j]),)
        for method, matrices in comparison.confusion_matrices.items()
        for k in range(matrices.shape[0])
        for i in range(len(labels))
        for j in range(len(labels))
    ]
    return pd.DataFrame(rows, columns=list(CONFUSION_COLUMNS))


def save_comparison(
    comparison,
    out,
    *,
    modalities=None,
    kinds=None,
    metric="f1_micro",
    figures=True,
    reference=None,
    speakers=None,
    dropped=None,
):
    """Write a comparison's tables and figures to a folder.

    Each file is written whole or not at all (a temporary file renamed over
    the final name).

    Parameters
    ----------
    comparison : Bunch
        The result of :func:`compare_methods`.
    out : str or path-like
        Folder to write to; created when missing.
    modalities : list of str or None, default=None
        Unimodal methods, for the modality-contribution figure (skipped when
        None).
    kinds : dict of str to str or None, default=None
        Kind of each method (see :func:`method_kind`), to colour the figures.
    metric : str, default="f1_micro"
        Metric of the method-comparison figure.
    figures : bool, default=True
        Whether to draw the PNG figures besides the CSV files.
    reference : str or None, default=None
        Method every other is compared with in ``comparisons.csv`` (see
        :func:`compare_to_reference`); None means ``early_fusion`` when it
        was run, and no comparisons otherwise.
    speakers : array-like of shape (n_samples,) or None, default=None
        Speaker of each row of the compared X (the comparison's ``groups``),
        for ``per_speaker.csv``; not written when None.
    dropped : DataFrame or None, default=None
        What giving the corpora one label set dropped (the ``dropped`` table of
        :func:`~sklearn_mmer.datasets.harmonize_labels`), written as
        ``label_harmonization.csv`` when given.

    Returns
    -------
    paths : list of pathlib.Path
        The files written: ``results.csv`` (``comparison.results``),
        ``summary.csv``, ``confusion_matrices.csv`` (see
        :func:`confusion_table`), ``predictions.csv``
        (``comparison.predictions``), ``comparisons.csv`` (with a reference,
        see :func:`compare_to_reference`), ``per_speaker.csv`` (with
        ``speakers``, see :func:`per_speaker_scores`),
        ``per_class_recall.csv`` (see :func:`per_class_recall`); with test
        corpora (``compare_methods(..., test_sets=...)``), the tables and
        figures above are of the in-corpus rows (``results.csv`` holds every
        row) and ``cross_corpus_summary.csv``, ``cross_corpus_drop.csv``,
        ``cross_corpus_comparisons.csv`` (with a reference),
        ``cross_corpus_confusion_matrices.csv``,
        ``cross_corpus_per_class_recall.csv`` and
        ``cross_corpus_predictions.csv`` (``comparison.cross_predictions``)
        follow (see :func:`summarize_cross_corpus`); then ``label_harmonization.csv``
        with ``dropped``, then the figures of :func:`save_figures`
        (``cross_corpus.png`` with test corpora).

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer.evaluation import compare_methods, save_comparison
    >>> from sklearn_mmer.fusion import make_modality_pipeline
    >>> y = np.array(["calm", "angry"] * 6)
    >>> X = pd.DataFrame({"lexical": [np.array([float(v == "angry"), 1.0])
    ...                               for v in y]})
    >>> comparison = compare_methods(
    ...     {"lexical": make_modality_pipeline(
    ...         "lexical", classifier=LogisticRegression())},
    ...     X, y, np.repeat(["s1", "s2", "s3"], 4), cv=3)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     [p.name for p in save_comparison(comparison, out, figures=False)]
    ['results.csv', 'summary.csv', 'confusion_matrices.csv', 'predictions.csv', \
'per_class_recall.csv']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    everything = comparison.results
    own = Bunch(**comparison)
    in_corpus = everything.get(TEST_CORPUS, pd.Series(dtype=object)).fillna("")
    # leaving one corpus out, every row is another corpus: all are the folds
    if (in_corpus == IN_CORPUS).any() and (in_corpus != IN_CORPUS).any():
        own.results = everything[everything[TEST_CORPUS].fillna("") == IN_CORPUS]
    tables = {
        "results.csv": everything,
        "summary.csv": comparison.summary,
        "confusion_matrices.csv": confusion_table(comparison),
        "predictions.csv": comparison.predictions,
    }
    analysis = _analysis_tables(own, reference=reference, speakers=speakers)
    tables.update({f"{name}.csv": table for name, table in analysis.items()})
    cross = cross_corpus_tables(
        comparison, reference=analysis_reference(own, reference)
    )
    tables.update({f"{name}.csv": table for name, table in cross.items()})
    if dropped is not None:
        tables["label_harmonization.csv"] = dropped
    paths = []
    for name, table in tables.items():
        paths.append(write_atomically(out / name, _csv_writer(table)))
    if figures:
        # drawn in a hidden folder beside the results, then renamed into place
        with tempfile.TemporaryDirectory(dir=out, prefix=".figures.") as staging:
            drawn = save_figures(
                own,
                staging,
                modalities=modalities,
                kinds=kinds,
                metric=metric,
                comparisons=analysis.get("comparisons"),
                per_speaker=analysis.get("per_speaker"),
                recall=analysis.get("per_class_recall"),
                cross_summary=cross.get("cross_corpus_summary"),
            )
            for path in drawn:
                os.replace(path, out / path.name)
                paths.append(out / path.name)
    return paths


def _analysis_tables(comparison, *, reference=None, speakers=None):
    """``comparisons`` (with a reference), ``per_speaker`` (with speakers) and
    ``per_class_recall`` tables of a comparison, by name, in that order."""
    reference = analysis_reference(comparison, reference)
    tables = {}
    if reference is not None:
        tables["comparisons"] = compare_to_reference(comparison.results, reference)
    predictions = comparison.predictions
    if speakers is not None:
        tables["per_speaker"] = per_speaker_scores(predictions, speakers)
    tables["per_class_recall"] = per_class_recall(predictions, comparison.labels)
    return tables


def analysis_reference(comparison, reference):
    """The method the others are compared with: ``reference``, or
    ``early_fusion`` when it was run, or None."""
    methods = list(dict.fromkeys(comparison.results["method"]))
    if reference is None and "early_fusion" in methods:
        reference = "early_fusion"
    return reference


def _csv_writer(table):
    def write(path):
        table.to_csv(path, index=False)

    return write


def prediction_table(model, X, y=None, *, missing="predict", modalities=None):
    """A fitted model's predictions on a corpus, one row per utterance.

    The table ``mmer predict`` writes to ``predictions.csv``. An utterance
    with a missing modality (a None cell, as ``load_feature_table(...,
    errors="keep")`` leaves a faulty one) is predicted from the modalities it
    has: every built-in method does so (early fusion imputes, late fusion and
    stacking vote among the modalities present, the attention and sequence
    networks mask the missing ones out). An utterance missing every modality
    is left out, and so are the incomplete ones when the model cannot predict
    them (it raises on them), with a warning.

    Parameters
    ----------
    model : estimator
        A fitted classifier (one read with :func:`sklearn_mmer.load`, say).
    X : DataFrame of shape (n_samples, n_columns)
        The corpus, indexed by utterance id (as the loaders return it).
    y : array-like of shape (n_samples,) or None, default=None
        The corpus's labels, when it has them.
    missing : {"predict", "skip"}, default="predict"
        What an utterance with a missing modality gets: predicted from the
        modalities it has, or left out of the table.
    modalities : list of str or None, default=None
        The modality columns of X the model reads (a model file's manifest
        names them); the columns of X holding cells when None.

    Returns
    -------
    table : DataFrame
        Columns ``file_name_list`` (X's index, as text), ``predicted_label``,
        ``emotion_labels`` (with ``y``), ``missing_modalities`` (the missing
        modalities of the row joined by ``;``, ``""`` for a complete row) and
        ``proba_<class>`` per class of ``model.classes_`` (when the model has
        ``predict_proba``); one row per utterance predicted, in X's order.

    See Also
    --------
    sklearn_mmer.load : Reads a model file.
    compare_methods : Out-of-fold predictions of cross-validated methods.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer.evaluation import prediction_table
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 0.1, 0.9]}, index=["u1", "u2", "u3", "u4"])
    >>> y = np.array(["calm", "angry", "calm", "angry"])
    >>> model = LogisticRegression().fit(X, y)
    >>> prediction_table(model, X, y)[["file_name_list", "predicted_label"]]
      file_name_list predicted_label
    0             u1            calm
    1             u2           angry
    2             u3            calm
    3             u4           angry
    """
    if missing not in ("predict", "skip"):
        raise ValueError(f"missing must be 'predict' or 'skip'; got {missing!r}")
    modalities = cell_columns(X) if modalities is None else list(modalities)
    gaps = missing_modalities(X, modalities)
    n_missing = np.array([len(gap.split(";")) if gap else 0 for gap in gaps])
    complete = n_missing == 0
    keep = complete if missing == "skip" else n_missing < max(len(modalities), 1)
    try:
        table = _predictions(model, X, y, gaps, keep)
    except (ValueError, TypeError) as error:
        if keep.sum() == complete.sum():
            raise
        warnings.warn(
            f"the model cannot predict with a missing modality ({error}); the "
            f"{int(keep.sum() - complete.sum())} utterances missing one are "
            "left out",
            UserWarning,
            stacklevel=2,
        )
        table = _predictions(model, X, y, gaps, complete)
    return table


def missing_modalities(X, modalities=None):
    """The missing modalities of each row of X, joined by ``;`` (``""`` if none).

    Parameters
    ----------
    X : DataFrame
        One row per utterance, one column of cells per modality.
    modalities : list of str or None, default=None
        The modality columns to look at; the columns of X holding cells when
        None (a column with no cell at all is then not seen as a modality).

    Returns
    -------
    missing : Series of str
        Indexed as X: the modalities whose cell is None (or empty), in X's
        column order.

    See Also
    --------
    prediction_table : Writes this column beside the predictions.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_mmer.evaluation import missing_modalities
    >>> X = pd.DataFrame({"acoustic": [np.ones((2, 3)), None],
    ...                   "lexical": [None, None]}, index=["u1", "u2"])
    >>> missing_modalities(X, ["acoustic", "lexical"]).tolist()
    ['lexical', 'acoustic;lexical']
    """
    columns = cell_columns(X) if modalities is None else list(modalities)
    names = [
        ";".join(c for c, cell in zip(columns, cells) if is_missing(cell))
        for cells in zip(*(X[c] for c in columns))
    ]
    if not columns:
        names = [""] * len(X)
    return pd.Series(names, index=X.index, dtype=object)


def _predictions(model, X, y, gaps, rows):
    """:func:`prediction_table` of the ``rows`` (a mask) of X."""
    ids, predicted, labels = PREDICTION_TABLE_COLUMNS
    X = X[rows]
    table = pd.DataFrame({ids: X.index.astype(str)})
    table[predicted] = model.predict(X) if len(X) else []
    if y is not None:
        table[labels] = np.asarray(y)[rows]
    table[MISSING_COLUMN] = gaps.to_numpy()[rows]
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X) if len(X) else np.empty((0, 0))
        for k, label in enumerate(model.classes_):
            table[f"proba_{label}"] = proba[:, k] if len(X) else []
    return table
