"""Figures of a comparison: methods side by side, modality contribution, confusions.

Figures are built on :class:`matplotlib.figure.Figure` directly, never as
``pyplot`` figures: nothing opens a window, no global figure state is kept, and
the functions work the same on a headless server. (scikit-learn's
:class:`~sklearn.metrics.ConfusionMatrixDisplay` imports ``pyplot`` but draws
on the axes it is given.)
"""

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.metrics import ConfusionMatrixDisplay

from .._metrics import metric_label
from .._schema import FIGURE_FILES, FOLD_COLUMNS, NOT_METRICS
from .breakdown import plot_per_class_recall, plot_per_speaker
from .summary import summarize

_KIND_COLOURS = {
    "unimodal": "#7f9fbf",
    "early_fusion": "#d9822b",
    "late_fusion": "#5b9e5b",
    "other": "#9c6bb3",
}
_DEFAULT_COLOUR = "#4c72b0"


def _check_metric(results, metric):
    if metric not in results.columns or metric in NOT_METRICS:
        metrics = [c for c in results.columns if c not in NOT_METRICS]
        raise ValueError(
            f"metric {metric!r} is not a column of results; choose among {metrics}"
        )


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

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_method_comparison
    >>> results = pd.DataFrame({"method": ["a", "a", "b", "b"], "fold": [1, 2] * 2,
    ...                         "f1_micro": [0.5, 0.7, 0.8, 0.8]})
    >>> plot_method_comparison(results).axes[0].get_xlabel()
    'F1-micro (mean, 95% CI over 2 folds)'
    """
    _check_metric(results, metric)
    if interval not in ("ci", "std"):
        raise ValueError(f"interval must be 'ci' or 'std'; got {interval!r}")
    kept = [c for c in FOLD_COLUMNS if c in results.columns]
    summary = summarize(results[[*kept, metric]])
    means = summary[f"{metric}_mean"].to_numpy()
    low, high, texts = _error_bars(summary, metric, interval)
    methods = summary["method"].tolist()
    reference, marked = _significance(comparisons, metric)
    figure = Figure(figsize=(7.5, 1.4 + 0.5 * len(methods)), layout="constrained")
    ax = figure.add_subplot()
    positions = np.arange(len(methods))[::-1]
    colours = [
        _KIND_COLOURS.get((kinds or {}).get(m), _DEFAULT_COLOUR) for m in methods
    ]
    bars = ax.barh(
        positions,
        means,
        # lists: matplotlib 3.10 reads a (2, 1) array's first row as a scalar
        # (a NumPy DeprecationWarning) when a single method is drawn
        xerr=np.vstack([np.nan_to_num(low), np.nan_to_num(high)]).tolist(),
        color=colours,
        capsize=4,
        height=0.6,
    )
    ends = means + np.nan_to_num(high)
    for y, end, text, name in zip(positions, ends, texts, methods):
        text += " *" if name in marked else ""
        text += " (reference)" if name == reference else ""
        ax.text(end + 0.01, y, text, va="center", fontsize=9)
    ax.set_yticks(positions, methods)
    finite = ends[np.isfinite(ends)]  # methods whose every fit failed have none
    upper = float(finite.max()) if finite.size else 1.0
    ax.set_xlim(0, max(1.0, upper + 0.35))
    spread = "95% CI" if interval == "ci" else "± std"
    ax.set_xlabel(f"{metric_label(metric)} (mean, {spread} over {_folds(summary)})")
    _mark_reference(ax, bars, methods, reference)
    ax.set_title("Methods compared, speaker-independent cross-validation")
    shown = [k for k in dict.fromkeys((kinds or {}).get(m) for m in methods) if k]
    if shown:
        ax.legend(
            handles=[
                Patch(color=_KIND_COLOURS.get(k, _DEFAULT_COLOUR), label=k)
                for k in shown
            ],
            loc="lower right",
            fontsize=8,
        )
    ax.grid(axis="x", alpha=0.3)
    return figure


def _mark_reference(ax, bars, methods, reference):
    """Outline the reference's bar and say what the stars mean."""
    if reference is None:
        return
    for bar, name in zip(bars, methods):
        if name == reference:
            bar.set_edgecolor("black")
            bar.set_linewidth(1.5)
    ax.set_xlabel(
        f"{ax.get_xlabel()}\n* significantly different from {reference} "
        "(corrected resampled t-test, Holm-adjusted)"
    )


def _folds(summary):
    """'5 folds', or '5 folds x 3 repeats' for a repeated comparison."""
    n_folds = int(summary["n_folds"].max()) if len(summary) else 0
    n_repeats = int(summary["n_repeats"].max()) if "n_repeats" in summary else 1
    text = f"{n_folds} folds"
    return text + (f" x {n_repeats} repeats" if n_repeats > 1 else "")


def _error_bars(summary, metric, interval):
    """Lengths of the bars below and above each mean, and their labels."""
    means = summary[f"{metric}_mean"].to_numpy()
    if interval == "std":
        spread = summary[f"{metric}_std"].to_numpy()
        return spread, spread, [f"{m:.3f} ± {s:.3f}" for m, s in zip(means, spread)]
    low = means - summary[f"{metric}_ci_low"].to_numpy()
    high = summary[f"{metric}_ci_high"].to_numpy() - means
    texts = [
        f"{m:.3f} [{m - lo:.3f}, {m + hi:.3f}]" if not np.isnan(lo) else f"{m:.3f}"
        for m, lo, hi in zip(means, low, high)
    ]
    return low, high, texts


def _significance(comparisons, metric):
    """The reference and the methods that differ from it significantly."""
    if comparisons is None or not len(comparisons):
        return None, set()
    rows = comparisons[comparisons["metric"] == metric]
    reference = comparisons["reference"].iloc[0]
    return reference, set(rows.loc[rows["significant"].astype(bool), "method"])


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
    if metrics is None:
        metrics = [c for c in results.columns if c not in NOT_METRICS]
        metrics = [m for m in metrics if m != "fit_seconds"]
    for metric in metrics:
        _check_metric(results, metric)
    missing = sorted(set(modalities) - set(results["method"]))
    if missing or not modalities:
        raise ValueError(
            f"modalities {missing or modalities} have no results; the unimodal "
            "methods are named by their modality"
        )
    grouped = results.groupby("method")
    means = grouped[metrics].mean()
    stds = grouped[metrics].std(ddof=0)
    order = means.loc[list(modalities), metrics[0]].sort_values(ascending=False)
    order = order.index.tolist()
    figure = Figure(
        figsize=(max(5.5, 1.6 * len(order) + 2.5), 4.2), layout="constrained"
    )
    ax = figure.add_subplot()
    width = 0.8 / len(metrics)
    x = np.arange(len(order))
    for k, metric in enumerate(metrics):
        ax.bar(
            x + (k - (len(metrics) - 1) / 2) * width,
            means.loc[order, metric],
            width,
            # a modality whose every fit failed has no bar and no spread;
            # matplotlib 3.7 cannot draw all-NaN error bars
            yerr=np.nan_to_num(stds.loc[order, metric].to_numpy(dtype=float)),
            capsize=3,
            label=metric_label(metric),
        )
    for k, name in enumerate(fusion or []):
        if name in means.index:
            level = means.loc[name, metrics[0]]
            ax.axhline(
                level,
                ls="--",
                lw=1.2,
                color=f"C{len(metrics) + k}",
                label=f"{name} ({metric_label(metrics[0])} {level:.3f})",
            )
    ax.set_xticks(x, order)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (mean ± std over folds)")
    ax.set_title("Modality contribution: each modality alone")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return figure


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

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.evaluation import plot_confusion_matrices
    >>> figure = plot_confusion_matrices({"a": np.array([[3, 1], [0, 4]])},
    ...                                  ["calm", "angry"])
    >>> figure.axes[0].get_title()
    'a'
    """
    methods = list(confusion_matrices) if methods is None else list(methods)
    unknown = sorted(set(methods) - set(confusion_matrices))
    if unknown or not methods:
        raise ValueError(
            f"methods {unknown or methods} have no confusion matrix; choose among "
            f"{list(confusion_matrices)}"
        )
    labels = [str(label) for label in labels]
    n_cols = min(3, len(methods))
    n_rows = -(-len(methods) // n_cols)
    size = 1.1 + 0.75 * len(labels)
    figure = Figure(
        figsize=(size * n_cols + 1.2, size * n_rows + 0.6), layout="constrained"
    )
    axes = figure.subplots(n_rows, n_cols, squeeze=False).ravel()
    image = None
    for ax, name in zip(axes, methods):
        counts = np.asarray(confusion_matrices[name])
        counts = counts.sum(axis=0) if counts.ndim == 3 else counts
        if counts.shape != (len(labels), len(labels)):
            raise ValueError(
                f"confusion matrix of {name!r} has shape {counts.shape}, not "
                f"({len(labels)}, {len(labels)}) for labels {labels}"
            )
        totals = counts.sum(axis=1, keepdims=True)
        rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        display = ConfusionMatrixDisplay(rates, display_labels=labels).plot(
            ax=ax,
            cmap="Blues",
            colorbar=False,
            values_format=".2f",
            xticks_rotation=45,
            im_kw={"vmin": 0, "vmax": 1},
            text_kw={"fontsize": 8},
        )
        # scikit-learn picks the text colour against this panel's own range;
        # on the shared 0-1 scale, dark text is readable up to 0.6
        for (i, j), text in np.ndenumerate(display.text_):
            text.set_color("white" if rates[i, j] > 0.6 else "black")
        image = display.im_
        ax.set_title(name)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    for ax in axes[len(methods) :]:
        ax.set_axis_off()
    figure.suptitle("Confusion matrices: rows normalised, summed over folds")
    figure.colorbar(image, ax=axes.tolist(), shrink=0.8, label="fraction of true class")
    return figure


def plot_cross_corpus(cross_summary, *, metric="f1_micro"):
    """In-corpus against cross-corpus scores per method, with their intervals.

    ``cross_summary`` is :func:`summarize_cross_corpus`'s table; one group of
    bars per method, one bar per corpus (in-corpus first). Returns the
    :class:`~matplotlib.figure.Figure`.

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
