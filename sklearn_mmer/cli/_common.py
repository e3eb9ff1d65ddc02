"""What the ``mmer`` commands share: options, errors, what they say, the
outputs they check, and how a signal stops them.

Every option two commands take is added here, once, so that it means the same
in each: ``--data``, ``--n-utterances``, ``--seed``, ``--modalities``,
``--epochs``, ``--n-jobs``, ``--threads``, ``--cv`` and ``--folds``,
``--quiet``, ``--traceback`` and the ``.zip`` size limits. Nothing here
imports torch, scikit-learn or pandas, so that ``mmer --help`` stays quick.
"""

import argparse
import os
import shlex
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ..utils._runtime import DEFAULT_THREADS

EXIT_OK = 0
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
#: What --cv takes, in every command.
CV_CHOICES = ("speaker", "session")


# --- errors -------------------------------------------------------------------


class UsageError(Exception):
    """A mistake of the user's, reported as one line and exit status 2."""


class OutputError(Exception):
    """Results that could not be written (disk full, permissions): one line,
    exit status 1."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, not usage + error."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --- options two commands or more take -----------------------------------------


def add_data_options(parser, *, n_utterances=True):
    """``--data``, ``--n-utterances`` and the ``.zip`` size limits."""
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="a dataset.csv in the course-feature layout, its folder, or a .zip "
        "holding both (default: the bundled synthetic corpus)",
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
    """``--epochs``: max_epochs of every network."""
    parser.add_argument(
        "--epochs",
        type=int_at_least(1),
        metavar="E",
        help="override max_epochs of every network (default: each method's own, "
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
        choices=CV_CHOICES,
        default=None if optional else "speaker",
        help="speaker: --folds folds of whole speakers"
        + ("" if optional else " (default)")
        + "; session: leave one session out"
        + (before_fit if optional else ""),
    )
    parser.add_argument(
        "--folds",
        type=int_at_least(2),
        metavar="K",
        help=f"number of speaker folds (default {DEFAULT_FOLDS}); not with "
        "--cv session",
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


# --- what a command says ----------------------------------------------------------


class Reporter:
    """Progress and notes on stderr, silent with --quiet."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, line):
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


class Progress:
    """A progress bar with elapsed time and ETA on a terminal (tqdm); one line
    per finished fold otherwise (a log, a pipe, a CI job)."""

    def __init__(self, say, *, stream=None):
        self.say = say
        self.stream = sys.stderr if stream is None else stream
        self.bar = None
        self.n_finished = self.n_total = 0
        self.terminal = not say.quiet and _is_terminal(self.stream)

    def start(self, total):
        """Show the bar (on a terminal) for ``total`` (method, repeat, fold)s."""
        self.n_total = total
        if self.terminal:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total, unit="fold", file=self.stream, dynamic_ncols=True
            )

    def __call__(self, record):
        self.n_finished, self.n_total = record["n_finished"], record["n_total"]
        line = fold_line(record)
        if self.bar is None:
            self.say(line)
            return
        self.bar.set_postfix_str(line, refresh=False)
        self.bar.update(record["n_finished"] - self.bar.n)

    def note(self, line):
        """A line of its own on stderr, above the bar when there is one."""
        if self.bar is not None:
            self.bar.write(line, file=self.stream)
        else:
            self.say(line)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def fold_line(record):
    """``[method] fold 2/5  f1_micro=0.612  (3.1 s)``, or the fold's error."""
    where = f"fold {record['fold']}/{record['n_folds']}"
    if record["n_repeats"] > 1:
        where = f"repeat {record['repeat']}/{record['n_repeats']} {where}"
    outcome = (
        f"failed: {record['error']}"
        if record["error"]
        else f"f1_micro={record['f1_micro']:.3f}"
    )
    return f"[{record['method']}] {where}  {outcome}  ({record['fit_seconds']:.1f} s)"


def warning_printer(say):
    """A ``warnings.showwarning`` that says warnings as ``mmer: warning:`` lines."""

    def show(message, category, filename, lineno, file=None, line=None):
        say(f"mmer: warning: {str(message).strip().splitlines()[0]}")

    return show


def report_failures(results):
    """Exit status 1, after a summary on stderr, when any fit failed."""
    failed = results[results["error"] != ""]
    if failed.empty:
        return EXIT_OK
    print(
        f"mmer: {len(failed)} of {len(results)} fits failed (their scores are "
        "NaN in results.csv, with the error in its 'error' column):",
        file=sys.stderr,
    )
    for (method, error), rows in failed.groupby(["method", "error"], sort=False):
        folds = ", ".join(f"{r}/{f}" for r, f in zip(rows["repeat"], rows["fold"]))
        print(f"  {method} (repeat/fold {folds}): {error}", file=sys.stderr)
    return EXIT_FAILED


def resume_command(argv):
    """The command line that resumes the run of ``argv``."""
    argv = list(argv)
    if "--resume" not in argv:
        argv.append("--resume")
    return shlex.join(["mmer", *argv])


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --- outputs, checked before any work --------------------------------------------

#: Files ``mmer compare`` writes to --out (besides the hidden .checkpoint).
OUTPUT_FILES = (
    "manifest.json",
    "issues.csv",
    "results.csv",
    "summary.csv",
    "confusion_matrices.csv",
    "predictions.csv",
    "comparisons.csv",
    "per_speaker.csv",
    "per_class_recall.csv",
    "method_comparison.png",
    "modality_contribution.png",
    "confusion_matrices.png",
    "per_speaker.png",
    "per_class_recall.png",
)
#: Folders no run may write into: the system's, and the home folder itself.
SYSTEM_FOLDERS = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/Applications",
    "/Library",
    "/System",
    "/Users",
    "/Volumes",
    "/private",
    "/private/tmp",
    "/private/var",
)
#: Folders whose whole tree belongs to the system: nothing is written below them.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64")
SYSTEM_TREES += ("/proc", "/sbin", "/sys", "/usr", "/System", "/private/etc")


def check_outputs(out, inputs=None):
    """The --out folder, created, after checking that every file can be
    written there without destroying what the run did not make; a message for
    the user (a ``str``) when one cannot.

    ``inputs`` maps options to the paths they read (``{"--data": ...}``):
    --out may not be one of them, lie inside one, or write over one.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"--out {out}: exists and is not a folder"
    problem = system_folder(path) or _overlap(
        path, inputs, [path / name for name in (*OUTPUT_FILES, ".checkpoint")]
    )
    if problem:
        return f"--out {out}: {problem}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        # a file really created says more than os.access (which root passes)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".mmer-check-"):
            pass
    except OSError as error:
        return f"--out {out}: {error.strerror or error}"
    for name in OUTPUT_FILES:
        target = path / name
        if target.is_dir():
            return f"--out {out}: {name} is a folder; remove it or use another --out"
        if target.exists() and not (
            os.access(target, os.W_OK) and _owner_writable(target)
        ):
            return (
                f"--out {out}: {name} is read-only; make it writable or use "
                "another --out"
            )
    parts = path / ".checkpoint"
    if parts.is_symlink() or (parts.exists() and not parts.is_dir()):
        return (
            f"--out {out}: .checkpoint is a file or a link, not the run's own "
            "folder; remove it or use another --out"
        )
    return path


def output_file(option, text, beside, inputs):
    """The file of ``option``, once it and the files written beside it (its
    suffix replaced by each of ``beside``) are found writable, not folders,
    and not any of ``inputs`` (option -> path) or inside one."""
    path = Path(text)
    if path.is_dir() or not path.name:
        raise UsageError(f"{option} {text}: is a folder; give a file name")
    outputs = [path, *(path.with_suffix(suffix) for suffix in beside)]
    problem = check_output_files(option, text, outputs, inputs)
    if problem:
        raise UsageError(problem)
    return path


def check_output_files(option, text, outputs, inputs=None):
    """Check before any work that the files ``outputs`` (the one of ``option``
    = ``text`` first, then those written beside it) can be written without
    destroying an input; a message for the user (a ``str``) when one cannot."""
    for target in outputs:
        name = "" if target == outputs[0] else f"{target.name} (written beside it) "
        if target.is_dir():
            return f"{option} {text}: {name}is a folder; give a file name"
        problem = system_folder(target.parent, tree_only=True) or _overlap(
            target, inputs, [target]
        )
        if problem:
            return f"{option} {text}: {name}{problem}"
        if target.exists() and not (
            os.access(target, os.W_OK) and _owner_writable(target)
        ):
            return f"{option} {text}: {name}is read-only; make it writable"
    folder = outputs[0].parent
    if not folder.is_dir():
        return f"{option} {text}: the folder {folder} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mmer-check-"):
            pass
    except OSError as error:
        return f"{option} {text}: {folder}: {error.strerror or error}"
    return None


def system_folder(path, *, tree_only=False):
    """Why ``path`` is a folder no run may write into, or None."""
    real = Path(os.path.realpath(path))
    text = real.as_posix()
    if real.parent == real:
        return f"{text} is the root of a file system; give a folder of its own"
    in_tree = any(text == t or text.startswith(f"{t}/") for t in SYSTEM_TREES)
    if in_tree or (not tree_only and text in SYSTEM_FOLDERS):
        return f"{text} is a system folder; give a folder of its own"
    if not tree_only and real == Path(os.path.realpath(Path.home())):
        return f"{text} is the home folder; give a folder of its own in it"
    return None


def _overlap(path, inputs, written):
    """Why writing ``path`` (and the files ``written``) could overwrite an
    input of ``inputs``, or None."""
    real = Path(os.path.realpath(path))
    for option, given in (inputs or {}).items():
        if given is None or not Path(given).exists():
            continue
        source = Path(os.path.realpath(given))
        if source.is_dir() and (real == source or source in real.parents):
            return (
                f"it lies in {option} {given}, a folder the command reads; give "
                "a path outside it"
            )
        if any(_same_file(target, source) for target in [path, *written]):
            return (
                f"it would overwrite {option} {given}, which the command reads; "
                "give another path"
            )
    return None


def _same_file(target, source):
    """Whether ``target`` names the file ``source`` (by path or hard link)."""
    if Path(os.path.realpath(target)) == source:
        return True
    try:
        return os.path.samefile(target, source)
    except OSError:
        return False


def _owner_writable(path):
    return bool(path.stat().st_mode & 0o200)


# --- signals ------------------------------------------------------------------


@contextmanager
def stop_signals_as_interrupt():
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
