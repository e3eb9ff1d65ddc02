"""``mmer compare`` across corpora: ``--test-data`` and ``--cv corpus``.

Several corpora are read, given one label set
(:func:`~sklearn_mmer.datasets.harmonize_labels`, renamed by ``--label-map``,
restricted to ``--labels``), and compared with
:func:`~sklearn_mmer.evaluation.compare_methods`: with ``--test-data``, the
folds are the first corpus's speaker folds and every test corpus is scored
whole by each fold's model; with ``--cv corpus``, each corpus in turn is left
out (:class:`~sklearn_mmer.model_selection.LeaveOneCorpusOut`). What the
labels dropped is printed and written to ``label_harmonization.csv``.
"""

import copy
import time
import warnings
from pathlib import Path

import numpy as np

from ..utils._runtime import Progress
from ._common import EXIT_FAILED, Reporter, UsageError, warning_printer
from ._outputs import check_outputs
from ._steps import read_corpus

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
        "of each; results.csv's test_corpus column names them",
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
    from ..datasets import harmonize_labels, read_label_map
    from ..evaluation import save_comparison

    say = Reporter(quiet=args.quiet)
    paths = _check_options(args)
    out = check_outputs(args.out, inputs={"--data": paths[0]})
    if isinstance(out, str):
        raise UsageError(out)
    corpora = _read(args, paths, say, out)
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
    comparison, speakers, text = _compare(args, harmonized, modalities, say)
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
        speakers=speakers,
        dropped=harmonized.dropped,
    )
    say(
        f"{text} in {time.perf_counter() - start:.0f} s; wrote "
        f"{', '.join(p.name for p in written)} to {out}"
    )
    failed = comparison.results["error"] != ""
    return EXIT_FAILED if failed.any() else 0


def _check_options(args):
    paths = args.data if isinstance(args.data, list) else [args.data]
    if None in paths:
        raise UsageError("comparing corpora needs --data: the corpora's paths")
    for option in ("resume", "save_model", "content_disjoint", "scheduler"):
        if getattr(args, option, None):
            raise UsageError(
                f"--{option.replace('_', '-')} is not available across corpora "
                "(--test-data, --cv corpus) yet"
            )
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


def _read(args, paths, say, out):
    """Each corpus, its labels as written; what loading skipped in issues.csv
    (its ``id`` prefixed by the corpus)."""
    corpora, issues = {}, []
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"--data {path}: no such file or folder")
        one = copy.copy(args)
        one.data = path
        corpus = read_corpus(
            one,
            say,
            issues_csv=out / "issues.csv",
            modalities=args.modalities,
            target_names=None,
        )
        name = _name(path, corpora)
        if not len(corpus.modalities) or not len(corpus.target):
            raise UsageError(f"--data {path}: no modality or no usable utterance")
        corpus.modalities = list(corpus.modalities)
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
    (out / "issues.csv").unlink(missing_ok=True)
    if issues:
        import pandas as pd

        pd.concat(issues, ignore_index=True).to_csv(out / "issues.csv", index=False)
    return corpora


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


def _compare(args, harmonized, modalities, say):
    from ..evaluation import compare_methods, set_epochs
    from ..methods import make_methods, method_names
    from ..model_selection import LeaveOneCorpusOut, SpeakerKFold

    try:
        names = method_names(modalities, args.methods)
    except ValueError as error:
        raise UsageError(str(error)) from None

    def methods(seed):
        built = make_methods(modalities, names, random_state=seed)
        for method in built.values() if args.epochs is not None else ():
            set_epochs(method, args.epochs)
        return built

    corpora = harmonized.corpora
    options = {
        "labels": np.asarray(harmonized.labels),
        "n_repeats": args.repeats,
        "n_jobs": args.n_jobs,
        "n_threads": args.threads,
        "random_state": args.seed,
        "error_score": "raise" if args.traceback else np.nan,
    }
    progress = Progress(say)
    with warnings.catch_warnings():
        warnings.showwarning = warning_printer(progress.note)
        if args.cv == "corpus":
            X, y, speakers, corpus = _stack(corpora, modalities)
            splits = list(LeaveOneCorpusOut().split(X, y, corpus))
            progress.start(len(names) * args.repeats * len(splits))
            comparison = compare_methods(
                methods, X, y, speakers, cv=splits, progress=progress, **options
            )
            _as_left_out(comparison, corpus, list(corpora))
            text = f"{len(names)} methods x {len(splits)} corpora left out"
        else:
            first, *tests = corpora
            X, y, groups = corpora[first]
            folds = 5 if args.folds is None else args.folds
            if folds > len(np.unique(groups)):
                raise UsageError(
                    f"--folds {folds} is more than the {len(np.unique(groups))} "
                    f"speakers of {first}"
                )
            progress.start(len(names) * args.repeats * folds)
            how = args.test_standardization
            comparison = compare_methods(
                methods,
                _with_modalities(X, modalities),
                y,
                groups,
                cv=SpeakerKFold(folds),
                test_sets={name: corpora[name] for name in tests},
                test_standardization=None if how == "none" else how,
                progress=progress,
                **options,
            )
            speakers = groups
            text = f"{len(names)} methods x {folds} speaker folds of {first}"
    progress.close()
    return comparison, speakers, text


def _with_modalities(X, modalities):
    import pandas as pd

    X = X.copy()
    for modality in modalities:
        if modality not in X.columns:
            X[modality] = pd.Series([None] * len(X), dtype=object)
    return X


def _stack(corpora, modalities):
    """The corpora one below the other; speakers prefixed by their corpus."""
    import pandas as pd

    parts, labels, speakers, names = [], [], [], []
    for name, (X, y, groups) in corpora.items():
        X = _with_modalities(X, modalities)
        prefixed = np.array([f"{name}/{s}" for s in groups], dtype=object)
        if "speaker" in X.columns:
            X["speaker"] = prefixed
        parts.append(X)
        labels.append(np.asarray(y))
        speakers.append(prefixed)
        names.append(np.full(len(y), name, dtype=object))
    X = pd.concat(parts, ignore_index=True)
    return X, np.concatenate(labels), np.concatenate(speakers), np.concatenate(names)


def _as_left_out(comparison, corpus, order):
    """Name each fold's left-out corpus in ``test_corpus`` and keep the
    confusion matrices and predictions by corpus."""
    left_out = [corpus[test][0] for _, test in comparison.splits]
    results = comparison.results
    results["test_corpus"] = [left_out[f - 1] for f in results["fold"]]
    n_folds = len(left_out)
    comparison.cross_confusion_matrices = {
        name: {
            method: matrices[
                [k for k in range(len(matrices)) if left_out[k % n_folds] == name]
            ]
            for method, matrices in comparison.confusion_matrices.items()
        }
        for name in order
    }
    predictions = comparison.predictions.copy()
    predictions.insert(3, "test_corpus", [left_out[f - 1] for f in predictions["fold"]])
    comparison.cross_predictions = predictions


def _in_corpus_table(comparison, reference):
    from ..evaluation import compare_to_reference, format_table

    results = comparison.results
    own = results[results["test_corpus"] == ""]
    if own.empty:  # --cv corpus: every fold is another corpus
        own = results
    comparisons = compare_to_reference(own, reference) if reference else None
    return format_table(comparison.summary, comparisons)


def _cross_table(comparison):
    from ..evaluation import (
        cross_corpus_drop,
        format_cross_corpus_table,
        summarize_cross_corpus,
    )

    results = comparison.results
    summary = summarize_cross_corpus(results)
    # leaving one corpus out, there is no in-corpus score to drop from
    drops = cross_corpus_drop(results) if (results["test_corpus"] == "").any() else None
    return format_cross_corpus_table(summary, drops)
