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
from .._schema import TEST_CORPUS
from .stats import score_columns

#: Metrics of :func:`bootstrap_scores`, from labels and predictions.
BOOTSTRAP_METRICS = {
    "f1_micro": lambda t, p: f1_score(t, p, average="micro", zero_division=0),
    "f1_macro": lambda t, p: f1_score(t, p, average="macro", zero_division=0),
    "unweighted_accuracy": unweighted_accuracy,
}


def _f1_micro(matrices):
    # one label per utterance: micro precision, recall and F1 are the accuracy
    return np.trace(matrices, axis1=1, axis2=2) / matrices.sum(axis=(1, 2))


def _f1_macro(matrices):
    # over the classes the resample has, true or predicted (as f1_score)
    hits = np.diagonal(matrices, axis1=1, axis2=2)
    both = matrices.sum(axis=2) + matrices.sum(axis=1)  # 2 TP + FP + FN
    present = both > 0
    f1 = np.divide(2 * hits, both, out=np.zeros_like(hits), where=present)
    return f1.sum(axis=1) / present.sum(axis=1)


def _unweighted_accuracy(matrices):
    # the mean recall over the classes the resample's labels have
    hits = np.diagonal(matrices, axis1=1, axis2=2)
    support = matrices.sum(axis=2)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=present)
    return recall.sum(axis=1) / present.sum(axis=1)


#: Each metric of :data:`BOOTSTRAP_METRICS` from confusion counts (one
#: matrix per resample, rows true).
_FROM_COUNTS = {
    "f1_micro": _f1_micro,
    "f1_macro": _f1_macro,
    "unweighted_accuracy": _unweighted_accuracy,
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
    _, coded = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    true, pred = coded[: len(y_true)], coded[len(y_true) :]
    n_classes = int(coded.max()) + 1
    # each speaker's confusion counts: a resample's are their sum, weighted by
    # how often it drew each speaker, so no utterance is copied
    counts = np.zeros((len(names), n_classes, n_classes))
    np.add.at(counts, (codes, true, pred), 1)
    rng = np.random.RandomState(random_state)
    weights = np.array(
        [
            np.bincount(rng.randint(len(names), size=len(names)), minlength=len(names))
            for _ in range(n_resamples if len(names) > 1 else 0)
        ]
    ).reshape(-1, len(names))
    resampled = np.einsum("rk,kij->rij", weights, counts)
    tail = (1 - confidence) / 2 * 100
    records = []
    for metric, score in BOOTSTRAP_METRICS.items():
        values = _FROM_COUNTS[metric](resampled)
        low, high = (
            np.percentile(values, [tail, 100 - tail]) if len(values) else (np.nan,) * 2
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


#: ``ci_method`` of a cross-corpus summary row: the corrected resampled t over
#: the fits that scored the corpus, or the speaker bootstrap of one fit's
#: predictions (a corpus scored by a single fit, such as a corpus left out).
CI_T, CI_BOOTSTRAP = "t (folds)", "speaker bootstrap"


def single_fit_intervals(
    results, predictions, speakers, *, confidence, n_resamples, random_state
):
    """Speaker-bootstrap intervals of each (method, test corpus) scored by one
    fit: ``{(method, corpus): {metric: (low, high)}}``.

    ``results`` are the rows of the test corpora; ``speakers`` maps each test
    corpus to its speakers, indexed by the predictions' ``row``. The seed is
    ``random_state``, or the fit's ``seed`` (0 without one) when None.
    """
    intervals = {}
    for (method, corpus), fits in results.groupby(["method", TEST_CORPUS], sort=False):
        if len(fits) != 1 or corpus not in speakers:
            continue
        fit = fits.iloc[0]
        mine = predictions[
            (predictions["method"] == method)
            & (predictions[TEST_CORPUS] == corpus)
            & (predictions["repeat"] == fit.get("repeat", 1))
            & (predictions["fold"] == fit["fold"])
        ]
        if not len(mine):
            continue  # a failed fit has no predictions
        seed = random_state
        if seed is None:
            seed = fit.get("seed", 0)
            seed = 0 if pd.isna(seed) else int(seed)
        table = bootstrap_scores(
            mine["y_true"].to_numpy(),
            mine["y_pred"].to_numpy(),
            np.asarray(speakers[corpus], dtype=object)[mine["row"].to_numpy(int)],
            n_resamples=n_resamples,
            confidence=confidence,
            random_state=seed,
        ).set_index("metric")
        intervals[method, corpus] = {
            metric: (row["ci_low"], row["ci_high"]) for metric, row in table.iterrows()
        }
    return intervals


def fill_single_fit_intervals(summary, results, predictions, speakers, **options):
    """Set the intervals of the corpora scored by one fit, in place."""
    intervals = single_fit_intervals(results, predictions, speakers, **options)
    for index, row in summary.iterrows():
        bounds = intervals.get((row["method"], row[TEST_CORPUS]))
        if bounds is None:
            continue
        summary.loc[index, "ci_method"] = CI_BOOTSTRAP
        for metric in score_columns(results):
            low, high = bounds.get(metric, (np.nan, np.nan))
            summary.loc[index, [f"{metric}_ci_low", f"{metric}_ci_high"]] = low, high
