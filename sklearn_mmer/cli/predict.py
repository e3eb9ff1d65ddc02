"""``mmer predict``: apply a model file to a corpus, one row per utterance.

The model file is read with :func:`sklearn_mmer.io.read_manifest` and
:func:`sklearn_mmer.load`, the corpus checked against it with
:func:`sklearn_mmer.io.check_input`; the corpus may have no labels.
"""

import warnings
from pathlib import Path

from ..utils._runtime import first_line
from ._common import EXIT_FAILED, EXIT_OK, Reporter, UsageError
from ._options import (
    add_data_options,
    add_device_option,
    add_out_option,
    add_quiet_and_traceback_options,
    add_seed_option,
)
from ._outputs import output_folder
from ._steps import (
    data_errors,
    extracted_corpus,
    load_corpus,
    resolve_device,
    scores_with_intervals,
)

PREDICTIONS_CSV = "predictions.csv"
#: beside the predictions, the utterances loading skipped
ISSUES_CSV = "predictions.issues.csv"


def add_parser(commands):
    """Add ``mmer predict`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "predict",
        help="apply a model file to a corpus and write predictions.csv",
        description=(
            "Predict every utterance of a corpus (which may have no "
            "emotion_labels column) with a model file written by 'mmer fit' or "
            "sklearn_mmer.save, and write one row per utterance: "
            "file_name_list, predicted_label, emotion_labels (when the corpus "
            "has labels), missing_modalities and proba_<class> per class (when "
            "the method has probabilities). An utterance with a missing or "
            "faulty modality is predicted from the others (--missing predict, "
            "the default) or skipped (--missing skip)."
        ),
    )
    parser.add_argument(
        "--model", required=True, metavar="PATH", help="a model file to apply"
    )
    parser.add_argument(
        "--trusted",
        nargs="+",
        metavar="NAME",
        help="also accept these fully qualified types or functions in the model "
        "file (as sklearn_mmer.load's trusted=); only for a file whose author "
        "you trust, since a trusted function runs with the file's arguments",
    )
    add_data_options(parser)
    parser.add_argument(
        "--input",
        metavar="CSV",
        help="predict from recordings instead of --data: a CSV as 'mmer "
        "extract' reads; the features are extracted with the recipe the model "
        "file keeps (a model fit on a corpus of 'mmer extract'); files that "
        "cannot be extracted are listed beside --out (exit status 1)",
    )
    add_out_option(
        parser,
        default=".",
        holds=f"{PREDICTIONS_CSV} (and {ISSUES_CSV} when utterances are skipped)",
    )
    parser.add_argument(
        "--missing",
        choices=("predict", "skip"),
        default="predict",
        help="an utterance with a missing or faulty modality (an empty cell, a "
        "missing file): predict it from the modalities it has, as every "
        "built-in method can (default), or skip it; either way it is listed "
        f"in {ISSUES_CSV}; one missing every modality, or one the model cannot "
        "predict, is skipped",
    )
    add_seed_option(parser)
    add_device_option(parser)
    add_quiet_and_traceback_options(parser)
    parser.set_defaults(run=run, modalities=None)
    return parser


def run(args):
    """``mmer predict``: apply a model file to a corpus, one row per utterance."""
    from ..evaluation import prediction_table
    from ..io import ModelFileError, check_input, load, read_manifest

    say = Reporter(quiet=args.quiet)
    resolve_device(args)
    model_path = Path(args.model)
    if not model_path.is_file():
        raise UsageError(f"--model {args.model}: no such file")
    inputs = {"--model": args.model, "--data": args.data, "--input": args.input}
    out = output_folder("--out", args.out, [PREDICTIONS_CSV, ISSUES_CSV], inputs)
    try:
        manifest = read_manifest(model_path)
    except ModelFileError as error:
        raise UsageError(f"--model {error}") from None
    if args.input is not None:
        corpus = extracted_corpus(args, manifest, say, issues_csv=out / ISSUES_CSV)
    else:
        corpus = load_corpus(
            args,
            say,
            issues_csv=out / ISSUES_CSV,
            list_issues=True,
            require_labels=False,
            errors="keep" if args.missing == "predict" else "skip",
        )
    X = corpus.data
    try:
        check_input(manifest, X)
    except ValueError as error:
        where = (
            f"--input {args.input}"
            if args.input is not None
            else f"--data {args.data or '(bundled corpus)'}"
        )
        raise UsageError(f"{where}: {error}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            model = load(model_path, device=args.device, trusted=args.trusted)
        except ModelFileError as error:
            raise UsageError(f"--model {error}") from None
        except ValueError as error:  # a malformed --trusted name
            raise UsageError(f"--trusted: {error}") from None
    for warning in caught:
        say(f"mmer: warning: {first_line(warning.message)}")
    modalities = list(manifest.get("modalities") or {}) or None
    with data_errors(args), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        table = prediction_table(
            model, X, corpus.target, missing=args.missing, modalities=modalities
        )
    for warning in caught:
        say(f"mmer: warning: {first_line(warning.message)}")
    table.to_csv(out / PREDICTIONS_CSV, index=False)
    incomplete = int((table["missing_modalities"] != "").sum())
    skipped = len(X) - len(table)
    say(
        f"mmer predict: {len(table)} utterances ({incomplete} with a missing "
        f"modality){f', {skipped} skipped' if skipped else ''}; wrote "
        f"{out / PREDICTIONS_CSV}"
    )
    if corpus.target is not None:
        print(scores_with_intervals(corpus, table))
    if args.input is not None and len(corpus.issues):
        return EXIT_FAILED
    return EXIT_OK
