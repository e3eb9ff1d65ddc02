"""``mmer fit`` and ``mmer predict``: a model's life on the command line.

``mmer fit`` trains one method on a whole corpus and writes a model file
(:func:`sklearn_mmer.save`) and a model card beside it; ``mmer predict``
applies a model file to a corpus, labelled or not, and writes one row per
utterance. Part of the ``mmer`` command (:mod:`sklearn_mmer.cli` adds these
subcommands); mistakes end as the rest of it does, with one ``mmer: error:``
line and exit status 2.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ._cli_compare import bundled_corpus, read_corpus
from ._cli_runs import Reporter, first_line
from .cli import (
    DEFAULT_UTTERANCES,
    MAX_UTTERANCES,
    MIN_UTTERANCES,
    UsageError,
    _add_size_limits,
    _int_at_least,
    _n_jobs,
    add_threads_option,
    n_utterances_value,
    seed_value,
)
from .utils._threads import fit_threads


def add_model_commands(commands):
    """Add the ``fit`` and ``predict`` subcommands to ``mmer``'s subparsers."""
    fit = commands.add_parser(
        "fit",
        help="train one method on a whole corpus and save it as a model file",
        description=(
            "Train one method on every utterance of a corpus and write the model "
            "file (--model) and a model card beside it (<model>.card.md). "
            "Without --data, trains on the bundled synthetic corpus (random "
            "numbers shaped like IEMOCAP, not real speech)."
        ),
    )
    _corpus_options(fit)
    fit.add_argument(
        "--method",
        required=True,
        metavar="NAME",
        help="the method: a modality name, early_fusion, late_fusion or any "
        "registered method ('mmer methods' lists them)",
    )
    fit.add_argument(
        "--modalities", nargs="+", metavar="M", help="modalities to use (default: all)"
    )
    fit.add_argument(
        "--epochs",
        type=_int_at_least(1),
        metavar="E",
        help="override max_epochs of every network (default: the method's own)",
    )
    fit.add_argument(
        "--cv",
        type=_int_at_least(2),
        metavar="K",
        help="also cross-validate the method over K speaker folds first and "
        "put the scores in the model card",
    )
    fit.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=-1,
        metavar="N",
        help="parallel fits for --cv; -1 uses every CPU core (default -1)",
    )
    add_threads_option(fit)
    fit.add_argument(
        "--model", required=True, metavar="PATH", help="the model file to write"
    )
    fit.set_defaults(run=run_fit)
    _add_predict_command(commands)


def _add_predict_command(commands):
    predict = commands.add_parser(
        "predict",
        help="apply a model file to a corpus and write predictions.csv",
        description=(
            "Predict every utterance of a corpus (which may have no "
            "emotion_labels column) with a model file written by 'mmer fit' or "
            "sklearn_mmer.save, and write one row per utterance: "
            "file_name_list, predicted_label, emotion_labels (when the corpus "
            "has labels) and proba_<class> per class (when the method has "
            "probabilities)."
        ),
    )
    _corpus_options(predict)
    predict.add_argument(
        "--model", required=True, metavar="PATH", help="a model file to apply"
    )
    predict.add_argument(
        "--trusted",
        nargs="+",
        metavar="NAME",
        help="also accept these fully qualified types or functions in the model "
        "file (as sklearn_mmer.load's trusted=); only for a file whose author "
        "you trust, since a trusted function runs with the file's arguments",
    )
    predict.add_argument(
        "--out",
        default="predictions.csv",
        metavar="CSV",
        help="the CSV file to write (default predictions.csv)",
    )
    predict.set_defaults(run=run_predict, modalities=None)


def _corpus_options(parser):
    _add_size_limits(parser)
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="a dataset.csv in the course-feature layout, its folder, or a .zip "
        "holding both (default: the bundled synthetic corpus)",
    )
    parser.add_argument(
        "--n-utterances",
        type=n_utterances_value,
        metavar="N",
        help=f"size of the bundled corpus (default {DEFAULT_UTTERANCES}, "
        f"{MIN_UTTERANCES} to {MAX_UTTERANCES}); not with --data",
    )
    parser.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        metavar="S",
        help="seed of the networks and of the bundled corpus, 0 to 2**32-1 (default 0)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the full traceback when the data fail a check",
    )


# --- mmer fit ---------------------------------------------------------------


def run_fit(args):
    """``mmer fit``: train on the whole corpus, save the model and its card."""
    from .evaluation import method_names

    say = Reporter(quiet=args.quiet)
    model_path = _output_file(
        "--model", args.model, (".card.md", ".issues.csv"), {"--data": args.data}
    )
    corpus = _model_corpus(
        args,
        say,
        modalities=args.modalities,
        require_labels=True,
        issues_csv=model_path.with_suffix(".issues.csv"),
    )
    corpus.modalities = list(corpus.modalities)
    try:
        method_names(corpus.modalities, [args.method])
    except ValueError as error:
        raise UsageError(f"--method: {error}") from None
    say(
        f"mmer fit: {args.method} on {len(corpus.target)} utterances, "
        f"{len(np.unique(corpus.groups))} speakers ({corpus.source})"
    )
    scores = None
    if args.cv:
        comparison = _cross_validate(args, corpus, say)
        scores = (f"{args.cv} speaker folds", comparison.summary.iloc[0])
    fit_and_save(args, corpus, args.method, model_path, scores, say)
    return 0


def fit_and_save(args, corpus, method, model_path, scores, say):
    """Fit ``method`` on the whole corpus; write its model file and card."""
    from .io import save

    model = _method(args, corpus, method)
    X, y = corpus.data, np.asarray(corpus.target)
    start = time.perf_counter()
    with _data_errors(args), fit_threads(args.threads):
        model.fit(X, y)
    seconds = time.perf_counter() - start
    manifest = save(model, model_path, X=X, y=y, method=method, threads=args.threads)
    card = model_path.with_suffix(".card.md")
    facts = {
        "method": method,
        "file": model_path.name,
        "seconds": seconds,
        "seed": args.seed,
        "epochs": args.epochs,
        "threads": args.threads,
    }
    card.write_text(_card_text(facts, model, corpus, manifest, scores), "utf-8")
    say(f"{method}: fitted in {seconds:.1f} s; wrote {model_path} and {card}")
    return model_path


def _method(args, corpus, method):
    """The unfitted estimator of a method, seeded, with --epochs applied."""
    from .evaluation import make_methods, set_every

    model = make_methods(corpus.modalities, [method], random_state=args.seed)[method]
    if args.epochs is not None:
        set_every(model, "max_epochs", args.epochs)
    return model


def _cross_validate(args, corpus, say):
    from .evaluation import compare_methods
    from .model_selection import SpeakerKFold

    n_speakers = len(np.unique(corpus.groups))
    if args.cv > n_speakers:
        raise UsageError(
            f"--cv {args.cv} is more than the {n_speakers} speakers of the corpus; "
            f"use --cv {n_speakers} or fewer"
        )
    say(f"cross-validating over {args.cv} speaker folds ...")
    with _data_errors(args):
        return compare_methods(
            {args.method: _method(args, corpus, args.method)},
            corpus.data,
            np.asarray(corpus.target),
            np.asarray(corpus.groups),
            cv=SpeakerKFold(args.cv),
            n_jobs=args.n_jobs,
            n_threads=args.threads,
        )


class _data_errors:
    """Turn a ValueError of a user's data into one line (not on bundled data)."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None or not issubclass(kind, ValueError):
            return False
        if self.args.data is None or self.args.traceback:
            return False
        raise UsageError(
            f"--data {self.args.data}: {first_line(error)} (--traceback shows where)"
        ) from None


def _card_text(facts, model, corpus, manifest, scores):
    """The model card: what was trained, on what, and how well it did."""
    from .evaluation import registered_methods

    method = registered_methods().get(facts["method"])
    y = np.asarray(corpus.target)
    classes, counts = np.unique(y, return_counts=True)
    speakers, per_speaker = np.unique(np.asarray(corpus.groups), return_counts=True)
    versions = manifest["versions"]
    lines = [
        f"# Model card: {facts['method']}",
        "",
        f"- Method: `{facts['method']}`"
        + (f": {method.description}" if method else ": one modality alone"),
        f"- Estimator: `{manifest['estimator']}`",
        f"- Model file: `{facts['file']}`, format {manifest['format_version']}",
        f"- Trained: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} in "
        f"{facts['seconds']:.1f} s, seed {facts['seed']}"
        + (f", max_epochs {facts['epochs']}" if facts["epochs"] else "")
        + f", {facts['threads']} threads",
        "- Versions: "
        + ", ".join(f"{name} {versions[name]}" for name in sorted(versions)),
        f"- Data: {corpus.source}; {len(y)} utterances, {len(speakers)} speakers; "
        f"fingerprint `{manifest['fingerprint'][:16]}`",
    ]
    if method is not None and method.transductive:
        lines.append(
            "- Transductive: normalises each speaker with that speaker's own "
            "(unlabelled) features, at prediction time too"
        )
    lines += ["", "## Classes", "", "| class | utterances |", "|---|---:|"]
    lines += [f"| {c} | {n} |" for c, n in zip(classes, counts)]
    lines += ["", "## Modalities", "", "| modality | feature width |", "|---|---:|"]
    lines += [f"| {m} | {w} |" for m, w in (manifest["modalities"] or {}).items()]
    lines += ["", "## Speakers", "", "| speaker | utterances |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in zip(speakers, per_speaker)]
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    for name, value in sorted(model.get_params(deep=True).items()):
        if not hasattr(value, "get_params") and not _is_step_list(value):
            lines.append(f"| `{name}` | `{_param_text(value)}` |")
    lines += _scores_section(scores)
    return "\n".join(lines) + "\n"


def _param_text(value):
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__name__', '')}"
    return repr(value).replace("|", "\\|")


def _is_step_list(value):
    return isinstance(value, list) and any(isinstance(v, tuple) for v in value)


def _scores_section(scores):
    """``scores`` is ``(how, summary row)`` of a cross-validation, or None."""
    if scores is None:
        return ["", "## Cross-validated scores", "", "Not measured (use `--cv K`)."]
    how, row = scores
    metrics = [k[: -len("_mean")] for k in row.index if k.endswith("_mean")]
    lines = [
        "",
        f"## Cross-validated scores ({how})",
        "",
        "| metric | mean | std |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {m} | {row[f'{m}_mean']:.3f} | {row[f'{m}_std']:.3f} |" for m in metrics
    ]
    return lines


# --- mmer compare --save-model ------------------------------------------------


def add_save_model_options(compare):
    """Add ``--save-model`` and ``--save-model-methods`` to ``mmer compare``."""
    compare.add_argument(
        "--save-model",
        metavar="DIR",
        help="after the comparison, refit the best inductive method (highest "
        "mean F1-micro, transductive methods left out) on all the data and "
        "save it to DIR as <method>.mmer with its model card",
    )
    compare.add_argument(
        "--save-model-methods",
        nargs="+",
        metavar="NAME",
        help="with --save-model: refit and save these compared methods instead",
    )


def check_save_model_options(args, compared):
    """Check the options before the comparison runs; returns the folder or None."""
    from ._cli_runs import system_folder

    if args.save_model_methods and not args.save_model:
        raise UsageError("--save-model-methods needs --save-model DIR")
    if not args.save_model:
        return None
    for name in args.save_model_methods or []:
        if name not in compared:
            raise UsageError(
                f"--save-model-methods {name}: not among the compared methods "
                f"({', '.join(compared)}); add it to --methods"
            )
    folder = Path(args.save_model)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--save-model {args.save_model}: exists and is not a folder")
    problem = system_folder(folder)
    if problem:
        raise UsageError(f"--save-model {args.save_model}: {problem}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--save-model {args.save_model}: {error.strerror or error}"
        ) from None
    return folder


def save_compare_models(args, corpus, summary, cv_text, say):
    """Refit the best inductive (or the named) methods on all the data; save them."""
    folder = check_save_model_options(args, list(summary["method"]))
    if folder is None:
        return []
    names = args.save_model_methods or [_best_inductive(summary, corpus.modalities)]
    written = []
    for name in names:
        row = summary.loc[summary["method"] == name].iloc[0]
        say(f"refitting {name} on all {len(corpus.target)} utterances ...")
        written.append(
            fit_and_save(
                args, corpus, name, folder / f"{name}.mmer", (cv_text, row), say
            )
        )
    return written


def _best_inductive(summary, modalities):
    from .evaluation import registered_methods

    registry = registered_methods()
    ranked = summary.dropna(subset=["f1_micro_mean"]).sort_values(
        "f1_micro_mean", ascending=False, kind="stable"
    )
    for name in ranked["method"]:
        if name in modalities or not registry[name].transductive:
            return name
    raise UsageError(
        "--save-model: no inductive method was compared successfully; name one "
        "with --save-model-methods"
    )


# --- mmer predict -----------------------------------------------------------


def run_predict(args):
    """``mmer predict``: apply a model file to a corpus, one row per utterance."""
    import pandas as pd

    from .io import ModelFileError, check_input, load, read_manifest

    say = Reporter(quiet=args.quiet)
    model_path = Path(args.model)
    if not model_path.is_file():
        raise UsageError(f"--model {args.model}: no such file")
    inputs = {"--model": args.model, "--data": args.data}
    out = _output_file("--out", args.out, (".issues.csv",), inputs)
    try:
        manifest = read_manifest(model_path)
    except ModelFileError as error:
        raise UsageError(f"--model {error}") from None
    corpus = _model_corpus(
        args,
        say,
        modalities=None,
        require_labels=False,
        issues_csv=out.with_suffix(".issues.csv"),
    )
    X = corpus.data
    try:
        check_input(manifest, X)
    except ValueError as error:
        raise UsageError(f"--data {args.data or '(bundled corpus)'}: {error}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            model = load(model_path, trusted=args.trusted)
        except ModelFileError as error:
            raise UsageError(f"--model {error}") from None
        except ValueError as error:  # a malformed --trusted name
            raise UsageError(f"--trusted: {error}") from None
    for warning in caught:
        say(f"mmer: warning: {first_line(warning.message)}")
    with _data_errors(args):
        table = pd.DataFrame({"file_name_list": X.index.astype(str)})
        table["predicted_label"] = model.predict(X)
        if corpus.target is not None:
            table["emotion_labels"] = np.asarray(corpus.target)
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X)
            for k, label in enumerate(model.classes_):
                table[f"proba_{label}"] = proba[:, k]
    table.to_csv(out, index=False)
    say(f"mmer predict: {len(table)} utterances; wrote {out}")
    return 0


def _model_corpus(args, say, *, modalities, require_labels, issues_csv):
    """The corpus of ``fit`` or ``predict``; its faults listed in ``issues_csv``."""
    if args.data is None:
        corpus = bundled_corpus(args)
        corpus.issues = None
    else:
        if args.n_utterances is not None:
            raise UsageError("--n-utterances sizes the bundled corpus; not with --data")
        path = Path(args.data)
        if not path.exists():
            raise UsageError(f"--data {args.data}: no such file or folder")
        corpus = read_corpus(
            args,
            say,
            issues_csv=issues_csv,
            modalities=modalities,
            require_labels=require_labels,
        )
        corpus.source = str(path)
    if corpus.issues is not None and len(corpus.issues):
        corpus.issues.to_csv(issues_csv, index=False)
    else:
        issues_csv.unlink(missing_ok=True)
    if corpus.data.shape[0] == 0:
        raise UsageError(f"--data {args.data}: the corpus has no usable utterance")
    return corpus


def _output_file(option, text, beside, inputs):
    """The file of ``option``, once it and the files written beside it (its
    suffix replaced by each of ``beside``) are found writable, not folders,
    and not any of ``inputs`` (option -> path) or inside one."""
    from ._cli_runs import check_output_files

    path = Path(text)
    if path.is_dir() or not path.name:
        raise UsageError(f"{option} {text}: is a folder; give a file name")
    outputs = [path, *(path.with_suffix(suffix) for suffix in beside)]
    problem = check_output_files(option, text, outputs, inputs)
    if problem:
        raise UsageError(problem)
    return path


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run 'mmer' or 'python -m sklearn_mmer'")
