"""The study's comparison: every method under the same speaker-independent folds.

Work that several methods share is done once, without changing any score:

- *Pooling*. :class:`~sklearn_mmer.preprocessing.TemporalPooling` is stateless
  per utterance, so each modality is pooled once for the whole corpus and the
  pooled vectors replace the frame sequences for every method that reads that
  modality only through that pooling. Pooling a single vector again with
  ``mean``/``max``/``min``/``first``/``last`` returns it unchanged, so those
  methods compute exactly what they would on the frames. Scaling and everything
  else fitted stays inside each fold's pipeline, fit on that fold's training
  part only.
- *Late fusion's members*. A late fusion (a :class:`LateFusionClassifier` or
  :class:`~sklearn.ensemble.VotingClassifier`) fits one clone of each member on
  the label-encoded targets. When a member has the same parameters as a
  unimodal method being compared, that method is fit once per fold on the
  encoded targets (as the vote would fit it) and serves both: its own scores
  come from decoding its predictions, and the vote is assembled from the
  fitted members exactly as its ``fit`` would have left it.
- *Folds and fits* run in parallel with ``n_jobs``; each worker limits torch to
  its share of the CPU cores so that parallel fits do not oversubscribe them.
"""

import sys
import time

import numpy as np
import pandas as pd
from joblib import Parallel, cpu_count, delayed, effective_n_jobs, parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import check_scoring, confusion_matrix
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch

from ..model_selection import SpeakerKFold
from ..utils._cells import cell_columns
from ..utils._columns import METADATA_COLUMNS, SPEAKER
from ..utils._dask import on_dask, to_workers
from ..utils._groups import check_groups
from ._methods import make_methods
from ._metrics import SCORING
from ._sharing import assemble_vote, plan_work


def compare_methods(
    methods,
    X,
    y,
    groups=None,
    *,
    cv=None,
    scoring=None,
    labels=None,
    n_jobs=None,
    random_state=None,
    progress=None,
):
    """Cross-validate several methods on the same speaker-independent folds.

    Every method is fit on each fold's training speakers and scored on its test
    speakers, as :func:`~sklearn.model_selection.cross_validate` would, with the
    same results; work shared between methods (pooling, late fusion's unimodal
    members) is done once (see the module's notes).

    Parameters
    ----------
    methods : dict of str to estimator, list of str or None
        The methods to compare: unfitted estimators by name, or names of
        registered methods (see :func:`make_methods`; modalities are methods
        too), built over X's modality columns and seeded by ``random_state``.
        None runs the default methods.
    X : DataFrame
        One row per utterance, one column of cells per modality (see the data
        contract), plus optional ``speaker`` and ``session`` columns.
    y : array-like of shape (n_samples,)
        Emotion labels.
    groups : array-like of shape (n_samples,) or None, default=None
        Speaker of each utterance; X's ``speaker`` column when None.
    cv : int, cross-validation splitter or None, default=None
        Folds: ``SpeakerKFold(5)`` when None, ``SpeakerKFold(cv)`` for an int,
        or any splitter (its ``split(X, y, groups)`` is used).
    scoring : str, list of str, dict or None, default=None
        Metrics, as for :func:`~sklearn.model_selection.cross_validate`. None
        means F1-micro, macro F1 and unweighted accuracy.
    labels : array-like or None, default=None
        Order of the classes in the confusion matrices; the sorted labels of y
        when None.
    n_jobs : int or None, default=None
        Number of fits run in parallel (over folds and methods); None means 1,
        -1 all CPU cores.
    random_state : int or None, default=None
        Seed of the methods built from names; ignored for estimators.
    progress : callable or None, default=None
        Called as ``progress(record)`` each time a method finishes a fold, with
        a dict holding ``method``, ``fold`` (1-based), ``n_folds``, each score
        and ``fit_seconds``.

    Returns
    -------
    comparison : :class:`~sklearn.utils.Bunch`
        With fields:

        - ``results``: DataFrame, one row per method and fold, with columns
          ``method, fold`` (1-based), one per metric (``f1_micro, f1_macro,
          unweighted_accuracy`` by default) and ``fit_seconds`` (time to fit
          the method on the fold; for a late fusion assembled from shared
          fits, the sum of its members' fit times, i.e. its cost alone).
        - ``summary``: DataFrame from :func:`summarize`, best method first.
        - ``confusion_matrices``: dict mapping each method to an int array of
          shape ``(n_folds, n_classes, n_classes)``, rows true, columns
          predicted, in the order of ``labels``.
        - ``labels``: ndarray, the class order of the confusion matrices.
        - ``splits``: list of ``(train, test)`` index arrays, one per fold.

    See Also
    --------
    make_methods : Builds the named methods.
    sklearn.model_selection.cross_validate : One method at a time.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer.evaluation import compare_methods
    >>> from sklearn_mmer.fusion import make_early_fusion, make_modality_pipeline
    >>> rng = np.random.RandomState(0)
    >>> y = np.array(["calm", "angry"] * 12)
    >>> X = pd.DataFrame({
    ...     "acoustic": [rng.normal(y_i == "angry", 1, (4, 3)) for y_i in y],
    ...     "lexical": [rng.normal(size=2) for _ in y]})
    >>> speakers = np.repeat(["s1", "s2", "s3"], 8)
    >>> comparison = compare_methods(
    ...     {"acoustic": make_modality_pipeline(
    ...          "acoustic", classifier=LogisticRegression()),
    ...      "early_fusion": make_early_fusion(
    ...          ["acoustic", "lexical"], classifier=LogisticRegression())},
    ...     X, y, speakers, cv=3)
    >>> comparison.results.columns.tolist()
    ['method', 'fold', 'f1_micro', 'f1_macro', 'unweighted_accuracy', \
'fit_seconds']
    >>> comparison.confusion_matrices["acoustic"].shape
    (3, 2, 2)
    """
    X, y, groups = _check_data(X, y, groups)
    methods = _check_methods(methods, X, random_state)
    cv = SpeakerKFold(5) if cv is None else cv
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cv = SpeakerKFold(int(cv))
    if not hasattr(cv, "split"):
        raise ValueError(f"cv must be None, an int or a splitter; got {cv!r}")
    splits = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
    scoring = _check_scoring(scoring)
    labels = _check_labels(labels, y)

    plan = plan_work(methods, X, modality_columns(X))
    n_workers = effective_n_jobs(n_jobs)
    # each parallel worker gets its share of the cores; in-process fits keep
    # the caller's torch settings, and a Dask cluster's workers their own
    threads = max(1, cpu_count() // n_workers) if n_workers > 1 else None
    threads = None if on_dask() else threads
    # on a cluster, the corpus goes to the workers once, not with every task
    share = to_workers([*plan.views.values(), y, *(a for s in splits for a in s)])
    tasks = [
        delayed(_fit_unit)(
            fold,
            u,
            unit.estimator,
            share(plan.views[unit.view]),
            share(train),
            share(test),
            share(y),
            unit.encode,
            bool(unit.scored),
            scoring,
            labels,
            unit.keep,
            threads,
        )
        for fold, (train, test) in enumerate(splits)
        for u, unit in enumerate(plan.units)
    ]
    n_folds = len(splits)
    records, matrices = {}, {}
    fitted = {}

    def record(name, fold, scores, matrix, seconds):
        row = {"method": name, "fold": fold + 1, **scores, "fit_seconds": seconds}
        records[name, fold] = row
        matrices[name, fold] = matrix
        if progress is not None:
            progress({**row, "n_folds": n_folds})

    for fold, u, estimator, seconds, evaluation in Parallel(
        n_jobs=n_jobs, return_as="generator_unordered"
    )(tasks):
        unit = plan.units[u]
        for name in unit.scored:
            record(name, fold, *evaluation, seconds)
        if unit.keep:
            fitted[fold, u] = (estimator, seconds)
        for name, assembly in plan.assemblies.items():
            if u not in assembly.units or (name, fold) in records:
                continue
            if all((fold, m) in fitted for m in assembly.units):
                members = [fitted[fold, m] for m in assembly.units]
                train, test = splits[fold]
                view = plan.views[assembly.view]
                vote = assemble_vote(
                    methods[name],
                    [member for member, _ in members],
                    view.take(train),
                    y[train],
                )
                scores, matrix = _evaluate(
                    vote, view.take(test), y[test], scoring, labels
                )
                record(name, fold, scores, matrix, sum(m[1] for m in members))
        _release(fitted, fold, plan, records)

    rows = [records[name, fold] for name in methods for fold in range(n_folds)]
    results = pd.DataFrame(rows, columns=["method", "fold", *scoring, "fit_seconds"])
    return Bunch(
        results=results,
        summary=summarize(results),
        confusion_matrices={
            name: np.stack([matrices[name, fold] for fold in range(n_folds)])
            for name in methods
        },
        labels=labels,
        splits=splits,
    )


def summarize(results):
    """Mean and standard deviation of each metric per method, best first.

    Parameters
    ----------
    results : DataFrame
        One row per method and fold, as in ``compare_methods(...).results``.

    Returns
    -------
    summary : DataFrame
        One row per method: ``method``, ``n_folds``, then ``<metric>_mean`` and
        ``<metric>_std`` for each metric and for ``fit_seconds``; sorted by the
        mean of the first metric, descending. Standard deviations are over
        folds with ``ddof=0``, as in scikit-learn's ``cv_results_``.

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
    metrics = [c for c in results.columns if c not in ("method", "fold")]
    grouped = results.groupby("method", sort=False)
    summary = pd.DataFrame({"method": list(grouped.groups)})
    summary["n_folds"] = grouped.size().to_numpy()
    for metric in metrics:
        summary[f"{metric}_mean"] = grouped[metric].mean().to_numpy()
        summary[f"{metric}_std"] = grouped[metric].std(ddof=0).to_numpy()
    if metrics:
        summary = summary.sort_values(
            f"{metrics[0]}_mean", ascending=False, kind="stable"
        )
    return summary.reset_index(drop=True)


def modality_columns(X):
    """The columns of X holding modality cells (arrays), in X's order.

    Parameters
    ----------
    X : DataFrame
        A corpus in the data contract.

    Returns
    -------
    modalities : list of str
        Columns other than the metadata (``speaker``, ``session``,
        ``content``) whose present cells are all arrays.
    """
    return [str(column) for column in cell_columns(X, exclude=METADATA_COLUMNS)]


# --- input checks -----------------------------------------------------------


def _check_data(X, y, groups):
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            "X must be a pandas DataFrame with one column of cells per modality; "
            f"got {type(X).__name__}"
        )
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be 1-D with one label per row of X ({X.shape[0]}); got shape "
            f"{y.shape}"
        )
    if groups is None and SPEAKER in X.columns:
        groups = X[SPEAKER].to_numpy()
    if groups is not None:
        groups = check_groups(groups, X.shape[0])
        # folds follow groups, while speaker normalisation and stacking read
        # X's speaker column: the two must name the same speakers
        if SPEAKER in X.columns:
            differ = np.flatnonzero(
                X[SPEAKER].astype(str).to_numpy() != groups.astype(str)
            )
            if differ.size:
                raise ValueError(
                    f"groups and X['speaker'] disagree on {differ.size} rows "
                    f"(first: row {differ[0]}, {groups[differ[0]]!r} vs "
                    f"{X['speaker'].iloc[differ[0]]!r}); pass the speaker column "
                    "as groups"
                )
    return X, y, groups


def _check_methods(methods, X, random_state):
    if methods is None or isinstance(methods, (str, list, tuple)):
        return make_methods(modality_columns(X), methods, random_state=random_state)
    if not isinstance(methods, dict) or not methods:
        raise ValueError(
            "methods must be a non-empty dict of name -> estimator, a list of "
            f"method names or None; got {methods!r}"
        )
    for name, estimator in methods.items():
        if not isinstance(name, str) or not hasattr(estimator, "fit"):
            raise ValueError(
                f"methods[{name!r}] must be an estimator under a string name; got "
                f"{estimator!r}"
            )
    return dict(methods)


def _check_scoring(scoring):
    if scoring is None:
        scoring = SCORING
    elif isinstance(scoring, str):
        scoring = {scoring: scoring}
    elif isinstance(scoring, (list, tuple)):
        scoring = {name: name for name in scoring}
    elif callable(scoring):
        scoring = {"score": scoring}
    if not isinstance(scoring, dict) or not scoring:
        raise ValueError(
            f"scoring must be a metric name, a list or dict of them, or None; got "
            f"{scoring!r}"
        )
    clash = {"method", "fold", "fit_seconds"} & set(scoring)
    if clash:
        raise ValueError(f"scoring may not name a metric {sorted(clash)[0]!r}")
    return dict(scoring)


def _check_labels(labels, y):
    present = np.unique(y)
    if labels is None:
        return present
    labels = np.asarray(labels)
    unknown = sorted(set(present.tolist()) - set(labels.tolist()))
    if unknown:
        raise ValueError(
            f"labels must include every label of y; {unknown} are missing from "
            f"labels={labels.tolist()}"
        )
    return labels


# --- fitting and scoring ----------------------------------------------------


def _fit_unit(
    fold,
    u,
    estimator,
    view,
    train,
    test,
    y,
    encode,
    score,
    scoring,
    labels,
    keep,
    threads,
):
    """Fit one estimator on one fold (in a worker); score it when asked."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    _warm_up_torch()
    y_train = y[train]
    encoder = LabelEncoder().fit(y_train) if encode else None
    estimator = clone(estimator)
    start = time.perf_counter()
    estimator.fit(view.take(train), encoder.transform(y_train) if encode else y_train)
    seconds = time.perf_counter() - start
    evaluation = None
    if score:
        scored = _Decoded(estimator, encoder) if encode else estimator
        evaluation = _evaluate(scored, view.take(test), y[test], scoring, labels)
    return fold, u, estimator if keep else None, seconds, evaluation


_WARM = []


def _warm_up_torch():
    """Take one optimiser step on a dummy parameter, once per process.

    A process's first step imports much of torch lazily (seconds); done here,
    outside the timed fit, that cost is not charged to whichever method
    happens to be fit first.
    """
    if _WARM or "torch" not in sys.modules:
        return
    import torch

    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([parameter], foreach=True)
    parameter.sum().backward()
    optimizer.step()
    _WARM.append(True)


def _evaluate(estimator, X_test, y_test, scoring, labels):
    # scored where it stands: on a cluster, an ensemble's own Parallel would
    # otherwise send its fitted members out again to predict
    with parallel_config(backend="sequential"):
        scores = check_scoring(None, scoring=scoring)(estimator, X_test, y_test)
        matrix = confusion_matrix(y_test, estimator.predict(X_test), labels=labels)
    return {k: float(v) for k, v in scores.items()}, matrix


def _release(fitted, fold, plan, records):
    """Drop a fold's fitted members once every vote of that fold is scored."""
    if all((name, fold) in records for name in plan.assemblies):
        for key in [k for k in fitted if k[0] == fold]:
            del fitted[key]


class _Decoded(ClassifierMixin, BaseEstimator):
    """A classifier fit on label codes, answering in the original labels."""

    def __init__(self, estimator, encoder):
        self.estimator = estimator
        self.encoder = encoder

    @property
    def classes_(self):
        return self.encoder.classes_

    def predict(self, X):
        return self.encoder.inverse_transform(self.estimator.predict(X))

    def predict_proba(self, X):
        return self.estimator.predict_proba(X)

    def decision_function(self, X):
        return self.estimator.decision_function(X)
