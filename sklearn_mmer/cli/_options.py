"""The ``mmer`` options, each added once so that it means the same in every
command: ``--data``, ``--n-utterances``, ``--seed``, ``--modalities``,
``--epochs``, ``--device``, ``--n-jobs``, ``--threads``, ``--cv`` and
``--folds``, ``--out``, ``--quiet``, ``--traceback`` and the ``.zip`` size
limits; the types that read their values; and the parser that reports a bad
command line in one line. Nothing here imports torch, scikit-learn or pandas,
so that ``mmer --help`` stays quick.
"""

import argparse
import os

from ..utils._runtime import DEFAULT_THREADS
from ._common import UsageError

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
#: What --cv takes, in every command.
CV_CHOICES = ("speaker", "session")


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, not usage + error."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- options two commands or more take -----------------------------------------


def add_data_options(parser, *, n_utterances=True, several=False):
    """``--data``, ``--n-utterances`` and the ``.zip`` size limits; with
    ``several``, ``--data`` takes one corpus or more (``mmer compare --cv
    corpus``)."""
    parser.add_argument(
        "--data",
        metavar="PATH",
        nargs="+" if several else None,
        help="a dataset.csv in the course-feature layout, its folder, or a .zip "
        "holding both (default: the bundled synthetic corpus)"
        + ("; several with --cv corpus" if several else ""),
    )
    if n_utterances:
        parser.add_argument(
            "--n-utterances",
            type=n_utterances_value,
            metavar="N",
            help=f"size of the bundled corpus (default {DEFAULT_UTTERANCES}, "
            f"{MIN_UTTERANCES} to {MAX_UTTERANCES}); not with --data",
        )
    # the defaults are load_feature_table's (not imported here: --help stays quick)
    for name, what, default in [
        ("--max-member-bytes", "one file of a .zip", "1G"),
        ("--max-total-bytes", "a .zip corpus in all", "16G"),
    ]:
        parser.add_argument(
            name,
            type=byte_count,
            metavar="SIZE",
            help=f"the most {what} may expand to when read, in bytes or with a "
            f"K, M, G or T suffix (default {default})",
        )


def add_modalities_option(parser):
    """``--modalities``: the modalities of the corpus to use."""
    parser.add_argument(
        "--modalities",
        nargs="+",
        metavar="M",
        help="modalities to use (default: every modality of the corpus)",
    )


def add_seed_option(parser):
    """``--seed``: the networks' seed, and the bundled corpus's."""
    parser.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        metavar="S",
        help="seed of the networks (and of the bundled corpus), 0 to 2**32-1 "
        "(default 0)",
    )


def add_epochs_option(parser):
    """``--epochs``: max_iter of every network."""
    parser.add_argument(
        "--epochs",
        type=int_at_least(1),
        metavar="E",
        help="override max_iter of every network (default: each method's own, "
        "50 for the built-in methods)",
    )


def add_folds_options(parser, *, optional=False):
    """``--cv {speaker,session}`` and ``--folds K``, the same in every command.

    With ``optional`` (``mmer fit``) neither has a default, and the command
    cross-validates only when one of them is given.
    """
    before_fit = (
        "; either option cross-validates the method before the final fit, for "
        "the model card (default: no cross-validation)"
    )
    parser.add_argument(
        "--cv",
        type=cv_value,
        # leaving a corpus out compares several corpora: mmer compare only
        choices=CV_CHOICES if optional else (*CV_CHOICES, "corpus"),
        default=None if optional else "speaker",
        help="speaker: --folds folds of whole speakers"
        + ("" if optional else " (default)")
        + "; session: leave one session out"
        + ("" if optional else "; corpus: leave one corpus of --data out")
        + (before_fit if optional else ""),
    )
    parser.add_argument(
        "--folds",
        type=int_at_least(2),
        metavar="K",
        help=f"number of speaker folds (default {DEFAULT_FOLDS}); not with "
        "--cv session",
    )


def add_device_option(parser):
    """``--device``: where the networks compute, in every command that runs them."""
    parser.add_argument(
        "--device",
        type=device_value,
        default="cpu",
        metavar="DEVICE",
        help="where the networks (and the encoders of mmer extract and "
        "predict --input) compute: cpu, cuda, cuda:N (the N-th GPU) or auto "
        "(cuda when torch finds a GPU, else cpu); a GPU can change the last "
        "digits of the scores (default cpu)",
    )


def add_n_jobs_option(parser, *, what="fits run in parallel"):
    """``--n-jobs``: how many fits run at a time."""
    parser.add_argument(
        "--n-jobs",
        type=n_jobs_value,
        default=-1,
        metavar="N",
        help=f"{what}; -1 uses every CPU core (default -1); never more workers "
        "than fits to run; a value above the cores runs that many fits at once "
        f"on shared cores (at most {PER_CORE} per core)",
    )


def add_threads_option(parser):
    """``--threads``: the one option besides the seeds that changes the scores."""
    parser.add_argument(
        "--threads",
        type=per_core,
        default=DEFAULT_THREADS,
        metavar="N",
        help="threads each fit computes with (torch and BLAS), the same for every "
        "fit whatever --n-jobs or --scheduler, so that a seed gives the same "
        "scores however many fits run at a time; another value can change the "
        f"last digits of the scores; at most {PER_CORE} per core (default "
        f"{DEFAULT_THREADS})",
    )


def add_out_option(parser, *, default, holds):
    """``--out DIR``: the folder the command writes in, in every command."""
    parser.add_argument(
        "--out",
        type=folder_name,
        default=default,
        metavar="DIR",
        help=f"folder for {holds}; created when missing (default {default})",
    )


def add_quiet_and_traceback_options(parser, *, traceback_also=""):
    """``--quiet`` and ``--traceback``: what the command says, in every command."""
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="say nothing on stderr but errors (no progress, notes or "
        "warnings); the results are printed and written as without it",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show an error's full traceback instead of one line" + traceback_also,
    )


# --- option values --------------------------------------------------------------


def byte_count(text):
    """A size in bytes, or with a K, M, G or T suffix."""
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


def int_at_least(low):
    """An option type: an int of at least ``low``."""

    def parse(text):
        value = _integer(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}; got {value}")
        return value

    return parse


def int_between(low, high, why=""):
    """An option type: an int from ``low`` to ``high``."""

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
    return int_between(0, MAX_SEED, " (2**32-1, the largest seed numpy takes)")(text)


def n_utterances_value(text):
    """An ``--n-utterances``: one utterance per speaker at least, ~2 GiB at most."""
    why = " (at least one per speaker of the bundled corpus, at most ~2 GiB of frames)"
    return int_between(MIN_UTTERANCES, MAX_UTTERANCES, why)(text)


def cv_value(text):
    """A ``--cv``: speaker or session (argparse's choices say so); a number of
    folds, the old ``mmer fit --cv K``, is pointed at ``--folds``."""
    try:
        folds = int(text)
    except ValueError:
        return text
    raise UsageError(
        f"--cv takes {' or '.join(CV_CHOICES)}; the number of folds is --folds {folds}"
    )


def _max_per_core():
    return PER_CORE * (os.cpu_count() or 1)


def per_core(text):
    """A ``--threads``: at most :data:`PER_CORE` per CPU core."""
    most = _max_per_core()
    why = f" ({PER_CORE} per CPU core of this machine's {most // PER_CORE})"
    return int_between(1, most, why)(text)


def n_jobs_value(text):
    """An ``--n-jobs``: -1 (every core), or at most :data:`PER_CORE` per core."""
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


def device_value(text):
    """A ``--device``: cpu, cuda, cuda:N or auto (whether it is here is
    checked when the command runs, with torch)."""
    kind, _, index = text.strip().lower().partition(":")
    if kind in ("cpu", "auto") and not index:
        return kind
    if kind == "cuda" and (not index or index.isdigit()):
        return f"cuda:{int(index)}" if index else "cuda"
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a device; use cpu, cuda, cuda:N or auto"
    )


def scheduler_value(text):
    """A ``--scheduler``: ``tcp://host:port``, ``local`` or ``local:N``."""
    from ..utils._runtime import parse_scheduler

    try:
        parse_scheduler(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def folder_name(text):
    """An ``--out`` folder: not an empty string."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a folder, not an empty string (use --out . for the "
            "current folder)"
        )
    return text


def size_limits(args):
    """``--max-member-bytes`` and ``--max-total-bytes`` as given, by keyword."""
    return {
        name: getattr(args, name)
        for name in ("max_member_bytes", "max_total_bytes")
        if getattr(args, name) is not None
    }
