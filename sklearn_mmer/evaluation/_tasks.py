"""One unit of a comparison's work: fit one estimator on one fold, then score it.

:func:`fit_and_score` runs in a worker (or in the caller's process with
``n_jobs=1``), as scikit-learn's ``_fit_and_score`` does for ``cross_validate``.
What the fit is travels in a :class:`FitTask`, the data it reads (the corpus
view, the fold's rows, the labels) beside it as arguments, so that on a Dask
cluster they can be sent to the workers once and passed by reference; what it
returns is a :class:`FitOutcome`. A failed fit becomes an outcome with its error unless
``error_score="raise"``.
"""

import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import check_scoring, confusion_matrix, get_scorer
from sklearn.preprocessing import LabelEncoder

from ..utils._runtime import end_with_caller, fit_threads, sigint_remembered


@dataclass
class FitTask:
    """One estimator to fit on one fold (the data travel beside it)."""

    repeat: int  # 0-based
    fold: int  # 0-based
    fit_index: int  # into the plan's shared fits
    estimator: object  # unfitted; cloned before fitting
    view: tuple  # key of the plan's view of X that the fit reads
    encode_labels: bool  # fit on label codes (as a vote's members are)
    score: bool  # score and predict the test rows
    return_estimator: bool  # send the fitted estimator back


@dataclass
class FitOutcome:
    """What :func:`fit_and_score` sends back."""

    repeat: int
    fold: int
    fit_index: int
    fit_seconds: float
    estimator: object = None  # fitted, when asked for
    scores: dict = field(default_factory=dict)
    y_pred: np.ndarray = None
    proba: np.ndarray = None  # one column per label; None without probabilities
    matrix: np.ndarray = None
    best_params: str = ""
    error: str = ""
    # test corpus -> FitOutcome of the same fitted model scored on all of it
    cross: dict = field(default_factory=dict)


def fit_and_score(
    task,
    *,
    corpus,
    train,
    test,
    y,
    scoring,
    labels,
    threads,
    error_score,
    caller_pid,
    cross=None,
):
    """Fit ``task.estimator`` on the fold's training rows; score its test rows.

    ``corpus`` is the fit's view of X (``take(rows)`` gives a DataFrame),
    ``train`` and ``test`` the fold's rows, ``y`` every label; ``cross``
    maps each test corpus to its rows of the corpus, every one of which the
    fitted model is also scored on (see :func:`evaluate_cross`).

    With ``error_score="raise"`` an exception propagates; otherwise the
    outcome carries ``error_score`` for every metric and the error's type and
    message. An interrupt (Ctrl-C) always propagates, and a fit it cut short
    is never scored (see :func:`_interruptible`).
    """
    outcome = FitOutcome(task.repeat, task.fold, task.fit_index, 0.0)
    end_with_caller(caller_pid)
    start = time.perf_counter()
    try:
        with fit_threads(threads):
            _warm_up_torch()
            estimator = clone(task.estimator)
            y_train = y[train]
            encoder = LabelEncoder().fit(y_train) if task.encode_labels else None
            start = time.perf_counter()
            with _interruptible(caller_pid):
                estimator.fit(
                    corpus.take(train),
                    encoder.transform(y_train) if encoder else y_train,
                )
            outcome.fit_seconds = time.perf_counter() - start
            if task.score:
                scored = _Decoded(estimator, encoder) if encoder else estimator
                evaluate(
                    outcome,
                    scored,
                    corpus.take(test),
                    y[test],
                    scoring=scoring,
                    labels=labels,
                )
                evaluate_cross(
                    outcome, scored, corpus, y, cross, scoring=scoring, labels=labels
                )
    except Exception as error:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        outcome.fit_seconds = outcome.fit_seconds or time.perf_counter() - start
        fail(outcome, error, scoring=scoring, error_score=error_score)
        return outcome
    if task.return_estimator:
        outcome.estimator = estimator
    return outcome


def evaluate(outcome, estimator, X_test, y_test, *, scoring, labels):
    """Fill ``outcome`` with the scores, predictions and confusion matrix.

    The test rows are predicted once: scikit-learn's scorers get the same
    answers the outcome keeps (see :class:`_Answered`).
    """
    scorers = {name: get_scorer(scorer) for name, scorer in scoring.items()}
    answered = _Answered(estimator, X_test)
    # scored where it stands: on a Dask cluster, an ensemble's own Parallel
    # would otherwise send its fitted members out again to predict
    with parallel_config(backend="sequential"):
        outcome.y_pred = np.asarray(answered.predict(X_test))
        outcome.proba = class_probabilities(answered, X_test, labels)
        # a scorer of the user's own may look at the estimator in any way
        # (isinstance included): it gets the estimator itself
        own = not all(isinstance(s, _SKLEARN_SCORER) for s in scorers.values())
        scored = estimator if own else answered
        scores = check_scoring(None, scoring=scorers)(scored, X_test, y_test)
    outcome.scores = {name: float(value) for name, value in scores.items()}
    outcome.matrix = confusion_matrix(y_test, outcome.y_pred, labels=labels)
    outcome.best_params = best_params_json(estimator)


def evaluate_cross(outcome, estimator, corpus, y, cross, *, scoring, labels):
    """Score the fitted ``estimator`` on every row of each test corpus, into
    ``outcome.cross``; ``cross`` maps each test corpus to its rows."""
    for name, rows in (cross or {}).items():
        scored = FitOutcome(outcome.repeat, outcome.fold, outcome.fit_index, 0.0)
        evaluate(
            scored,
            estimator,
            corpus.take(rows),
            y[rows],
            scoring=scoring,
            labels=labels,
        )
        outcome.cross[name] = scored


def class_probabilities(estimator, X_test, labels):
    """``predict_proba`` of the test rows with one column per label of
    ``labels`` (0 for a class the estimator never saw in training); None for
    an estimator without probabilities (a hard vote)."""
    try:
        proba = np.asarray(estimator.predict_proba(X_test), dtype=np.float64)
    except AttributeError:
        return None
    classes = np.asarray(estimator.classes_).tolist()
    columns = np.zeros((proba.shape[0], len(labels)))
    for j, label in enumerate(np.asarray(labels).tolist()):
        if label in classes:
            columns[:, j] = proba[:, classes.index(label)]
    return columns


def fail(outcome, error, *, scoring, error_score):
    """Turn ``outcome`` into a failure: ``error_score`` for every metric."""
    outcome.scores = dict.fromkeys(scoring, float(error_score))
    outcome.y_pred = outcome.matrix = outcome.proba = None
    outcome.cross = {}
    outcome.error = describe_error(error)


def describe_error(error):
    """``"Type: message"`` on one line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def best_params_json(estimator):
    """The ``best_params_`` of a fitted search as JSON text; "" without one."""
    inner = getattr(estimator, "estimator", None)
    if isinstance(estimator, _Decoded):
        estimator = inner
    params = getattr(estimator, "best_params_", None)
    if params is None:
        return ""
    return json.dumps(params, sort_keys=True, default=repr)


@contextmanager
def workers_end_with_caller():
    """Inside, the loky workers joblib starts watch this process from their start.

    Watching from the first task (:func:`fit_and_score`) misses a worker the
    caller started but sent no task before it died: such a worker would wait
    for one until loky's idle timeout. With joblib's default (loky) backend,
    the workers run :func:`end_with_caller` as their initializer; any other
    backend is left as it is.
    """
    from joblib._parallel_backends import LokyBackend
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    # joblib before 1.5 keeps no backend_kwargs to pass an initializer with:
    # there the workers start watching at their first task
    if type(backend) is not LokyBackend or not hasattr(backend, "backend_kwargs"):
        yield
        return
    watching = LokyBackend(
        nesting_level=backend.nesting_level,
        inner_max_num_threads=backend.inner_max_num_threads,
        **{
            **backend.backend_kwargs,
            "initializer": end_with_caller,
            "initargs": (os.getpid(),),
        },
    )
    with parallel_config(backend=watching):
        yield


@contextmanager
def _interruptible(caller_pid):
    """Make Ctrl-C stop the run, even inside a fit that catches it.

    skorch catches ``KeyboardInterrupt`` in ``fit`` and returns a network
    trained for fewer epochs, which must never be scored. In the caller's
    process, a SIGINT during the fit is remembered and raised again once
    ``fit`` returns. A worker process ignores SIGINT: the caller stops the
    run and ends its workers.
    """
    if (
        os.getpid() != caller_pid
        and threading.current_thread() is threading.main_thread()
    ):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        yield
        return
    with sigint_remembered(raise_now=True):
        yield


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


#: The class of scikit-learn's scorers (``get_scorer``, ``make_scorer``): they
#: read an estimator through its response methods and tags alone.
_SKLEARN_SCORER = type(get_scorer("accuracy"))
_RESPONSES = ("predict", "predict_proba", "predict_log_proba", "decision_function")


class _Answered:
    """A fitted estimator whose answers on one ``X`` are computed once.

    Scoring a fold asks for ``predict`` (and ``predict_proba`` for a metric
    that reads probabilities) after the outcome has asked for them: a network
    or a vote of several would run over the test rows again for each. Asked
    with the same ``X`` object, each response method answers from its first
    call; any other ``X``, and every other attribute, go to the estimator.
    """

    def __init__(self, estimator, X):
        self._estimator = estimator
        self._X = X
        self._answers = {}

    def __getattr__(self, name):
        attribute = getattr(self._estimator, name)  # its AttributeError if absent
        if name not in _RESPONSES:
            return attribute

        def answer(X):
            if X is not self._X:
                return attribute(X)
            if name not in self._answers:
                self._answers[name] = attribute(X)
            return self._answers[name]

        answer.__name__ = name  # scikit-learn tells the responses apart by it
        return answer


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
