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
import os
import sys
import time
import warnings
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

EXIT_USAGE = 2
DEFAULT_OUT = "mmer-results"
DEFAULT_FOLDS = 5
DEFAULT_UTTERANCES = 1336
ISSUES_CSV = "issues.csv"  # the name datasets.save_issues writes


class UsageError(Exception):
    """A mistake of the user's, reported as one line and exit status 2."""


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
        "--quiet", action="store_true", help="print only the results table"
    )
    compare.add_argument(
        "--traceback",
        action="store_true",
        help="when the data of --data fails a check during the run, show the "
        "full traceback instead of one line",
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
        0 on success, 2 after a usage or input error.
    """
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"mmer: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mmer: interrupted", file=sys.stderr)
        return 130


# --- mmer compare -----------------------------------------------------------


def run_compare(args):
    """``mmer compare``: load, cross-validate, print and write the results."""
    from .evaluation import (
        compare_methods,
        make_methods,
        method_kind,
        method_names,
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
    methods = make_methods(modalities, names, random_state=args.seed)
    if args.epochs is not None:
        for method in methods.values():
            set_every(method, "max_epochs", args.epochs)
    cv, cv_text = _splitter(args, X, groups)
    out = _out_dir(args.out)
    _write_issues(corpus, out)

    say(
        f"mmer compare: {len(y)} utterances, {len(np.unique(groups))} speakers, "
        f"{len(np.unique(y))} emotions ({corpus.source}); modalities "
        f"{', '.join(modalities)}; {cv_text}; methods {', '.join(methods)}"
    )

    def progress(record):
        say(
            f"[{record['method']}] fold {record['fold']}/{record['n_folds']}  "
            f"f1_micro={record['f1_micro']:.3f}  ({record['fit_seconds']:.1f} s)"
        )

    start = time.perf_counter()
    try:
        with _scheduler(args.scheduler, say):
            comparison = compare_methods(
                methods,
                X,
                y,
                groups,
                cv=cv,
                labels=_label_order(corpus, y),
                n_jobs=args.n_jobs,
                progress=progress,
            )
    except ValueError as error:
        # data a user brings can fail checks deep in a fit (NaN frames,
        # widths): one line, as any input error. On the bundled corpus such a
        # ValueError is a bug of ours, and its traceback is kept.
        if args.data is None or args.traceback:
            raise
        raise UsageError(
            f"--data {args.data}: {_first_line(error)} (--traceback shows where)"
        ) from None
    seconds = time.perf_counter() - start

    print(format_table(comparison.summary))
    kinds = {name: method_kind(name, modalities) for name in methods}
    written = write_outputs(comparison, out, modalities=modalities, kinds=kinds)
    say(
        f"{len(methods)} methods x {len(comparison.splits)} folds in "
        f"{seconds:.0f} s; wrote {', '.join(p.name for p in written)} to {out}"
    )
    return 0


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


def _splitter(args, X, groups):
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


def _out_dir(out):
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK):
        raise UsageError(f"--out {out}: not writable")
    return path


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


def format_table(summary):
    """The summary as a text table: mean ± std per metric, best method first.

    Parameters
    ----------
    summary : DataFrame
        ``compare_methods(...).summary``.

    Returns
    -------
    table : str
        Aligned columns, one line per method.
    """
    metrics = [c[: -len("_mean")] for c in summary.columns if c.endswith("_mean")]
    header = ["method", *metrics]
    rows = []
    for _, row in summary.iterrows():
        cells = [str(row["method"])]
        for metric in metrics:
            mean, std = row[f"{metric}_mean"], row[f"{metric}_std"]
            digits = 1 if metric == "fit_seconds" else 3
            cells.append(f"{mean:.{digits}f} ± {std:.{digits}f}")
        rows.append(cells)
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if k == 0 else cell.rjust(w)
            for k, (cell, w) in enumerate(zip(cells, widths))
        ).rstrip()
        for cells in [header, *rows]
    ]
    return "\n".join(lines)


def write_outputs(comparison, out, *, modalities, kinds):
    """Write results.csv, summary.csv, confusion_matrices.csv and the figures."""
    from .evaluation import save_figures

    out = Path(out)
    written = [out / "results.csv", out / "summary.csv", out / "confusion_matrices.csv"]
    comparison.results.to_csv(written[0], index=False)
    comparison.summary.to_csv(written[1], index=False)
    _confusion_table(comparison).to_csv(written[2], index=False)
    written += save_figures(comparison, out, modalities=modalities, kinds=kinds)
    return written


def _confusion_table(comparison):
    import pandas as pd

    labels = [str(label) for label in comparison.labels]
    rows = [
        (method, fold + 1, labels[i], labels[j], int(matrices[fold, i, j]))
        for method, matrices in comparison.confusion_matrices.items()
        for fold in range(matrices.shape[0])
        for i in range(len(labels))
        for j in range(len(labels))
    ]
    return pd.DataFrame(rows, columns=["method", "fold", "true", "predicted", "count"])


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
