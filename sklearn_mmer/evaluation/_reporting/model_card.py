"""From a comparison to a kept model: which method to keep, and its card.

:func:`best_inductive_method` reads a comparison's summary and names the
method to refit on all the data (``mmer compare --save-model``);
:func:`model_card` writes the Markdown card that goes beside a model file
(``mmer fit``): what was trained, on what, with which parameters, and how well
it did under cross-validation.
"""

import time
import warnings
from datetime import timezone

import numpy as np

from ...methods import registered_methods


def best_inductive_method(summary, modalities=(), *, metric="f1_micro"):
    """The method with the best mean score that is not transductive.

    A transductive method (``early_fusion_speaker_norm``, ...) reads the test
    speakers' unlabelled features at prediction time, so its cross-validated
    score is not what a model applied to one new utterance gets: it is left
    out, as are methods whose every fit failed (a NaN mean).

    Parameters
    ----------
    summary : DataFrame
        One row per method with ``method`` and ``<metric>_mean`` columns, as
        ``compare_methods(...).summary``.
    modalities : list of str, default=()
        The corpus's modalities: each is a method of its own (the modality
        alone), always inductive.
    metric : str, default="f1_micro"
        The metric whose mean ranks the methods (highest first; ties keep the
        summary's order).

    Returns
    -------
    name : str
        The best inductive method. A name that is neither a modality nor a
        registered method counts as inductive.

    Raises
    ------
    ValueError
        When no inductive method has a score.

    See Also
    --------
    compare_methods : Returns the summary.
    registered_methods : Says which methods are transductive.
    model_card : The card of the method, once refit and saved.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mmer.evaluation import best_inductive_method
    >>> summary = pd.DataFrame({
    ...     "method": ["early_fusion_speaker_norm", "early_fusion", "lexical"],
    ...     "f1_micro_mean": [0.71, 0.67, 0.62]})
    >>> best_inductive_method(summary, ["visual", "acoustic", "lexical"])
    'early_fusion'
    """
    column = f"{metric}_mean"
    if column not in summary:
        raise ValueError(
            f"summary has no {column!r} column; its columns are {list(summary.columns)}"
        )
    registry = registered_methods()
    ranked = summary.dropna(subset=[column]).sort_values(
        column, ascending=False, kind="stable"
    )
    for name in ranked["method"]:
        method = registry.get(name)
        if name in modalities or method is None or not method.transductive:
            return name
    raise ValueError(
        f"no inductive method has a {metric} score among "
        f"{', '.join(map(str, summary['method']))}"
    )


def model_card(
    model,
    manifest,
    y,
    groups,
    *,
    source="",
    file_name=None,
    fit_seconds=None,
    random_state=None,
    max_iter=None,
    device=None,
    scores=None,
    cv_description=None,
    trained_at=None,
    max_epochs="deprecated",
):
    """The model card of a saved model, as Markdown.

    The card says what was trained (the method and its description, the
    estimator, the model file's format, when, how long, the seed, the epochs
    and threads, the versions), on what (the data's source, utterances,
    speakers and fingerprint; the classes, modalities with their feature
    widths and speakers with their number of utterances), every parameter,
    whether the method is transductive, how its features were extracted from
    recordings (when the manifest keeps the recipe), and its cross-validated
    scores.

    Parameters
    ----------
    model : estimator
        The fitted model, for its parameters.
    manifest : dict
        The model file's manifest, as :func:`sklearn_mmer.save` returns it or
        :func:`sklearn_mmer.io.read_manifest` reads it: the method, estimator,
        format version, versions, threads, modalities and fingerprint come
        from it.
    y : array-like of shape (n_samples,)
        The training labels.
    groups : array-like of shape (n_samples,)
        The training utterances' speakers.
    source : str, default=""
        Where the data came from (a path, "bundled synthetic corpus, ...").
    file_name : str or None, default=None
        The model file's name, as the card refers to it.
    fit_seconds : float or None, default=None
        How long the final fit took.
    random_state : int or None, default=None
        The seed the model was fitted with.
    max_iter : int or None, default=None
        The ``max_iter`` (epochs) every network was given, when it was
        overridden.
    device : str or None, default=None
        The device the networks were trained on (``mmer fit --device``),
        recorded as is; None leaves it out.
    scores : Series or None, default=None
        The method's row of a comparison's summary (``<metric>_mean`` and
        ``<metric>_std`` for each metric); None says the scores were not
        measured.
    cv_description : str or None, default=None
        How the scores were measured ("5 speaker folds").
    trained_at : datetime or None, default=None
        When the model was trained; None is now.
    max_epochs : int or None
        Deprecated, use ``max_iter``.

        .. deprecated:: 0.1
           Renamed ``max_iter``, as the networks' parameter; removed in 0.2.

    Returns
    -------
    card : str
        The card's Markdown text, ending with a newline.

    See Also
    --------
    sklearn_mmer.save : Writes the model file and returns its manifest.
    best_inductive_method : Which compared method to refit and save.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer import save
    >>> from sklearn_mmer.datasets import make_multimodal_emotion
    >>> from sklearn_mmer.evaluation import model_card
    >>> from sklearn_mmer.fusion import make_modality_pipeline
    >>> corpus = make_multimodal_emotion(
    ...     40, n_speakers=4, n_sessions=2, modalities={"lexical": 4},
    ...     random_state=0)
    >>> X, y = corpus.data, corpus.target
    >>> model = make_modality_pipeline(
    ...     "lexical", classifier=LogisticRegression()).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = save(model, Path(folder) / "m.mmer", X=X, y=y,
    ...                     method="lexical")
    >>> card = model_card(model, manifest, y, corpus.groups, source="synthetic")
    >>> print(card.splitlines()[0])
    # Model card: lexical
    >>> print(card.splitlines()[-1])
    Not measured.
    """
    if not (isinstance(max_epochs, str) and max_epochs == "deprecated"):
        warnings.warn(
            "model_card's parameter `max_epochs` was renamed `max_iter` in 0.1 "
            f"and will be removed in 0.2; use model_card(..., max_iter={max_epochs!r})",
            FutureWarning,
            stacklevel=2,
        )
        max_iter = max_epochs
    method_name = manifest.get("method") or type(model).__name__
    method = registered_methods().get(method_name)
    widths = manifest.get("modalities") or {}
    versions = manifest["versions"]
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    speakers, per_speaker = np.unique(np.asarray(groups), return_counts=True)
    if method is not None:
        description = f": {method.description}"
    elif method_name in widths:
        description = ": one modality alone"
    else:
        description = ""
    lines = [
        f"# Model card: {method_name}",
        "",
        f"- Method: `{method_name}`{description}",
        f"- Estimator: `{manifest['estimator']}`",
        "- Model file: "
        + (f"`{file_name}`, format " if file_name else "format ")
        + f"{manifest['format_version']}",
        f"- Trained: {_when(trained_at)}"
        + ("" if fit_seconds is None else f" in {fit_seconds:.1f} s")
        + ("" if random_state is None else f", seed {random_state}")
        + (f", max_iter {max_iter}" if max_iter else "")
        + (f", on {device}" if device else "")
        + (
            ""
            if manifest.get("threads") is None
            else f", {manifest['threads']} threads"
        ),
        "- Versions: "
        + ", ".join(f"{name} {versions[name]}" for name in sorted(versions)),
        f"- Data: {source}{'; ' if source else ''}{len(y)} utterances, "
        f"{len(speakers)} speakers"
        + (
            f"; fingerprint `{manifest['fingerprint'][:16]}`"
            if manifest.get("fingerprint")
            else ""
        ),
    ]
    if method is not None and method.transductive:
        lines.append(
            "- Transductive: normalises each speaker with that speaker's own "
            "(unlabelled) features, at prediction time too"
        )
    lines += ["", "## Classes", "", "| class | utterances |", "|---|---:|"]
    lines += [f"| {c} | {n} |" for c, n in zip(classes, counts)]
    lines += ["", "## Modalities", "", "| modality | feature width |", "|---|---:|"]
    lines += [f"| {m} | {w} |" for m, w in widths.items()]
    lines += ["", "## Speakers", "", "| speaker | utterances |", "|---|---:|"]
    lines += [f"| {s} | {n} |" for s, n in zip(speakers, per_speaker)]
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    for name, value in sorted(model.get_params(deep=True).items()):
        if not hasattr(value, "get_params") and not _is_step_list(value):
            lines.append(f"| `{name}` | `{_param_text(value)}` |")
    lines += _recipe_section(manifest.get("recipe"))
    lines += _scores_section(scores, cv_description)
    return "\n".join(lines) + "\n"


def _recipe_section(recipe):
    """How the features were extracted from recordings, when the file says."""
    if not recipe:
        return []
    lines = [
        "",
        "## Feature extraction",
        "",
        "Extracted from recordings with `mmer extract`; `mmer predict --input` "
        "extracts the same features from new ones.",
        "",
        "| modality | extractor | parameters | model fingerprint | versions |",
        "|---|---|---|---|---|",
    ]
    for entry in recipe.get("features", []):
        made = entry.get("recipe", {})
        parameters = ", ".join(
            f"{k}={v}" for k, v in sorted(made.get("parameters", {}).items())
        )
        versions = ", ".join(
            f"{k} {v}" for k, v in sorted(made.get("versions", {}).items())
        )
        fingerprint = made.get("model_fingerprint")
        lines.append(
            f"| {entry.get('name')} | `{entry.get('spec')}` | {parameters} | "
            + (f"`{fingerprint[:16]}`" if fingerprint else "")
            + f" | {versions} |"
        )
    return lines


def _when(trained_at):
    """``2025-06-02 14:03 UTC`` (a naive datetime is written as given)."""
    if trained_at is None:
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if trained_at.utcoffset() is None:
        return trained_at.strftime("%Y-%m-%d %H:%M")
    return trained_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _param_text(value):
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__name__', '')}"
    return repr(value).replace("|", "\\|")


def _is_step_list(value):
    return isinstance(value, list) and any(isinstance(v, tuple) for v in value)


def _scores_section(scores, how):
    """The cross-validated scores: each metric's mean and std, or "Not measured"."""
    title = "## Cross-validated scores" + (f" ({how})" if how else "")
    if scores is None:
        return ["", title, "", "Not measured."]
    metrics = [k[: -len("_mean")] for k in scores.index if k.endswith("_mean")]
    lines = ["", title, "", "| metric | mean | std |", "|---|---:|---:|"]
    lines += [
        f"| {m} | {scores[f'{m}_mean']:.3f} | {scores[f'{m}_std']:.3f} |"
        for m in metrics
    ]
    return lines
