"""Row-normalised confusion matrices of several methods, as one display."""

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

from .breakdown import _check_predictions


class ConfusionMatricesDisplay:
    """Row-normalised confusion matrices, summed over folds, one panel per method.

    Build it with :meth:`from_comparison` or :meth:`from_predictions`, or from
    counts with the constructor, then :meth:`plot`. Each panel is drawn by
    scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay` on a shared
    0-1 colour scale.

    Parameters
    ----------
    confusion_matrices : dict of str to ndarray
        Per method, counts of shape ``(n_folds, n_classes, n_classes)`` (or
        ``(n_classes, n_classes)``), rows true, columns predicted, as
        ``compare_methods(...).confusion_matrices``.
    display_labels : array-like of shape (n_classes,)
        Class names, in the matrices' order.
    methods : list of str or None, default=None
        Methods to show, in order; all when None.

    Attributes
    ----------
    rates_ : dict of str to ndarray of shape (n_classes, n_classes)
        Each shown method's fraction of each true class predicted as each
        class (rows sum to 1; empty rows stay 0).
    images_ : list of matplotlib.image.AxesImage
        One image per method.
    colorbar_ : matplotlib.colorbar.Colorbar
        The shared colour bar.
    ax_ : ndarray of matplotlib.axes.Axes
        The axes drawn on, one per method.
    figure_ : matplotlib.figure.Figure
        Figure holding ``ax_``.

    See Also
    --------
    plot_confusion_matrices : The same figure, returned as a Figure.
    sklearn.metrics.ConfusionMatrixDisplay : One method's matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.evaluation import ConfusionMatricesDisplay
    >>> display = ConfusionMatricesDisplay(
    ...     {"a": np.array([[3, 1], [0, 4]])}, ["calm", "angry"]).plot()
    >>> display.rates_["a"].tolist(), display.ax_[0].get_title()
    ([[0.75, 0.25], [0.0, 1.0]], 'a')
    """

    def __init__(self, confusion_matrices, display_labels, *, methods=None):
        self.confusion_matrices = confusion_matrices
        self.display_labels = display_labels
        self.methods = methods

    @classmethod
    def from_comparison(cls, comparison, *, methods=None, ax=None):
        """Draw the confusion matrices of a comparison.

        Parameters
        ----------
        comparison : Bunch
            The result of :func:`compare_methods` (its ``confusion_matrices``
            and ``labels``).
        methods : list of str or None, default=None
            Methods to show, in order; all when None.
        ax : matplotlib.axes.Axes, array-like of Axes or None, default=None
            Axes to draw on, one per method; a new figure when None.

        Returns
        -------
        display : ConfusionMatricesDisplay
            Drawn.
        """
        display = cls(comparison.confusion_matrices, comparison.labels, methods=methods)
        return display.plot(ax=ax)

    @classmethod
    def from_predictions(cls, predictions, *, labels=None, methods=None, ax=None):
        """Count and draw the confusions of out-of-fold predictions.

        Parameters
        ----------
        predictions : DataFrame
            Out-of-fold predictions, as ``compare_methods(...).predictions``
            (columns ``method``, ``fold``, ``row``, ``y_true``, ``y_pred``);
            pooled over folds and repeats.
        labels : array-like or None, default=None
            Classes, in order; the sorted labels of ``y_true`` and ``y_pred``
            when None.
        methods : list of str or None, default=None
            Methods to show, in order; all, in order of appearance, when None.
        ax : matplotlib.axes.Axes, array-like of Axes or None, default=None
            Axes to draw on, one per method; a new figure when None.

        Returns
        -------
        display : ConfusionMatricesDisplay
            Drawn.
        """
        _check_predictions(predictions)
        if labels is None:
            pooled = np.concatenate([predictions["y_true"], predictions["y_pred"]])
            labels = np.unique(pooled)
        matrices = {
            name: confusion_matrix(part["y_true"], part["y_pred"], labels=labels)
            for name, part in predictions.groupby("method", sort=False)
        }
        return cls(matrices, labels, methods=methods).plot(ax=ax)

    def plot(self, ax=None):
        """Draw one panel per method and a shared colour bar.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, array-like of Axes or None, default=None
            Axes to draw on, at least one per method; a new figure with a grid
            of up to three panels a row when None.

        Returns
        -------
        self : ConfusionMatricesDisplay
            With ``figure_``, ``ax_``, ``rates_``, ``images_`` and
            ``colorbar_`` set.
        """
        matrices = self.confusion_matrices
        methods = list(matrices) if self.methods is None else list(self.methods)
        unknown = sorted(set(methods) - set(matrices))
        if unknown or not methods:
            raise ValueError(
                f"methods {unknown or methods} have no confusion matrix; choose "
                f"among {list(matrices)}"
            )
        labels = [str(label) for label in self.display_labels]
        self.rates_ = {name: _rates(matrices[name], name, labels) for name in methods}
        figure, axes = _panels(ax, len(methods), len(labels))
        self.images_ = []
        for panel, name in zip(axes, methods):
            rates = self.rates_[name]
            display = ConfusionMatrixDisplay(rates, display_labels=labels).plot(
                ax=panel,
                cmap="Blues",
                colorbar=False,
                values_format=".2f",
                xticks_rotation=45,
                im_kw={"vmin": 0, "vmax": 1},
                text_kw={"fontsize": 8},
            )
            # scikit-learn picks the text colour against this panel's own
            # range; on the shared 0-1 scale, dark text is readable up to 0.6
            for (i, j), text in np.ndenumerate(display.text_):
                text.set_color("white" if rates[i, j] > 0.6 else "black")
            self.images_.append(display.im_)
            panel.set_title(name)
            panel.set_xlabel("predicted")
            panel.set_ylabel("true")
        if ax is None:
            for panel in axes[len(methods) :]:
                panel.set_axis_off()
            figure.suptitle("Confusion matrices: rows normalised, summed over folds")
        self.ax_ = axes[: len(methods)]
        self.colorbar_ = figure.colorbar(
            self.images_[-1],
            ax=self.ax_.tolist(),
            shrink=0.8,
            label="fraction of true class",
        )
        self.figure_ = figure
        return self


def _rates(counts, name, labels):
    """Counts summed over folds, each row divided by its total."""
    counts = np.asarray(counts)
    counts = counts.sum(axis=0) if counts.ndim == 3 else counts
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(
            f"confusion matrix of {name!r} has shape {counts.shape}, not "
            f"({len(labels)}, {len(labels)}) for labels {labels}"
        )
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def _panels(ax, n_methods, n_labels):
    """The figure and a flat array of axes, at least one per method."""
    if ax is not None:
        axes = np.ravel(np.asarray(ax, dtype=object))
        if axes.size < n_methods:
            raise ValueError(
                f"ax holds {axes.size} axes for {n_methods} methods; pass one "
                "per method"
            )
        return axes[0].figure, axes
    n_cols = min(3, n_methods)
    n_rows = -(-n_methods // n_cols)
    size = 1.1 + 0.75 * n_labels
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(size * n_cols + 1.2, size * n_rows + 0.6), layout="constrained"
    )
    return figure, figure.subplots(n_rows, n_cols, squeeze=False).ravel()
