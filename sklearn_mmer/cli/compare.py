"""``mmer compare``: every method cross-validated on the same speaker folds.

The options are checked and turned into a :class:`Plan` (the corpus, methods,
folds, reference and ``--out``, locked) before any fit runs; then
:func:`~sklearn_mmer.evaluation.compare_methods` runs, the table is printed,
:func:`~sklearn_mmer.evaluation.save_comparison` writes the outputs, and with
``--save-model`` the best inductive method
(:func:`~sklearn_mmer.evaluation.best_inductive_method`) is refit on all the
data and saved.
"""

import sys
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..utils._runtime import Progress
from ._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OutputError,
    Reporter,
    UsageError,
    report_failures,
    resume_command,
    warning_printer,
)
from ._corpora import add_cross_corpus_options, is_cross_corpus, run_cross_corpus
from ._options import (
    DEFAULT_OUT,
    MAX_REPEATS,
    MAX_SEED,
    add_data_options,
    add_device_option,
    add_epochs_option,
    add_folds_options,
    add_modalities_option,
    add_n_jobs_option,
    add_out_option,
    add_quiet_and_traceback_options,
    add_seed_option,
    add_threads_option,
    int_between,
    scheduler_value,
)
from ._outputs import check_outputs
from ._runs import (
    content_disjoint,
    lock_out,
    run_interruptibly,
    save_model_folder,
    save_models,
)
from ._steps import (
    configure,
    data_errors,
    load_corpus,
    reference_method,
    splitter,
)

ISSUES_CSV = "issues.csv"  # the name datasets.save_issues writes


def add_parser(commands):
    """Add ``mmer compare`` to ``mmer``'s subparsers."""
    parser = commands.add_parser(
        "compare",
        help="compare modalities and fusion methods with speaker-independent CV",
        description=(
            "Cross-validate each modality alone, early fusion and late fusion "
            "(majority vote) with speaker-independent folds; print the table and "
            "write results.csv, summary.csv, confusion_matrices.csv and PNG "
            "figures to --out. Without --data, runs on the bundled synthetic "
            "corpus (random numbers shaped like IEMOCAP, not real speech)."
        ),
    )
    add_data_options(parser, several=True)
    add_cross_corpus_options(parser)
    add_modalities_option(parser)
    parser.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help="methods to compare: modality names, early_fusion, late_fusion, any "
        "registered method, or 'all' (default: each modality, early_fusion, "
        "late_fusion); 'mmer methods' lists them",
    )
    add_folds_options(parser)
    parser.add_argument(
        "--content-disjoint",
        action="store_true",
        help="drop from each training fold the utterances whose content (the "
        "corpus's 'content' column: script line or transcript) occurs in the "
        "test fold (with --test-data, --data's folds; not with --cv corpus, "
        "which tests whole corpora)",
    )
    parser.add_argument(
        "--reference",
        metavar="NAME",
        help="method every other is compared with (difference, 95%% CI, "
        "Holm-adjusted p; default early_fusion when it is run)",
    )
    add_out_option(parser, default=DEFAULT_OUT, holds="the CSV files and figures")
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="write the CSV files only, without the PNG figures (drawing them "
        "takes about a second per run)",
    )
    add_n_jobs_option(parser)
    parser.add_argument(
        "--scheduler",
        type=scheduler_value,
        metavar="ADDRESS",
        help="run the fits on a Dask cluster: the address of its scheduler "
        "(tcp://host:8786), or local:N to start N local worker processes; needs "
        "the dask extra (pip install 'sklearn-mmer[dask]'); the workers' "
        "threads, not --n-jobs, set how many fits run at a time",
    )
    add_threads_option(parser)
    parser.add_argument(
        "--repeats",
        type=int_between(1, MAX_REPEATS),
        default=1,
        metavar="R",
        help="run every method on every fold R times, repeat r with network "
        f"seed --seed + r - 1, on the same folds (default 1, at most {MAX_REPEATS})",
    )
    add_seed_option(parser)
    add_epochs_option(parser)
    add_device_option(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish the run kept in --out (killed or interrupted): the folds "
        "it finished are kept, the others run; refused when the options or "
        "data differ from that run's",
    )
    add_quiet_and_traceback_options(
        parser,
        traceback_also=", and stop at the first fit that fails (by default a "
        "failed fit is recorded with its error and the run goes on)",
    )
    parser.add_argument(
        "--save-model",
        metavar="DIR",
        help="after the comparison, refit the best inductive method (highest "
        "mean F1-micro, transductive methods left out) on all the data (with "
        "--test-data: all of --data, its labels harmonised; with --cv corpus: "
        "every corpus) and save it to DIR as <method>.mmer with its model card",
    )
    parser.add_argument(
        "--save-model-methods",
        nargs="+",
        metavar="NAME",
        help="with --save-model: refit and save these compared methods instead",
    )
    parser.set_defaults(run=run)
    return parser


def run(args):
    """``mmer compare``: load, cross-validate, print and write the results."""
    if is_cross_corpus(args):
        return run_cross_corpus(args)
    # --out stays locked from its checks to the last file written, whatever
    # ends the run (an error, Ctrl-C)
    with ExitStack() as held:
        return _run_compare(args, held)


@dataclass(frozen=True)
class Plan:
    """What the options decide, checked before any fit runs."""

    #: the corpus (a Bunch with ``modalities`` and ``source``)
    corpus: object
    #: the methods compared, in order
    names: list
    #: the method the others are compared with, or None
    reference: str | None
    #: ``methods(seed) -> {name: unfitted estimator}``
    methods: Callable
    #: the splitter, and how it reads in a sentence
    cv: object
    cv_text: str
    #: --out, created and locked
    out: Path


def _run_compare(args, held):
    say = Reporter(quiet=args.quiet)
    plan = _plan(args, say, held)
    corpus, names, cv = plan.corpus, plan.names, plan.cv
    X, y, groups = corpus.data, np.asarray(corpus.target), np.asarray(corpus.groups)
    say(
        f"mmer compare: {len(y)} utterances, {len(np.unique(groups))} speakers, "
        f"{len(np.unique(y))} emotions ({corpus.source}); modalities "
        f"{', '.join(corpus.modalities)}; {plan.cv_text}; methods "
        f"{', '.join(names)}"
        f"{f'; {args.repeats} repeats' if args.repeats > 1 else ''}; device "
        f"{args.device}"
    )
    progress = Progress(say)
    progress.start(len(names) * args.repeats * cv.get_n_splits(X, y, groups))
    start = time.perf_counter()
    comparison = _run(args, plan, progress)
    if comparison is None:
        return EXIT_INTERRUPTED
    if args.resume:
        # only now that the run in --out has been accepted as this one
        _write_issues(corpus, plan.out)
    seconds = time.perf_counter() - start
    written = _save(comparison, plan, figures=not args.no_figures)
    if written is None:
        return EXIT_FAILED
    say(
        f"{len(names)} methods x {len(comparison.splits)} folds"
        f"{f' x {args.repeats} repeats' if args.repeats > 1 else ''} in "
        f"{seconds:.0f} s; wrote {', '.join(p.name for p in written)} to "
        f"{plan.out}"
    )
    save_models(args, plan.corpus, comparison.summary, say, how=plan.cv_text)
    return report_failures(comparison.results)


def _plan(args, say, held):
    """The :class:`Plan` of the options; --out locked in ``held``."""
    from ..methods import make_methods, method_names
    from ._steps import resolve_device

    resolve_device(args)
    corpus = _corpus(args, say)
    _check_seeds(args)
    modalities = corpus.modalities
    try:
        names = method_names(modalities, args.methods)
    except ValueError as error:
        raise UsageError(str(error)) from None
    reference = reference_method(args, names)

    def methods(seed):
        built = make_methods(modalities, names, random_state=seed)
        return {name: configure(args, method) for name, method in built.items()}

    cv, cv_text = _splitter(args, corpus.data, np.asarray(corpus.groups))
    out = check_outputs(args.out, inputs={"--data": args.data})
    if isinstance(out, str):
        raise UsageError(out)
    save_model_folder(args, names)
    held.callback(lock_out(args, out, say).release)
    if not args.resume:
        # a resumed run writes it once the run in --out is found to be this
        # one: a refused --resume leaves that run's issues.csv as it was
        _write_issues(corpus, out)
    return Plan(corpus, names, reference, methods, cv, cv_text, out)


def _run(args, plan, progress):
    """The comparison, on ``--scheduler``'s cluster if given; None if interrupted."""
    return run_interruptibly(
        args, plan.out, progress, lambda: _compare(args, plan, progress)
    )


def _compare(args, plan, progress):
    """compare_methods with the command's options; its mistakes as usage errors."""
    from sklearn.exceptions import FitFailedWarning

    from ..datasets import label_order
    from ..evaluation import ConfigurationMismatchError, compare_methods

    corpus = plan.corpus
    y, groups = np.asarray(corpus.target), np.asarray(corpus.groups)
    # a ConfigurationMismatchError is a ValueError too: named before
    # data_errors turns any other ValueError into a --data line
    with data_errors(args):
        try:
            with warnings.catch_warnings():
                # the failures are summed up at the end; fold warnings said now
                warnings.simplefilter("ignore", FitFailedWarning)
                warnings.showwarning = warning_printer(progress.note)
                return compare_methods(
                    plan.methods,
                    corpus.data,
                    y,
                    groups,
                    cv=plan.cv,
                    labels=label_order(y, getattr(corpus, "target_names", None)),
                    n_repeats=args.repeats,
                    n_jobs=args.n_jobs,
                    n_threads=args.threads,
                    random_state=args.seed,
                    error_score="raise" if args.traceback else np.nan,
                    checkpoint=plan.out,
                    resume=args.resume,
                    progress=progress,
                )
        except ConfigurationMismatchError as error:
            raise UsageError(f"--resume: {error}") from None
        except OSError as error:
            raise OutputError(
                f"--out {plan.out}: {error.strerror or error} (the folds finished "
                f"are kept; to finish the run: {resume_command(args.argv)})"
            ) from None


def _save(comparison, plan, *, figures):
    """Print the table and write every output (the figures when ``figures``);
    None (after a line) on failure."""
    from ..evaluation import compare_to_reference, format_table, save_comparison
    from ..methods import method_kind

    reference, out = plan.reference, plan.out
    modalities = plan.corpus.modalities
    comparisons = (
        compare_to_reference(comparison.results, reference) if reference else None
    )
    print(format_table(comparison.summary, comparisons))
    kinds = {name: method_kind(name, modalities) for name in plan.names}
    try:
        return save_comparison(
            comparison,
            out,
            modalities=modalities,
            kinds=kinds,
            reference=reference,
            speakers=np.asarray(plan.corpus.groups),
            figures=figures,
        )
    except OSError as error:
        print(f"mmer: error: --out {out}: {error.strerror or error}", file=sys.stderr)
        return None


# --- the corpus, methods, reference and folds -----------------------------------


def _corpus(args, say):
    """The corpus, refused when all its utterances carry one emotion."""
    corpus = load_corpus(args, say, issues_csv=Path(args.out) / ISSUES_CSV)
    emotions = np.unique(np.asarray(corpus.target))
    if emotions.size < 2:
        raise UsageError(
            f"--data {args.data}: every utterance is labelled "
            f"{emotions.tolist()[0]!r}; comparing classifiers needs at least 2 "
            "emotions"
        )
    return corpus


def _write_issues(corpus, out):
    """Write issues.csv to --out, or remove one an earlier run left there."""
    from ..datasets import save_issues

    issues = getattr(corpus, "issues", None)
    if issues is None or save_issues(issues, out) is None:
        (out / ISSUES_CSV).unlink(missing_ok=True)


def _check_seeds(args):
    """Repeat r seeds with --seed + r - 1: the last seed must be one numpy takes."""
    last = args.seed + args.repeats - 1
    if last > MAX_SEED:
        raise UsageError(
            f"--seed {args.seed} with --repeats {args.repeats} would seed the last "
            f"repeat with {last}, past 2**32-1; use --seed "
            f"{MAX_SEED - args.repeats + 1} or less"
        )


def _splitter(args, X, groups):
    """The folds of ``--cv``/``--folds``, content-disjoint when asked."""
    cv, text = splitter(args, X, groups)
    return content_disjoint(args, cv, text, X, groups)
