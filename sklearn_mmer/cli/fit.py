"""``mmer fit``: train one method on a whole corpus and save it.

Writes the model file (:func:`sklearn_mmer.save`) and its model card
(:func:`sklearn_mmer.evaluation.model_card`) beside it; with ``--folds`` or
``--cv``, the method is first cross-validated on the same folds as ``mmer
compare``'s, and the card carries its scores.
"""

import numpy as np

from ._common import EXIT_OK, Reporter, UsageError
from ._options import (
    add_data_options,
    add_device_option,
    add_epochs_option,
    add_folds_options,
    add_modalities_option,
    add_n_jobs_option,
    add_quiet_and_traceback_options,
    add_seed_option,
    add_threads_option,
)
from ._outputs import output_file
from ._steps import (
    data_errors,
    fit_and_save,
    load_corpus,
    make_method,
    resolve_device,
    splitter,
)


def add_parser(commands):
    """Add ``mmer fit`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "fit",
        help="train one method on a whole corpus and save it as a model file",
        description=(
            "Train one method on every utterance of a corpus and write the model "
            "file (--model) and a model card beside it (<model>.card.md). "
            "Without --data, trains on the bundled synthetic corpus (random "
            "numbers shaped like IEMOCAP, not real speech)."
        ),
    )
    parser.add_argument(
        "--method",
        required=True,
        metavar="NAME",
        help="the method: a modality name, early_fusion, late_fusion or any "
        "registered method ('mmer methods' lists them)",
    )
    parser.add_argument(
        "--model", required=True, metavar="PATH", help="the model file to write"
    )
    add_data_options(parser)
    add_modalities_option(parser)
    add_folds_options(parser, optional=True)
    add_n_jobs_option(parser, what="fits of the cross-validation run in parallel")
    add_threads_option(parser)
    add_seed_option(parser)
    add_epochs_option(parser)
    add_device_option(parser)
    add_quiet_and_traceback_options(parser)
    parser.set_defaults(run=run)
    return parser


def run(args):
    """``mmer fit``: train on the whole corpus, save the model and its card."""
    from ..methods import method_names

    say = Reporter(quiet=args.quiet)
    resolve_device(args)
    model_path = output_file(
        "--model", args.model, (".card.md", ".issues.csv"), {"--data": args.data}
    )
    issues_csv = model_path.with_suffix(".issues.csv")
    corpus = load_corpus(args, say, issues_csv=issues_csv, list_issues=True)
    try:
        method_names(corpus.modalities, [args.method], allow_all=False)
    except ValueError as error:
        also = ""
        if args.method == "all":
            also = (
                " (mmer fit trains one method; 'mmer compare --methods all' "
                "compares them all)"
            )
        raise UsageError(f"--method: {error}{also}") from None
    folds = None
    if args.cv is not None or args.folds is not None:
        folds = splitter(args, corpus.data, np.asarray(corpus.groups))
    say(
        f"mmer fit: {args.method} on {len(corpus.target)} utterances, "
        f"{len(np.unique(corpus.groups))} speakers ({corpus.source}); device "
        f"{args.device}"
    )
    scores = how = None
    if folds is not None:
        scores, how = _cross_validate(args, corpus, folds, say)
    fit_and_save(args, corpus, args.method, model_path, say, scores=scores, how=how)
    return EXIT_OK


def _cross_validate(args, corpus, folds, say):
    """The method's row of a comparison's summary over ``folds``, the splitter
    of --cv and --folds and how it reads."""
    from ..evaluation import compare_methods

    cv, how = folds
    say(f"cross-validating over {how} ...")
    with data_errors(args):
        comparison = compare_methods(
            {args.method: make_method(args, corpus.modalities, args.method)},
            corpus.data,
            np.asarray(corpus.target),
            np.asarray(corpus.groups),
            cv=cv,
            n_jobs=args.n_jobs,
            n_threads=args.threads,
        )
    return comparison.summary.iloc[0], how
