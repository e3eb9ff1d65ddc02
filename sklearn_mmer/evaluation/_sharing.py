"""What the methods of a comparison share, so that it is computed once.

:func:`plan_work` turns the methods into *units* (distinct estimators to fit per
fold; methods with equal parameters share one) and *assemblies* (votes built
from fitted units instead of being fit again), and gives each unit a *view* of
the corpus in which the modalities it reads only through an idempotent
:class:`~sklearn_mmer.preprocessing.TemporalPooling` are pooled once, for all
folds and methods.
"""

from dataclasses import dataclass, field

import numpy as np
from joblib import parallel_config
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from ..fusion import LateFusionClassifier
from ..preprocessing import TemporalPooling
from ..utils._cells import is_missing
from ..utils._members import member_reads

# a single frame pooled by one of these is the frame itself, so pooling an
# already pooled vector again changes nothing
_IDEMPOTENT_POOLING = frozenset({"mean", "max", "min", "first", "last"})

# these fit each member on all the training rows (with encoded labels) and
# nothing else from the members; a subclass might (learning weights from
# held-out predictions, say), so others are fit from scratch
_ASSEMBLABLE = (VotingClassifier, LateFusionClassifier)


@dataclass
class _Unit:
    """One estimator to fit per fold, shared by the methods that equal it."""

    estimator: object
    view: frozenset
    encode: bool  # fit on label codes (as a vote's members are)
    scored: list = field(default_factory=list)  # methods scored from this fit
    keep: bool = False  # returned fitted, for a vote to be assembled from


@dataclass
class _Assembly:
    units: list
    view: frozenset


@dataclass
class Plan:
    units: list
    assemblies: dict
    views: dict


def plan_work(methods, X, modalities):
    """Decide what to fit per fold: distinct estimators, and votes to assemble."""
    modalities = set(modalities)
    units, assemblies = [], {}
    pooled_cache, views = {}, {}

    def view_of(estimator):
        reads = _reads(estimator)
        candidates = {} if reads is None else _pooled_columns(*reads)
        pooled = {}
        for column, method in candidates.items():
            if column not in modalities:
                continue
            if (column, method) not in pooled_cache:
                pooled_cache[column, method] = _pool_column(X[column], method)
            if pooled_cache[column, method] is not None:
                pooled[column] = method
        # modalities the estimator never reads are left out, so that workers
        # are not sent frames nobody looks at
        unread = set() if reads is None else modalities - set(reads[0]) - reads[1]
        key = (frozenset(pooled.items()), frozenset(unread))
        if key not in views:
            views[key] = _CorpusView(
                X.drop(columns=sorted(unread)),
                {c: pooled_cache[c, p] for c, p in pooled.items()},
            )
        return key

    def unit_for(estimator, encode):
        for u, unit in enumerate(units):
            if _same_estimator(unit.estimator, estimator) and (
                unit.encode == encode or _label_invariant(estimator)
            ):
                unit.encode = unit.encode or encode
                return u
        units.append(_Unit(estimator, view_of(estimator), encode))
        return len(units) - 1

    for name, estimator in methods.items():
        if _assemblable(estimator):
            members = [unit_for(m, True) for _, m in estimator.estimators]
            for u in members:
                units[u].keep = True
            assemblies[name] = _Assembly(members, view_of(estimator))
        else:
            units[unit_for(estimator, False)].scored.append(name)
    return Plan(units, assemblies, views)


def _assemblable(estimator):
    return (
        type(estimator) in _ASSEMBLABLE
        and isinstance(estimator.estimators, list)
        and all(
            isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "fit")
            for item in estimator.estimators
        )
        and len({name for name, _ in estimator.estimators}) == len(estimator.estimators)
        and (
            estimator.weights is None
            or len(estimator.weights) == len(estimator.estimators)
        )
    )


def _reads(estimator):
    """``(pooled, raw)``: columns read through a TemporalPooling (by method), and
    columns read otherwise; None when the estimator may read anything."""
    if type(estimator) in _ASSEMBLABLE and _assemblable(estimator):
        pooled, raw = {}, set()
        for _, member in estimator.estimators:
            reads = _reads(member)
            if reads is None:
                return None
            _merge_reads(pooled, raw, *reads)
        return pooled, raw
    reads = member_reads(estimator) if isinstance(estimator, Pipeline) else None
    if reads is None or reads[0] != 0:
        # no ColumnTransformer first: some step sees X before the pooling
        return None
    return _branch_reads(reads[1])


def _branch_reads(branches):
    pooled, raw = {}, set()
    for branch, columns in branches:
        if not all(isinstance(c, str) for c in columns):
            return None
        first = branch
        if isinstance(branch, Pipeline) and branch.steps:
            first = branch.steps[0][1]
        if isinstance(first, TemporalPooling) and first.method in _IDEMPOTENT_POOLING:
            _merge_reads(pooled, raw, dict.fromkeys(columns, first.method), set())
        else:
            raw.update(columns)
    return pooled, raw


def _merge_reads(pooled, raw, other_pooled, other_raw):
    for column, method in other_pooled.items():
        if pooled.setdefault(column, method) != method:
            raw.add(column)
    raw.update(other_raw)


def _pooled_columns(pooled, raw):
    return {c: p for c, p in pooled.items() if c not in raw}


def _pool_column(cells, method):
    """``(values, missing)`` for a column pooled once, or None when it cannot be
    shared exactly (cells of mixed dtypes pool to different precisions)."""
    missing = np.fromiter((is_missing(c) for c in cells), dtype=bool, count=len(cells))
    dtypes = {np.asarray(c).dtype for c, m in zip(cells, missing) if not m}
    if len(dtypes) != 1:
        return None
    values = TemporalPooling(method).fit_transform(cells)
    return values, missing


class _CorpusView:
    """X with some modality columns held as pooled vectors (dense, cheap to ship
    to workers, memory-mapped by joblib) instead of frame sequences."""

    def __init__(self, X, pooled):
        self.columns = list(X.columns)
        self.pooled = pooled
        self.other = X.drop(columns=list(pooled))

    def take(self, rows):
        frame = self.other.iloc[rows]
        if not self.pooled:
            return frame
        frame = frame.copy()
        for column, (values, missing) in self.pooled.items():
            cells = np.empty(len(rows), dtype=object)
            block = values[rows]
            for i, row in enumerate(rows):
                cells[i] = None if missing[row] else block[i]
            frame[column] = cells
        return frame[self.columns]


def _same_estimator(a, b):
    """Whether two estimators (or parameter values) are equal, parameter by
    parameter: fitting clones of them gives the same model."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if hasattr(a, "get_params") and not isinstance(a, type):
        params_a, params_b = a.get_params(deep=False), b.get_params(deep=False)
        return params_a.keys() == params_b.keys() and all(
            _same_estimator(params_a[k], params_b[k]) for k in params_a
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same_estimator, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_estimator(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and bool(np.all(a == b))
    if isinstance(a, np.random.RandomState):
        return _same_estimator(a.get_state(), b.get_state())
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _label_invariant(estimator):
    """Whether fitting on label codes instead of labels changes nothing: no
    parameter is keyed by label (a dict ``class_weight``)."""
    if not hasattr(estimator, "get_params"):
        return False
    return not any(
        key.rsplit("__", 1)[-1] == "class_weight" and isinstance(value, dict)
        for key, value in estimator.get_params(deep=True).items()
    )


def assemble_vote(vote, members, X, y):
    """The fitted vote that ``vote.fit(X, y)`` gives, with its members already fit.

    The vote's own ``fit`` runs (so that whatever it computes besides fitting
    its members, such as a label encoder or class priors, is computed by its
    own code), with each member frozen so that fitting it does nothing; the
    frozen wrappers are then taken off. ``members`` must have been fit on
    ``X, y`` with labels encoded as the vote encodes them.
    """
    estimators = vote.estimators
    vote = clone(vote)
    vote.estimators = [
        (name, FrozenEstimator(member))
        for (name, _), member in zip(estimators, members)
    ]
    # in this process: on a cluster, the vote's own Parallel would send the
    # fitted members out just to be frozen
    with parallel_config(backend="sequential"):
        vote.fit(X, y)
    vote.estimators = clone(estimators, safe=False)
    vote.estimators_ = [frozen.estimator for frozen in vote.estimators_]
    vote.named_estimators_ = Bunch(
        **{name: frozen.estimator for name, frozen in vote.named_estimators_.items()}
    )
    return vote
