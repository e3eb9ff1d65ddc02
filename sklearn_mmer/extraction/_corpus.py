"""From a table of recordings to a corpus: ``mmer extract`` as functions.

:func:`extract_corpus` reads a CSV of utterances (audio paths and/or texts,
speakers, labels), extracts each feature asked for and writes the
course-feature layout (``dataset.csv`` and ``.npy`` files) that
``load_feature_table``, ``mmer compare`` and ``mmer fit`` read, with the
extraction recipe in ``extraction.json`` beside it. Each utterance's files are
written as it finishes, so that a killed run resumes where it stopped.
:func:`extract_table` extracts the same way into memory, from a recipe, for a
model to predict from recordings.
"""

import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._audio import ExtractionError
from ._base import DEFAULT_COLUMNS
from ._recipe import (
    RECIPE_FILE,
    extractors_of,
    make_recipe,
    parse_features,
    read_recipe,
)

#: The file listing the items that could not be extracted.
ISSUES_FILE = "issues.csv"
#: Its columns: the utterance, its line in the input CSV, the modality, the
#: item (the file as the CSV names it, or the text), why, and more detail.
ISSUE_COLUMNS = ["id", "line", "modality", "file", "reason", "detail"]
#: The input CSV's columns with a meaning of their own.
UTTERANCE, SPEAKER, EMOTION = "utterance", "speaker", "emotion"
#: Items per task: fixed whatever n_jobs, so that results do not depend on it.
_BATCH = 16


# --- the input table ------------------------------------------------------------


def read_utterances(utterances):
    """The input table as a DataFrame indexed by utterance id, and its folder.

    Ids are the ``utterance`` column, else the stem of ``file``, else the row
    number (from 1); they must be distinct and usable as file names.
    """
    if isinstance(utterances, pd.DataFrame):
        table, folder = utterances.copy(), Path.cwd()
        where = "utterances"
    else:
        path = Path(utterances)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        table = table.replace("", np.nan)
        folder, where = path.resolve().parent, str(path)
    table.columns = [str(c).strip() for c in table.columns]
    if UTTERANCE in table:
        ids = table[UTTERANCE].astype(str)
    elif "file" in table:
        ids = table["file"].map(lambda f: Path(str(f)).stem)
    else:
        ids = pd.Series([str(i + 1) for i in range(len(table))])
    ids = [str(i) for i in ids]
    bad = [i for i in ids if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", i)]
    repeated = sorted({i for i in ids if ids.count(i) > 1}) if not bad else []
    if bad or repeated:
        raise ValueError(
            f"{where}: utterance ids must be distinct and usable as file names "
            f"(letters, digits, '_', '-', '.'); got {(bad or repeated)[:3]}: add "
            "an 'utterance' column of ids"
        )
    if SPEAKER not in table:
        raise ValueError(
            f"{where} has no 'speaker' column; each utterance needs its speaker "
            f"(columns: {', '.join(table.columns)})"
        )
    table.index = pd.Index(ids, name="id")
    return table, folder


def _items(table, name, extractor, where):
    column = DEFAULT_COLUMNS[extractor.input_kind]
    if column not in table:
        raise ValueError(
            f"the features {name!r} ({extractor.kind}) read the {column!r} column; "
            f"{where} has {', '.join(table.columns)}"
        )
    return [None if pd.isna(v) else v for v in table[column]]


def _durations(table, folder):
    """Each utterance's audio duration in seconds (0 where unknown)."""
    if "file" not in table:
        return np.zeros(len(table))
    try:
        import soundfile
    except ImportError:
        return np.zeros(len(table))
    seconds = []
    for item in table["file"]:
        try:
            info = soundfile.info(os.path.join(folder, str(item)))
            seconds.append(info.frames / info.samplerate)
        except Exception:  # unreadable: its issue is reported by extraction
            seconds.append(0.0)
    return np.asarray(seconds)


# --- extraction -----------------------------------------------------------------


def _extract_task(extractor, items):
    return extractor.extract(items)


def _run(table, folder, extractors, todo, *, n_jobs, progress, on_result):
    """Extract ``todo[name]`` (row positions) of each modality, calling
    ``on_result(name, row, frames_or_error)`` as each batch finishes, in order."""
    from joblib import Parallel, delayed

    tasks = []
    for name, extractor in extractors:
        extractor.set_params(root=os.fspath(folder))
        items = _items(table, name, extractor, "the input")
        rows = todo[name]
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            tasks.append((name, extractor, batch, [items[r] for r in batch]))
    remaining = {}
    for name, _ in extractors:
        for row in todo[name]:
            remaining[row] = remaining.get(row, 0) + 1
    durations = _durations(table, folder)
    state = {"n_done": 0, "n_failed": 0, "audio_seconds": 0.0}
    failed_rows = set()
    started = time.perf_counter()

    def report():
        if progress is not None:
            seconds = time.perf_counter() - started
            progress(
                {
                    **state,
                    "n_total": len(remaining),
                    "seconds": seconds,
                    "speed": state["audio_seconds"] / seconds if seconds else 0.0,
                }
            )

    report()
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_extract_task)(extractor, items) for _, extractor, _, items in tasks
    )
    for (name, _, batch, _), results in zip(tasks, outputs):
        for row, result in zip(batch, results):
            on_result(name, row, result)
            if isinstance(result, ExtractionError):
                failed_rows.add(row)
            remaining[row] -= 1
            if remaining[row] == 0:
                state["n_done"] += 1
                state["n_failed"] += row in failed_rows
                state["audio_seconds"] += float(durations[row])
        report()
    return state


def _issue(table, row, name, item, error):
    return {
        "id": table.index[row],
        "line": row + 2,  # the header is line 1
        "modality": name,
        "file": "" if item is None else str(item),
        "reason": error.reason,
        "detail": error.detail,
    }


def extract_corpus(
    utterances,
    out,
    features,
    *,
    resume=False,
    n_jobs=1,
    device="cpu",
    cache=None,
    progress=None,
):
    """Extract features from a table of recordings and write a corpus.

    Writes, in ``out``, the course-feature layout that
    :func:`~sklearn_mmer.datasets.load_feature_table` (and ``mmer compare``,
    ``mmer fit``) read: ``dataset.csv`` and one ``.npy`` file per utterance
    and modality under ``features/<modality>_features/``, with the recipe
    (:func:`read_recipe`) in ``extraction.json`` and the items that could not
    be extracted in ``issues.csv``. Each file is written as its utterance
    finishes, so that after a killed run ``resume=True`` extracts only what is
    missing. ``dataset.csv`` lists the utterances every feature was extracted
    from; it is written at the end.

    Parameters
    ----------
    utterances : str, path-like or DataFrame
        A CSV (or its table) with ``file`` (an audio path, relative to the
        CSV's folder) and/or ``text``, a ``speaker`` column, optionally
        ``emotion`` (the label; absent for unlabelled data) and ``utterance``
        (an id: else the file's name without its suffix, else the row number
        from 1). Every other column (session, content...) is carried over to
        ``dataset.csv``.
    out : str or path-like
        The corpus folder to write (created if needed).
    features : list of str, or dict
        ``[NAME=]KIND[:PATH]`` strings (``"mfcc"``,
        ``"acoustic=encoder:/models/wavlm-base"``): the modality is named
        ``KIND`` unless ``NAME=`` is given; or a dict of modality names to
        such specs or to extractors.
    resume : bool, default=False
        Continue a run that stopped: the features and recipe must be the
        ones ``out`` was started with, and only the missing files are
        extracted. Without it, a folder that already holds a corpus is
        refused.
    n_jobs : int, default=1
        Batches of items extracted at a time (joblib); the results are the
        same whatever ``n_jobs``.
    device : str, default="cpu"
        Where encoders run (``"cpu"``, ``"cuda"``).
    cache : str or path-like, default=None
        A cache folder of extracted frames shared across runs (see
        :class:`BaseExtractor`); none when None.
    progress : callable, default=None
        Called with a dict after each batch: ``n_done``, ``n_total``
        (utterances of this run), ``n_failed``, ``audio_seconds``, ``seconds``
        and ``speed`` (audio seconds per second of wall time).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``csv_path`` (the ``dataset.csv`` written), ``recipe``,
        ``issues`` (a DataFrame, one row per item that failed: ``id``,
        ``line`` in the input CSV, ``modality``, ``file``, ``reason`` and
        ``detail``), ``n_utterances`` (in the input), ``n_extracted`` (in
        ``dataset.csv``), ``n_resumed`` (already done by an earlier run) and
        the progress dict's ``audio_seconds`` and ``seconds`` of this run.

    Raises
    ------
    ValueError
        For a bad table (no speaker column, ids that repeat or cannot name a
        file, no column a feature reads), a bad feature, a folder that holds
        another extraction (or, with ``resume``, none or another recipe).

    See Also
    --------
    extract_table : The same extraction into memory, from a recipe.
    read_recipe : The recipe of a corpus.
    sklearn_mmer.datasets.load_feature_table : Reads the corpus.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd, soundfile
    >>> from sklearn_mmer.datasets import load_feature_table
    >>> from sklearn_mmer.extraction import extract_corpus
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> for i in range(4):
    ...     soundfile.write(os.path.join(folder, f"u{i}.wav"),
    ...                     0.1 * rng.standard_normal(8000), 16000)
    >>> table = pd.DataFrame({"file": [f"u{i}.wav" for i in range(4)],
    ...                       "speaker": ["a", "a", "b", "b"],
    ...                       "emotion": ["anger", "neutral"] * 2})
    >>> table.to_csv(os.path.join(folder, "utterances.csv"), index=False)
    >>> result = extract_corpus(os.path.join(folder, "utterances.csv"),
    ...                         os.path.join(folder, "corpus"), ["mfcc"])
    >>> result.n_extracted, len(result.issues)
    (4, 0)
    >>> corpus = load_feature_table(os.path.join(folder, "corpus"))
    >>> corpus.modalities, corpus.data["mfcc"].iloc[0].shape
    (['mfcc'], (51, 13))
    """
    from ..datasets import write_feature_index, write_feature_row

    table, folder = read_utterances(utterances)
    extractors, entries = parse_features(features)
    for name, extractor in extractors:
        extractor.set_params(device=device, cache=cache)
        _items(table, name, extractor, "the input")
    recipe = make_recipe(entries)
    out = Path(out)
    recipe_path = out / RECIPE_FILE
    _check_folder(out, recipe_path, recipe, resume)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(recipe_path, {**recipe, "input": _input_name(utterances)})

    names = [name for name, _ in extractors]
    done = {
        name: [
            (out / "features" / f"{name}_features" / f"{uid}.npy").is_file()
            for uid in table.index
        ]
        for name in names
    }
    todo = {name: [r for r, ok in enumerate(done[name]) if not ok] for name in names}
    n_resumed = sum(all(done[n][r] for n in names) for r in range(len(table)))
    issues = []

    def on_result(name, row, result):
        if isinstance(result, ExtractionError):
            item = _items(table, name, dict(extractors)[name], "")[row]
            issues.append(_issue(table, row, name, item, result))
        else:
            write_feature_row(out, table.index[row], {name: result})
            done[name][row] = True

    state = _run(
        table,
        folder,
        extractors,
        todo,
        n_jobs=n_jobs,
        progress=progress,
        on_result=on_result,
    )
    issues = pd.DataFrame(issues, columns=ISSUE_COLUMNS)
    issues = issues.sort_values(["line", "modality"], kind="stable")
    kept = [r for r in range(len(table)) if all(done[n][r] for n in names)]
    rows = table.iloc[kept]
    files = pd.DataFrame(
        {n: [f"/features/{n}_features/{uid}.npy" for uid in rows.index] for n in names},
        index=rows.index,
    )
    carried = [c for c in table.columns if c not in (UTTERANCE, SPEAKER, EMOTION)]
    csv_path = write_feature_index(
        out,
        files,
        rows[SPEAKER].tolist(),
        labels=(
            None
            if EMOTION not in table
            else ["" if pd.isna(v) else v for v in rows[EMOTION]]
        ),
        columns=rows[carried].fillna("").reset_index(drop=True),
        overwrite=True,
    )
    if len(issues):
        issues.to_csv(out / ISSUES_FILE, index=False)
    else:
        (out / ISSUES_FILE).unlink(missing_ok=True)
    summary = {
        "n_utterances": len(table),
        "n_extracted": len(kept),
        "n_failed": int(issues["id"].nunique()) if len(issues) else 0,
    }
    _write_json(
        recipe_path, {**recipe, "input": _input_name(utterances), "summary": summary}
    )
    return Bunch(
        csv_path=csv_path,
        recipe=recipe,
        issues=issues.reset_index(drop=True),
        n_utterances=len(table),
        n_extracted=len(kept),
        n_resumed=n_resumed,
        audio_seconds=state["audio_seconds"],
        seconds=state.get("seconds", 0.0),
    )


def _input_name(utterances):
    if isinstance(utterances, pd.DataFrame):
        return None
    return os.path.abspath(os.fspath(utterances))


def _write_json(path, value):
    temporary = path.with_name(f".part-{path.name}")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(temporary, path)


def _check_folder(out, recipe_path, recipe, resume):
    """Refuse a folder holding another run, or (resuming) none or another one."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: exists and is not a folder")
    if resume:
        if not recipe_path.is_file():
            raise ValueError(
                f"{out}: nothing to resume ({RECIPE_FILE} is not there); run "
                "without resume to start"
            )
        before = read_recipe(out)
        if before["features"] != recipe["features"]:
            was = ", ".join(f"{e['name']}={e['spec']}" for e in before["features"])
            now = ", ".join(f"{e['name']}={e['spec']}" for e in recipe["features"])
            same = was == now
            raise ValueError(
                f"{out} was started with the features {was}"
                + (" and other parameters or library versions" if same else "")
                + f"; this run asks for {now}: resume with the same features, "
                "or extract into another folder"
            )
        return
    if recipe_path.exists() or (out / "dataset.csv").exists():
        raise ValueError(
            f"{out} already holds a corpus; resume it, or extract into another folder"
        )


def extract_table(utterances, recipe, *, n_jobs=1, device="cpu", progress=None):
    """Extract the features of a recipe from a table of recordings, in memory.

    What a model fit on a corpus of :func:`extract_corpus` needs to predict
    from recordings: the extractors are rebuilt from ``recipe`` (see
    :func:`read_recipe`; a model file keeps it in its manifest) and checked
    to still give the same features: a model folder whose files changed since
    (another fingerprint) is refused.

    Parameters
    ----------
    utterances : str, path-like or DataFrame
        As in :func:`extract_corpus`; ``emotion`` is optional.
    recipe : dict
        An extraction recipe.
    n_jobs : int, default=1
        Batches extracted at a time.
    device : str, default="cpu"
        Where encoders run.
    progress : callable, default=None
        As in :func:`extract_corpus`.

    Returns
    -------
    corpus : :class:`~sklearn.utils.Bunch`
        With ``data`` (a DataFrame indexed by utterance id: one column of
        frame cells per modality, and ``speaker``), ``target`` (the labels,
        or None without an ``emotion`` column), ``groups`` (the speakers),
        ``modalities`` and ``issues`` (as in :func:`extract_corpus`); rows
        with an item that failed are left out of ``data``.

    Raises
    ------
    ValueError
        For a bad table, or a recipe whose model folder changed.

    See Also
    --------
    extract_corpus : Writes a corpus instead.
    read_recipe : The recipe of a corpus.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd, soundfile
    >>> from sklearn_mmer.extraction import extract_corpus, extract_table, read_recipe
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "a.wav")
    >>> soundfile.write(path,
    ...                 0.1 * np.random.default_rng(0).standard_normal(8000), 16000)
    >>> table = pd.DataFrame({"file": [path], "speaker": ["s1"]})
    >>> _ = extract_corpus(table, os.path.join(folder, "corpus"), ["mfcc"])
    >>> recipe = read_recipe(os.path.join(folder, "corpus"))
    >>> corpus = extract_table(table, recipe)
    >>> corpus.data["mfcc"].iloc[0].shape, corpus.target is None
    ((51, 13), True)
    """
    table, folder = read_utterances(utterances)
    extractors = extractors_of(recipe, device=device)
    names = [name for name, _ in extractors]
    for name, extractor in extractors:
        _items(table, name, extractor, "the input")
    cells = {name: [None] * len(table) for name in names}
    issues = []

    def on_result(name, row, result):
        if isinstance(result, ExtractionError):
            item = _items(table, name, dict(extractors)[name], "")[row]
            issues.append(_issue(table, row, name, item, result))
        else:
            cells[name][row] = result

    todo = {name: list(range(len(table))) for name in names}
    _run(
        table,
        folder,
        extractors,
        todo,
        n_jobs=n_jobs,
        progress=progress,
        on_result=on_result,
    )
    kept = [r for r in range(len(table)) if all(cells[n][r] is not None for n in names)]
    index = table.index[kept]
    X = pd.DataFrame(
        {
            n: pd.Series([cells[n][r] for r in kept], index=index, dtype=object)
            for n in names
        },
        index=index,
    )
    X[SPEAKER] = table[SPEAKER].iloc[kept].astype(str).to_numpy()
    y = None
    if EMOTION in table:
        y = table[EMOTION].iloc[kept].to_numpy(dtype=object)
    issues = pd.DataFrame(issues, columns=ISSUE_COLUMNS)
    return Bunch(
        data=X,
        target=y,
        groups=X[SPEAKER].to_numpy(dtype=object),
        modalities=names,
        issues=issues.sort_values(["line", "modality"], kind="stable").reset_index(
            drop=True
        ),
    )
