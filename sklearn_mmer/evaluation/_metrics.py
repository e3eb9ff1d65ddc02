"""Metrics of the IEMOCAP convention."""

from sklearn.metrics import balanced_accuracy_score, make_scorer


def unweighted_accuracy(y_true, y_pred, *, sample_weight=None):
    """Unweighted accuracy: the mean of per-class recalls (balanced accuracy).

    The usual IEMOCAP figure beside weighted accuracy, since the corpus's emotion
    classes are imbalanced.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float
        Mean recall over the classes present in ``y_true``.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import unweighted_accuracy
    >>> unweighted_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.5
    """
    return float(balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight))


def metric_label(metric):
    """A metric's name as figures and tables print it."""
    return {
        "f1_micro": "F1-micro",
        "f1_macro": "F1-macro",
        "unweighted_accuracy": "unweighted accuracy",
    }.get(metric, metric.replace("_", " "))


unweighted_accuracy_scorer = make_scorer(unweighted_accuracy)
unweighted_accuracy_scorer.__doc__ = "Scorer for :func:`unweighted_accuracy`."

#: Scoring used throughout: the study's F1-micro, macro F1, unweighted accuracy.
SCORING = {
    "f1_micro": "f1_micro",
    "f1_macro": "f1_macro",
    "unweighted_accuracy": unweighted_accuracy_scorer,
}
