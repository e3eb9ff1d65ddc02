"""``mmer compare`` across corpora: ``--test-data`` and ``--cv corpus``.

Several corpora are read, given one label set
(:func:`~sklearn_mmer.datasets.harmonize_labels`, renamed by ``--label-map``,
restricted to ``--labels``), and compared with
:func:`~sklearn_mmer.evaluation.compare_methods`: with ``--test-data``, the
folds are the first corpus's speaker folds and every test corpus is scored
whole by each fold's model; with ``--cv corpus``, each corpus in turn is left
out (:class:`~sklearn_mmer.model_selection.LeaveOneCorpusOut`). What the
labels dropped is printed and written to ``label_harmonization.csv``.
``--resume``, ``--scheduler``, ``--save-model`` and ``--content-disjoint``
mean what they mean with one corpus (see ``_runs``); ``--content-disjoint``
is refused with ``--cv corpus``, which tests whole corpora.
"""

import copy
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ..utils._runtime import Progress
from ._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Reporter,
    UsageError,
    warning_printer,
)
from ._outputs import check_outputs
from ._runs import (
    content_disjoint,
    lock_out,
    run_interruptibly,
    save_model_folder,
    save_models,
)
from ._steps import configure, read_corpus

#: ``--test-standardization`` values and what each means.
STANDARDIZATIONS = ("none", "corpus", "speaker")


def add_cross_corpus_options(parser):
    """``--test-data``, ``--labels``, ``--label-map`` and
    ``--test-standardization``."""
    parser.add_argument(
        "--test-data",
        nargs="+",
        metavar="PATH",
        help="other corpora (same layout as --data) to test on: in each of "
        "--data's speaker folds, the fold's model also scores every utterance "
        "of each; results.csv's test_corpus column names them, "
        "cross_corpus_predictions.csv holds the predictions",
    )
    parser.add_argument(
        "--labels",
        nargs="+",
        metavar="LABEL",
        help="with several corpora: the emotions to keep (default: those every "
        "corpus has); the others' utterances are dropped and counted",
    )
    parser.add_argument(
        "--label-map",
        metavar="FILE",
        help="with several corpora: a CSV 'corpus,from,to' renaming labels "
        "before they are matched (corpus: the folder or file name; * for all)",
    )
    parser.add_argument(
        "--test-standardization",
        choices=STANDARDIZATIONS,
        default="none",
        help="with --test-data: standardise each test corpus by its own "
        "statistics (corpus) or speaker by speaker (speaker: transductive), "
        "matched to --data's (default none)",
    )


def is_cross_corpus(args):
    """Whether the options ask for several corpora."""
    data = args.data if isinstance(args.data, list) else [args.data]
    if args.cv == "corpus" or args.test_data or len(data) > 1:
        return True
    args.data = data[0]
    for option in ("labels", "label_map"):
        if getattr(args, option):
            raise UsageError(
                f"--{option.replace('_', '-')} needs several corpora (--test-data "
                "or --data A B --cv corpus)"
            )
    if args.test_standardization != "none":
        raise UsageError("--test-standardization needs --test-data")
    return False


def run_cross_corpus(args):
    """The whole of ``mmer compare`` across corpora; its exit status."""
    from ._steps import resolve_device

    say = Reporter(quiet=args.quiet)
    paths = _check_options(args)
    resolve_device(args)
    out = check_outputs(args.out, inputs={"--data": paths[0]})
    if isinstance(out, str):
        raise UsageError(out)
    # --out stays locked from here to the last file written, whatever ends
    # the run (an error, Ctrl-C)
    with ExitStack() as held:
        held.callback(lock_out(args, out, say).release)
        return _run(args, paths, out, say)


def _run(args, paths, out, say):
    from ..datasets import harmonize_labels, read_label_map
    from ..evaluation import save_comparison

    corpora, issues = _read(args, paths, say)
    if not args.resume:
        # a resumed run writes it once the run in --out is found to be this one
        _write_issues(issues, out)
    label_map = None
    if args.label_map:
        try:
            label_map = read_label_map(args.label_map)
        except (OSError, ValueError) as error:
            raise UsageError(f"--label-map {args.label_map}: {error}") from None
    try:
        harmonized = harmonize_labels(
            {
                name: (c.data, np.asarray(c.target), np.asarray(c.groups))
                for name, c in corpora.items()
            },
            labels=args.labels,
            label_map=label_map,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    _say_dropped(harmonized, corpora, say)
    modalities = list(dict.fromkeys(m for c in corpora.values() for m in c.modalities))
    for name, corpus in corpora.items():
        lacking = [m for m in modalities if m not in corpus.modalities]
        if lacking:
            say(
                f"corpus {name} lacks {', '.join(lacking)}: its utterances are "
                "scored with that modality missing"
            )
    start = time.perf_counter()
    compared = _compare(args, harmonized, modalities, paths, out, say)
    if compared is None:
        return EXIT_INTERRUPTED
    comparison, trained, text = compared
    if args.resume:
        _write_issues(issues, out)
    reference = (
        "early_fusion"
        if "early_fusion" in comparison.summary["method"].tolist()
        else None
    )
    print(_in_corpus_table(comparison, reference))
    print()
    print(_cross_table(comparison))
    written = save_comparison(
        comparison,
        out,
        modalities=modalities,
        reference=reference,
        speakers=trained.groups,
        dropped=harmonized.dropped,
        figures=not args.no_figures,
    )
    say(
        f"{text} in {time.perf_counter() - start:.0f} s; wrote "
        f"{', '.join(p.name for p in written)} to {out}"
    )
    if args.save_model:
        options = _fit_options(args, paths, modalities, say)
        save_models(options, trained, comparison.summary, say, how=text)
    failed = comparison.results["error"] != ""
    return EXIT_FAILED if failed.any() else 0


def _check_options(args):
    paths = args.data if isinstance(args.data, list) else [args.data]
    if None in paths:
        raise UsageError("comparing corpora needs --data: the corpora's paths")
    if args.cv == "corpus":
        if args.test_data or len(paths) < 2:
            raise UsageError(
                "--cv corpus leaves each corpus of --data out in turn: give "
                "--data two or more corpora, and no --test-data"
            )
        if args.folds is not None:
            raise UsageError(
                "--folds sets speaker folds; --cv corpus has one per corpus"
            )
        if args.test_standardization != "none":
            raise UsageError("--test-standardization is for --test-data")
        if args.content_disjoint:
            raise UsageError(
                "--content-disjoint drops from a speaker fold's training part the "
                "utterances whose content its test speakers say; with --cv corpus "
                "the corpora are tested whole, so it has no meaning there (use it "
                "with --data A --test-data B)"
            )
        return paths
    if len(paths) > 1:
        raise UsageError(
            "several --data corpora need --cv corpus; to train on one corpus and "
            "test on others, use --data A --test-data B C"
        )
    return [*paths, *args.test_data]


def _name(path, taken):
    path = Path(path)
    name = path.parent.name if path.name == "dataset.csv" else path.stem
    name = name or "corpus"
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _read(args, paths, say):
    """Each corpus, its labels as written, and what loading skipped (its
    ``id`` prefixed by the corpus; None when nothing was)."""
    corpora, issues = {}, []
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"--data {path}: no such file or folder")
        one = copy.copy(args)
        one.data = path
        corpus = read_corpus(
            one,
            say,
            issues_csv=Path(args.out) / "issues.csv",
            modalities=args.modalities,
            target_names=None,
        )
        name = _name(path, corpora)
        if not len(corpus.modalities) or not len(corpus.target):
            raise UsageError(f"--data {path}: no modality or no usable utterance")
        corpus.modalities = list(corpus.modalities)
        corpus.source = str(Path(path))
        corpora[name] = corpus
        if len(corpus.issues):
            issues.append(
                corpus.issues.assign(id=[f"{name}/{i}" for i in corpus.issues["id"]])
            )
        say(
            f"corpus {name}: {len(corpus.target)} utterances, "
            f"{len(np.unique(corpus.groups))} speakers, emotions "
            f"{', '.join(map(str, np.unique(corpus.target)))}; modalities "
            f"{', '.join(corpus.modalities)} ({path})"
        )
    if not issues:
        return corpora, None
    import pandas as pd

    return corpora, pd.concat(issues, ignore_index=True)


def _write_issues(issues, out):
    """Write issues.csv to --out, or remove one an earlier run left there."""
    (out / "issues.csv").unlink(missing_ok=True)
    if issues is not None:
        issues.to_csv(out / "issues.csv", index=False)


def _say_dropped(harmonized, corpora, say):
    line = f"labels used: {', '.join(harmonized.labels)}"
    if harmonized.dropped.empty:
        say(f"{line}; no utterance dropped")
        return
    say(f"{line}; dropped (also in label_harmonization.csv):")
    for corpus, part in harmonized.dropped.groupby("corpus", sort=False):
        total = int(part["n_utterances"].sum())
        classes = ", ".join(
            f"{row.label} ({row.n_utterances})" for row in part.itertuples()
        )
        say(
            f"  {corpus}: {total} of {len(corpora[corpus].target)} utterances, "
            f"classes {classes}"
        )


def _compare(args, harmonized, modalities, paths, out, say):
    """The comparison; the corpus the methods of --save-model are fit on (A
    with --test-data, every corpus stacked with --cv corpus) and what the
    folds were, in words; None when Ctrl-C stopped it."""
    from sklearn.utils import Bunch

    from ..evaluation import ConfigurationMismatchError, compare_methods
    from ..methods import make_methods, method_names
    from ..model_selection import LeaveOneCorpusOut, SpeakerKFold

    try:
        names = method_names(modalities, args.methods)
    except ValueError as error:
        raise UsageError(str(error)) from None
    save_model_folder(args, names)

    def methods(seed):
        built = make_methods(modalities, names, random_state=seed)
        return {name: configure(args, method) for name, method in built.items()}

    corpora = harmonized.corpora
    options = {
        "labels": np.asarray(harmonized.labels),
        "n_repeats": args.repeats,
        "n_jobs": args.n_jobs,
        "n_threads": args.threads,
        "random_state": args.seed,
        "error_score": "raise" if args.traceback else np.nan,
        "checkpoint": out,
        "resume": args.resume,
    }
    if args.cv == "corpus":
        X, y, speakers, corpus, ids = _stack(corpora, modalities)
        cv = list(LeaveOneCorpusOut().split(X, y, corpus))
        groups, tests, n_folds = speakers, {}, len(cv)
        text = f"{len(names)} methods x {n_folds} corpora left out"
        source = f"the corpora {', '.join(corpora)} stacked ({', '.join(paths)})"
    else:
        first, *tests = corpora
        X, y, groups = corpora[first]
        X = _with_modalities(X, modalities)
        n_folds = 5 if args.folds is None else args.folds
        if n_folds > len(np.unique(groups)):
            raise UsageError(
                f"--folds {n_folds} is more than the {len(np.unique(groups))} "
                f"speakers of {first}"
            )
        cv, text = content_disjoint(
            args,
            SpeakerKFold(n_folds),
            f"{len(names)} methods x {n_folds} speaker folds of {first}",
            X,
            groups,
        )
        how = args.test_standardization
        options["test_sets"] = {name: corpora[name] for name in tests}
        options["test_standardization"] = None if how == "none" else how
        source = f"{first} ({paths[0]}), its labels harmonised"
    progress = Progress(say)
    progress.start(len(names) * args.repeats * n_folds)

    def compare():
        with warnings.catch_warnings():
            warnings.showwarning = warning_printer(progress.note)
            try:
                return compare_methods(
                    methods, X, y, groups, cv=cv, progress=progress, **options
                )
            except ConfigurationMismatchError as error:
                raise UsageError(f"--resume: {error}") from None

    comparison = run_interruptibly(args, out, progress, compare)
    if comparison is None:
        return None
    if args.cv == "corpus":
        comparison = _as_left_out(comparison, corpus, groups, ids)
    trained = Bunch(
        data=X,
        target=y,
        groups=np.asarray(groups),
        modalities=modalities,
        source=source,
    )
    return comparison, trained, text


def _fit_options(args, paths, modalities, say):
    """The options of --save-model's fits: --data is the corpus whose
    extraction recipe the model file keeps (with --cv corpus, the corpora's
    one recipe; none when they differ)."""
    one = copy.copy(args)
    one.data = paths[0]
    if args.cv != "corpus":
        return one
    from ._steps import extraction_recipe

    recipes = []
    for path in paths:
        each = copy.copy(args)
        each.data = path
        recipes.append(extraction_recipe(each, SimpleNamespace(modalities=modalities)))
    if any(recipe != recipes[0] for recipe in recipes):
        say(
            "the corpora were not extracted with one recipe: the model files "
            "keep none (mmer predict --input cannot extract features for them)"
        )
        one.data = None
    return one


def _with_modalities(X, modalities):
    import pandas as pd

    X = X.copy()
    for modality in modalities:
        if modality not in X.columns:
            X[modality] = pd.Series([None] * len(X), dtype=object, index=X.index)
    return X


def _stack(corpora, modalities):
    """The corpora one below the other; speakers prefixed by their corpus;
    each row's corpus and utterance id there."""
    import pandas as pd

    parts, labels, speakers, names, ids = [], [], [], [], []
    for name, (X, y, groups) in corpora.items():
        ids.append(np.asarray(X.index).astype(str))
        X = _with_modalities(X, modalities)
        prefixed = np.array([f"{name}/{s}" for s in groups], dtype=object)
        if "speaker" in X.columns:
            X["speaker"] = prefixed
        parts.append(X)
        labels.append(np.asarray(y))
        speakers.append(prefixed)
        names.append(np.full(len(y), name, dtype=object))
    X = pd.concat(parts, ignore_index=True)
    return (
        X,
        np.concatenate(labels),
        np.concatenate(speakers),
        np.concatenate(names),
        np.concatenate(ids),
    )


def _as_left_out(comparison, corpus, speakers, ids):
    """The comparison by corpus left out (see ``name_left_out_corpora``): a
    prediction's ``utterance_id`` is that of its own corpus, and so is its
    ``row`` in the cross-corpus predictions."""
    from ..evaluation import name_left_out_corpora

    predictions = comparison.predictions
    predictions["utterance_id"] = ids[predictions["row"].to_numpy(dtype=int)]
    return name_left_out_corpora(comparison, corpus, speakers)


def _in_corpus_table(comparison, reference):
    from ..evaluation import compare_to_reference, format_table

    results = comparison.results
    own = results[results["test_corpus"] == ""]
    if own.empty:  # --cv corpus: every fold is another corpus
        own = results
    comparisons = compare_to_reference(own, reference) if reference else None
    return format_table(comparison.summary, comparisons)


def _cross_table(comparison):
    from ..evaluation import cross_corpus_drop, format_cross_corpus_table

    results = comparison.results
    summary = comparison.cross_corpus_summary
    # leaving one corpus out, there is no in-corpus score to drop from
    drops = cross_corpus_drop(results) if (results["test_corpus"] == "").any() else None
    return format_cross_corpus_table(summary, drops)
