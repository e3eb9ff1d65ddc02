"""What the ``mmer`` commands share besides their options: exit statuses,
errors, what a command says (progress, notes, failures) and how a signal stops
it.

The options are in ``_options``, the checks of what a command writes in
``_outputs``. Nothing here imports torch, scikit-learn or pandas, so that
``mmer --help`` stays quick.
"""

import shlex
import signal
import sys
import threading
from contextlib import contextmanager

# the progress display is the library's (compare_methods(progress=True) shows it)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# --- errors -------------------------------------------------------------------


class UsageError(Exception):
    """A mistake of the user's, reported as one line and exit status 2."""


class OutputError(Exception):
    """Results that could not be written (disk full, permissions): one line,
    exit status 1."""


# --- what a command says ----------------------------------------------------------


class Reporter:
    """Progress and notes on stderr, silent with --quiet."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, line):
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


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
