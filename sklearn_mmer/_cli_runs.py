"""What the ``mmer`` subcommands share at run time: notes on stderr, progress a
person can read, outputs checked before the work starts, and the words to
resume an interrupted run."""

import os
import shlex
import sys
import tempfile
from pathlib import Path

#: Files ``mmer compare`` writes to --out (besides the hidden .checkpoint).
OUTPUT_FILES = (
    "manifest.json",
    "issues.csv",
    "results.csv",
    "summary.csv",
    "confusion_matrices.csv",
    "predictions.csv",
    "method_comparison.png",
    "modality_contribution.png",
    "confusion_matrices.png",
)


class Reporter:
    """Progress and notes on stderr, silent with --quiet."""

    def __init__(self, quiet):
        self.quiet = quiet

    def __call__(self, line):
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


def first_line(error):
    """The first line of an error's message (its type's name when empty)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


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


def check_outputs(out):
    """The --out folder, created, after checking that every file can be
    written there; a message for the user (a ``str``) when one cannot."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"--out {out}: exists and is not a folder"
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
    return path


def resume_command(argv):
    """The command line that resumes the run of ``argv``."""
    argv = list(argv)
    if "--resume" not in argv:
        argv.append("--resume")
    return shlex.join(["mmer", *argv])


def report_failures(results):
    """Exit status 1, after a summary on stderr, when any fit failed."""
    failed = results[results["error"] != ""]
    if failed.empty:
        return 0
    print(
        f"mmer: {len(failed)} of {len(results)} fits failed (their scores are "
        "NaN in results.csv, with the error in its 'error' column):",
        file=sys.stderr,
    )
    for (method, error), rows in failed.groupby(["method", "error"], sort=False):
        folds = ", ".join(f"{r}/{f}" for r, f in zip(rows["repeat"], rows["fold"]))
        print(f"  {method} (repeat/fold {folds}): {error}", file=sys.stderr)
    return 1


def warning_printer(say):
    """A ``warnings.showwarning`` that says warnings as ``mmer: warning:`` lines."""

    def show(message, category, filename, lineno, file=None, line=None):
        say(f"mmer: warning: {str(message).strip().splitlines()[0]}")

    return show


def _owner_writable(path):
    return bool(path.stat().st_mode & 0o200)


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
