"""Scores of one set of predictions with intervals: a bootstrap over speakers.

A model scored on a whole corpus (``mmer predict`` on a labelled corpus, a
test corpus of a cross-corpus comparison) has one score per metric. How much
that score owes to the particular speakers is estimated by resampling the
speakers with replacement (utterances of one speaker stay together, as they
are not independent) and taking the percentile interval of the scores.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from .._metrics import unweighted_accuracy

#: Metrics of :func:`bootstrap_scores`, from labels and predictions.
BOOTSTRAP_METRICS = {
    "f1_micro": lambda t, p: f1_score(t, p, average="micro", zero_division=0),
    "f1_macro": lambda t, p: f1_score(t, p, average="macro", zero_division=0),
    "unweighted_accuracy": unweighted_accuracy,
}


def bootstrap_scores(
    y_true, y_pred, speakers, *, n_resamples=1000, confidence=0.95, random_state=0
):
    """Each metric of the predictions with a speaker-bootstrap interval.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels and predictions.
    speakers : array-like of shape (n_samples,)
        Speaker of each utterance: the speakers are resampled with
        replacement, each drawn speaker bringing all its utterances.
    n_resamples : int, default=1000
        Bootstrap resamples.
    confidence : float, default=0.95
        Coverage of the percentile intervals.
    random_state : int, default=0
        Seed of the resampling.

    Returns
    -------
    scores : DataFrame
        One row per metric (``f1_micro``, ``f1_macro``,
        ``unweighted_accuracy``): ``metric``, ``score`` (on all the
        utterances), ``ci_low``, ``ci_high``, ``n_speakers``. With a single
        speaker the interval is NaN: there is nothing to resample.

    See Also
    --------
    confidence_intervals : Intervals of cross-validated scores.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import bootstrap_scores
    >>> y = ["a", "b", "a", "b", "a", "b"]
    >>> table = bootstrap_scores(y, y, ["s1", "s1", "s2", "s2", "s3", "s3"])
    >>> table[["metric", "score", "ci_low", "ci_high"]]
                    metric  score  ci_low  ci_high
    0             f1_micro    1.0     1.0      1.0
    1             f1_macro    1.0     1.0      1.0
    2  unweighted_accuracy    1.0     1.0      1.0
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    speakers = np.asarray(speakers)
    if not len(y_true) == len(y_pred) == len(speakers):
        raise ValueError(
            f"y_true, y_pred and speakers must have one value per utterance; got "
            f"{len(y_true)}, {len(y_pred)} and {len(speakers)}"
        )
    names, codes = np.unique(speakers, return_inverse=True)
    rows_of = [np.flatnonzero(codes == k) for k in range(len(names))]
    rng = np.random.RandomState(random_state)
    draws = [
        np.concatenate([rows_of[k] for k in rng.randint(len(names), size=len(names))])
        for _ in range(n_resamples if len(names) > 1 else 0)
    ]
    tail = (1 - confidence) / 2 * 100
    records = []
    for metric, score in BOOTSTRAP_METRICS.items():
        values = [score(y_true[rows], y_pred[rows]) for rows in draws]
        low, high = (
            np.percentile(values, [tail, 100 - tail]) if values else (np.nan, np.nan)
        )
        records.append(
            {
                "metric": metric,
                "score": float(score(y_true, y_pred)),
                "ci_low": float(low),
                "ci_high": float(high),
                "n_speakers": len(names),
            }
        )
    return pd.DataFrame(records)
