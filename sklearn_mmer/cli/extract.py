"""``mmer extract``: from a CSV of recordings to a corpus ``mmer compare`` reads.

A thin layer over :func:`sklearn_mmer.extraction.extract_corpus` (and
:func:`~sklearn_mmer.extraction.list_kinds` for ``--list``): it parses the
options, shows the progress and turns the library's errors into one line.
"""

import sys
from pathlib import Path

from ..utils._runtime import first_line
from ._common import EXIT_FAILED, EXIT_OK, Reporter, UsageError, resume_command
from ._options import (
    add_device_option,
    add_quiet_and_traceback_options,
    folder_name,
    n_jobs_value,
)
from ._outputs import system_folder
from ._steps import ExtractionProgress, resolve_device


def add_parser(commands):
    """Add ``mmer extract`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "extract",
        help="extract features from recordings (and texts) into a corpus",
        description=(
            "Extract features from the recordings (and texts) a CSV lists and "
            "write a corpus that 'mmer compare --data', 'mmer fit' and "
            "load_feature_table read: dataset.csv, one .npy file per utterance "
            "and modality, the recipe in extraction.json and the items that "
            "could not be extracted in issues.csv (exit status 1 when there "
            "are any). The CSV has 'file' (audio, relative to the CSV) and/or "
            "'text', 'speaker', optionally 'emotion' and 'utterance' (an id); "
            "other columns are carried over."
        ),
    )
    parser.add_argument(
        "--input", metavar="CSV", help="the CSV of utterances (see above)"
    )
    parser.add_argument(
        "--out",
        type=folder_name,
        metavar="DIR",
        help="folder for the corpus (dataset.csv, features/, extraction.json, "
        "issues.csv); created when missing",
    )
    parser.add_argument(
        "--features",
        nargs="+",
        metavar="[NAME=]KIND[:PATH]",
        help="the features, each a modality named KIND unless NAME= is given: "
        "mfcc, logmel, egemaps, compare, encoder:FOLDER, text:FOLDER ('mmer "
        "extract --list' says what each needs), e.g. --features egemaps mfcc "
        "or --features acoustic=encoder:/models/wavlm-base",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the kinds of feature and what each needs, then exit",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a run that stopped: extract only what --out lacks "
        "(refused when the features differ from the ones it was started with)",
    )
    parser.add_argument(
        "--n-jobs",
        type=n_jobs_value,
        default=1,
        metavar="N",
        help="batches of files extracted at a time (default 1); the features "
        "are the same whatever N",
    )
    add_device_option(parser)
    parser.add_argument(
        "--cache",
        metavar="FOLDER",
        help="keep extracted frames by content in FOLDER and reuse them in "
        "later runs (default: no cache)",
    )
    add_quiet_and_traceback_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args):
    """``mmer extract``: list the kinds, or extract a corpus."""
    from ..extraction import extract_corpus, list_kinds

    if args.list:
        for kind in list_kinds():
            spec = kind["kind"] + (":PATH" if kind["model_folder"] else "")
            print(f"{spec:<14} reads {kind['input']:<5} {kind['description']}")
            print(f"{'':<14} needs: {kind['install']}")
        return EXIT_OK
    missing = [
        option
        for option, value in (
            ("--input", args.input),
            ("--out", args.out),
            ("--features", args.features),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"mmer extract needs {', '.join(missing)} (or --list)")
    resolve_device(args)
    if not Path(args.input).is_file():
        raise UsageError(f"--input {args.input}: no such file")
    problem = system_folder(args.out)
    if problem:
        raise UsageError(f"--out {args.out}: {problem}")
    if Path(args.out).resolve() == Path(args.input).resolve().parent:
        raise UsageError(
            f"--out {args.out}: is the folder of --input; give a folder of its own"
        )
    say = Reporter(quiet=args.quiet)
    bar = ExtractionProgress(say)
    try:
        result = extract_corpus(
            args.input,
            args.out,
            args.features,
            resume=args.resume,
            n_jobs=args.n_jobs,
            device=args.device,
            cache=args.cache,
            progress=bar,
        )
    except KeyboardInterrupt:
        bar.close()
        say(f"resume with: {resume_command(args.argv)}")
        raise
    except (ValueError, ImportError, OSError) as error:
        bar.close()
        if args.traceback:
            raise
        raise UsageError(first_line(error)) from None
    bar.close()
    resumed = f" ({result.n_resumed} from an earlier run)" if result.n_resumed else ""
    say(
        f"mmer extract: {result.n_extracted} of {result.n_utterances} utterances"
        f"{resumed}; wrote {result.csv_path}"
    )
    if len(result.issues):
        failed = result.issues["id"].nunique()
        print(
            f"mmer extract: {failed} utterances could not be extracted "
            f"(listed with the reasons in {Path(args.out) / 'issues.csv'}):",
            file=sys.stderr,
        )
        for issue in result.issues.head(5).itertuples():
            print(f"  {issue.file}: {issue.reason}", file=sys.stderr)
        if len(result.issues) > 5:
            print(f"  ... and {len(result.issues) - 5} more", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
