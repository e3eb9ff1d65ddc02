"""Loading a corpus in the course-feature layout: dataset.csv and .npy files."""

import os
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._columns import SESSION, SPEAKER
from ..utils._modalities import check_modalities
from ..utils._sessions import parse_sessions
from ..utils._sklearn_compat import StrOptions, validate_params
from ._base import ISSUE_COLUMNS, CorpusIssuesWarning, empty_issues
from ._sources import CSV_NAME, Fault, open_source

ID_COLUMN, SPEAKER_COLUMN, LABEL_COLUMN = "file_name_list", "speakers", "emotion_labels"
FEATURE_SUFFIX = "_features"


def _select_modalities(columns, modalities):
    available = [
        c[: -len(FEATURE_SUFFIX)] for c in columns if c.endswith(FEATURE_SUFFIX)
    ]
    if not available:
        raise ValueError(
            f"{CSV_NAME} has no '<modality>{FEATURE_SUFFIX}' column; its columns are "
            f"{list(columns)}"
        )
    if modalities is None:
        return available
    modalities = check_modalities(modalities)
    chosen = [
        m[: -len(FEATURE_SUFFIX)] if m.endswith(FEATURE_SUFFIX) else m
        for m in modalities
    ]
    unknown = [m for m in chosen if m not in available]
    if unknown or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"modalities={list(modalities)!r} must name distinct modalities of the "
            f"corpus; {CSV_NAME} has {available}"
        )
    return chosen


def _parse_label(text, target_names):
    if text in target_names:
        return text
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and 0 <= number < len(target_names):
        return target_names[int(number)]
    raise Fault(
        "unknown label",
        f"{text!r}; expected one of {list(target_names)} or an int "
        f"0..{len(target_names) - 1}",
    )


def _summary(kept, n_rows, faults, errors):
    kinds = Counter(kind for _, _, kind, _ in faults)
    detail = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
    dropped = n_rows - kept
    if errors == "keep":
        head = (
            f"kept {kept} of {n_rows} utterances, {len(faults)} faults ({detail}); "
            f"faulty files are None, and {dropped} rows with a faulty id, speaker "
            "or label were skipped"
        )
    else:
        head = f"skipped {dropped} of {n_rows} utterances ({detail})"
    return f"load_feature_table: {head}; see the Bunch's issues table"


@validate_params(
    {
        "path": [str, os.PathLike],
        "modalities": ["array-like", str, None],
        "target_names": ["array-like"],
        "errors": [StrOptions({"skip", "raise", "keep"})],
        "return_X_y": ["boolean"],
        "require_labels": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_feature_table(
    path,
    *,
    modalities=None,
    target_names=("anger", "sadness", "happiness", "neutral"),
    errors="skip",
    return_X_y=False,
    require_labels=True,
):
    """Load a corpus in the course-feature layout (``dataset.csv`` + ``.npy`` files).

    The CSV has the columns ``file_name_list`` (utterance ids), ``speakers``,
    one ``<modality>_features`` column per modality (any number of them) and
    ``emotion_labels``; other columns are ignored. Each feature cell names a
    ``.npy`` file holding ``(T, d)`` frames or a ``(d,)`` vector.

    **Paths** are resolved against the corpus root: the folder holding
    ``dataset.csv``, or, in a ``.zip``, the folder of the archive that holds it.
    ``/features/visual_features/Session1/Ses01F_impro01_F001.npy`` thus reads
    ``<root>/features/...``; a leading ``/`` means the root, and ``\\`` is read
    as ``/``. A path that leaves the root once ``..`` are resolved
    (``../x.npy``, ``/../../etc/passwd``), that carries a drive letter, or that
    reaches outside the root through a symbolic link is a fault and is never
    read. For folder corpora only, a path starting with ``/`` that names no
    file under the root is also tried as an absolute path of this machine: it
    is read if it lies inside the root (a CSV written with absolute paths) and
    is a fault if it lies outside.

    **Safety and memory**: files are read with ``allow_pickle=False`` (always),
    archives are read in place and never extracted, and each file is read once
    into a float32 array that the returned DataFrame holds: no second copy of
    the frames is kept.

    **Faults** are never crashed on and never lost silently. Per file: no path
    given, a missing file, an unreadable or truncated ``.npy``, a file that
    would need unpickling (an object array or a pickle), another format (such
    as ``.npz``), a non-numeric dtype, a shape
    other than ``(T, d)`` or ``(d,)``, an empty sequence, NaN or inf values, a
    path escaping the root, and a feature width other than the modality's most
    common one (the expected width; ties go to the earliest file). Per row: an
    empty id or speaker, an id seen before (the first occurrence is kept), and
    an unknown label. Each fault's ``reason`` in ``issues`` starts with its
    kind (``"file not found"``, ``"NaN or inf values"``, ...) and names the
    file or the CSV line.

    Parameters
    ----------
    path : str or path-like
        A folder holding ``dataset.csv``, the CSV file itself, or a ``.zip``
        holding the CSV and the features (``dataset.csv`` at its root or in one
        top folder).
    modalities : list of str or None, default=None
        Modalities to load, by name (``"visual"``) or column
        (``"visual_features"``); None loads every ``*_features`` column, in
        the CSV's order.
    target_names : sequence of str, default=("anger", "sadness", "happiness", \
            "neutral")
        Emotion names. An int label ``k`` means ``target_names[k]``; a string
        label must be one of them; any other label is a fault.
    errors : {"skip", "raise", "keep"}, default="skip"
        What a fault does. ``"skip"`` drops the utterance and records every
        fault of it in ``issues``. ``"raise"`` raises a ValueError naming the
        file (or the CSV line) at the first fault found while reading;
        width faults are found once every file is read. ``"keep"`` keeps the
        utterance with the faulty modality as None (recorded in ``issues``);
        rows with a faulty id, speaker or label are still skipped, having no
        usable id or label. A :class:`CorpusIssuesWarning` summarises the
        faults whenever there are any.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch, as scikit-learn's dataset
        functions do; the speakers are ``X["speaker"]``.
    require_labels : bool, default=True
        Whether the CSV must have ``emotion_labels``. With False, a CSV
        without that column loads with ``target`` (y) None: new utterances
        for a fitted model to predict. A CSV that has the column is read
        (and its labels checked) either way.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields ``data`` (DataFrame X indexed by utterance id: one column
        of float32 cells per modality, a ``speaker`` column and, when sessions
        parse, a ``session`` column), ``target`` (label names), ``groups``
        (speakers), ``target_names``, ``sessions`` (ints parsed from the ids,
        ``Ses01F_...`` -> 1, or from the speakers, when every one parses;
        else None), ``modalities``, ``issues`` (DataFrame with columns ``id``,
        ``modality`` (None for row faults) and ``reason``) and ``DESCR``.
    (X, y) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the CSV lacks a required column, ``modalities`` names an absent
        one, or (with ``errors="raise"``) at the first fault.

    See Also
    --------
    write_feature_table : Writes a corpus in this layout.
    make_multimodal_emotion : A synthetic corpus that needs no files.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_mmer.datasets import (
    ...     load_feature_table, make_multimodal_emotion, write_feature_table)
    >>> X, y = make_multimodal_emotion(
    ...     20, n_speakers=2, n_sessions=1,
    ...     modalities={"acoustic": 4, "lexical": 3}, random_state=0,
    ...     return_X_y=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = write_feature_table(X, y, folder)
    ...     corpus = load_feature_table(folder)
    >>> corpus.modalities, corpus.data.shape, len(corpus.issues)
    (['acoustic', 'lexical'], (20, 4), 0)
    >>> corpus.data.index[0], int(corpus.sessions[0])
    ('Ses01F_impro01_F000', 1)
    """
    target_names = [str(t) for t in target_names]
    if not target_names or len(set(target_names)) != len(target_names):
        raise ValueError(
            f"target_names must be distinct emotion names; got {target_names}"
        )
    source = open_source(path)
    try:
        return _load(
            source,
            os.fspath(path),
            modalities,
            target_names,
            errors,
            return_X_y,
            require_labels,
        )
    finally:
        source.close()


def _load(source, path, modalities, target_names, errors, return_X_y, require_labels):
    table = source.read_csv(dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.columns = [str(c).strip() for c in table.columns]
    required = (ID_COLUMN, SPEAKER_COLUMN, LABEL_COLUMN)
    if not require_labels:
        required = required[:2]
    missing = [c for c in required if c not in table]
    if missing:
        raise ValueError(
            f"{CSV_NAME} lacks the column(s) {missing}; the course-feature layout "
            f"needs {ID_COLUMN}, {SPEAKER_COLUMN}, <modality>{FEATURE_SUFFIX} ..., "
            f"{LABEL_COLUMN}; it has {list(table.columns)}"
        )
    modalities = _select_modalities(table.columns, modalities)
    ids = [v.strip() for v in table[ID_COLUMN]]
    speakers = [v.strip() for v in table[SPEAKER_COLUMN]]
    labels = None
    if LABEL_COLUMN in table:
        labels = [v.strip() for v in table[LABEL_COLUMN]]
    paths = {m: list(table[m + FEATURE_SUFFIX]) for m in modalities}
    n_rows = len(table)
    del table

    faults = []  # (row, modality or None, kind, reason)

    def record(row, modality, fault, where):
        if errors == "raise":
            raise ValueError(f"{where}: {fault.reason}")
        faults.append((row, modality, fault.kind, fault.reason))

    first_row_of = {}
    names = [None] * n_rows
    row_ok = np.ones(n_rows, dtype=bool)
    cells = {m: [None] * n_rows for m in modalities}
    for row in range(n_rows):
        line = f"{CSV_NAME} line {row + 2} (id {ids[row]!r})"
        try:
            if not ids[row]:
                raise Fault(f"empty {ID_COLUMN}")
            if not speakers[row]:
                raise Fault(f"empty {SPEAKER_COLUMN}")
            if ids[row] in first_row_of:
                raise Fault(
                    "duplicate id",
                    f"first at {CSV_NAME} line {first_row_of[ids[row]] + 2}",
                )
            if labels is not None:
                names[row] = _parse_label(labels[row], target_names)
        except Fault as fault:
            record(row, None, fault, line)
            row_ok[row] = False
            continue
        first_row_of[ids[row]] = row
        for modality in modalities:
            cell = paths[modality][row]
            try:
                cells[modality][row] = source.load(cell)
            except Fault as fault:
                record(row, modality, fault, f"{cell.strip() or line}")
                if errors == "skip":
                    row_ok[row] = False

    for modality in modalities:
        column = cells[modality]
        widths = Counter(a.shape[-1] for a in column if a is not None)
        if not widths:
            continue
        expected = widths.most_common(1)[0][0]
        for row, array in enumerate(column):
            if array is not None and array.shape[-1] != expected:
                column[row] = None
                fault = Fault(
                    "wrong feature width",
                    f"{array.shape[-1]}, but most {modality} files have "
                    f"{expected}: {paths[modality][row].strip()}",
                )
                record(row, modality, fault, paths[modality][row].strip())
                if errors == "skip":
                    row_ok[row] = False

    kept = np.flatnonzero(row_ok)
    data = {}
    for modality in modalities:
        column = np.empty(len(kept), dtype=object)
        for i, row in enumerate(kept):
            column[i] = cells[modality][row]  # item by item: never stacked
        data[modality] = column
        cells[modality] = None
    index = pd.Index([ids[r] for r in kept], name="id")
    X = pd.DataFrame(data, index=index)
    groups = np.asarray([speakers[r] for r in kept], dtype=object)
    X[SPEAKER] = groups
    sessions = parse_sessions(list(index), list(groups))
    if sessions is not None:
        X[SESSION] = sessions
    y = None if labels is None else np.asarray([names[r] for r in kept], dtype=object)

    faults.sort(key=lambda f: f[0])
    issues = empty_issues()
    if faults:
        issues = pd.DataFrame(
            [(ids[row], m, reason) for row, m, _, reason in faults],
            columns=ISSUE_COLUMNS,
            dtype=object,
        )
        warnings.warn(
            _summary(len(kept), n_rows, faults, errors),
            CorpusIssuesWarning,
            # the caller's line: past _load, load_feature_table, validate_params
            stacklevel=4,
        )
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        groups=groups,
        target_names=target_names,
        sessions=sessions,
        modalities=modalities,
        issues=issues,
        DESCR=_describe(path, X, y, modalities, target_names, n_rows, len(faults)),
    )


def _describe(path, X, y, modalities, target_names, n_rows, n_faults):
    counts = Counter([] if y is None else y)
    shapes = []
    for m in modalities:
        present = [a for a in X[m] if a is not None]
        width = present[0].shape[-1] if present else "?"
        kind = "frames" if any(a.ndim == 2 for a in present) else "vectors"
        shapes.append(f"{m} ({kind}, d={width})")
    return (
        f"Corpus in the course-feature layout, loaded from {path}\n\n"
        f"Utterances: {len(X)} of {n_rows} rows; speakers: {X['speaker'].nunique()}.\n"
        f"Classes: {', '.join(f'{c} {counts.get(c, 0)}' for c in target_names)}.\n"
        f"Modalities: {', '.join(shapes)}.\n"
        f"Faults recorded in issues: {n_faults}.\n"
    )
