"""The ``mmer`` command: the study's comparison in one line.

``mmer compare`` cross-validates each modality alone, early fusion and late
fusion (and any registered method) speaker-independently, on the bundled
synthetic corpus or on a corpus in the course-feature layout; prints the table,
shows progress on stderr, and writes CSV files and PNG figures. ``mmer methods``
lists the methods it knows.

Mistakes a user can make (a missing path, a CSV without the expected columns,
an unknown modality or method, more folds than speakers) end with one line on
stderr, ``mmer: error: ...``, and exit status 2.
"""

import argparse
import sys
import time
import warnings
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_OUT = "mmer-results"
DEFAULT_FOLDS = 5
DEFAULT_UTTERANCES = 1336
ISSUES_CSV = "issues.csv"  # the name datasets.save_issues writes


class UsageError(Exception):
    """A mistake of the user's, reported as one line and exit status 2."""


class _OutputError(Exception):
    """Results that could not be written (disk full, permissions): one line,
    exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, not usage + error."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser():
    """The ``mmer`` argument parser (subcommands ``compare`` and ``methods``)."""
    parser = _Parser(
        prog="mmer",
        description="Multimodal emotion recognition with scikit-learn estimators.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    compare = commands.add_parser(
        "compare",
        help="compare modalities and fusion methods with speaker-independent CV",
        description=(
            "Cross-validate each modality alone, early fusion and late fusion "
            "(majority vote) with speaker-independent folds; print the table and "
            "write results.csv, summary.csv, confusion_matrices.csv and PNG "
            "figures to --out. Without --data, runs on the bundled synthetic "
            "corpus (random numbers shaped like IEMOCAP, not real speech)."
        ),
    )
    compare.add_argument(
        "--data",
        metavar="PATH",
        help="a dataset.csv in the course-feature layout, its folder, or a .zip "
        "holding both (default: the bundled synthetic corpus)",
    )
    compare.add_argument(
        "--modalities",
        nargs="+",
        metavar="M",
        help="modalities to use (default: every modality of the corpus)",
    )
    compare.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to compare: modality names, early_fusion, late_fusion, any "
        "registered method, or 'all' (default: each modality, early_fusion, "
        "late_fusion); 'mmer methods' lists them",
    )
    compare.add_argument(
        "--cv",
        choices=["speaker", "session"],
        default="speaker",
        help="speaker: --folds folds of whole speakers (default); session: "
        "leave one session out",
    )
    compare.add_argument(
        "--folds",
        type=_int_at_least(2),
        metavar="K",
        help=f"number of speaker folds (default {DEFAULT_FOLDS})",
    )
    compare.add_argument(
        "--content-disjoint",
        action="store_true",
        help="drop from each training fold the utterances whose content (the "
        "corpus's 'content' column: script line or transcript) occurs in the "
        "test fold",
    )
    compare.add_argument(
        "--reference",
        metavar="NAME",
        help="method every other is compared with (difference, 95%% CI, "
        "Holm-adjusted p; default early_fusion when it is run)",
    )
    compare.add_argument(
        "--out",
        type=_folder_name,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"folder for the CSV files and figures (default {DEFAULT_OUT})",
    )
    compare.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=-1,
        metavar="N",
        help="fits run in parallel; -1 uses every CPU core (default -1)",
    )
    compare.add_argument(
        "--scheduler",
        type=_scheduler_value,
        metavar="ADDRESS",
        help="run the fits on a Dask cluster: the address of its scheduler "
        "(tcp://host:8786), or local:N to start N local worker processes; needs "
        "the dask extra (pip install 'sklearn-mmer[dask]'); the workers' "
        "threads, not --n-jobs, set how many fits run at a time",
    )
    compare.add_argument(
        "--threads",
        type=_int_at_least(1),
        metavar="N",
        help="threads each fit may use (torch and BLAS); default: the CPU cores "
        "shared out among the --n-jobs workers",
    )
    compare.add_argument(
        "--repeats",
        type=_int_at_least(1),
        default=1,
        metavar="R",
        help="run every method on every fold R times, repeat r with network "
        "seed --seed + r - 1, on the same folds (default 1)",
    )
    compare.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of the networks (and of the bundled corpus) (default 0)",
    )
    compare.add_argument(
        "--epochs",
        type=_int_at_least(1),
        metavar="E",
        help="override max_epochs of every network (default: each method's own, "
        "50 for the built-in methods)",
    )
    compare.add_argument(
        "--n-utterances",
        type=_int_at_least(8),
        metavar="N",
        help=f"size of the bundled corpus (default {DEFAULT_UTTERANCES}); not "
        "with --data",
    )
    _add_size_limits(compare)
    compare.add_argument(
        "--resume",
        action="store_true",
        help="finish the run kept in --out (killed or interrupted): the folds "
        "it finished are kept, the others run; refused when the options or "
        "data differ from that run's",
    )
    compare.add_argument(
        "--quiet", action="store_true", help="print only the results table"
    )
    compare.add_argument(
        "--traceback",
        action="store_true",
        help="stop at the first fit that fails and show its full traceback "
        "(by default a failed fit is recorded with its error and the run goes "
        "on)",
    )
    compare.set_defaults(run=run_compare)

    methods = commands.add_parser(
        "methods",
        help="list the methods mmer compare can run",
        description="List the methods mmer compare can run.",
    )
    methods.set_defaults(run=run_methods)
    return parser


def main(argv=None):
    """Run the ``mmer`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 1 when a fit failed (the others' results are written),
        2 after a usage or input error, 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        return args.run(args)
    except UsageError as error:
        print(f"mmer: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except _OutputError as error:
        print(f"mmer: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("mmer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# --- mmer compare -----------------------------------------------------------


def run_compare(args):
    """``mmer compare``: load, cross-validate, print and write the results."""
    from ._cli_runs import Progress, check_outputs, report_failures, resume_command
    from .evaluation import (
        compare_to_reference,
        format_table,
        make_methods,
        method_kind,
        method_names,
        save_comparison,
        set_every,
    )

    say = _Reporter(quiet=args.quiet)
    corpus = load_corpus(args, say)
    X, y, groups = corpus.data, np.asarray(corpus.target), np.asarray(corpus.groups)
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

    cv, cv_text = _splitter(args, X, groups)
    out = check_outputs(args.out)
    if isinstance(out, str):
        raise UsageError(out)
    _write_issues(corpus, out)

    say(
        f"mmer compare: {len(y)} utterances, {len(np.unique(groups))} speakers, "
        f"{len(np.unique(y))} emotions ({corpus.source}); modalities "
        f"{', '.join(modalities)}; {cv_text}; methods {', '.join(names)}"
        f"{f'; {args.repeats} repeats' if args.repeats > 1 else ''}"
    )
    progress = Progress(say)
    progress.start(len(names) * args.repeats * cv.get_n_splits(X, y, groups))
    start = time.perf_counter()
    try:
        with _scheduler(args.scheduler, say):
            comparison = _compare(args, methods, corpus, cv, out, progress)
    except KeyboardInterrupt:
        progress.close()
        print(
            f"mmer: interrupted; {progress.n_finished} of {progress.n_total} "
            f"folds finished are kept in {out}. To finish the run: "
            f"{resume_command(args.argv)}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    progress.close()
    seconds = time.perf_counter() - start

    comparisons = (
        compare_to_reference(comparison.results, reference) if reference else None
    )
    print(format_table(comparison.summary, comparisons))
    kinds = {name: method_kind(name, modalities) for name in names}
    try:
        written = save_comparison(
            comparison,
            out,
            modalities=modalities,
            kinds=kinds,
            reference=reference,
            speakers=groups,
        )
    except OSError as error:
        print(f"mmer: error: --out {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    say(
        f"{len(names)} methods x {len(comparison.splits)} folds"
        f"{f' x {args.repeats} repeats' if args.repeats > 1 else ''} in "
        f"{seconds:.0f} s; wrote {', '.join(p.name for p in written)} to {out}"
    )
    return report_failures(comparison.results)


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
            f"--data {args.data}: {_first_line(error)} (--traceback shows where)"
        ) from None


@contextmanager
def _scheduler(scheduler, say):
    """Inside: the fits go to the Dask cluster of ``--scheduler``, if given."""
    if scheduler is None:
        yield
        return
    from .utils._dask import dask_cluster

    with ExitStack() as stack:
        try:
            client = stack.enter_context(dask_cluster(scheduler))
        except (ImportError, OSError, ValueError) as error:
            raise UsageError(f"--scheduler {scheduler}: {_first_line(error)}") from None
        workers = client.ncores()
        say(
            f"on the Dask cluster at {client.scheduler.address}: {len(workers)} "
            f"workers, {sum(workers.values())} fits at a time"
        )
        yield


def load_corpus(args, say):
    """The corpus as a Bunch with ``modalities`` and ``source`` set."""
    if args.data is None:
        corpus = _bundled_corpus(args)
    else:
        if not Path(args.data).exists():
            raise UsageError(f"--data {args.data}: no such file or folder")
        if args.n_utterances is not None:
            raise UsageError("--n-utterances sizes the bundled corpus; not with --data")
        corpus = _user_corpus(args, say)
    if corpus.data.shape[0] == 0:
        raise UsageError("the corpus has no usable utterance")
    return corpus


def _bundled_corpus(args):
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


def _user_corpus(args, say):
    from .evaluation import modality_columns

    path = Path(args.data)
    from .datasets import load_feature_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            limits = {
                name: getattr(args, name)
                for name in ("max_member_bytes", "max_total_bytes")
                if getattr(args, name) is not None
            }
            corpus = load_feature_table(path, modalities=args.modalities, **limits)
        except (ValueError, OSError, KeyError) as error:
            raise UsageError(f"--data {args.data}: {_first_line(error)}") from None
    for warning in caught:
        say(f"mmer: warning: {_first_line(_issues_pointer(warning.message, args))}")
    corpus.modalities = list(
        getattr(corpus, "modalities", None) or modality_columns(corpus.data)
    )
    if not corpus.modalities:
        raise UsageError(f"--data {args.data}: the corpus has no modality column")
    corpus.source = f"{path}"
    return corpus


def _check_known_modalities(asked, available):
    unknown = [m for m in asked if m not in available]
    if unknown:
        raise UsageError(
            f"unknown modality {unknown[0]!r}; the corpus has {', '.join(available)}"
        )
    if len(set(asked)) != len(asked):
        raise UsageError(f"--modalities names a modality twice: {' '.join(asked)}")


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
        raise UsageError(f"--content-disjoint: {_first_line(error)}") from None
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
            raise UsageError(f"--cv session: {_first_line(error)}") from None
        return cv, f"leave-one-session-out ({n_sessions} folds)"
    folds = DEFAULT_FOLDS if args.folds is None else args.folds
    if folds > n_speakers:
        raise UsageError(
            f"--folds {folds} is more than the {n_speakers} speakers of the corpus; "
            f"use --folds {n_speakers} or fewer"
        )
    return SpeakerKFold(folds), f"{folds} speaker folds"


def _label_order(corpus, y):
    """Confusion-matrix order: the corpus's target names, then any other label."""
    present = list(np.unique(y))
    named = [t for t in getattr(corpus, "target_names", []) or [] if t in present]
    return np.asarray(named + [t for t in present if t not in named], dtype=object)


# --- corpus faults: size limits, issues.csv ---------------------------------


def _add_size_limits(compare):
    # the defaults are load_feature_table's (not imported here: --help stays quick)
    for name, what, default in [
        ("--max-member-bytes", "one file of a .zip", "1G"),
        ("--max-total-bytes", "a .zip corpus in all", "16G"),
    ]:
        compare.add_argument(
            name,
            type=_byte_count,
            metavar="SIZE",
            help=f"the most {what} may expand to when read, in bytes or with a "
            f"K, M, G or T suffix (default {default})",
        )


def _byte_count(text):
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    number, scale = text.strip(), 1
    if number[-1:].upper() in units:
        number, scale = number[:-1], units[number[-1].upper()]
    try:
        value = int(float(number) * scale)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; give bytes or e.g. 512M, 2G"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte; got {text!r}")
    return value


def _issues_pointer(message, args):
    """A loader warning, pointing a CorpusIssuesWarning at --out's issues.csv."""
    from .datasets import CorpusIssuesWarning

    if isinstance(message, CorpusIssuesWarning):
        return CorpusIssuesWarning(message.summary, Path(args.out) / ISSUES_CSV)
    return message


def _write_issues(corpus, out):
    """Write issues.csv to --out, or remove one an earlier run left there."""
    from .datasets import save_issues

    issues = getattr(corpus, "issues", None)
    if issues is None or save_issues(issues, out) is None:
        (out / ISSUES_CSV).unlink(missing_ok=True)


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


# --- helpers ----------------------------------------------------------------


class _Reporter:
    """Progress and notes on stderr, silent with --quiet."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, line):
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}; got {value}")
        return value

    return parse


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive number or -1, not 0")
    return value


def _scheduler_value(text):
    from .utils._dask import parse_scheduler

    try:
        parse_scheduler(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _folder_name(text):
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a folder, not an empty string (use --out . for the "
            "current folder)"
        )
    return text


def _first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _version():
    from . import __version__

    return f"mmer (sklearn-mmer) {__version__}"


if __name__ == "__main__":
    sys.exit(main())
