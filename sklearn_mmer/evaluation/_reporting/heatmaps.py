"""Where a method fails, drawn: scores per held-out speaker, recall per class.

Two displays (as scikit-learn's: ``from_predictions``, ``plot(ax=...)``,
``figure_`` and ``ax_``) over one heatmap of a methods x columns table of
scores in [0, 1], and the ``plot_*`` functions that wrap them. Without ``ax``,
they draw on a new :class:`matplotlib.figure.Figure` (no ``pyplot``), as
``displays.py`` does.
"""

import numpy as np

from .._metrics import metric_label
from .breakdown import per_class_recall, per_speaker_scores


class _HeatmapDisplay:
    """A methods x columns table of scores in [0, 1], annotated."""

    _xlabel = ""
    _colour_label = ""

    def _title(self):
        raise NotImplementedError

    def plot(self, ax=None):
        """Draw the heatmap and its colour bar.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        self : object
            With ``figure_``, ``ax_``, ``im_`` and ``colorbar_`` set.
        """
        table = self.scores
        values = table.to_numpy(dtype=float)
        n_rows, n_cols = values.shape
        if ax is None:
            from matplotlib.figure import Figure

            figure = Figure(
                figsize=(2.5 + 0.7 * n_cols, 1.5 + 0.45 * n_rows),
                layout="constrained",
            )
            ax = figure.add_subplot()
        self.im_ = ax.imshow(values, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
        for (i, j), value in np.ndenumerate(values):
            if not np.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(
            range(n_cols), [str(c) for c in table.columns], rotation=45, ha="right"
        )
        ax.set_yticks(range(n_rows), [str(r) for r in table.index])
        ax.set_xlabel(self._xlabel)
        ax.set_title(self._title())
        self.colorbar_ = ax.figure.colorbar(self.im_, ax=ax, label=self._colour_label)
        self.figure_, self.ax_ = ax.figure, ax
        return self


class PerSpeakerDisplay(_HeatmapDisplay):
    """Each method's score on each held-out speaker, as a heatmap.

    Build it with :meth:`from_predictions`, or from a table of scores.

    Parameters
    ----------
    scores : DataFrame
        Methods as index (rows), speakers as columns, scores in [0, 1].
    metric : str, default="f1_micro"
        The metric of the scores, for the title and colour bar.

    Attributes
    ----------
    im_ : matplotlib.image.AxesImage
        The heatmap.
    colorbar_ : matplotlib.colorbar.Colorbar
        Its colour bar.
    ax_ : matplotlib.axes.Axes
        Axes drawn on.
    figure_ : matplotlib.figure.Figure
        Figure holding ``ax_``.

    See Also
    --------
    plot_per_speaker : The same figure from a :func:`per_speaker_scores` table.
    PerClassRecallDisplay : Each method's recall of each class.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import PerSpeakerDisplay
    >>> predictions = pd.DataFrame({
    ...     "method": ["a"] * 4, "fold": [1, 1, 2, 2], "row": [0, 1, 2, 3],
    ...     "y_true": ["x", "y", "x", "y"], "y_pred": ["x", "y", "y", "y"]})
    >>> display = PerSpeakerDisplay.from_predictions(
    ...     predictions, ["s1", "s1", "s2", "s2"])
    >>> display.scores.round(2).to_numpy().tolist()
    [[1.0, 0.5]]
    """

    _xlabel = "held-out speaker"

    def __init__(self, scores, *, metric="f1_micro"):
        self.scores = scores
        self.metric = metric

    @property
    def _colour_label(self):
        return metric_label(self.metric)

    def _title(self):
        return f"{metric_label(self.metric)} on each held-out speaker"

    @classmethod
    def from_predictions(cls, predictions, speakers, *, metric="f1_micro", ax=None):
        """Score each method on each held-out speaker and draw the scores.

        Parameters
        ----------
        predictions : DataFrame
            Out-of-fold predictions, as ``compare_methods(...).predictions``.
        speakers : array-like of shape (n_samples,)
            Speaker of each row of X (the comparison's ``groups``).
        metric : {"f1_micro", "f1_macro", "unweighted_accuracy"}, \
                default="f1_micro"
            The metric to show (see :func:`per_speaker_scores`).
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : PerSpeakerDisplay
            Drawn.
        """
        table = _speaker_table(per_speaker_scores(predictions, speakers), metric)
        return cls(table, metric=metric).plot(ax=ax)


class PerClassRecallDisplay(_HeatmapDisplay):
    """Each method's recall of each emotion, as a heatmap.

    Build it with :meth:`from_predictions`, or from a table of recalls.

    Parameters
    ----------
    scores : DataFrame
        Methods as index (rows), classes as columns, recalls in [0, 1].

    Attributes
    ----------
    im_ : matplotlib.image.AxesImage
        The heatmap.
    colorbar_ : matplotlib.colorbar.Colorbar
        Its colour bar.
    ax_ : matplotlib.axes.Axes
        Axes drawn on.
    figure_ : matplotlib.figure.Figure
        Figure holding ``ax_``.

    See Also
    --------
    plot_per_class_recall : The same figure from a :func:`per_class_recall`
        table.
    PerSpeakerDisplay : Each method's score on each held-out speaker.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import PerClassRecallDisplay
    >>> predictions = pd.DataFrame({
    ...     "method": ["a"] * 4, "fold": [1, 1, 2, 2], "row": [0, 1, 2, 3],
    ...     "y_true": ["x", "y", "x", "y"], "y_pred": ["x", "y", "y", "y"]})
    >>> display = PerClassRecallDisplay.from_predictions(predictions)
    >>> display.scores.to_numpy().tolist()
    [[0.5, 1.0]]
    """

    _xlabel = "true class"
    _colour_label = "recall"

    def __init__(self, scores):
        self.scores = scores

    def _title(self):
        return "Recall of each class, pooled over folds"

    @classmethod
    def from_predictions(cls, predictions, *, labels=None, ax=None):
        """Compute each method's recall of each class and draw it.

        Parameters
        ----------
        predictions : DataFrame
            Out-of-fold predictions, as ``compare_methods(...).predictions``.
        labels : array-like or None, default=None
            Classes, in order; the sorted labels of ``y_true`` when None.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw on; a new figure when None.

        Returns
        -------
        display : PerClassRecallDisplay
            Drawn.
        """
        return cls(_recall_table(per_class_recall(predictions, labels))).plot(ax=ax)


def _speaker_table(per_speaker, metric):
    """Methods x speakers of a per-speaker table, averaged over repeats."""
    if metric not in per_speaker.columns:
        raise ValueError(
            f"metric {metric!r} is not a column of per_speaker; it has "
            f"{per_speaker.columns.tolist()}"
        )
    table = per_speaker.pivot_table(
        index="method", columns="speaker", values=metric, aggfunc="mean", sort=False
    )
    return table.reindex(columns=sorted(table.columns, key=str))


def _recall_table(recall):
    """Methods x classes of a per-class recall table, classes in its order."""
    table = recall.pivot_table(
        index="method", columns="label", values="recall", aggfunc="mean", sort=False
    )
    return table.reindex(columns=list(dict.fromkeys(recall["label"])))


def plot_per_speaker(per_speaker, *, metric="f1_micro"):
    """Each method's score on each held-out speaker, as a heatmap.

    Parameters
    ----------
    per_speaker : DataFrame
        As :func:`per_speaker_scores` returns; scores are averaged over
        repeats.
    metric : str, default="f1_micro"
        The metric to show.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Methods as rows (in the table's order), speakers as columns.

    See Also
    --------
    PerSpeakerDisplay : The figure as a display, drawn on any axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_per_speaker
    >>> per_speaker = pd.DataFrame({"method": ["a", "a"], "speaker": ["s1", "s2"],
    ...                             "f1_micro": [0.9, 0.4]})
    >>> [t.get_text() for t in plot_per_speaker(per_speaker).axes[0].get_xticklabels()]
    ['s1', 's2']
    """
    table = _speaker_table(per_speaker, metric)
    return PerSpeakerDisplay(table, metric=metric).plot().figure_


def plot_per_class_recall(recall):
    """Each method's recall of each emotion, as a heatmap.

    Parameters
    ----------
    recall : DataFrame
        As :func:`per_class_recall` returns.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Methods as rows, classes as columns.

    See Also
    --------
    PerClassRecallDisplay : The figure as a display, drawn on any axes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import plot_per_class_recall
    >>> recall = pd.DataFrame({"method": ["a", "a"], "label": ["x", "y"],
    ...                        "recall": [0.5, 1.0]})
    >>> plot_per_class_recall(recall).axes[0].get_title()
    'Recall of each class, pooled over folds'
    """
    return PerClassRecallDisplay(_recall_table(recall)).plot().figure_
