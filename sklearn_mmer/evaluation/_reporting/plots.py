"""Figures of a comparison: methods side by side, modality contribution, confusions.

Each ``plot_*`` function is a thin wrapper over a display object (``displays.py``,
``confusion.py``) that returns the display's figure. Figures are built on
:class:`matplotlib.figure.Figure` directly, never as
``pyplot`` figures: nothing opens a window, no global figure state is kept, and
the functions work the same on a headless server. (scikit-learn's
:class:`~sklearn.metrics.ConfusionMatrixDisplay` imports ``pyplot`` but draws
on the axes it is given.)
"""

from pathlib import Path

import numpy as np

from .._metrics import metric_label
from .._schema import FIGURE_FILES
from .confusion import ConfusionMatricesDisplay
from .displays import MethodComparisonDisplay, ModalityContributionDisplay
from .heatmaps import plot_per_class_recall, plot_per_speaker


def plot_method_comparison(
    results, *, metric="f1_micro", kinds=None, comparisons=None, interval="ci"
):
    """Bar chart of each method's mean score, with its interval as error bar.

    Parameters
    ----------
    results : DataFrame
        One row per method and fold (and repeat), as
        ``compare_methods(...).results``.
    metric : str, default="f1_micro"
        The metric to plot.
    kinds : dict of str to str or None, default=None
        Kind of each method (``"unimodal"``, ``"early_fusion"``,
        ``"late_fusion"``, ``"other"``), to colour the bars by it.
    comparisons : DataFrame or None, default=None
        Paired comparisons against a reference, as
        :func:`compare_to_reference` returns; the reference is outlined and
        each method whose difference from it is significant (Holm-adjusted
        corrected t-test) is marked with ``*``. No marks when None.
    interval : {"ci", "std"}, default="ci"
        Error bars: the corrected resampled 95% confidence interval of the
        mean (see :func:`summarize`), or the standard deviation over folds.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Methods best first, from the top.

    See Also
    --------
    MethodComparisonDisplay : The figure as a display, drawn on any axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_method_comparison
    >>> results = pd.DataFrame({"method": ["a", "a", "b", "b"], "fold": [1, 2] * 2,
    ...                         "f1_micro": [0.5, 0.7, 0.8, 0.8]})
    >>> plot_method_comparison(results).axes[0].get_xlabel()
    'F1-micro (mean, 95% CI over 2 folds)'
    """
    return MethodComparisonDisplay.from_comparison(
        results, metric=metric, kinds=kinds, comparisons=comparisons, interval=interval
    ).figure_


def plot_modality_contribution(results, modalities, *, metrics=None, fusion=None):
    """Each modality alone, on every metric, against the fusion methods.

    Parameters
    ----------
    results : DataFrame
        One row per method and fold, as ``compare_methods(...).results``; the
        unimodal methods are named by their modality.
    modalities : list of str
        The modalities (unimodal methods) to show.
    metrics : list of str or None, default=None
        Metrics to show side by side; every metric column when None.
    fusion : list of str or None, default=None
        Methods drawn as dashed reference lines at their mean first metric;
        none when None.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Grouped bars (one group per modality, best first, one bar per metric)
        with the std over folds as error bars.

    See Also
    --------
    ModalityContributionDisplay : The figure as a display, drawn on any axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_modality_contribution
    >>> results = pd.DataFrame({
    ...     "method": ["audio", "text", "fused"], "fold": [1, 1, 1],
    ...     "f1_micro": [0.4, 0.6, 0.7], "f1_macro": [0.3, 0.5, 0.6]})
    >>> figure = plot_modality_contribution(results, ["audio", "text"],
    ...                                     fusion=["fused"])
    >>> [t.get_text() for t in figure.axes[0].get_xticklabels()]
    ['text', 'audio']
    """
    return ModalityContributionDisplay.from_comparison(
        results, modalities, metrics=metrics, fusion=fusion
    ).figure_


def plot_confusion_matrices(confusion_matrices, labels, *, methods=None):
    """Row-normalised confusion matrices, summed over folds, one panel per method.

    Parameters
    ----------
    confusion_matrices : dict of str to ndarray
        Per method, counts of shape ``(n_folds, n_classes, n_classes)`` (or
        ``(n_classes, n_classes)``), rows true, columns predicted, as
        ``compare_methods(...).confusion_matrices``.
    labels : array-like of shape (n_classes,)
        Class names, in the matrices' order.
    methods : list of str or None, default=None
        Methods to show, in order; all when None.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Each cell shows the fraction of a true class predicted as each class
        (rows sum to 1; empty rows stay 0).

    See Also
    --------
    ConfusionMatricesDisplay : The figure as a display, drawn on any axes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.evaluation import plot_confusion_matrices
    >>> figure = plot_confusion_matrices({"a": np.array([[3, 1], [0, 4]])},
    ...                                  ["calm", "angry"])
    >>> figure.axes[0].get_title()
    'a'
    """
    display = ConfusionMatricesDisplay(confusion_matrices, labels, methods=methods)
    return display.plot().figure_


def plot_cross_corpus(cross_summary, *, metric="f1_micro"):
    """In-corpus against cross-corpus scores per method, with their intervals.

    One group of bars per method, one bar per corpus (in-corpus first).

    Parameters
    ----------
    cross_summary : DataFrame
        :func:`summarize_cross_corpus`'s table: one row per method and test
        corpus, with the metric's mean and interval.
    metric : str, default="f1_micro"
        The metric to draw.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure, one axes.

    See Also
    --------
    summarize_cross_corpus : The table drawn.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_cross_corpus, summarize_cross_corpus
    >>> results = pd.DataFrame({"method": ["a"] * 4, "fold": [1, 2, 1, 2],
    ...                         "test_corpus": ["", "", "B", "B"],
    ...                         "f1_micro": [0.8, 0.6, 0.5, 0.3]})
    >>> figure = plot_cross_corpus(summarize_cross_corpus(results))
    >>> [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    ['in-corpus', 'B']
    """
    corpora = list(dict.fromkeys(cross_summary["test_corpus"]))
    methods = list(dict.fromkeys(cross_summary["method"]))
    from matplotlib.figure import Figure

    figure = Figure(figsize=(max(6.0, 1.1 * len(methods) * len(corpora)), 4.5))
    ax = figure.add_subplot()
    width = 0.8 / len(corpora)
    x = np.arange(len(methods))
    for i, corpus in enumerate(corpora):
        part = cross_summary[cross_summary["test_corpus"] == corpus]
        part = part.set_index("method").reindex(methods)
        mean = part[f"{metric}_mean"].to_numpy(dtype=float)
        low = part[f"{metric}_ci_low"].to_numpy(dtype=float)
        high = part[f"{metric}_ci_high"].to_numpy(dtype=float)
        ax.bar(
            x + (i - (len(corpora) - 1) / 2) * width,
            mean,
            width,
            yerr=np.nan_to_num([mean - low, high - mean]),
            capsize=3,
            label=corpus or "in-corpus",
        )
    ax.set_xticks(x, methods, rotation=30, ha="right")
    ax.set_ylabel(f"{metric_label(metric)} (mean, 95% CI)")
    ax.set_title("In-corpus and cross-corpus scores")
    ax.legend(title="test corpus")
    figure.tight_layout()
    return figure


def save_figures(
    comparison,
    out_dir,
    *,
    modalities=None,
    kinds=None,
    metric="f1_micro",
    dpi=120,
    comparisons=None,
    per_speaker=None,
    recall=None,
    cross_summary=None,
):
    """Write a comparison's figures as PNG files.

    Parameters
    ----------
    comparison : Bunch
        The result of :func:`compare_methods`.
    out_dir : str or path-like
        Folder to write to; created when missing.
    modalities : list of str or None, default=None
        Unimodal methods for the modality-contribution figure, which is
        skipped when None or when none of them was run.
    kinds : dict of str to str or None, default=None
        Kind of each method, to colour the method comparison and to pick the
        fusion methods drawn as references in the modality contribution.
    metric : str, default="f1_micro"
        Metric of the method comparison.
    dpi : int, default=120
        Resolution.
    comparisons : DataFrame or None, default=None
        Paired comparisons against a reference (:func:`compare_to_reference`),
        marked on the method comparison.
    per_speaker : DataFrame or None, default=None
        Scores per held-out speaker (:func:`per_speaker_scores`); drawn as
        ``per_speaker.png`` when given and not empty.
    recall : DataFrame or None, default=None
        Recall per class (:func:`per_class_recall`); drawn as
        ``per_class_recall.png`` when given and not empty.
    cross_summary : DataFrame or None, default=None
        In-corpus and cross-corpus scores (:func:`summarize_cross_corpus`);
        drawn as ``cross_corpus.png`` when given.

    Returns
    -------
    paths : list of pathlib.Path
        The files written: ``method_comparison.png``,
        ``modality_contribution.png`` (when drawn),
        ``confusion_matrices.png``, then ``per_speaker.png`` and
        ``per_class_recall.png`` when their tables are given.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = comparison.results
    figures = {
        "method_comparison": plot_method_comparison(
            results, metric=metric, kinds=kinds, comparisons=comparisons
        )
    }
    ran = [m for m in (modalities or []) if m in set(results["method"])]
    if ran:
        fusion = [
            name
            for name, kind in (kinds or {}).items()
            if kind in ("early_fusion", "late_fusion")
            and name in set(results["method"])
        ]
        figures["modality_contribution"] = plot_modality_contribution(
            results, ran, fusion=fusion
        )
    figures["confusion_matrices"] = plot_confusion_matrices(
        comparison.confusion_matrices, comparison.labels
    )
    # with every fit failed, there is no prediction to break down
    if per_speaker is not None and len(per_speaker):
        figures["per_speaker"] = plot_per_speaker(per_speaker, metric=metric)
    if recall is not None and len(recall):
        figures["per_class_recall"] = plot_per_class_recall(recall)
    if cross_summary is not None and len(cross_summary):
        figures["cross_corpus"] = plot_cross_corpus(cross_summary, metric=metric)
    paths = []
    for name, figure in figures.items():
        path = out_dir / FIGURE_FILES[name]
        figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
