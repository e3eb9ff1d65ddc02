"""Display objects of a comparison's figures, as scikit-learn's displays.

Each display holds the numbers of one kind of figure; its ``from_comparison``
(or ``from_predictions``) constructor computes them from a comparison and
draws, and :meth:`plot` draws them on the axes it is given, or on a new
:class:`matplotlib.figure.Figure` (never a ``pyplot`` figure: no window, no
global state; pass ``ax`` from ``plt.subplots()`` to draw into pyplot). After
drawing, ``figure_`` and ``ax_`` hold the figure and axes, as in
:class:`~sklearn.metrics.ConfusionMatrixDisplay`. The ``plot_*`` functions of
``plots.py`` are thin wrappers that return a display's ``figure_``.
"""

import numpy as np
import pandas as pd

from .._metrics import metric_label
from .._schema import FOLD_COLUMNS, NOT_METRICS
from .summary import summarize

_KIND_COLOURS = {
    "unimodal": "#7f9fbf",
    "early_fusion": "#d9822b",
    "late_fusion": "#5b9e5b",
    "other": "#9c6bb3",
}
_DEFAULT_COLOUR = "#4c72b0"


def _results_of(comparison):
    """The per-fold results table of a comparison, or the table itself."""
    return comparison if isinstance(comparison, pd.DataFrame) else comparison.results


def _check_metric(results, metric):
    if metric not in results.columns or metric in NOT_METRICS:
        metrics = [c for c in results.columns if c not in NOT_METRICS]
        raise ValueError(
            f"metric {metric!r} is not a column of results; choose among {metrics}"
        )


def _new_axes(ax, figsize):
    """``ax``, or the axes of a new constrained-layout figure of that size."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure, figure.add_subplot()


class MethodComparisonDisplay:
    """Each method's mean score with its interval, as horizontal bars.

    Build it with :meth:`from_comparison`; the constructor takes numbers
    already summarised.

    Parameters
    ----------
    summary : DataFrame
        One row per method, best first, as :func:`summarize` returns for
        ``metric`` (columns ``method``, ``n_folds``, ``<metric>_mean``,
        ``_std``, ``_ci_low``, ``_ci_high``).
    metric : str, default="f1_micro"
        The metric shown.
    kinds : dict of str to str or None, default=None
        Kind of each method, to colour its bar.
    reference : str or None, default=None
        Method outlined as the reference of paired comparisons.
    significant : collection of str, default=()
        Methods marked ``*`` as significantly different from the reference.

    Attributes
    ----------
    bars_ : matplotlib.container.BarContainer
        The bars, in the summary's order.
    ax_ : matplotlib.axes.Axes
        Axes drawn on.
    figure_ : matplotlib.figure.Figure
        Figure holding ``ax_``.

    See Also
    --------
    plot_method_comparison : The same figure, returned as a Figure.
    ModalityContributionDisplay : Each modality alone, on every metric.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import MethodComparisonDisplay
    >>> results = pd.DataFrame({"method": ["a", "a", "b", "b"], "fold": [1, 2] * 2,
    ...                         "f1_micro": [0.5, 0.7, 0.8, 0.8]})
    >>> display = MethodComparisonDisplay.from_comparison(results)
    >>> [t.get_text() for t in display.ax_.get_yticklabels()]
    ['b', 'a']
    """

    def __init__(
        self, summary, *, metric="f1_micro", kinds=None, reference=None, significant=()
    ):
        self.summary = summary
        self.metric = metric
        self.kinds = kinds
        self.reference = reference
        self.significant = significant

    @classmethod
    def from_comparison(
        cls,
        comparison,
        *,
        metric="f1_micro",
        kinds=None,
        comparisons=None,
        interval="ci",
        ax=None,
    ):
        """Summarise a comparison's folds and draw the methods side by side.

        Parameters
        ----------
        comparison : Bunch or DataFrame
            The result of :func:`compare_methods`, or its ``results`` (one row
            per method and fold, and repeat).
        metric : str, default="f1_micro"
            The metric to plot.
        kinds : dict of str to str or None, default=None
            Kind of each method (``"unimodal"``, ``"early_fusion"``,
            ``"late_fusion"``, ``"other"``), to colour the bars by it.
        comparisons : DataFrame or None, default=None
            Paired comparisons against a reference, as
            :func:`compare_to_reference` returns; the reference is outlined
            and each method whose difference from it is significant is marked
            with ``*``.
        interval : {"ci", "std"}, default="ci"
            Error bars: the corrected resampled 95% confidence interval of the
            mean, or the standard deviation over folds.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : MethodComparisonDisplay
            Drawn.
        """
        results = _results_of(comparison)
        _check_metric(results, metric)
        kept = [c for c in FOLD_COLUMNS if c in results.columns]
        reference, significant = _significance(comparisons, metric)
        display = cls(
            summarize(results[[*kept, metric]]),
            metric=metric,
            kinds=kinds,
            reference=reference,
            significant=significant,
        )
        return display.plot(ax=ax, interval=interval)

    def plot(self, ax=None, *, interval="ci"):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.
        interval : {"ci", "std"}, default="ci"
            Error bars: the 95% confidence interval or the std over folds.

        Returns
        -------
        self : MethodComparisonDisplay
            With ``figure_``, ``ax_`` and ``bars_`` set.
        """
        if interval not in ("ci", "std"):
            raise ValueError(f"interval must be 'ci' or 'std'; got {interval!r}")
        summary, metric, kinds = self.summary, self.metric, self.kinds or {}
        means = summary[f"{metric}_mean"].to_numpy()
        low, high, texts = _error_bars(summary, metric, interval)
        methods = summary["method"].tolist()
        self.figure_, ax = _new_axes(ax, (7.5, 1.4 + 0.5 * len(methods)))
        positions = np.arange(len(methods))[::-1]
        colours = [_KIND_COLOURS.get(kinds.get(m), _DEFAULT_COLOUR) for m in methods]
        self.bars_ = ax.barh(
            positions,
            means,
            # lists: matplotlib 3.10 reads a (2, 1) array's first row as a
            # scalar (a NumPy DeprecationWarning) when a single method is drawn
            xerr=np.vstack([np.nan_to_num(low), np.nan_to_num(high)]).tolist(),
            color=colours,
            capsize=4,
            height=0.6,
        )
        ends = means + np.nan_to_num(high)
        for y, end, text, name in zip(positions, ends, texts, methods):
            text += " *" if name in self.significant else ""
            text += " (reference)" if name == self.reference else ""
            ax.text(end + 0.01, y, text, va="center", fontsize=9)
        ax.set_yticks(positions, methods)
        finite = ends[np.isfinite(ends)]  # methods whose every fit failed have none
        upper = float(finite.max()) if finite.size else 1.0
        ax.set_xlim(0, max(1.0, upper + 0.35))
        spread = "95% CI" if interval == "ci" else "± std"
        ax.set_xlabel(f"{metric_label(metric)} (mean, {spread} over {_folds(summary)})")
        _mark_reference(ax, self.bars_, methods, self.reference)
        ax.set_title("Methods compared, speaker-independent cross-validation")
        shown = [k for k in dict.fromkeys(kinds.get(m) for m in methods) if k]
        if shown:
            from matplotlib.patches import Patch

            ax.legend(
                handles=[
                    Patch(color=_KIND_COLOURS.get(k, _DEFAULT_COLOUR), label=k)
                    for k in shown
                ],
                loc="lower right",
                fontsize=8,
            )
        ax.grid(axis="x", alpha=0.3)
        self.ax_ = ax
        return self


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


class ModalityContributionDisplay:
    """Each modality alone, on every metric, against the fusion methods.

    Build it with :meth:`from_comparison`; the constructor takes the means
    already computed.

    Parameters
    ----------
    means : DataFrame
        Mean score over folds, one row per method (index) and one column per
        metric, the first metric leading.
    spreads : DataFrame
        Standard deviation over folds, shaped as ``means``.
    modalities : list of str
        The unimodal methods drawn as bar groups, in order.
    fusion : list of str or None, default=None
        Methods of ``means`` drawn as dashed reference lines at their mean
        first metric.

    Attributes
    ----------
    bars_ : list of matplotlib.container.BarContainer
        One container per metric.
    lines_ : list of matplotlib.lines.Line2D
        The fusion methods' reference lines.
    ax_ : matplotlib.axes.Axes
        Axes drawn on.
    figure_ : matplotlib.figure.Figure
        Figure holding ``ax_``.

    See Also
    --------
    plot_modality_contribution : The same figure, returned as a Figure.
    MethodComparisonDisplay : Every method's mean score and interval.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import ModalityContributionDisplay
    >>> results = pd.DataFrame({
    ...     "method": ["audio", "text", "fused"], "fold": [1, 1, 1],
    ...     "f1_micro": [0.4, 0.6, 0.7], "f1_macro": [0.3, 0.5, 0.6]})
    >>> display = ModalityContributionDisplay.from_comparison(
    ...     results, ["audio", "text"], fusion=["fused"])
    >>> display.modalities, len(display.lines_)
    (['text', 'audio'], 1)
    """

    def __init__(self, means, spreads, modalities, *, fusion=None):
        self.means = means
        self.spreads = spreads
        self.modalities = modalities
        self.fusion = fusion

    @classmethod
    def from_comparison(
        cls, comparison, modalities, *, metrics=None, fusion=None, ax=None
    ):
        """Average a comparison's folds and draw each modality's scores.

        Parameters
        ----------
        comparison : Bunch or DataFrame
            The result of :func:`compare_methods`, or its ``results``; the
            unimodal methods are named by their modality.
        modalities : list of str
            The modalities (unimodal methods) to show; drawn best first on the
            first metric.
        metrics : list of str or None, default=None
            Metrics to show side by side; every metric column (but
            ``fit_seconds``) when None.
        fusion : list of str or None, default=None
            Methods drawn as dashed reference lines; none when None.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : ModalityContributionDisplay
            Drawn.
        """
        results = _results_of(comparison)
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
        means = grouped[list(metrics)].mean()
        order = means.loc[list(modalities), metrics[0]].sort_values(ascending=False)
        display = cls(
            means,
            grouped[list(metrics)].std(ddof=0),
            order.index.tolist(),
            fusion=fusion,
        )
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the grouped bars and the fusion lines.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        self : ModalityContributionDisplay
            With ``figure_``, ``ax_``, ``bars_`` and ``lines_`` set.
        """
        means, order = self.means, list(self.modalities)
        metrics = list(means.columns)
        self.figure_, ax = _new_axes(ax, (max(5.5, 1.6 * len(order) + 2.5), 4.2))
        width = 0.8 / len(metrics)
        x = np.arange(len(order))
        self.bars_ = [
            ax.bar(
                x + (k - (len(metrics) - 1) / 2) * width,
                means.loc[order, metric],
                width,
                # a modality whose every fit failed has no bar and no spread;
                # matplotlib 3.7 cannot draw all-NaN error bars
                yerr=np.nan_to_num(
                    self.spreads.loc[order, metric].to_numpy(dtype=float)
                ),
                capsize=3,
                label=metric_label(metric),
            )
            for k, metric in enumerate(metrics)
        ]
        self.lines_ = []
        for k, name in enumerate(self.fusion or []):
            if name in means.index:
                level = means.loc[name, metrics[0]]
                label = f"{name} ({metric_label(metrics[0])} {level:.3f})"
                self.lines_.append(
                    ax.axhline(
                        level,
                        ls="--",
                        lw=1.2,
                        color=f"C{len(metrics) + k}",
                        label=label,
                    )
                )
        ax.set_xticks(x, order)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("score (mean ± std over folds)")
        ax.set_title("Modality contribution: each modality alone")
        ax.legend(fontsize=8, loc="upper right")
        ax.grid(axis="y", alpha=0.3)
        self.ax_ = ax
        return self
