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
