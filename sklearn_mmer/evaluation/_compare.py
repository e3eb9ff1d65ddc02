"""The study's comparison: every method under the same speaker-independent folds.

:func:`compare_methods` reads like scikit-learn's ``cross_validate``: it checks
the inputs and the folds, plans the work, runs one small task per fit in
parallel (:func:`~._tasks.fit_and_score`), and collects the outcomes. Work that
several methods share is done once, without changing any score:

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
- *Folds and fits* run in parallel with ``n_jobs``; every fit, in the caller's
  process, a joblib worker or on a Dask cluster, computes with the same
  ``n_threads`` torch and BLAS threads, so that the scores do not depend on
  ``n_jobs``. Under joblib's ``dask`` backend the corpus goes to the cluster
  once and tasks carry references to it.
"""

import os
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from ..utils._runtime import (
    DEFAULT_THREADS,
    check_n_threads,
    on_dask,
    progress_display,
    sigint_remembered,
    to_workers,
)
from ._checkpoint import open_checkpoint
from ._checks import (
    check_data,
    check_error_score,
    check_labels,
    check_methods,
    check_repeats,
    check_scoring,
    modality_columns,
)
from ._collect import OutcomeCollector
from ._cross import check_test_sets, describe_test_sets, speakers_of_test_sets
from ._folds import check_splits, fold_warnings
from ._reporting import summarize, summarize_cross_corpus
from ._schema import IN_CORPUS, TEST_CORPUS
from ._sharing import plan_work
from ._tasks import FitTask, fit_and_score, workers_end_with_caller


def compare_methods(
    methods,
    X,
    y,
    groups=None,
    *,
    cv=None,
    scoring=None,
    labels=None,
    n_repeats=1,
    n_jobs=None,
    n_threads=DEFAULT_THREADS,
    random_state=None,
    error_score=np.nan,
    return_estimator=False,
    checkpoint=None,
    resume=False,
    progress=None,
    test_sets=None,
    test_standardization=None,
):
    """Cross-validate several methods on the same speaker-independent folds.

    Every method is fit on each fold's training speakers and scored on its test
    speakers, as :func:`~sklearn.model_selection.cross_validate` would, with the
    same results; work shared between methods (pooling, late fusion's unimodal
    members) is done once (see the module's notes).

    Parameters
    ----------
    methods : dict of str to estimator, list of str, callable or None
        The methods to compare: unfitted estimators by name, or names of
        registered methods (see :func:`make_methods`; modalities are methods
        too), built over X's modality columns and seeded by ``random_state``.
        None runs the default methods. A callable is called as
        ``methods(seed)`` once per repeat and returns the dict of estimators
        seeded by ``seed``.
    X : DataFrame
        One row per utterance, one column of cells per modality (see the data
        contract), plus optional ``speaker`` and ``session`` columns.
    y : array-like of shape (n_samples,)
        Emotion labels.
    groups : array-like of shape (n_samples,) or None, default=None
        Speaker of each utterance; X's ``speaker`` column when None.
    cv : int, cross-validation splitter, list or None, default=None
        Folds: ``SpeakerKFold(5)`` when None, ``SpeakerKFold(cv)`` for an int,
        any splitter (its ``split(X, y, groups)`` is used, once), or a list of
        ``(train, test)`` index arrays.
    scoring : str, list of str, dict or None, default=None
        Metrics, as for :func:`~sklearn.model_selection.cross_validate`. None
        means F1-micro, macro F1 and unweighted accuracy.
    labels : array-like or None, default=None
        Order of the classes in the confusion matrices; the sorted labels of y
        when None.
    n_repeats : int, default=1
        How many times to run every method on every fold, each repeat with
        other network seeds: repeat ``r`` (1-based) seeds every method with
        ``random_state + r - 1``. The folds stay the same in every repeat, so
        that repeats measure what the seeds change and every method is
        compared with every other on the same folds and seeds. Needs an int
        ``random_state`` when above 1.
    n_jobs : int or None, default=None
        Number of fits run in parallel (over repeats, folds and methods); None
        means 1 (or joblib's ``parallel_config``), -1 all CPU cores. Never more
        worker processes start than there are fits to run; more than the CPU
        cores run that many fits at once on shared cores.
    n_threads : int or None, default=1
        Threads each fit may use (torch and the BLAS pools), the same for every
        fit whatever ``n_jobs`` or the Dask cluster: floating-point sums depend
        on how they are split among threads, so this is the one option besides
        the seeds that changes the scores (see :mod:`sklearn_mmer.utils._runtime`).
        More threads can speed up a fit of large networks when few fits run
        at a time. It is recorded in the checkpoint's manifest, and a resume
        with another value is refused. None leaves each process's own thread
        settings, which follow its CPU cores and the parallel backend, so that
        the scores can then differ with ``n_jobs``.
    random_state : int or None, default=None
        Seed of the methods built from names. Estimators passed in are used as
        they are when ``n_repeats=1``; with more repeats every
        ``random_state`` parameter in them is set to the repeat's seed (see
        :func:`set_every`).
    error_score : "raise" or float, default=np.nan
        What a fit (or its scoring) that raises becomes: with a number, its
        scores take that value, its error's type and message go to the
        ``error`` column, a :class:`~sklearn.exceptions.FitFailedWarning` is
        issued and the comparison goes on (as in ``cross_validate``, whose
        default this is, so that one failing method never costs the others'
        results); with ``"raise"`` the error propagates. A late fusion
        assembled from shared members fails when one of its members fails.
    return_estimator : bool, default=False
        Whether to return every fitted estimator, in ``estimators``. Each
        method is then fit as ``cross_validate`` fits it (a unimodal method
        no longer shares a fit on label codes with late fusion's member).
    checkpoint : str, path-like or None, default=None
        A folder where each (method, repeat, fold) is kept as soon as it
        finishes, with a ``manifest.json`` of the run's configuration, and
        ``results.csv`` holds every row finished so far; each file is written
        whole or not at all, so a run killed at any moment can be resumed.
        An earlier run's checkpoint there is replaced unless ``resume`` (its
        record files only; other files are left alone). The folder is locked
        (``.mmer.lock``) while the comparison runs: another run into it raises
        :class:`RunLockedError`; the lock of a killed run is taken over, with a
        warning.
    resume : bool, default=False
        Finish the run kept in ``checkpoint``: the folds it finished are read
        back instead of being fit again, giving the results an uninterrupted
        run gives. Raises :class:`ConfigurationMismatchError` (a
        ``ValueError``) when its configuration (data, test corpora, folds,
        methods and their parameters, seeds, metrics, library versions)
        differs from this one,
        and :class:`CheckpointError`, naming the file, when its
        ``manifest.json`` or a fold's record cannot be read, was edited, or
        belongs to another run.
    progress : bool, callable or None, default=None
        True shows the progress of ``mmer compare`` on stderr: a bar with
        elapsed time and ETA on a terminal, one line per finished fold
        otherwise. A callable is called as ``progress(record)`` each time a
        method finishes a fold, with a dict holding the fold's row of
        ``results`` plus ``n_folds``, ``n_repeats``, ``n_finished`` (rows
        finished so far, those resumed included) and ``n_total``. None or
        False shows nothing.
    test_sets : dict of str to tuple or None, default=None
        Other corpora to test on: ``{name: (X, y, groups)}`` (``groups`` may be
        left out or None: X's ``speaker`` column then, and the two must agree
        when both are given, as for the compared corpus). In each fold, the
        model fit on the fold's training speakers is also scored on every
        utterance of each test corpus, giving one more row per method, repeat,
        fold and test corpus. Their labels must be those of y (see
        :func:`~sklearn_mmer.datasets.harmonize_labels`);
        a modality the compared corpus has and a test corpus lacks is scored
        as a missing modality (the row's ``warnings`` says so), and a modality
        with another feature width is an error. With ``checkpoint``, each
        fold's record keeps its scores and predictions on the test corpora
        too, and the manifest records the test corpora (their names, sizes
        and data) and ``test_standardization``: a resume with other test
        corpora is refused.
    test_standardization : {None, "corpus", "speaker"}, default=None
        With ``test_sets``: None scores the test corpora's features as they
        are; ``"corpus"`` standardises each test corpus by its own mean and
        scale over all its utterances (no label is read) and gives it the
        compared corpus's mean and scale; ``"speaker"`` does the same speaker
        by speaker, which reads the test speakers' unlabelled features and so
        is transductive, as ``early_fusion_speaker_norm`` is (the rows'
        ``warnings`` says so). The compared corpus is never changed.

    Returns
    -------
    comparison : :class:`~sklearn.utils.Bunch`
        With fields:

        - ``results``: DataFrame, one row per method, repeat and fold, with
          columns ``method``, ``repeat`` and ``fold`` (both 1-based), ``seed``
          (the repeat's seed; missing when ``random_state`` is None),
          ``n_train`` and ``n_test`` (utterances), one column per metric
          (``f1_micro, f1_macro, unweighted_accuracy`` by default),
          ``fit_seconds`` (time to fit the method on the fold; for a late
          fusion assembled from shared fits, the sum of its members' fit
          times, i.e. its cost alone), ``best_params`` (JSON of the fitted
          estimator's ``best_params_``, e.g. of a grid search; ``""`` without
          one), ``warnings`` (what makes the fold's scores less telling, in
          words: a test fold of a single utterance, a test class absent from
          training; ``""`` when none) and ``error`` (``""`` unless the fit
          failed); ``test_corpus`` says which corpus the row was scored on:
          ``""`` for the compared corpus's held-out speakers (every row
          without ``test_sets``), the test corpus's name for the rows of
          ``test_sets``, which come after the in-corpus rows (``n_test`` is
          then the test corpus's size).
        - ``summary``: DataFrame from :func:`summarize` of the in-corpus rows,
          best method first.
        - ``cross_corpus_summary``: only with ``test_sets``, the in-corpus and
          cross-corpus scores side by side (see
          :func:`summarize_cross_corpus`).
        - ``cross_confusion_matrices``: only with ``test_sets``, a dict
          mapping each test corpus to a dict as ``confusion_matrices``.
        - ``cross_predictions``: only with ``test_sets``, the predictions on
          the test corpora, with the columns of ``predictions`` and
          ``test_corpus`` after ``fold``; ``row`` is the position in that
          test corpus's X and ``utterance_id`` its index there.
        - ``cross_speakers``: only with ``test_sets``, a dict mapping each
          test corpus to its speakers, one per row of its X (its ``groups``,
          else its ``speaker`` column, else the corpus's name), which
          :func:`summarize_cross_corpus` resamples for a corpus scored by a
          single fit.
        - ``confusion_matrices``: dict mapping each method to an int array of
          shape ``(n_repeats * n_folds, n_classes, n_classes)`` (repeat by
          repeat, fold by fold), rows true, columns predicted, in the order of
          ``labels``; all zeros for a failed fit.
        - ``predictions``: DataFrame of the out-of-fold predictions, columns
          ``method, repeat, fold, row, y_true, y_pred, utterance_id`` and one
          ``proba_<class>`` per class of ``labels``, where ``row`` is the
          position in X, ``utterance_id`` X's index there (as text) and the
          probabilities those of ``predict_proba`` (NaN for a method without
          one, such as a hard vote, and for a fold resumed from a checkpoint
          of an earlier version, which kept none); none for a failed fit.
        - ``labels``: ndarray, the class order of the confusion matrices.
        - ``splits``: list of ``(train, test)`` index arrays, one per fold.
        - ``estimators``: only with ``return_estimator=True``, a dict mapping
          ``(method, repeat, fold)`` (1-based) to the fitted estimator, None
          for a failed fit or one read back from a checkpoint.

    See Also
    --------
    make_methods : Builds the named methods.
    save_comparison : Writes the results, tables and figures to a folder.
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
    ['method', 'repeat', 'fold', 'test_corpus', 'seed', 'n_train', 'n_test', \
'f1_micro', 'f1_macro', 'unweighted_accuracy', 'fit_seconds', 'best_params', \
'warnings', 'error']
    >>> comparison.confusion_matrices["acoustic"].shape
    (3, 2, 2)
    >>> comparison.predictions.columns.tolist()
    ['method', 'repeat', 'fold', 'row', 'y_true', 'y_pred', 'utterance_id', \
'proba_angry', 'proba_calm']
    """
    X, y, groups = check_data(X, y, groups)
    splits = check_splits(cv, X, y, groups)
    notes = fold_warnings(splits, y, groups)
    cross, cross_notes, ids, compared = {}, {}, X.index, (X, y)
    if test_sets is not None:
        X, y, cross, cross_notes, ids = check_test_sets(
            test_sets,
            X,
            y,
            modality_columns(X),
            standardization=test_standardization,
        )
    elif test_standardization is not None:
        raise ValueError("test_standardization needs test_sets")
    scoring = check_scoring(scoring)
    labels = check_labels(labels, y)
    seeds = check_repeats(n_repeats, random_state)
    check_error_score(error_score)
    methods_by_repeat = [
        check_methods(methods, X, seed, reseed=len(seeds) > 1) for seed in seeds
    ]
    threads = check_n_threads(n_threads)
    shown = progress_display(progress)

    # the checkpoint's folder stays locked until every fold is kept
    with (
        shown as progress,
        open_checkpoint(
            checkpoint,
            resume,
            X=compared[0],
            y=compared[1],
            groups=groups,
            splits=splits,
            methods_by_repeat=methods_by_repeat,
            seeds=seeds,
            scoring=scoring,
            labels=labels,
            error_score=error_score,
            threads=threads,
            test_corpora=describe_test_sets(X, y, cross, test_standardization),
            cross=cross,
            y_all=y,
        ) as checkpoint,
    ):
        finished = checkpoint.finished if checkpoint is not None else {}

        plan = plan_work(
            methods_by_repeat,
            X,
            modality_columns(X),
            share_members=not return_estimator,
        )
        tasks = _fit_tasks(plan, splits, finished, return_estimator=return_estimator)
        n_jobs = _n_workers(n_jobs, len(tasks))
        collected = OutcomeCollector(
            plan,
            splits,
            y,
            methods_by_repeat=methods_by_repeat,
            seeds=seeds,
            notes=notes,
            scoring=scoring,
            labels=labels,
            error_score=error_score,
            progress=progress,
            return_estimator=return_estimator,
            checkpoint=checkpoint,
            cross=cross,
            cross_notes=cross_notes,
            ids=ids,
        )
        _run_tasks(
            tasks,
            collected,
            plan=plan,
            splits=splits,
            y=y,
            n_jobs=n_jobs,
            threads=threads,
            scoring=scoring,
            labels=labels,
            error_score=error_score,
            cross=cross,
        )
        collected.warn_failures()
        comparison = collected.comparison()
        in_corpus = comparison.results[TEST_CORPUS] == IN_CORPUS
        comparison.summary = summarize(comparison.results[in_corpus])
        if cross:
            comparison.cross_speakers = speakers_of_test_sets(test_sets)
            comparison.cross_corpus_summary = summarize_cross_corpus(
                comparison.results,
                predictions=comparison.cross_predictions,
                speakers=comparison.cross_speakers,
            )
        return comparison


# joblib's warning when a generator of results is closed before its end
_JOBLIB_CANCELLED = ".*You could benefit from adjusting the input task iterator"
# loky's warning when it restarts a worker that grew past its memory check
_LOKY_RESTART = "A worker stopped while some jobs were given to the executor"


def _run_tasks(
    tasks,
    collected,
    *,
    plan,
    splits,
    y,
    n_jobs,
    threads,
    scoring,
    labels,
    error_score,
    cross,
):
    """Run the fit tasks in parallel and hand each outcome to ``collected``."""
    # on a Dask cluster, the corpus goes to the workers once, not with every
    # task
    share = to_workers([*plan.views.values(), y, *(a for s in splits for a in s)])
    # workers that outlive a killed caller would hold its shared memory
    with workers_end_with_caller():
        outcomes = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(fit_and_score)(
                task,
                corpus=share(plan.views[task.view]),
                train=share(splits[task.fold][0]),
                test=share(splits[task.fold][1]),
                y=share(y),
                scoring=scoring,
                labels=labels,
                threads=threads,
                error_score=error_score,
                caller_pid=os.getpid(),
                cross=cross if task.score else None,
            )
            for task in tasks
        )
    try:
        with warnings.catch_warnings():
            # loky restarts a worker whose memory grew by 300 MB (torch and
            # the corpus do) and says so; the task is not lost, nor a score
            warnings.filterwarnings("ignore", message=_LOKY_RESTART)
            for outcome in outcomes:
                # Ctrl-C lands between records: each fold kept whole, and counted
                with sigint_remembered(raise_now=False):
                    collected.add(outcome)
    except BaseException:
        # Ctrl-C, or an error with error_score="raise": end the workers now
        # rather than after the fits already sent to them. Cancelling them is
        # the point, so joblib's warning that tasks were cancelled is not news.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_JOBLIB_CANCELLED)
            outcomes.close()
        raise


def _n_workers(n_jobs, n_tasks):
    """``n_jobs`` as joblib resolves it, but never more workers than tasks:
    each process started costs a second and its memory for nothing."""
    if on_dask():
        return n_jobs  # the cluster's threads decide, and 1 would run here
    return max(1, min(effective_n_jobs(n_jobs), n_tasks))


def _fit_tasks(plan, splits, finished, *, return_estimator):
    """One task per shared fit and fold, repeat by repeat, fold by fold; none
    for what a resumed run finished."""
    return [
        FitTask(
            repeat=fit.repeat,
            fold=fold,
            fit_index=index,
            estimator=fit.estimator,
            view=fit.view,
            encode_labels=fit.encode_labels,
            score=bool(fit.scored_as),
            return_estimator=fit.vote_member or return_estimator,
        )
        for repeat in sorted({fit.repeat for fit in plan.fits})
        for fold in range(len(splits))
        for index, fit in enumerate(plan.fits)
        if fit.repeat == repeat and _still_needed(plan, index, fold, finished)
    ]


def _still_needed(plan, index, fold, finished):
    """Whether a shared fit serves a method or vote not finished on ``fold``."""
    fit = plan.fits[index]
    return any(
        (name, fit.repeat, fold) not in finished for name in fit.scored_as
    ) or any(
        (vote.method, vote.repeat, fold) not in finished
        for vote in plan.votes
        if vote.repeat == fit.repeat and index in vote.members
    )
