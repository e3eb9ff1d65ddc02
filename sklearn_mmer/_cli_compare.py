"""``mmer compare`` and ``mmer methods``: what the subcommands do once parsed.

:mod:`sklearn_mmer.cli` builds the parser and hands the parsed options here:
the corpus is loaded (bundled or ``--data``), the methods, folds, reference and
scheduler are chosen from the options, :func:`~sklearn_mmer.evaluation.compare_methods`
runs, and :func:`~sklearn_mmer.evaluation.save_comparison` writes the outputs.
A mistake of the user's becomes a :class:`~sklearn_mmer.cli.UsageError` naming
the option.
"""

import sys
import time
import warnings
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from ._cli_runs import Reporter, first_line
from .cli import (
    DEFAULT_FOLDS,
    DEFAULT_UTTERANCES,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    UsageError,
    _OutputError,
)

ISSUES_CSV = "issues.csv"  # the name datasets.save_issues writes

# --- mmer compare -----------------------------------------------------------


def run_compare(args):
    """``mmer compare``: load, cross-validate, print and write the results."""
    # --out stays locked from its checks to the last file written, whatever
    # ends the run (an error, Ctrl-C)
    with ExitStack() as held:
        return _run_compare(args, held)


def _run_compare(args, held):
    from ._cli_models import save_compare_models
    from ._cli_runs import Progress, report_failures

    say = Reporter(quiet=args.quiet)
    plan = _plan(args, say, held)
    corpus, names, cv = plan["corpus"], plan["names"], plan["cv"]
    X, y, groups = corpus.data, np.asarray(corpus.target), np.asarray(corpus.groups)
    say(
        f"mmer compare: {len(y)} utterances, {len(np.unique(groups))} speakers, "
        f"{len(np.unique(y))} emotions ({corpus.source}); modalities "
        f"{', '.join(corpus.modalities)}; {plan['cv_text']}; methods "
        f"{', '.join(names)}"
        f"{f'; {args.repeats} repeats' if args.repeats > 1 else ''}"
    )
    progress = Progress(say)
    progress.start(len(names) * args.repeats * cv.get_n_splits(X, y, groups))
    start = time.perf_counter()
    comparison = _run(args, plan, progress, say)
    if comparison is None:
        return EXIT_INTERRUPTED
    if args.resume:
        # only now that the run in --out has been accepted as this one
        _write_issues(corpus, plan["out"])
    seconds = time.perf_counter() - start
    written = _save(comparison, plan)
    if written is None:
        return EXIT_FAILED
    say(
        f"{len(names)} methods x {len(comparison.splits)} folds"
        f"{f' x {args.repeats} repeats' if args.repeats > 1 else ''} in "
        f"{seconds:.0f} s; wrote {', '.join(p.name for p in written)} to "
        f"{plan['out']}"
    )
    save_compare_models(args, corpus, comparison.summary, plan["cv_text"], say)
    return report_failures(comparison.results)


def _plan(args, say, held):
    """Everything the options decide, checked before any fit runs; --out
    locked in ``held``."""
    from ._cli_models import check_save_model_options
    from ._cli_runs import check_outputs
    from .evaluation import make_methods, method_names, set_every

    corpus = load_corpus(args, say)
    _check_seeds(args)
    modalities = corpus.modalities
    try:
        names = method_names(modalities, args.methods)
    except ValueError as error:
        raise UsageError(str(error)) from None
    reference = _reference(args, names)

    def methods(seed):
        built = make_methods(modalities, names, random_state=seed)
        for method in built.values() if args.epochs is not None else ():
            set_every(method, "max_epochs", args.epochs)
        return built

    cv, cv_text = _splitter(args, corpus.data, np.asarray(corpus.groups))
    out = check_outputs(args.out, inputs={"--data": args.data})
    if isinstance(out, str):
        raise UsageError(out)
    check_save_model_options(args, names)
    held.callback(_lock(args, out, say).release)
    if not args.resume:
        # a resumed run writes it once the run in --out is found to be this
        # one: a refused --resume leaves that run's issues.csv as it was
        _write_issues(corpus, out)
    return {
        "corpus": corpus,
        "names": names,
        "reference": reference,
        "methods": methods,
        "cv": cv,
        "cv_text": cv_text,
        "out": out,
    }


def _run(args, plan, progress, say):
    """The comparison, on ``--scheduler``'s cluster if given; None if interrupted."""
    from ._cli_runs import resume_command

    out = plan["out"]
    try:
        with _scheduler(args.scheduler, say, threads=args.threads):
            comparison = _compare(
                args, plan["methods"], plan["corpus"], plan["cv"], out, progress
            )
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


def _save(comparison, plan):
    """Print the table and write every output; None (after a line) on failure."""
    from .evaluation import (
        compare_to_reference,
        format_table,
        method_kind,
        save_comparison,
    )

    reference, out = plan["reference"], plan["out"]
    modalities = plan["corpus"].modalities
    comparisons = (
        compare_to_reference(comparison.results, reference) if reference else None
    )
    print(format_table(comparison.summary, comparisons))
    kinds = {name: method_kind(name, modalities) for name in plan["names"]}
    try:
        return save_comparison(
            comparison,
            out,
            modalities=modalities,
            kinds=kinds,
            reference=reference,
            speakers=np.asarray(plan["corpus"].groups),
        )
    except OSError as error:
        print(f"mmer: error: --out {out}: {error.strerror or error}", file=sys.stderr)
        return None


def _compare(args, methods, corpus, cv, out, progress):
    """compare_methods with the command's options; its mistakes as usage errors."""
    from sklearn.exceptions import FitFailedWarning

    from ._cli_runs import resume_command, warning_printer
    from .evaluation import ConfigurationMismatchError, compare_methods

    y, groups = np.asarray(corpus.target), np.asarray(corpus.groups)
    try:
        with warnings.catch_warnings():
            # the failures are summed up at the end; fold warnings said now
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.showwarning = warning_printer(progress.note)
            return compare_methods(
                methods,
                corpus.data,
                y,
                groups,
                cv=cv,
                labels=_label_order(corpus, y),
                n_repeats=args.repeats,
                n_jobs=args.n_jobs,
                n_threads=args.threads,
                random_state=args.seed,
                error_score="raise" if args.traceback else np.nan,
                checkpoint=out,
                resume=args.resume,
                progress=progress,
            )
    except ConfigurationMismatchError as error:
        raise UsageError(f"--resume: {error}") from None
    except OSError as error:
        raise _OutputError(
            f"--out {out}: {error.strerror or error} (the folds finished are kept; "
            f"to finish the run: {resume_command(args.argv)})"
        ) from None
    except ValueError as error:
        # data a user brings can fail checks deep in a fit (NaN frames,
        # widths): one line, as any input error. On the bundled corpus such a
        # ValueError is a bug of ours, and its traceback is kept.
        if args.data is None or args.traceback:
            raise
        raise UsageError(
            f"--data {args.data}: {first_line(error)} (--traceback shows where)"
        ) from None


def _lock(args, out, say):
    """--out's lock, held by this run (refused while another run holds it)."""
    from .evaluation import RunLockedError
    from .evaluation._files import RunLock

    lock = RunLock(out, note=lambda line: say(f"mmer: warning: {line}"))
    try:
        return lock.acquire()
    except RunLockedError as error:
        raise UsageError(f"--out {args.out}: {error}") from None


@contextmanager
def _scheduler(scheduler, say, *, threads):
    """Inside: the fits go to the Dask cluster of ``--scheduler``, if given,
    whose workers start with the fits' ``threads``."""
    if scheduler is None:
        yield
        return
    from .utils._dask import dask_cluster

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


# --- the corpus -------------------------------------------------------------


def load_corpus(args, say):
    """The corpus as a Bunch with ``modalities`` and ``source`` set."""
    if args.data is None:
        corpus = bundled_corpus(args)
    else:
        if not Path(args.data).exists():
            raise UsageError(f"--data {args.data}: no such file or folder")
        if args.n_utterances is not None:
            raise UsageError("--n-utterances sizes the bundled corpus; not with --data")
        corpus = _user_corpus(args, say)
    if corpus.data.shape[0] == 0:
        raise UsageError("the corpus has no usable utterance")
    emotions = np.unique(np.asarray(corpus.target))
    if emotions.size < 2:
        raise UsageError(
            f"--data {args.data}: every utterance is labelled "
            f"{emotions.tolist()[0]!r}; comparing classifiers needs at least 2 "
            "emotions"
        )
    return corpus


def _check_seeds(args):
    """Repeat r seeds with --seed + r - 1: the last seed must be one numpy takes."""
    from .cli import MAX_SEED

    last = args.seed + args.repeats - 1
    if last > MAX_SEED:
        raise UsageError(
            f"--seed {args.seed} with --repeats {args.repeats} would seed the last "
            f"repeat with {last}, past 2**32-1; use --seed "
            f"{MAX_SEED - args.repeats + 1} or less"
        )


def bundled_corpus(args):
    """The bundled synthetic corpus of ``--n-utterances``, ``--seed`` and
    ``--modalities``."""
    from .datasets import DEFAULT_MODALITIES, make_multimodal_emotion

    modalities = list(DEFAULT_MODALITIES)
    if args.modalities:
        _check_known_modalities(args.modalities, modalities)
        modalities = list(args.modalities)
    n_utterances = args.n_utterances or DEFAULT_UTTERANCES
    # every modality is generated, then the ones asked for kept: each draws
    # from the same random stream, so a seed gives the same features whichever
    # modalities a run compares
    corpus = make_multimodal_emotion(n_utterances, random_state=args.seed)
    others = [m for m in DEFAULT_MODALITIES if m not in modalities]
    corpus.data = corpus.data.drop(columns=others)
    corpus.modalities = modalities
    corpus.source = (
        f"bundled synthetic corpus, make_multimodal_emotion seed {args.seed}: "
        "synthetic data, not real speech"
    )
    return corpus


def size_limits(args):
    """``--max-member-bytes`` and ``--max-total-bytes`` as given, by keyword."""
    return {
        name: getattr(args, name)
        for name in ("max_member_bytes", "max_total_bytes")
        if getattr(args, name) is not None
    }


def _user_corpus(args, say):
    from .evaluation import modality_columns

    corpus = read_corpus(
        args, say, issues_csv=Path(args.out) / ISSUES_CSV, modalities=args.modalities
    )
    corpus.modalities = list(
        getattr(corpus, "modalities", None) or modality_columns(corpus.data)
    )
    if not corpus.modalities:
        raise UsageError(f"--data {args.data}: the corpus has no modality column")
    corpus.source = f"{Path(args.data)}"
    return corpus


def read_corpus(args, say, *, issues_csv, **options):
    """``load_feature_table`` on ``--data`` with the size limits: its errors as
    usage errors, its warnings said, the faults' warning pointing at
    ``issues_csv``."""
    from .datasets import CorpusIssuesWarning, load_feature_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            corpus = load_feature_table(Path(args.data), **options, **size_limits(args))
        except (ValueError, OSError, KeyError) as error:
            raise UsageError(f"--data {args.data}: {first_line(error)}") from None
    for warning in caught:
        message = warning.message
        if isinstance(message, CorpusIssuesWarning):
            message = CorpusIssuesWarning(message.summary, issues_csv)
        say(f"mmer: warning: {first_line(message)}")
    return corpus


def _check_known_modalities(asked, available):
    unknown = [m for m in asked if m not in available]
    if unknown:
        raise UsageError(
            f"unknown modality {unknown[0]!r}; the corpus has {', '.join(available)}"
        )
    if len(set(asked)) != len(asked):
        raise UsageError(f"--modalities names a modality twice: {' '.join(asked)}")


def _write_issues(corpus, out):
    """Write issues.csv to --out, or remove one an earlier run left there."""
    from .datasets import save_issues

    issues = getattr(corpus, "issues", None)
    if issues is None or save_issues(issues, out) is None:
        (out / ISSUES_CSV).unlink(missing_ok=True)


def _label_order(corpus, y):
    """Confusion-matrix order: the corpus's target names, then any other label."""
    present = list(np.unique(y))
    named = [t for t in getattr(corpus, "target_names", []) or [] if t in present]
    return np.asarray(named + [t for t in present if t not in named], dtype=object)


# --- methods, reference and folds -------------------------------------------


def _reference(args, names):
    """The method of ``--reference``, early_fusion by default; None for none."""
    if args.reference is None:
        return "early_fusion" if "early_fusion" in names else None
    if args.reference not in names:
        raise UsageError(
            f"--reference {args.reference} is not among the compared methods "
            f"({', '.join(names)}); add it to --methods or choose one of them"
        )
    return args.reference


def _splitter(args, X, groups):
    """The folds of ``--cv``/``--folds``, content-disjoint when asked."""
    cv, text = _speaker_splitter(args, X, groups)
    if not args.content_disjoint:
        return cv, text
    from .model_selection import ContentDisjointSplit

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


def _speaker_splitter(args, X, groups):
    from .model_selection import LeaveOneSessionOut, SpeakerKFold

    n_speakers = len(np.unique(groups))
    if args.cv == "session":
        if args.folds is not None:
            raise UsageError(
                "--folds sets speaker folds; --cv session has one fold per session"
            )
        cv = LeaveOneSessionOut()
        try:
            n_sessions = cv.get_n_splits(X, groups=groups)
        except ValueError as error:
            raise UsageError(f"--cv session: {first_line(error)}") from None
        return cv, f"leave-one-session-out ({n_sessions} folds)"
    folds = DEFAULT_FOLDS if args.folds is None else args.folds
    if n_speakers < 2:
        raise UsageError(
            f"the corpus has a single speaker ({np.unique(groups).tolist()[0]!r}); "
            "speaker-independent folds need at least 2 speakers: add another "
            "speaker's utterances to the corpus"
        )
    if folds > n_speakers:
        raise UsageError(
            f"--folds {folds} is more than the {n_speakers} speakers of the corpus; "
            f"use --folds {n_speakers} or fewer"
        )
    return SpeakerKFold(folds), f"{folds} speaker folds"


# --- mmer methods -----------------------------------------------------------


def run_methods(args):
    """``mmer methods``: the methods and what they are."""
    from .evaluation import registered_methods

    methods = registered_methods().values()
    width = max(len("<modality>"), *(len(method.name) for method in methods))
    print(
        f"{'<modality>':<{width}}  each modality alone (visual, acoustic, "
        "lexical, ...): pooled, scaled, one MLP  [default]"
    )
    for method in methods:
        flag = "  [default]" if method.default else ""
        flag += "  [transductive]" if method.transductive else ""
        print(f"{method.name:<{width}}  {method.description}{flag}")
    return 0
