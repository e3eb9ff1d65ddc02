"""The ``mmer`` command: the study's comparison in one line.

``mmer compare`` cross-validates each modality alone, early fusion and late
fusion (and any registered method) speaker-independently, on the bundled
synthetic corpus or on a corpus in the course-feature layout; prints the table,
shows progress on stderr, and writes CSV files and PNG figures. ``mmer methods``
lists the methods it knows. ``mmer fit`` and ``mmer predict`` train a method
into a model file and apply one. ``mmer extract`` turns a CSV of recordings
into a corpus; ``mmer serve`` serves a model file over HTTP.

One module per command (:mod:`~sklearn_mmer.cli.extract`,
:mod:`~sklearn_mmer.cli.compare`,
:mod:`~sklearn_mmer.cli.fit`, :mod:`~sklearn_mmer.cli.predict`,
:mod:`~sklearn_mmer.cli.methods`, :mod:`~sklearn_mmer.cli.serve`), each with
``add_parser(commands)`` and a thin ``run(args)`` over the library; what they
share is in ``_options``
(every option, added once so that it means the same in each command:
``--out`` is always a folder), ``_outputs`` (what a command writes, checked
before any work), ``_common`` (exit statuses, errors, progress, signals) and
``_steps`` (reading the corpus, its folds, fitting and saving a model). No
command imports another, and this package only assembles the parser and runs
the command.
Nothing is imported from torch until a command runs, so that ``mmer --help``
stays quick.

Mistakes a user can make (a missing path, a CSV without the expected columns,
an unknown modality or method, more folds than speakers) end with one line on
stderr, ``mmer: error: ...``, and exit status 2.
"""

import sys

from ..utils._runtime import __version__
from . import compare, extract, fit, methods, predict, serve
from ._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    OutputError,
    UsageError,
    stop_signals_as_interrupt,
)
from ._options import (
    DEFAULT_FOLDS,
    DEFAULT_OUT,
    DEFAULT_UTTERANCES,
    MAX_REPEATS,
    MAX_SEED,
    MAX_UTTERANCES,
    MIN_UTTERANCES,
    PER_CORE,
    Parser,
)

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_OUT",
    "DEFAULT_UTTERANCES",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_REPEATS",
    "MAX_SEED",
    "MAX_UTTERANCES",
    "MIN_UTTERANCES",
    "PER_CORE",
    "UsageError",
    "build_parser",
    "main",
]

#: The commands, in the order ``mmer --help`` lists them.
COMMANDS = (extract, compare, methods, fit, predict, serve)


def build_parser():
    """The ``mmer`` argument parser, assembled from the command modules."""
    parser = Parser(
        prog="mmer",
        description="Multimodal emotion recognition with scikit-learn estimators.",
    )
    parser.add_argument(
        "--version", action="version", version=f"mmer (sklearn-mmer) {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in COMMANDS:
        command.add_parser(commands)
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
        2 after a usage or input error, 130 when interrupted (Ctrl-C), 143
        after SIGTERM and 129 after SIGHUP, which stop it as Ctrl-C does.
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    with stop_signals_as_interrupt() as stopped_by:
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
    except OutputError as error:
        print(f"mmer: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("mmer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
