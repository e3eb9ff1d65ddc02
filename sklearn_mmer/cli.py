"""The ``mmer`` command: the study's comparison in one line.

``mmer compare`` cross-validates each modality alone, early fusion and late
fusion (and any registered method) speaker-independently, on the bundled
synthetic corpus or on a corpus in the course-feature layout; prints the table,
shows progress on stderr, and writes CSV files and PNG figures. ``mmer methods``
lists the methods it knows. ``mmer fit`` and ``mmer predict`` train a method
into a model file and apply one.

This module only parses: it holds the parser, :func:`main`, the exit statuses
and :class:`UsageError`. What each subcommand does lives beside it
(``_cli_compare`` for ``compare`` and ``methods``, ``_cli_models`` for ``fit``,
``predict`` and ``compare --save-model``, ``_cli_runs`` for progress, output
checks and resuming), and the work itself in the library they call. Nothing
here imports torch, so that ``mmer --help`` stays quick.

Mistakes a user can make (a missing path, a CSV without the expected columns,
an unknown modality or method, more folds than speakers) end with one line on
stderr, ``mmer: error: ...``, and exit status 2.
"""

import argparse
import os
import signal
import sys
import threading
from contextlib import contextmanager

from .utils._threads import DEFAULT_THREADS

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_OUT = "mmer-results"
DEFAULT_FOLDS = 5
DEFAULT_UTTERANCES = 1336
#: The bundled corpus's speakers (make_multimodal_emotion's default): each
#: needs an utterance, so --n-utterances may not be fewer.
MIN_UTTERANCES = 10
#: About 210 KB of frames per utterance: the bundled corpus stays near 2 GiB.
MAX_UTTERANCES = 10_000
#: Every repeat fits every method on every fold again; past this many the
#: plan alone costs more than any study needs.
MAX_REPEATS = 1000
#: Seeds numpy and torch both accept.
MAX_SEED = 2**32 - 1
#: More workers or threads per fit than this many per CPU core only thrash.
PER_CORE = 4


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
    """The ``mmer`` argument parser (``compare``, ``methods``, ``fit``, ``predict``)."""
    from ._cli_compare import run_compare, run_methods
    from ._cli_models import add_model_commands, add_save_model_options

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
    _add_compare_data_options(compare)
    _add_compare_run_options(compare)
    _add_compare_size_options(compare)
    _add_compare_output_options(compare)
    add_save_model_options(compare)
    compare.set_defaults(run=run_compare)

    methods = commands.add_parser(
        "methods",
        help="list the methods mmer compare can run",
        description="List the methods mmer compare can run.",
    )
    methods.set_defaults(run=run_methods)

    add_model_commands(commands)
    return parser


def _add_compare_data_options(compare):
    """What ``mmer compare`` compares, on which data, over which folds."""
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


def _add_compare_run_options(compare):
    """Where and how the fits of ``mmer compare`` run."""
    compare.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=-1,
        metavar="N",
        help="fits run in parallel; -1 uses every CPU core (default -1); never "
        "more workers than fits to run; a value above the cores runs that many "
        f"fits at once on shared cores (at most {PER_CORE} per core)",
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
    add_threads_option(compare)
    compare.add_argument(
        "--repeats",
        type=_int_between(1, MAX_REPEATS),
        default=1,
        metavar="R",
        help="run every method on every fold R times, repeat r with network "
        f"seed --seed + r - 1, on the same folds (default 1, at most {MAX_REPEATS})",
    )
    compare.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        metavar="S",
        help="seed of the networks (and of the bundled corpus), 0 to 2**32-1 "
        "(default 0)",
    )
    compare.add_argument(
        "--epochs",
        type=_int_at_least(1),
        metavar="E",
        help="override max_epochs of every network (default: each method's own, "
        "50 for the built-in methods)",
    )


def add_threads_option(parser):
    """``--threads``: the one option besides the seeds that changes the scores."""
    parser.add_argument(
        "--threads",
        type=_per_core,
        default=DEFAULT_THREADS,
        metavar="N",
        help="threads each fit computes with (torch and BLAS), the same for every "
        "fit whatever --n-jobs or --scheduler, so that a seed gives the same "
        "scores however many fits run at a time; another value can change the "
        f"last digits of the scores; at most {PER_CORE} per core (default "
        f"{DEFAULT_THREADS})",
    )


def _add_compare_size_options(compare):
    """The size of the bundled corpus and the limits on a ``--data`` .zip."""
    compare.add_argument(
        "--n-utterances",
        type=n_utterances_value,
        metavar="N",
        help=f"size of the bundled corpus (default {DEFAULT_UTTERANCES}, "
        f"{MIN_UTTERANCES} to {MAX_UTTERANCES}); not with --data",
    )
    _add_size_limits(compare)


def _add_compare_output_options(compare):
    """Resuming, and what ``mmer compare`` says while it runs."""
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
        2 after a usage or input error, 130 when interrupted (Ctrl-C), 143
        after SIGTERM and 129 after SIGHUP, which stop it as Ctrl-C does.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    with _stop_signals_as_interrupt() as stopped_by:
        status = _main(argv)
    if status == EXIT_INTERRUPTED and stopped_by:
        return 128 + stopped_by[0]
    return status


def _main(argv):
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


@contextmanager
def _stop_signals_as_interrupt():
    """Inside, SIGTERM and SIGHUP stop the command as Ctrl-C does.

    Their default is to end the process on the spot, leaving its worker
    processes to finish their fits and the run's shared memory behind. Handed
    to the SIGINT handler of the moment, they take the Ctrl-C path: the
    workers are ended, the finished folds kept, the resume command printed.
    Yields the list that receives the signal's number, for the exit status
    (128 + the signal, as the shell reports a process it ended).
    """
    stopped_by = []
    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():
        yield stopped_by
        return

    def interrupt(signum, frame):
        stopped_by.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    previous = {name: signal.signal(getattr(signal, name), interrupt) for name in names}
    try:
        yield stopped_by
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


# --- option values ------------------------------------------------------------


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


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def _int_at_least(low):
    def parse(text):
        value = _integer(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}; got {value}")
        return value

    return parse


def _int_between(low, high, why=""):
    def parse(text):
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be from {low} to {high}{why}; got {value}"
            )
        return value

    return parse


def seed_value(text):
    """A ``--seed``: an int numpy and torch both accept."""
    return _int_between(0, MAX_SEED, " (2**32-1, the largest seed numpy takes)")(text)


def n_utterances_value(text):
    """An ``--n-utterances``: one utterance per speaker at least, ~2 GiB at most."""
    why = " (at least one per speaker of the bundled corpus, at most ~2 GiB of frames)"
    return _int_between(MIN_UTTERANCES, MAX_UTTERANCES, why)(text)


def _max_per_core():
    return PER_CORE * (os.cpu_count() or 1)


def _per_core(text):
    most = _max_per_core()
    why = f" ({PER_CORE} per CPU core of this machine's {most // PER_CORE})"
    return _int_between(1, most, why)(text)


def _n_jobs(text):
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive number or -1, not 0")
    most = _max_per_core()
    if value > most:
        raise argparse.ArgumentTypeError(
            f"must be at most {most} ({PER_CORE} per CPU core of this machine's "
            f"{most // PER_CORE}), or -1 for every core; got {value}"
        )
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


def _version():
    from . import __version__

    return f"mmer (sklearn-mmer) {__version__}"


if __name__ == "__main__":
    sys.exit(main())
