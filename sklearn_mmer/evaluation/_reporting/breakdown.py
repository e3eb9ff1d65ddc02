"""Where a method fails: scores per held-out speaker and recall per class.

Both are computed from the out-of-fold predictions of a comparison (each
utterance predicted once per repeat, by the fold that held its speaker out);
``heatmaps.py`` draws them.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, recall_score

from .._schema import ROW_COLUMN, TEST_CORPUS


def _unweighted_accuracy(y_true, y_pred):
    # the mean recall over the classes this speaker has; classes the speaker
    # never shows are no failure of the method on that speaker
    return recall_score(
        y_true, y_pred, labels=np.unique(y_true), average="macro", zero_division=0
    )


#: Metrics of a held-out speaker, computed from its labels and predictions.
SPEAKER_METRICS = {
    "f1_micro": lambda t, p: f1_score(t, p, average="micro", zero_division=0),
    "f1_macro": lambda t, p: f1_score(t, p, average="macro", zero_division=0),
    "unweighted_accuracy": _unweighted_accuracy,
}


def _check_predictions(predictions):
    needed = ["method", "fold", ROW_COLUMN, "y_true", "y_pred"]
    missing = [c for c in needed if c not in predictions.columns]
    if missing:
        raise ValueError(
            f"predictions lack the columns {missing}; pass "
            "compare_methods(...).predictions (columns method, repeat, fold, "
            f"{ROW_COLUMN}, y_true, y_pred)"
        )
    return ["repeat"] if "repeat" in predictions.columns else []


def per_speaker_scores(predictions, speakers, *, metrics=None):
    """Each method's scores on each held-out speaker.

    Parameters
    ----------
    predictions : DataFrame
        Out-of-fold predictions, as ``compare_methods(...).predictions``: one
        row per method, (repeat,) fold and test utterance, with columns
        ``method``, ``fold``, ``row`` (position in X), ``y_true`` and
        ``y_pred``, and ``repeat`` when the comparison was repeated.
    speakers : array-like of shape (n_samples,)
        Speaker of each row of X (the comparison's ``groups``).
    metrics : dict of str to callable or None, default=None
        ``name -> metric(y_true, y_pred)``; None means F1-micro, macro F1 and
        unweighted accuracy (mean recall over the classes the speaker has).

    Returns
    -------
    per_speaker : DataFrame
        One row per method, (repeat,) and speaker: ``method``, ``repeat``
        (when present), ``fold`` (the fold that held the speaker out),
        ``speaker``, ``n_utterances``, then one column per metric. Methods in
        order of appearance, speakers sorted.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import per_speaker_scores
    >>> predictions = pd.DataFrame({
    ...     "method": ["a"] * 4, "fold": [1, 1, 2, 2], "row": [0, 1, 2, 3],
    ...     "y_true": ["x", "y", "x", "y"], "y_pred": ["x", "y", "y", "y"]})
    >>> per_speaker_scores(predictions, ["s1", "s1", "s2", "s2"])[
    ...     ["speaker", "n_utterances", "f1_micro", "unweighted_accuracy"]]
      speaker  n_utterances  f1_micro  unweighted_accuracy
    0      s1             2       1.0                  1.0
    1      s2             2       0.5                  0.5
    """
    repeat = _check_predictions(predictions)
    metrics = SPEAKER_METRICS if metrics is None else dict(metrics)
    speakers = np.asarray(speakers)
    rows = predictions[ROW_COLUMN].to_numpy(dtype=int)
    if rows.size and (rows.min() < 0 or rows.max() >= speakers.shape[0]):
        raise ValueError(
            f"predictions name row {rows.max()}, but speakers has "
            f"{speakers.shape[0]} entries; pass the speakers of the compared X"
        )
    frame = predictions.assign(speaker=speakers[rows])
    keys = ["method", *repeat, "speaker"]
    records = []
    for key, part in frame.groupby(keys, sort=False):
        record = dict(zip(keys, key))
        record["fold"] = int(part["fold"].iloc[0])
        record["n_utterances"] = len(part)
        y_true, y_pred = part["y_true"].to_numpy(), part["y_pred"].to_numpy()
        for name, metric in metrics.items():
            record[name] = float(metric(y_true, y_pred))
        records.append(record)
    columns = ["method", *repeat, "fold", "speaker", "n_utterances", *metrics]
    table = pd.DataFrame(records, columns=columns)
    order = {m: k for k, m in enumerate(dict.fromkeys(predictions["method"]))}
    table = table.sort_values(
        ["method", *repeat, "speaker"],
        key=lambda c: c.map(order) if c.name == "method" else c,
        kind="stable",
    )
    return table.reset_index(drop=True)


def per_class_recall(predictions, labels=None):
    """Each method's recall of each emotion, pooled over folds and repeats.

    Parameters
    ----------
    predictions : DataFrame
        Out-of-fold predictions, as for :func:`per_speaker_scores`.
    labels : array-like or None, default=None
        Classes, in order; the sorted labels of ``y_true`` when None.

    Returns
    -------
    recall : DataFrame
        One row per method and class: ``method``, ``label``,
        ``n_utterances`` (predictions of that class, over repeats) and
        ``recall`` (the share of them predicted as that class; NaN for a
        class never seen). The mean of a method's recalls is its unweighted
        accuracy over the pooled predictions.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import per_class_recall
    >>> predictions = pd.DataFrame({
    ...     "method": ["a"] * 4, "fold": [1, 1, 2, 2], "row": [0, 1, 2, 3],
    ...     "y_true": ["x", "y", "x", "y"], "y_pred": ["x", "y", "y", "y"]})
    >>> per_class_recall(predictions)
      method label  n_utterances  recall
    0      a     x             2     0.5
    1      a     y             2     1.0
    """
    _check_predictions(predictions)
    if labels is None:
        labels = np.unique(predictions["y_true"].to_numpy())
    records = []
    for method, part in predictions.groupby("method", sort=False):
        y_true, y_pred = part["y_true"].to_numpy(), part["y_pred"].to_numpy()
        for label in labels:
            is_label = y_true == label
            n = int(is_label.sum())
            recall = float((y_pred[is_label] == label).mean()) if n else np.nan
            records.append(
                {"method": method, "label": label, "n_utterances": n, "recall": recall}
            )
    return pd.DataFrame(records, columns=["method", "label", "n_utterances", "recall"])


def cross_per_class_recall(comparison):
    """Each method's recall of each class on each test corpus: ``test_corpus``
    and the columns of :func:`per_class_recall`."""
    predictions = comparison.cross_predictions
    tables = [
        per_class_recall(part, comparison.labels).assign(**{TEST_CORPUS: corpus})
        for corpus, part in predictions.groupby(TEST_CORPUS, sort=False)
    ]
    columns = [TEST_CORPUS, "method", "label", "n_utterances", "recall"]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]
