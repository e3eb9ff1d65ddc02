"""What a ``mmer compare`` run does whichever corpora it compares: it holds
``--out``'s lock, runs on ``--scheduler``'s Dask cluster, says how to resume
when interrupted, makes the folds content-disjoint with
``--content-disjoint``, and refits and saves the methods of ``--save-model``.

``compare.py`` (one corpus) and ``_corpora.py`` (``--test-data``, ``--cv
corpus``) both take these steps, so that an option means the same in both.
"""

import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ..utils._runtime import first_line
from ._common import UsageError, resume_command
from ._outputs import system_folder
from ._steps import fit_and_save

# --- --out, --scheduler and Ctrl-C -------------------------------------------------


def lock_out(args, out, say):
    """--out's lock, held by this run (refused while another run holds it)."""
    from ..utils._files import RunLock, RunLockedError

    lock = RunLock(out, note=lambda line: say(f"mmer: warning: {line}"))
    try:
        return lock.acquire()
    except RunLockedError as error:
        raise UsageError(f"--out {args.out}: {error}") from None


@contextmanager
def on_scheduler(scheduler, say, *, threads):
    """Inside: the fits go to the Dask cluster of ``--scheduler``, if given,
    whose workers start with the fits' ``threads``."""
    if scheduler is None:
        yield
        return
    from ..utils._runtime import dask_cluster

    with ExitStack() as stack:
        try:
            client = stack.enter_context(dask_cluster(scheduler, torch_threads=threads))
        except (ImportError, OSError, ValueError) as error:
            raise UsageError(f"--scheduler {scheduler}: {first_line(error)}") from None
        workers = client.ncores()
        alone = " (a single thread: joblib runs the fits in this process)"
        say(
            f"on the Dask cluster at {client.scheduler.address}: {len(workers)} "
            f"workers, {sum(workers.values())} fits at a time"
            f"{alone if sum(workers.values()) < 2 else ''}"
        )
        yield


def run_interruptibly(args, out, progress, compare):
    """``compare()`` on ``--scheduler``'s cluster if given; None, after a line
    saying how to finish the run, when Ctrl-C stops it."""
    try:
        with on_scheduler(args.scheduler, progress.say, threads=args.threads):
            comparison = compare()
    except KeyboardInterrupt:
        progress.close()
        print(
            f"mmer: interrupted; {progress.n_finished} of {progress.n_total} "
            f"folds finished are kept in {out}. To finish the run: "
            f"{resume_command(args.argv)}",
            file=sys.stderr,
        )
        return None
    progress.close()
    return comparison


# --- the folds ----------------------------------------------------------------------


def content_disjoint(args, cv, text, X, groups):
    """``cv`` made content-disjoint when ``--content-disjoint`` asks, with its
    description."""
    if not args.content_disjoint:
        return cv, text
    from ..model_selection import ContentDisjointSplit

    if "content" not in X.columns:
        raise UsageError(
            "--content-disjoint needs a 'content' column in the corpus (a "
            "'content' or 'transcript' column of dataset.csv); this corpus has "
            "none"
        )
    cv = ContentDisjointSplit(cv)
    try:
        dropped = cv.n_dropped(X, groups=groups)
    except ValueError as error:
        raise UsageError(f"--content-disjoint: {first_line(error)}") from None
    per_fold = ", ".join(str(n) for n in dropped)
    return cv, (
        f"{text}, content-disjoint ({dropped.sum()} training utterances dropped; "
        f"per fold {per_fold})"
    )


# --- --save-model -----------------------------------------------------------------


def save_model_folder(args, compared):
    """``--save-model``'s folder, created, once the options are found right;
    None without ``--save-model``."""
    if args.save_model_methods and not args.save_model:
        raise UsageError("--save-model-methods needs --save-model DIR")
    if not args.save_model:
        return None
    for name in args.save_model_methods or []:
        if name not in compared:
            raise UsageError(
                f"--save-model-methods {name}: not among the compared methods "
                f"({', '.join(compared)}); add it to --methods"
            )
    folder = Path(args.save_model)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--save-model {args.save_model}: exists and is not a folder")
    problem = system_folder(folder)
    if problem:
        raise UsageError(f"--save-model {args.save_model}: {problem}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--save-model {args.save_model}: {error.strerror or error}"
        ) from None
    return folder


def save_models(args, corpus, summary, say, *, how):
    """Refit the best inductive (or the named) methods on all of ``corpus``
    (a Bunch as ``load_corpus`` returns); save them. ``summary`` holds the
    scores measured over the folds ``how`` describes."""
    from ..evaluation import best_inductive_method

    folder = save_model_folder(args, list(summary["method"]))
    if folder is None:
        return []
    names = args.save_model_methods
    if not names:
        try:
            names = [best_inductive_method(summary, corpus.modalities)]
        except ValueError:
            raise UsageError(
                "--save-model: no inductive method was compared successfully; "
                "name one with --save-model-methods"
            ) from None
    written = []
    for name in names:
        row = summary.loc[summary["method"] == name].iloc[0]
        say(f"refitting {name} on all {len(corpus.target)} utterances ...")
        written.append(
            fit_and_save(
                args,
                corpus,
                name,
                folder / f"{name}.mmer",
                say,
                scores=row,
                how=how,
            )
        )
    return written
