"""The steps several ``mmer`` commands take: read the corpus, choose its folds,
fit a method on all of it and save the model with its card.

Each step is a thin layer over the library (:mod:`sklearn_mmer.datasets`,
:mod:`sklearn_mmer.model_selection`, :func:`sklearn_mmer.save`,
:func:`sklearn_mmer.evaluation.model_card`) that turns the options into its
arguments and its errors into :class:`~._common.UsageError` lines naming the
option. The library is imported inside each step, so that ``mmer --help``
does not import torch.
"""

import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..utils._runtime import first_line
from ._common import UsageError
from ._options import DEFAULT_FOLDS, DEFAULT_UTTERANCES, size_limits

# --- the corpus -----------------------------------------------------------------


def load_corpus(
    args, say, *, issues_csv, list_issues=False, require_labels=True, errors="skip"
):
    """The corpus of ``--data`` (the bundled one without it) as a Bunch with
    ``modalities`` and ``source`` set.

    The loader's warning about faults points at ``issues_csv``; with
    ``list_issues`` the faults are written there at once (an earlier list
    removed when there are none), before a corpus left empty is refused.
    ``errors="keep"`` keeps an utterance whose modality is faulty (an empty
    cell, a missing file) with that cell None, as ``load_feature_table`` does.
    """
    if args.data is None:
        corpus = bundled_corpus(args)
        if list_issues:
            _list_issues(None, issues_csv)
        return corpus
    if not Path(args.data).exists():
        raise UsageError(f"--data {args.data}: no such file or folder")
    if getattr(args, "n_utterances", None) is not None:
        raise UsageError("--n-utterances sizes the bundled corpus; not with --data")
    corpus = read_corpus(
        args,
        say,
        issues_csv=issues_csv,
        modalities=args.modalities,
        require_labels=require_labels,
        errors=errors,
    )
    if list_issues:
        _list_issues(corpus.issues, issues_csv)
    corpus.modalities = list(corpus.modalities)
    if not corpus.modalities:
        raise UsageError(f"--data {args.data}: the corpus has no modality column")
    if corpus.data.shape[0] == 0:
        raise UsageError(f"--data {args.data}: the corpus has no usable utterance")
    corpus.source = str(Path(args.data))
    return corpus


def _list_issues(issues, path):
    """Write ``issues`` to ``path``, or remove a list an earlier run left there."""
    if issues is not None and len(issues):
        issues.to_csv(path, index=False)
    else:
        Path(path).unlink(missing_ok=True)


def bundled_corpus(args):
    """The bundled synthetic corpus of ``--n-utterances``, ``--seed`` and
    ``--modalities``."""
    from ..datasets import make_multimodal_emotion, select_modalities

    n_utterances = getattr(args, "n_utterances", None) or DEFAULT_UTTERANCES
    # every modality is generated, then the ones asked for kept: each draws
    # from the same random stream, so a seed gives the same features whichever
    # modalities a run compares
    corpus = make_multimodal_emotion(n_utterances, random_state=args.seed)
    if args.modalities:
        try:
            corpus = select_modalities(corpus, args.modalities)
        except ValueError as error:
            raise UsageError(str(error)) from None
    corpus.source = (
        f"bundled synthetic corpus, make_multimodal_emotion seed {args.seed}: "
        "synthetic data, not real speech"
    )
    return corpus


def read_corpus(args, say, *, issues_csv, **options):
    """``load_feature_table`` on ``--data`` with the size limits: its errors as
    usage errors, its warnings said, the faults' warning pointing at
    ``issues_csv``."""
    from ..datasets import CorpusIssuesWarning, load_feature_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            corpus = load_feature_table(Path(args.data), **options, **size_limits(args))
        except (ValueError, OSError, KeyError) as error:
            raise UsageError(f"--data {args.data}: {first_line(error)}") from None
    for warning in caught:
        message = warning.message
        if isinstance(message, CorpusIssuesWarning):
            message = CorpusIssuesWarning(message.summary, issues_csv)
        say(f"mmer: warning: {first_line(message)}")
    return corpus


@contextmanager
def data_errors(args):
    """Inside, a ValueError of a user's data becomes one line (not on the
    bundled corpus, where it is a bug of ours, nor with ``--traceback``)."""
    try:
        yield
    except ValueError as error:
        if args.data is None or args.traceback:
            raise
        raise UsageError(
            f"--data {args.data}: {first_line(error)} (--traceback shows where)"
        ) from None


def extraction_recipe(args, corpus):
    """The recipe ``mmer extract`` kept beside the corpus of ``--data`` (for
    the modalities the model reads), or None for features made elsewhere."""
    from ..extraction import read_recipe

    data = None if args.data is None else Path(args.data)
    if data is None or not (data.is_dir() or data.name == "dataset.csv"):
        return None  # the bundled corpus, or a .zip: no recipe beside it
    try:
        recipe = read_recipe(args.data)
    except ValueError as error:
        raise UsageError(f"--data {args.data}: {first_line(error)}") from None
    if recipe is None:
        return None
    used = set(corpus.modalities)
    recipe["features"] = [e for e in recipe["features"] if e["name"] in used]
    return recipe


# --- the folds ------------------------------------------------------------------


def splitter(args, X, groups):
    """The folds of ``--cv`` and ``--folds`` and their description, once the
    corpus is found to have the speakers or sessions they need."""
    from ..model_selection import LeaveOneSessionOut, SpeakerKFold

    if args.cv == "corpus":
        raise UsageError(
            "--cv corpus leaves one corpus out: mmer compare --data A B C --cv corpus"
        )
    if args.cv == "session":
        if args.folds is not None:
            raise UsageError(
                "--folds sets speaker folds; --cv session has one fold per session"
            )
        cv = LeaveOneSessionOut()
        try:
            n_sessions = cv.get_n_splits(X, groups=groups)
        except ValueError as error:
            raise UsageError(f"--cv session: {first_line(error)}") from None
        return cv, f"leave-one-session-out ({n_sessions} folds)"
    folds = DEFAULT_FOLDS if args.folds is None else args.folds
    speakers = np.unique(groups)
    if len(speakers) < 2:
        raise UsageError(
            f"the corpus has a single speaker ({speakers.tolist()[0]!r}); "
            "speaker-independent folds need at least 2 speakers: add another "
            "speaker's utterances to the corpus"
        )
    if folds > len(speakers):
        raise UsageError(
            f"--folds {folds} is more than the {len(speakers)} speakers of the "
            f"corpus; use --folds {len(speakers)} or fewer"
        )
    return SpeakerKFold(folds), f"{folds} speaker folds"


# --- a model --------------------------------------------------------------------


def resolve_device(args):
    """``--device`` as torch names it here: auto resolved, cuda checked.

    Sets ``args.device`` to ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` and returns
    it; a GPU that torch does not find is a usage error.
    """
    import torch

    device = getattr(args, "device", None) or "cpu"
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {device}: torch finds no CUDA GPU here; use --device "
                "cpu, or --device auto (a GPU when there is one)"
            )
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UsageError(
                f"--device {device}: torch sees {torch.cuda.device_count()} "
                "CUDA GPU(s), numbered from 0"
            )
    args.device = device
    return device


def configure(args, model):
    """``model`` with --epochs and --device set on every network in it."""
    from ..evaluation import set_epochs, set_every

    if args.epochs is not None:
        set_epochs(model, args.epochs)
    if getattr(args, "device", None) is not None:
        set_every(model, "device", args.device)
    return model


def make_method(args, modalities, name):
    """The unfitted estimator of method ``name``, seeded, with --epochs and
    --device applied."""
    from ..methods import make_methods

    return configure(
        args, make_methods(modalities, [name], random_state=args.seed)[name]
    )


def fit_and_save(args, corpus, name, model_path, say, *, scores=None, how=None):
    """Fit method ``name`` on the whole corpus; write its model file and card.

    ``scores`` is the method's row of a comparison's summary, measured over
    the folds ``how`` describes (None: not measured).
    """
    from ..evaluation import model_card
    from ..io import save
    from ..utils._runtime import fit_threads

    model = make_method(args, corpus.modalities, name)
    X, y = corpus.data, np.asarray(corpus.target)
    start = time.perf_counter()
    with data_errors(args), fit_threads(args.threads):
        model.fit(X, y)
    seconds = time.perf_counter() - start
    manifest = save(
        model,
        model_path,
        X=X,
        y=y,
        method=name,
        threads=args.threads,
        recipe=extraction_recipe(args, corpus),
    )
    card = model_path.with_suffix(".card.md")
    text = model_card(
        model,
        manifest,
        y,
        corpus.groups,
        source=corpus.source,
        file_name=model_path.name,
        fit_seconds=seconds,
        random_state=args.seed,
        max_iter=args.epochs,
        device=getattr(args, "device", None),
        scores=scores,
        cv_description=how,
    )
    card.write_text(text, "utf-8")
    say(f"{name}: fitted in {seconds:.1f} s; wrote {model_path} and {card}")
    return model_path


def scores_with_intervals(corpus, table):
    """The scores of ``mmer predict``'s predictions on a labelled corpus, with
    95% intervals from a bootstrap over its speakers, as text."""
    from ..evaluation import bootstrap_scores

    scores = bootstrap_scores(
        table["emotion_labels"], table["predicted_label"], corpus.groups
    )
    lines = [
        f"scores on {len(table)} labelled utterances, 95% CI from a bootstrap over "
        f"{scores['n_speakers'].iloc[0]} speakers:"
    ]
    for row in scores.itertuples():
        interval = (
            ""
            if row.ci_low != row.ci_low
            else (f"  [{row.ci_low:.3f}, {row.ci_high:.3f}]")
        )
        lines.append(f"  {row.metric:<20} {row.score:.3f}{interval}")
    return "\n".join(lines)


# --- features from recordings -------------------------------------------------


def extracted_corpus(args, manifest, say, *, issues_csv):
    """The recordings of ``--input`` with the features the model file's recipe
    names, extracted as ``mmer extract`` does; the items that failed are
    written to ``issues_csv`` (an earlier list removed when none did)."""
    from ..extraction import extract_table

    if args.data is not None:
        raise UsageError("--input extracts features from recordings; not with --data")
    if not Path(args.input).is_file():
        raise UsageError(f"--input {args.input}: no such file")
    recipe = manifest.get("recipe")
    if not recipe:
        raise UsageError(
            f"--model {args.model}: the model was not fit on a corpus 'mmer "
            "extract' wrote, so it keeps no recipe to extract features with; "
            "extract them yourself and use --data"
        )
    bar = ExtractionProgress(say)
    try:
        corpus = extract_table(args.input, recipe, device=args.device, progress=bar)
    except (ValueError, ImportError, OSError) as error:
        if args.traceback:
            raise
        raise UsageError(f"--input {args.input}: {first_line(error)}") from None
    finally:
        bar.close()
    _list_issues(corpus.issues, issues_csv)
    if len(corpus.issues):
        print(
            f"mmer: {corpus.issues['id'].nunique()} utterances could not be "
            f"extracted (listed with the reasons in {issues_csv})",
            file=sys.stderr,
        )
    if corpus.data.shape[0] == 0:
        raise UsageError(f"--input {args.input}: no utterance could be extracted")
    corpus.source = str(Path(args.input))
    return corpus


class ExtractionProgress:
    """Files, audio hours and speed in times real time: a bar on a terminal,
    a line per tenth of the files otherwise; nothing with --quiet."""

    def __init__(self, say, *, stream=None):
        self.say = say
        self.stream = sys.stderr if stream is None else stream
        self.bar = None
        self.next_tenth = 1
        try:
            terminal = self.stream.isatty()
        except (AttributeError, ValueError):
            terminal = False
        self.terminal = terminal and not say.quiet
        self.started = time.perf_counter()

    def __call__(self, record):
        if self.say.quiet:
            return
        text = (
            f"{record['audio_seconds'] / 3600:.3f} h audio, "
            f"{record['speed']:.1f}x real time"
            + (f", {record['n_failed']} failed" if record["n_failed"] else "")
        )
        if self.terminal:
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(
                    total=record["n_total"],
                    unit="file",
                    file=self.stream,
                    dynamic_ncols=True,
                )
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(record["n_done"] - self.bar.n)
            return
        total = record["n_total"]
        if total and record["n_done"] * 10 >= self.next_tenth * total:
            while record["n_done"] * 10 >= self.next_tenth * total:
                self.next_tenth += 1
            self.say(f"extracted {record['n_done']}/{total} files, {text}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def reference_method(args, names):
    """The method of ``--reference``, early_fusion by default; None for none."""
    if args.reference is None:
        return "early_fusion" if "early_fusion" in names else None
    if args.reference not in names:
        raise UsageError(
            f"--reference {args.reference} is not among the compared methods "
            f"({', '.join(names)}); add it to --methods or choose one of them"
        )
    return args.reference
