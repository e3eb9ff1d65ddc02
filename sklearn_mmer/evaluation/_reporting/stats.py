"""Uncertainty of cross-validated scores: intervals, paired tests, Holm.

Per-fold scores of cross-validation are not independent samples: any two
training sets share most of their utterances, so the plain t interval over
folds is too narrow and the plain paired t-test finds differences that are not
there. Nadeau and Bengio (2003) correct the variance of the mean of J per-fold
values for that overlap: the naive ``s**2 / J`` becomes
``(1 / J + n_test / n_train) * s**2``. With repeated k-fold cross-validation
(Bouckaert and Frank, 2004), J is the number of repeats times the number of
folds. See ``docs/reading_a_comparison.md`` for the formulas and how to read
the results.

Scores bounded by definition (F1, accuracy, recall, precision, ROC AUC: see
:func:`score_bounds`) keep their intervals within their bounds: the t interval
``mean -/+ margin`` is clipped to [0, 1] (and the interval of a difference of
two such scores to [-1, 1]), since a score can be neither below 0 nor above 1.
Clipping changes only an interval that crossed a bound, and only on that side:
``[-0.011, 0.721]`` becomes ``[0, 0.721]``.
"""

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.utils import Bunch

from .._schema import COMPARISON_COLUMNS, NON_SCORE_COLUMNS


def score_columns(results):
    """The score columns of a results table (numeric, not fold metadata).

    Parameters
    ----------
    results : DataFrame
        One row per method and fold, as ``compare_methods(...).results``.

    Returns
    -------
    metrics : list of str
        Numeric columns other than ``method, repeat, fold, seed, n_train,
        n_test, fit_seconds, error, warnings, best_params``, in results' order.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import score_columns
    >>> score_columns(pd.DataFrame({"method": ["a"], "fold": [1], "f1_micro": [.5],
    ...                             "fit_seconds": [1.0]}))
    ['f1_micro']
    """
    return [
        str(c)
        for c in results.columns
        if c not in NON_SCORE_COLUMNS and pd.api.types.is_numeric_dtype(results[c])
    ]


#: Scores in [0, 1] by definition, by name (``f1_micro``, ``recall_macro``,
#: ``roc_auc_ovr``, ...): scikit-learn's scorer names and the toolkit's own.
UNIT_SCORES = (
    "accuracy",
    "balanced_accuracy",
    "unweighted_accuracy",
    "top_k_accuracy",
    "f1",
    "precision",
    "recall",
    "jaccard",
    "roc_auc",
    "average_precision",
)


def score_bounds(metric):
    """The bounds of a score by definition, ``(0.0, 1.0)``, or None.

    Parameters
    ----------
    metric : str
        A score column, such as ``"f1_micro"``: one of :data:`UNIT_SCORES` or
        one of them followed by ``_`` and an average (``"recall_macro"``).

    Returns
    -------
    bounds : tuple of float or None
        ``(0.0, 1.0)`` for a score in [0, 1], None for any other (a loss, a
        negated error, a time, an unknown name), whose interval is not clipped.

    See Also
    --------
    confidence_intervals : Clips the intervals of these scores.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import score_bounds
    >>> score_bounds("f1_micro"), score_bounds("neg_log_loss")
    ((0.0, 1.0), None)
    """
    name = str(metric)
    bounded = any(name == unit or name.startswith(f"{unit}_") for unit in UNIT_SCORES)
    return (0.0, 1.0) if bounded else None


def corrected_resampled_ttest(
    values, *, test_train_ratio, confidence=0.95, bounds=None
):
    """Corrected resampled t interval and test of Nadeau and Bengio (2003).

    Parameters
    ----------
    values : array-like of shape (n_values,)
        One value per fold of (repeated) cross-validation: scores of one method,
        or paired differences between two methods on the same folds. NaN
        values (failed folds) are left out.
    test_train_ratio : float
        ``n_test / n_train``, the share of test to training utterances of a
        fold (about ``1 / (k - 1)`` for k-fold cross-validation).
    confidence : float, default=0.95
        Coverage of the interval.
    bounds : tuple of float or None, default=None
        ``(low, high)``: the interval is clipped to them (the values' bounds
        by definition, such as ``(0, 1)`` for F1); None leaves it as it is.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``n`` (J, the values used), ``mean``, ``std_error`` (the square
        root of the corrected variance ``(1 / J + test_train_ratio) * s**2``,
        ``s**2`` the sample variance with ``ddof=1``), ``ci_low``, ``ci_high``
        (``mean -/+ t_{J-1} * std_error``, with ``t_{J-1}`` the Student t
        quantile of ``(1 + confidence) / 2``, clipped to ``bounds``),
        ``statistic`` (``mean /
        std_error``) and ``p_value`` (two-sided, against a mean of 0, on J - 1
        degrees of freedom). Everything but ``n`` and ``mean`` is NaN with
        fewer than two values. When every value is equal the interval is that
        value, and the p-value is 1 for a mean of 0, else 0.

    See Also
    --------
    compare_to_reference : Paired comparisons of methods with this test.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import corrected_resampled_ttest
    >>> result = corrected_resampled_ttest([0.1, 0.2, 0.3], test_train_ratio=0.5)
    >>> round(result.std_error, 4), round(result.ci_low, 4)
    (0.0913, -0.1928)
    >>> corrected_resampled_ttest(
    ...     [0.1, 0.2, 0.3], test_train_ratio=0.5, bounds=(0, 1)).ci_low
    0.0
    """
    values = np.asarray(values, dtype=float).ravel()
    values = values[~np.isnan(values)]
    n = values.shape[0]
    mean = float(values.mean()) if n else np.nan
    result = Bunch(
        n=n,
        mean=mean,
        std_error=np.nan,
        ci_low=np.nan,
        ci_high=np.nan,
        statistic=np.nan,
        p_value=np.nan,
    )
    if n < 2:
        return result
    variance = (1.0 / n + test_train_ratio) * values.var(ddof=1)
    std_error = float(np.sqrt(variance))
    margin = stats.t.ppf((1.0 + confidence) / 2.0, df=n - 1) * std_error
    if std_error > 0:
        statistic = mean / std_error
        p_value = 2.0 * stats.t.sf(abs(statistic), df=n - 1)
    else:
        statistic = 0.0 if mean == 0 else np.copysign(np.inf, mean)
        p_value = 1.0 if mean == 0 else 0.0
    low, high = mean - margin, mean + margin
    if bounds is not None:
        low, high = np.clip([low, high], *bounds)
    result.update(
        std_error=std_error,
        ci_low=float(low),
        ci_high=float(high),
        statistic=float(statistic),
        p_value=float(p_value),
    )
    return result


def holm_adjust(p_values):
    """Holm's step-down adjustment of p-values for multiple comparisons.

    Sort the m p-values ascending, ``p_(1) <= ... <= p_(m)``; the adjusted
    value of the i-th is ``max_{j <= i} min(1, (m - j + 1) * p_(j))``.
    Rejecting where the adjusted value is below alpha controls the
    family-wise error rate at alpha.

    Parameters
    ----------
    p_values : array-like of shape (m,)
        Unadjusted p-values; NaN entries stay NaN and do not count in m.

    Returns
    -------
    adjusted : ndarray of shape (m,)
        Adjusted p-values, in the input order.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import holm_adjust
    >>> holm_adjust([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p_values = np.asarray(p_values, dtype=float).ravel()
    adjusted = np.full(p_values.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p_values))
    order = present[np.argsort(p_values[present], kind="stable")]
    m = order.shape[0]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def _size_ratio(results, test_train_ratio=None):
    """``n_test / n_train`` of the folds behind ``results`` (one method's rows).

    The ratio of the mean test size to the mean training size over the rows,
    from the ``n_train`` and ``n_test`` columns; without them, ``1 / (k - 1)``
    for the k distinct folds (k-fold cross-validation with folds of equal
    size).
    """
    if test_train_ratio is not None:
        if not test_train_ratio > 0:
            raise ValueError(
                f"test_train_ratio must be a positive number; got {test_train_ratio!r}"
            )
        return float(test_train_ratio)
    if {"n_train", "n_test"} <= set(results.columns):
        n_train = results["n_train"].astype(float).mean()
        if n_train > 0:
            return float(results["n_test"].astype(float).mean() / n_train)
    n_folds = results["fold"].nunique()
    if n_folds < 2:
        raise ValueError(
            "results have one fold and no n_train/n_test columns: pass "
            "test_train_ratio=n_test/n_train"
        )
    return 1.0 / (n_folds - 1)


def confidence_intervals(
    results, *, metrics=None, confidence=0.95, test_train_ratio=None, clip=True
):
    """Corrected resampled t interval of each method's mean score.

    Parameters
    ----------
    results : DataFrame
        One row per method and fold (and repeat), as
        ``compare_methods(...).results``. NaN scores (failed folds) are left
        out of their method's interval.
    metrics : list of str or None, default=None
        Score columns; every score column (see :func:`score_columns`) when
        None.
    confidence : float, default=0.95
        Coverage of the intervals.
    test_train_ratio : float or None, default=None
        ``n_test / n_train``; taken from the ``n_train``/``n_test`` columns of
        each method's rows, or ``1 / (k - 1)`` for k folds without them.
    clip : bool, default=True
        Clip the interval of a score bounded by definition (see
        :func:`score_bounds`: F1, accuracy, recall...) to [0, 1], so that it
        never claims a score below 0 or above 1. False gives the plain t
        interval.

    Returns
    -------
    confidence_intervals : DataFrame
        One row per method in order of first appearance: ``method`` and, per
        metric, ``<metric>_ci_low`` and ``<metric>_ci_high``.

    See Also
    --------
    corrected_resampled_ttest : The interval of one method and metric.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import confidence_intervals
    >>> results = pd.DataFrame({"method": ["a"] * 3, "fold": [1, 2, 3],
    ...                         "f1_micro": [0.1, 0.2, 0.3]})
    >>> confidence_intervals(results).round(4)
      method  f1_micro_ci_low  f1_micro_ci_high
    0      a              0.0            0.5928
    >>> confidence_intervals(results, clip=False).round(4)
      method  f1_micro_ci_low  f1_micro_ci_high
    0      a          -0.1928            0.5928
    """
    metrics = score_columns(results) if metrics is None else list(metrics)
    rows = []
    for method, part in results.groupby("method", sort=False):
        ratio = _size_ratio(part, test_train_ratio)
        row = {"method": method}
        for metric in metrics:
            result = corrected_resampled_ttest(
                part[metric],
                test_train_ratio=ratio,
                confidence=confidence,
                bounds=score_bounds(metric) if clip else None,
            )
            row[f"{metric}_ci_low"] = result.ci_low
            row[f"{metric}_ci_high"] = result.ci_high
        rows.append(row)
    columns = ["method"] + [
        f"{metric}_ci_{side}" for metric in metrics for side in ("low", "high")
    ]
    return pd.DataFrame(rows, columns=columns)


def compare_to_reference(
    results,
    reference="early_fusion",
    *,
    metrics=None,
    confidence=0.95,
    alpha=0.05,
    test_train_ratio=None,
):
    """Paired comparison of every method against a reference method.

    For each method and metric, the per-fold differences ``method -
    reference`` (paired on the same repeat and fold) are tested with the
    corrected resampled t-test (:func:`corrected_resampled_ttest`) and with
    scipy's Wilcoxon signed-rank test. Each test's p-values are Holm-adjusted
    (:func:`holm_adjust`) over the methods compared, one family per metric.

    Parameters
    ----------
    results : DataFrame or Bunch
        One row per method and fold (and ``repeat``, when repeated), as
        ``compare_methods(...).results``; or the comparison
        ``compare_methods`` returns, whose ``results`` are then read. A fold
        where either method's score is NaN (a failed fit) is left out of that
        pair's tests.
    reference : str, default="early_fusion"
        The method every other method is compared with.
    metrics : list of str or None, default=None
        Score columns to compare; every score column when None.
    confidence : float, default=0.95
        Coverage of the intervals of the differences.
    alpha : float, default=0.05
        Level at which ``significant`` is set, on the Holm-adjusted p-value
        of the corrected t-test.
    test_train_ratio : float or None, default=None
        ``n_test / n_train``; from the ``n_train``/``n_test`` columns, or
        ``1 / (k - 1)`` for k folds without them.

    Returns
    -------
    comparisons : DataFrame
        One row per method other than the reference and per metric:
        ``method, reference, metric, n_pairs`` (the folds used), ``mean`` and
        ``reference_mean`` (over those folds), ``difference`` (their
        difference, the mean paired difference), ``ci_low, ci_high`` (its
        corrected interval, within [-1, 1] for scores in [0, 1]),
        ``t_statistic, t_p_value, t_p_adjusted``,
        ``wilcoxon_statistic, wilcoxon_p_value, wilcoxon_p_adjusted`` and
        ``significant`` (``t_p_adjusted < alpha``).

    Raises
    ------
    ValueError
        When the reference is not a method of results, or a method has two
        rows for one fold.

    See Also
    --------
    corrected_resampled_ttest : The corrected t interval and test.
    holm_adjust : The adjustment for multiple comparisons.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import compare_to_reference
    >>> results = pd.DataFrame({
    ...     "method": ["ref"] * 4 + ["new"] * 4, "fold": [1, 2, 3, 4] * 2,
    ...     "f1_micro": [0.5, 0.6, 0.55, 0.5, 0.6, 0.65, 0.7, 0.6]})
    >>> table = compare_to_reference(results, "ref")
    >>> table[["method", "difference", "ci_low", "t_p_value"]].round(3)
      method  difference  ci_low  t_p_value
    0    new         0.1   0.001      0.049
    """
    if isinstance(results, dict) and "results" in results:
        results = results["results"]  # the comparison itself
    methods = list(dict.fromkeys(results["method"]))
    if reference not in methods:
        raise ValueError(
            f"reference {reference!r} is not a method of the results; choose "
            f"among {methods}"
        )
    metrics = score_columns(results) if metrics is None else list(metrics)
    keys = ["repeat", "fold"] if "repeat" in results.columns else ["fold"]
    duplicated = results.duplicated(["method", *keys])
    if duplicated.any():
        row = results.loc[duplicated, ["method", *keys]].iloc[0].to_dict()
        raise ValueError(f"results have more than one row for {row}")
    indexed = results.set_index(keys)
    base = indexed[indexed["method"] == reference]
    rows = []
    for metric in metrics:
        family = []
        for method in methods:
            if method == reference:
                continue
            own = indexed[indexed["method"] == method]
            family.append(
                _paired(own, base, metric, confidence, test_train_ratio)
                | {"method": method, "reference": reference, "metric": metric}
            )
        for test in ("t", "wilcoxon"):
            adjusted = holm_adjust([row[f"{test}_p_value"] for row in family])
            for row, value in zip(family, adjusted):
                row[f"{test}_p_adjusted"] = value
        for row in family:
            row["significant"] = bool(row["t_p_adjusted"] < alpha)
        rows += family
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _paired(own, base, metric, confidence, test_train_ratio):
    """Tests of one method's per-fold differences from the reference."""
    pairs = pd.concat(
        {"scores": own[metric], "reference": base[metric]}, axis=1, join="inner"
    ).dropna()
    scores, reference = pairs["scores"], pairs["reference"]
    ratio = _size_ratio(own.reset_index(), test_train_ratio)
    differences = (scores - reference).to_numpy(dtype=float)
    # a difference of two scores in [0, 1] lies in [-1, 1]
    bounds = score_bounds(metric)
    t = corrected_resampled_ttest(
        differences,
        test_train_ratio=ratio,
        confidence=confidence,
        bounds=None if bounds is None else (-1.0, 1.0),
    )
    wilcoxon_statistic = wilcoxon_p = np.nan
    # scores are fractions of utterances: round away the float noise of
    # subtraction so that equal differences tie and equal scores give 0
    rounded = np.round(differences, 12)
    if len(differences) >= 2 and not rounded.any():
        # no difference at all: no evidence of one (what current scipy
        # answers; scipy before 1.11 refuses all-zero differences)
        wilcoxon_statistic, wilcoxon_p = 0.0, 1.0
    elif len(differences) >= 2:
        # scipy's normal approximation divides by zero when a single
        # difference is non-zero; its answer (p = 1) is right, the warning noise
        with np.errstate(invalid="ignore", divide="ignore"):
            test = stats.wilcoxon(rounded)
        wilcoxon_statistic, wilcoxon_p = float(test.statistic), float(test.pvalue)
    return {
        "n_pairs": t.n,
        "mean": float(scores.mean()) if len(pairs) else np.nan,
        "reference_mean": float(reference.mean()) if len(pairs) else np.nan,
        "difference": t.mean,
        "ci_low": t.ci_low,
        "ci_high": t.ci_high,
        "t_statistic": t.statistic,
        "t_p_value": t.p_value,
        "wilcoxon_statistic": wilcoxon_statistic,
        "wilcoxon_p_value": wilcoxon_p,
    }
