"""What a command writes, checked before any work: ``--out`` (a folder) and
``mmer fit --model``'s file are refused when writing them would destroy
something the run did not make, an input of the run, or a system folder.
"""

import os
import tempfile
from pathlib import Path

from ._common import UsageError

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
    from ..evaluation import COMPARISON_FILES

    path = Path(out)
    if path.exists() and not path.is_dir():
        return f"--out {out}: exists and is not a folder"
    problem = system_folder(path) or _overlap(
        path, inputs, [path / name for name in (*COMPARISON_FILES, ".checkpoint")]
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
    for name in COMPARISON_FILES:
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


def output_folder(option, text, names, inputs):
    """The folder of ``option`` (``--out``), created, once the files ``names``
    are found writable in it, not folders, and not any of ``inputs`` (option
    -> path) or inside one.

    ``--out`` names a folder in every command; a path that is a file, or that
    does not exist and ends like the first of ``names`` (``p.csv`` for
    ``predictions.csv``), is refused with a line that says where that file
    would go.
    """
    folder = Path(text)
    first = names[0]
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"{option} {text}: exists and is not a folder; {option} names a "
            f"folder, and {first} is written in it"
        )
    if not folder.exists() and folder.suffix.lower() == Path(first).suffix.lower():
        raise UsageError(
            f"{option} {text}: {option} names a folder, not a file; {first} is "
            f"written in it, here as {folder / first}; for "
            f"{folder.parent / first}, give {option} {folder.parent}"
        )
    targets = [folder / name for name in names]
    problem = system_folder(folder, tree_only=True) or _overlap(folder, inputs, targets)
    if problem:
        raise UsageError(f"{option} {text}: {problem}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".mmer-check-"):
            pass
    except OSError as error:
        raise UsageError(f"{option} {text}: {error.strerror or error}") from None
    for target in targets:
        if target.is_dir():
            raise UsageError(
                f"{option} {text}: {target.name} is a folder; remove it or use "
                f"another {option}"
            )
        if target.exists() and not (
            os.access(target, os.W_OK) and _owner_writable(target)
        ):
            raise UsageError(
                f"{option} {text}: {target.name} is read-only; make it writable "
                f"or use another {option}"
            )
    return folder


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
    destroying an input, creating their folder when missing; a message for the
    user (a ``str``) when one cannot."""
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
    if folder.exists() and not folder.is_dir():
        return f"{option} {text}: {folder} exists and is not a folder"
    try:
        # a missing folder is created, as --out's is
        folder.mkdir(parents=True, exist_ok=True)
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
