"""What the methods of a comparison share, so that it is computed once.

:func:`plan_work` turns the methods of each repeat into *shared fits*
(distinct estimators to fit per fold; methods with equal parameters share one)
and *assembled votes* (late fusions built from fitted members instead of being
fit again), and gives each fit a *view* of the corpus in which the modalities
it reads only through an idempotent
:class:`~sklearn_mmer.preprocessing.TemporalPooling` are pooled once, for all
repeats, folds and methods.
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
from ..utils._data import is_missing, member_reads

# a single frame pooled by one of these is the frame itself, so pooling an
# already pooled vector again changes nothing
_IDEMPOTENT_POOLING = frozenset({"mean", "max", "min", "first", "last"})

# these fit each member on all the training rows (with encoded labels) and
# nothing else from the members; a subclass might (learning weights from
# held-out predictions, say), so others are fit from scratch
_ASSEMBLABLE = (VotingClassifier, LateFusionClassifier)


@dataclass
class SharedFit:
    """One estimator to fit on every fold of one repeat, for the methods that
    equal it and the votes that use it as a member."""

    repeat: int  # 0-based
    estimator: object
    view: tuple  # key of the corpus view it is fit on, in ``WorkPlan.views``
    encode_labels: bool  # fit on label codes, as a vote fits its members
    scored_as: list = field(default_factory=list)  # methods scored from this fit
    vote_member: bool = False  # kept fitted, to assemble a vote from


@dataclass
class AssembledVote:
    """A late fusion of one repeat, assembled from the shared fits of its members
    instead of being fit again."""

    repeat: int
    method: str
    members: list  # indices into ``WorkPlan.fits``, in the vote's member order
    member_names: list
    view: tuple


@dataclass
class WorkPlan:
    fits: list  # SharedFit
    votes: list  # AssembledVote
    views: dict  # key -> _CorpusView


def plan_work(methods_by_repeat, X, modalities, *, share_members=True):
    """Decide what to fit per fold: distinct estimators, and votes to assemble.

    ``methods_by_repeat`` holds one dict of methods per repeat; fits are shared
    within a repeat only (the repeats differ by seed). With
    ``share_members=False`` a method is never scored from a fit on label
    codes, so that its fitted estimator is the one ``fit(X, y)`` gives.
    """
    modalities = set(modalities)
    fits, votes = [], []
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

    def fit_for(repeat, estimator, encode):
        for index, fit in enumerate(fits):
            if fit.repeat != repeat or not _same_estimator(fit.estimator, estimator):
                continue
            if fit.encode_labels == encode or (
                share_members and _label_invariant(estimator)
            ):
                fit.encode_labels = fit.encode_labels or encode
                return index
        fits.append(SharedFit(repeat, estimator, view_of(estimator), encode))
        return len(fits) - 1

    for repeat, methods in enumerate(methods_by_repeat):
        for name, estimator in methods.items():
            if _assemblable(estimator):
                members = [fit_for(repeat, m, True) for _, m in estimator.estimators]
                for index in members:
                    fits[index].vote_member = True
                member_names = [member for member, _ in estimator.estimators]
                votes.append(
                    AssembledVote(
                        repeat, name, members, member_names, view_of(estimator)
                    )
                )
            else:
                fits[fit_for(repeat, estimator, False)].scored_as.append(name)
    return WorkPlan(fits, votes, views)


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
