"""A comparison's summary: each method's mean, spread and interval, best first."""

import pandas as pd

from .stats import confidence_intervals, score_columns


def summarize(results, *, confidence=0.95, test_train_ratio=None):
    """Mean, standard deviation and confidence interval per method, best first.

    Parameters
    ----------
    results : DataFrame
        One row per method, repeat and fold, as in
        ``compare_methods(...).results`` (``repeat`` and the other columns
        besides ``method``, ``fold`` and the metrics may be absent).
    confidence : float, default=0.95
        Coverage of the intervals.
    test_train_ratio : float or None, default=None
        ``n_test / n_train`` for the intervals; from the ``n_train`` and
        ``n_test`` columns, or ``1 / (k - 1)`` for k folds without them.

    Returns
    -------
    summary : DataFrame
        One row per method: ``method``, ``n_folds``, ``n_repeats``,
        ``n_failed`` (fits with an error), then for each metric
        ``<metric>_mean``, ``<metric>_std``, ``<metric>_ci_low`` and
        ``<metric>_ci_high``, and ``fit_seconds_mean`` and
        ``fit_seconds_std``; sorted by the mean of the first metric,
        descending (methods without a score last). Means, standard deviations
        and intervals are over every repeat and fold that was scored (failed
        fits, NaN, are left out); standard deviations use ``ddof=0``, as in
        scikit-learn's ``cv_results_``. The interval is the corrected
        resampled t interval of Nadeau and Bengio (see
        :func:`confidence_intervals`), which accounts for the overlap of
        training sets across folds.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import summarize
    >>> results = pd.DataFrame({"method": ["a", "a", "b", "b"],
    ...                         "fold": [1, 2, 1, 2],
    ...                         "f1_micro": [0.5, 0.7, 0.8, 0.8],
    ...                         "fit_seconds": [1.0, 1.0, 2.0, 2.0]})
    >>> summarize(results)[["method", "f1_micro_mean", "f1_micro_std"]]
      method  f1_micro_mean  f1_micro_std
    0      b            0.8           0.0
    1      a            0.6           0.1
    """
    scores = score_columns(results)
    extra = [c for c in ("fit_seconds",) if c in results.columns]
    grouped = results.groupby("method", sort=False)
    summary = pd.DataFrame({"method": list(grouped.groups)})
    summary["n_folds"] = grouped["fold"].nunique().to_numpy()
    summary["n_repeats"] = (
        grouped["repeat"].nunique().to_numpy() if "repeat" in results else 1
    )
    summary["n_failed"] = (
        grouped["error"].agg(lambda e: int((e.fillna("") != "").sum())).to_numpy()
        if "error" in results
        else 0
    )
    bounds = confidence_intervals(
        results,
        metrics=scores,
        confidence=confidence,
        test_train_ratio=test_train_ratio,
    ).set_index("method")
    for metric in [*scores, *extra]:
        summary[f"{metric}_mean"] = grouped[metric].mean().to_numpy()
        summary[f"{metric}_std"] = grouped[metric].std(ddof=0).to_numpy()
        if metric in scores:
            for side in ("ci_low", "ci_high"):
                column = f"{metric}_{side}"
                summary[column] = bounds.loc[summary["method"], column].to_numpy()
    if scores or extra:
        first = (scores or extra)[0]
        summary = summary.sort_values(
            f"{first}_mean", ascending=False, kind="stable", na_position="last"
        )
    return summary.reset_index(drop=True)
