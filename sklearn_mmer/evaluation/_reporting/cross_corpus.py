"""Cross-corpus reporting: in-corpus and cross-corpus scores side by side, the
drop from one to the other, and methods against a reference on each corpus.

Every table reads results by the ``test_corpus`` column of ``_schema``: its
in-corpus rows (``""``) are the compared corpus's held-out speakers, the others
a test corpus scored whole by the same fold's model. The intervals and tests
are the ones of the in-corpus tables (the corrected resampled t of Nadeau and
Bengio, and Wilcoxon's signed-rank test, Holm-adjusted over the methods),
paired on the repeat and fold, with the ``n_test / n_train`` ratio of the
in-corpus folds: what the correction accounts for is the overlap of the
training sets, which the cross-corpus rows share with the in-corpus ones. A
corpus scored by a single fit (left out) has the speaker bootstrap instead.
"""

import numpy as np
import pandas as pd

from .._schema import (
    COMPARISON_COLUMNS,
    CONFUSION_COLUMNS,
    IN_CORPUS,
    TEST_CORPUS,
)
from .bootstrap import CI_T, fill_single_fit_intervals
from .breakdown import cross_per_class_recall
from .stats import _size_ratio, compare_to_reference, holm_adjust, score_columns
from .summary import summarize

#: How an in-corpus row's corpus is shown in tables and figures.
IN_CORPUS_NAME = "in-corpus"
#: Columns of :func:`cross_corpus_drop`'s table.
DROP_COLUMNS = (
    "method",
    TEST_CORPUS,
    "metric",
    "n_pairs",
    "in_corpus_mean",
    "cross_corpus_mean",
    "drop",
    "ci_low",
    "ci_high",
    "t_p_value",
    "t_p_adjusted",
    "wilcoxon_p_value",
    "wilcoxon_p_adjusted",
    "significant",
)


def _corpora(results):
    """The test corpora of results, in order of appearance."""
    corpora = results[TEST_CORPUS].fillna(IN_CORPUS).astype(str)
    return [c for c in dict.fromkeys(corpora) if c != IN_CORPUS], corpora


def _ratio(results):
    in_corpus = results[results[TEST_CORPUS].fillna(IN_CORPUS) == IN_CORPUS]
    return _size_ratio(in_corpus if len(in_corpus) else results)


def summarize_cross_corpus(
    results,
    *,
    confidence=0.95,
    predictions=None,
    speakers=None,
    n_resamples=1000,
    random_state=None,
):
    """In-corpus and cross-corpus scores of each method, side by side.

    A corpus scored by several fits (the in-corpus folds; a test corpus
    scored by each fold's model) has the corrected resampled t interval over
    those fits (``ci_method`` ``"t (folds)"``), with the in-corpus folds'
    ``n_test / n_train``. A corpus scored by a single fit (each corpus left
    out by :class:`~sklearn_mmer.model_selection.LeaveOneCorpusOut` with one
    repeat) has no such interval; given its ``predictions`` and ``speakers``,
    its interval is the speaker bootstrap of that fit's predictions
    (:func:`bootstrap_scores`; ``ci_method`` ``"speaker bootstrap"``). With
    several repeats, a left-out corpus keeps the t interval over the repeats.

    Parameters
    ----------
    results : DataFrame
        ``compare_methods(..., test_sets=...).results``, with its
        ``test_corpus`` column.
    confidence : float, default=0.95
        Coverage of the intervals.
    predictions : DataFrame or None, default=None
        The predictions on the test corpora (``comparison.cross_predictions``:
        ``method, repeat, fold, test_corpus, row, y_true, y_pred``); None
        bootstraps nothing.
    speakers : dict or None, default=None
        Each test corpus's speakers, one per utterance, indexed by the
        predictions' ``row`` (``comparison.cross_speakers``).
    n_resamples : int, default=1000
        Bootstrap resamples.
    random_state : int or None, default=None
        Seed of each bootstrap; None seeds it with the fit's ``seed`` in
        results (the run's seed; 0 without one), so that one run gives the
        same intervals every time.

    Returns
    -------
    summary : DataFrame
        One row per method and corpus, the methods in the order of the
        in-corpus summary (best first), each with its in-corpus row
        (``test_corpus`` is ``""``) then one row per test corpus; the
        columns of :func:`summarize` with ``test_corpus`` and ``ci_method``
        after ``method``. ``ci_method`` is ``""`` where there is no interval
        (a single fit without predictions, or a failed one); a bootstrapped
        interval is NaN for a corpus of one speaker and for a metric
        :func:`bootstrap_scores` does not compute.

    See Also
    --------
    summarize : The summary of one corpus's rows.
    cross_corpus_drop : The paired drop from in-corpus to cross-corpus.
    name_left_out_corpora : A leave-one-corpus-out comparison's corpora named.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import summarize_cross_corpus
    >>> results = pd.DataFrame({"method": ["a"] * 4, "fold": [1, 2, 1, 2],
    ...                         "test_corpus": ["", "", "B", "B"],
    ...                         "f1_micro": [0.8, 0.6, 0.5, 0.3]})
    >>> summarize_cross_corpus(results)[["test_corpus", "ci_method", "f1_micro_mean"]]
      test_corpus  ci_method  f1_micro_mean
    0              t (folds)            0.7
    1           B  t (folds)            0.4

    A corpus left out, scored by one fit, with its speaker-bootstrap interval:

    >>> results = pd.DataFrame({"method": ["a", "a"], "fold": [1, 2],
    ...                         "test_corpus": ["B", "C"], "f1_micro": [0.75, 1.0]})
    >>> predictions = pd.DataFrame({
    ...     "method": "a", "repeat": 1, "fold": [1] * 4 + [2] * 2,
    ...     "test_corpus": ["B"] * 4 + ["C"] * 2, "row": [0, 1, 2, 3, 0, 1],
    ...     "y_true": ["x", "y", "x", "y", "x", "y"],
    ...     "y_pred": ["x", "y", "y", "y", "x", "y"]})
    >>> speakers = {"B": ["s1", "s1", "s2", "s2"], "C": ["s3", "s3"]}
    >>> summary = summarize_cross_corpus(
    ...     results, predictions=predictions, speakers=speakers)
    >>> summary[["test_corpus", "ci_method", "f1_micro_ci_low", "f1_micro_ci_high"]]
      test_corpus          ci_method  f1_micro_ci_low  f1_micro_ci_high
    0           B  speaker bootstrap              0.5               1.0
    1           C  speaker bootstrap              NaN               NaN
    """
    corpora, labels = _corpora(results)
    ratio = _ratio(results)
    parts = []
    for corpus in [IN_CORPUS, *corpora]:
        rows = results[labels == corpus]
        if not len(rows):
            continue
        part = summarize(rows, confidence=confidence, test_train_ratio=ratio)
        part.insert(1, TEST_CORPUS, corpus)
        n_fits = rows.groupby("method", sort=False).size()
        several = part["method"].map(n_fits).to_numpy() > 1
        part.insert(2, "ci_method", np.where(several, CI_T, ""))
        parts.append(part)
    summary = pd.concat(parts, ignore_index=True)
    if predictions is not None and speakers is not None:
        fill_single_fit_intervals(
            summary,
            results[labels != IN_CORPUS],
            predictions,
            speakers,
            confidence=confidence,
            n_resamples=n_resamples,
            random_state=random_state,
        )
    order = {method: i for i, method in enumerate(parts[0]["method"])}
    position = {corpus: i for i, corpus in enumerate([IN_CORPUS, *corpora])}
    key = summary["method"].map(order).fillna(len(order)) * (len(position) + 1)
    summary = summary.assign(_key=key + summary[TEST_CORPUS].map(position))
    return (
        summary.sort_values("_key", kind="stable")
        .drop(columns="_key")
        .reset_index(drop=True)
    )


def cross_corpus_drop(results, *, metrics=None, confidence=0.95, alpha=0.05):
    """The drop from in-corpus to cross-corpus scores, per method and corpus.

    For each method, test corpus and metric, the paired differences ``cross -
    in-corpus`` over the same repeat and fold (the same fitted model) are
    tested as :func:`compare_to_reference` tests a method against its
    reference; p-values are Holm-adjusted over the methods, one family per
    test corpus and metric.

    Parameters
    ----------
    results : DataFrame
        ``compare_methods(..., test_sets=...).results``.
    metrics : list of str or None, default=None
        Score columns; every one when None.
    confidence : float, default=0.95
        Coverage of the intervals.
    alpha : float, default=0.05
        Level of ``significant`` (on the adjusted corrected t-test).

    Returns
    -------
    drops : DataFrame
        Columns ``method, test_corpus, metric, n_pairs, in_corpus_mean,
        cross_corpus_mean, drop`` (cross minus in-corpus, negative when the
        score falls), ``ci_low, ci_high, t_p_value, t_p_adjusted,
        wilcoxon_p_value, wilcoxon_p_adjusted, significant``. Empty when
        results have no in-corpus row (a corpus left out in every fold).

    See Also
    --------
    compare_to_reference : The same tests between two methods.
    summarize_cross_corpus : The scores side by side.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import cross_corpus_drop
    >>> results = pd.DataFrame({
    ...     "method": ["a"] * 6 + ["b"] * 6, "fold": [1, 2, 3] * 4,
    ...     "test_corpus": (["", "", ""] + ["B", "B", "B"]) * 2,
    ...     "f1_micro": [.8, .7, .9, .5, .4, .6, .7, .7, .8, .6, .6, .7]})
    >>> drops = cross_corpus_drop(results)
    >>> drops[["method", "test_corpus", "drop"]].round(3)
      method test_corpus  drop
    0      a           B  -0.3
    1      b           B  -0.1
    """
    corpora, labels = _corpora(results)
    metrics = score_columns(results) if metrics is None else list(metrics)
    ratio = _ratio(results)
    rows = []
    if not (labels == IN_CORPUS).any():
        corpora = []  # every row is another corpus (leave one corpus out)
    for corpus in corpora:
        for metric in metrics:
            family = []
            for method in dict.fromkeys(results["method"]):
                own = results[results["method"] == method]
                pair = pd.concat(
                    [
                        own[labels[own.index] == IN_CORPUS].assign(method="in"),
                        own[labels[own.index] == corpus].assign(method="cross"),
                    ]
                )
                test = compare_to_reference(
                    pair,
                    "in",
                    metrics=[metric],
                    confidence=confidence,
                    test_train_ratio=ratio,
                ).iloc[0]
                family.append(
                    {
                        "method": method,
                        TEST_CORPUS: corpus,
                        "metric": metric,
                        "n_pairs": test["n_pairs"],
                        "in_corpus_mean": test["reference_mean"],
                        "cross_corpus_mean": test["mean"],
                        "drop": test["difference"],
                        "ci_low": test["ci_low"],
                        "ci_high": test["ci_high"],
                        "t_p_value": test["t_p_value"],
                        "wilcoxon_p_value": test["wilcoxon_p_value"],
                    }
                )
            for name in ("t", "wilcoxon"):
                adjusted = holm_adjust([row[f"{name}_p_value"] for row in family])
                for row, value in zip(family, adjusted):
                    row[f"{name}_p_adjusted"] = value
            for row in family:
                row["significant"] = bool(row["t_p_adjusted"] < alpha)
            rows += family
    return pd.DataFrame(rows, columns=list(DROP_COLUMNS))


def compare_on_corpora(results, reference, *, confidence=0.95, alpha=0.05):
    """Every method against ``reference`` on each test corpus.

    :func:`compare_to_reference` on each test corpus's rows (with the
    in-corpus folds' ``n_test / n_train``); columns ``test_corpus`` and those
    of :func:`compare_to_reference`.

    Parameters
    ----------
    results : DataFrame
        ``compare_methods(..., test_sets=...).results``.
    reference : str
        The method every other one is compared with.
    confidence, alpha : float, default=0.95, 0.05
        As for :func:`compare_to_reference`.

    Returns
    -------
    comparisons : DataFrame
        One row per test corpus, method other than the reference and metric.

    See Also
    --------
    compare_to_reference : The same on one corpus.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import compare_on_corpora
    >>> results = pd.DataFrame({
    ...     "method": ["a"] * 6 + ["b"] * 6, "fold": [1, 2, 3] * 4,
    ...     "test_corpus": (["", "", ""] + ["B", "B", "B"]) * 2,
    ...     "f1_micro": [.8, .7, .9, .5, .4, .6, .7, .7, .8, .6, .6, .7]})
    >>> table = compare_on_corpora(results, "a")
    >>> table[["test_corpus", "method", "difference"]].round(3)
      test_corpus method  difference
    0           B      b       0.133
    """
    corpora, labels = _corpora(results)
    ratio = _ratio(results)
    tables = [
        compare_to_reference(
            results[labels == corpus],
            reference,
            confidence=confidence,
            alpha=alpha,
            test_train_ratio=ratio,
        ).assign(**{TEST_CORPUS: corpus})
        for corpus in corpora
    ]
    columns = [TEST_CORPUS, *COMPARISON_COLUMNS]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def cross_confusion_table(comparison):
    """The test corpora's confusion matrices as a long table: ``test_corpus``
    and the columns of :func:`confusion_table`."""
    labels = [str(label) for label in comparison.labels]
    n_folds = len(comparison.splits)
    rows = [
        (corpus, method, k // n_folds + 1, k % n_folds + 1, labels[i], labels[j])
        + (int(matrices[k, i, j]),)
        for corpus, by_method in comparison.cross_confusion_matrices.items()
        for method, matrices in by_method.items()
        for k in range(matrices.shape[0])
        for i in range(len(labels))
        for j in range(len(labels))
    ]
    return pd.DataFrame(rows, columns=[TEST_CORPUS, *CONFUSION_COLUMNS])


def cross_corpus_tables(comparison, *, reference=None):
    """The cross-corpus tables of a comparison by file stem (none without
    test corpora)."""
    if not hasattr(comparison, "cross_confusion_matrices"):
        return {}
    results = comparison.results
    summary = summarize_cross_corpus(
        results,
        predictions=comparison.cross_predictions,
        speakers=comparison.get("cross_speakers"),
    )
    tables = {
        "cross_corpus_summary": summary,
        "cross_corpus_drop": cross_corpus_drop(results),
    }
    if reference is not None:
        tables["cross_corpus_comparisons"] = compare_on_corpora(results, reference)
    tables["cross_corpus_confusion_matrices"] = cross_confusion_table(comparison)
    tables["cross_corpus_per_class_recall"] = cross_per_class_recall(comparison)
    tables["cross_corpus_predictions"] = comparison.cross_predictions
    return tables


def format_cross_corpus_table(summary, drops=None):
    """In-corpus and cross-corpus scores of the first metric as text.

    Parameters
    ----------
    summary : DataFrame
        :func:`summarize_cross_corpus`'s table.
    drops : DataFrame or None, default=None
        :func:`cross_corpus_drop`'s table; when given, each test corpus's
        column is followed by the drop from in-corpus, its 95% interval and
        its Holm-adjusted p-value (``*`` where significant).

    Returns
    -------
    table : str
        One line per method: its mean and interval on each corpus (empty
        where there is none), then a line naming each corpus's interval, in
        the words of the summary's ``ci_method`` (``t (folds)``, ``speaker
        bootstrap``).

    See Also
    --------
    format_table : The in-corpus table.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import (
    ...     format_cross_corpus_table, summarize_cross_corpus)
    >>> results = pd.DataFrame({
    ...     "method": ["a"] * 6 + ["b"] * 6, "fold": [1, 2, 3] * 4,
    ...     "test_corpus": (["", "", ""] + ["B", "B", "B"]) * 2,
    ...     "f1_micro": [.8, .7, .9, .5, .4, .6, .7, .7, .8, .6, .6, .7]})
    >>> print(format_cross_corpus_table(summarize_cross_corpus(results)))
    method  f1_micro in-corpus          95% CI  f1_micro B          95% CI
    a                    0.800  [0.407, 1.000]       0.500  [0.107, 0.893]
    b                    0.733  [0.507, 0.960]       0.633  [0.407, 0.860]
    95% CI: t (folds) on in-corpus, B
    """
    metric = next(c[: -len("_mean")] for c in summary.columns if c.endswith("_mean"))
    corpora = list(dict.fromkeys(summary[TEST_CORPUS]))
    header = ["method"]
    for corpus in corpora:
        name = corpus or IN_CORPUS_NAME
        header += [f"{metric} {name}", "95% CI"]
        if corpus != IN_CORPUS and drops is not None:
            header += [f"drop {name}", "95% CI", "p (Holm)"]
    lines = [header]
    for method, part in summary.groupby("method", sort=False):
        cells = [str(method)]
        for corpus in corpora:
            row = part[part[TEST_CORPUS] == corpus]
            row = row.iloc[0] if len(row) else None
            mean = np.nan if row is None else row[f"{metric}_mean"]
            cells.append("failed" if pd.isna(mean) else f"{mean:.3f}")
            low, high = (
                (np.nan, np.nan)
                if row is None
                else (
                    row[f"{metric}_ci_low"],
                    row[f"{metric}_ci_high"],
                )
            )
            # one fold (a corpus left out) has no interval
            cells.append("" if pd.isna(low) else f"[{low:.3f}, {high:.3f}]")
            if corpus != IN_CORPUS and drops is not None:
                drop = drops[
                    (drops["method"] == method)
                    & (drops[TEST_CORPUS] == corpus)
                    & (drops["metric"] == metric)
                ]
                if len(drop) and not pd.isna(drop.iloc[0]["drop"]):
                    d = drop.iloc[0]
                    star = "*" if d["significant"] else ""
                    cells += [
                        f"{d['drop']:+.3f}",
                        f"[{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]",
                        f"{d['t_p_adjusted']:.3f}{star}",
                    ]
                else:
                    cells += ["", "", ""]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            ).rstrip()
            for line in lines
        ]
        + _interval_note(summary)
    )


def _interval_note(summary):
    """The line under the table that says which interval each corpus has, in
    the words of ``ci_method`` (none for a summary without that column)."""
    if "ci_method" not in summary.columns:
        return []
    kinds = {}
    for corpus, how in zip(summary[TEST_CORPUS], summary["ci_method"].fillna("")):
        if how:
            kinds.setdefault(how, []).append(corpus or IN_CORPUS_NAME)
    if not kinds:
        return []
    return [
        "95% CI: "
        + "; ".join(
            f"{how} on {', '.join(dict.fromkeys(corpora))}"
            for how, corpora in kinds.items()
        )
    ]
