"""A comparison written out: text table, CSV files and figures.

Every file is written to a temporary name in the destination folder and then
renamed over the final name (:func:`os.replace`, atomic on POSIX and Windows),
so that a crash, a kill or a full disk never leaves a half-written file.
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from ._files import write_atomically
from ._plots import save_figures

#: CSV files :func:`save_comparison` writes.
TABLE_FILES = (
    "results.csv",
    "summary.csv",
    "confusion_matrices.csv",
    "predictions.csv",
)


def format_table(summary):
    """The summary as a text table: mean ± std per metric, best method first.

    Parameters
    ----------
    summary : DataFrame
        ``compare_methods(...).summary`` (or :func:`summarize` of results).

    Returns
    -------
    table : str
        Aligned columns, one line per method; a metric without any score
        (every fit failed) shows ``failed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import format_table, summarize
    >>> results = pd.DataFrame({"method": ["a", "a"], "fold": [1, 2],
    ...                         "f1_micro": [0.5, 0.7]})
    >>> print(format_table(summarize(results)))
    method       f1_micro
    a       0.600 ± 0.100
    """
    metrics = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    header = ["method", *metrics]
    rows = []
    for _, row in summary.iterrows():
        cells = [str(row["method"])]
        for metric in metrics:
            mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
            digits = 1 if metric == "fit_seconds" else 3
            cells.append(
                "failed" if pd.isna(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"
            )
        rows.append(cells)
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if k == 0 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()
        for cells in [header, *rows]
    ]
    return "\n".join(lines)


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
    return pd.DataFrame(
        rows, columns=["method", "repeat", "fold", "true", "predicted", "count"]
    )


def save_comparison(
    comparison, out, *, modalities=None, kinds=None, metric="f1_micro", figures=True
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

    Returns
    -------
    paths : list of pathlib.Path
        The files written: ``results.csv`` (``comparison.results``),
        ``summary.csv``, ``confusion_matrices.csv`` (see
        :func:`confusion_table`), ``predictions.csv``
        (``comparison.predictions``), then the figures of
        :func:`save_figures`.

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
    ['results.csv', 'summary.csv', 'confusion_matrices.csv', 'predictions.csv']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "results.csv": comparison.results,
        "summary.csv": comparison.summary,
        "confusion_matrices.csv": confusion_table(comparison),
        "predictions.csv": comparison.predictions,
    }
    paths = []
    for name, table in tables.items():
        paths.append(write_atomically(out / name, _csv_writer(table)))
    if figures:
        # drawn in a hidden folder beside the results, then renamed into place
        with tempfile.TemporaryDirectory(dir=out, prefix=".figures.") as staging:
            drawn = save_figures(
                comparison, staging, modalities=modalities, kinds=kinds, metric=metric
            )
            for path in drawn:
                os.replace(path, out / path.name)
                paths.append(out / path.name)
    return paths


def _csv_writer(table):
    def write(path):
        table.to_csv(path, index=False)

    return write
