"""Loading a corpus in the course-feature layout: dataset.csv and .npy files."""

import os
import unicodedata
from collections import Counter
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._data import (
    CONTENT,
    METADATA_COLUMNS,
    SESSION,
    SPEAKER,
    check_modalities,
    parse_sessions,
)
from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._limits import DEFAULT_MAX_MEMBER_BYTES, DEFAULT_MAX_TOTAL_BYTES
from ._rows import (
    FEATURE_SUFFIX,
    ID_COLUMN,
    LABEL_COLUMN,
    SPEAKER_COLUMN,
    Rows,
)
from ._sources import CSV_NAME, open_source

# dataset.csv's optional columns of content ids: ``content`` (kept as
# written), else ``transcript`` (normalised); either becomes X's CONTENT
CONTENT_COLUMN, TRANSCRIPT_COLUMN = "content", "transcript"


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
        return _not_reserved(available)
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
    return _not_reserved(chosen)


def _not_reserved(modalities):
    """Refuse a modality that would take the name of a metadata column of X."""
    for name in modalities:
        if name in METADATA_COLUMNS:
            raise ValueError(
                f"{CSV_NAME} column '{name}{FEATURE_SUFFIX}' would be a modality "
                f"named {name!r}, a name X keeps for its own column "
                f"({', '.join(METADATA_COLUMNS)}); rename the column (e.g. "
                f"'{name}_embedding{FEATURE_SUFFIX}'), or leave it out with "
                "modalities="
            )
    return modalities


@validate_params(
    {
        "path": [str, os.PathLike],
        "modalities": ["array-like", str, None],
        "target_names": ["array-like", None],
        "errors": [StrOptions({"skip", "raise", "keep"})],
        "return_X_y": ["boolean"],
        "max_member_bytes": [Interval(Integral, 1, None, closed="left"), None],
        "max_total_bytes": [Interval(Integral, 1, None, closed="left"), None],
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
    max_member_bytes=DEFAULT_MAX_MEMBER_BYTES,
    max_total_bytes=DEFAULT_MAX_TOTAL_BYTES,
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
    file under the root is also read as an absolute path of this machine when
    it lies inside the root (a CSV written with absolute paths); one outside
    the root is reported as ``"file not found"``, exactly as a missing file,
    whether or not it exists, so that a corpus cannot probe this machine.
    Two utterances naming the same file get a warning (both are loaded).

    **Archives**: only a plain ``dataset.csv``, a folder or a ``.zip`` is
    read. A damaged ``.zip``, a tar, gzip, bzip2, xz, Zstandard, 7-Zip or RAR
    file (told by its first bytes or its suffix) raises a ValueError; it is
    never handed to pandas, which would guess a compression. A gzipped
    ``dataset.csv.gz`` is refused too: the CSV holds only paths and labels,
    and a compressed corpus is a ``.zip`` of its folder.

    **Size limits** (``.zip`` only; files in a folder are not decompressed):
    no file of the archive may expand to more than ``max_member_bytes`` and
    the files read may not expand to more than ``max_total_bytes`` in all.
    Both are checked on the sizes the archive declares before anything is
    read, on each ``.npy`` header's shape before memory is taken for its
    frames, and on the bytes actually read (a zip's headers can lie). Past a
    limit, loading stops with a ValueError naming the file and the parameter.

    **Safety and memory**: files are read with ``allow_pickle=False`` (always),
    archives are read in place and never extracted, and each file is read once
    into a float32 array that the returned DataFrame holds: no second copy of
    the frames is kept.

    **Faults** are never crashed on and never lost silently. Per file: no path
    given, a missing file, an unreadable or truncated ``.npy``, a file that
    would need unpickling (an object array or a pickle), another format (such
    as ``.npz``), a non-numeric dtype, a shape
    other than ``(T, d)`` or ``(d,)``, an empty sequence, NaN or inf values, a
    path escaping the root, and a feature width other than the modality's
    expected width. The expected width is the one held by a clear majority of
    the modality's files read, more than half of them; when no width has
    that, loading stops with a ValueError listing the widths found (no file
    order decides). Per row: an empty id or speaker, an id seen before (the
    first occurrence is kept), and an unknown label. Each fault's ``reason``
    in ``issues`` starts with its kind (``"file not found"``, ``"NaN or inf
    values"``, ...) and names the file or the CSV line.

    **Content ids**: an optional ``content`` column (a script-line id, kept
    as written) becomes X's ``content`` column, for content-disjoint splits;
    without it, an optional ``transcript`` column is normalised into one
    (lowercased, punctuation stripped, whitespace collapsed, see
    ``normalise_transcript``). An empty cell is None.

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
        label must be one of them; any other label is a fault. None takes
        every non-empty label as it is written (another corpus's label set,
        to be matched with :func:`harmonize_labels`); ``target_names`` is
        then the sorted labels found.
    errors : {"skip", "raise", "keep"}, default="skip"
        What a fault does. ``"skip"`` drops the utterance and records every
        fault of it in ``issues``. ``"raise"`` raises a ValueError naming the
        file (or the CSV line) at the first fault found while reading;
        width faults are found once every file is read. ``"keep"`` keeps the
        utterance with the faulty modality as None (recorded in ``issues``);
        rows with a faulty id, speaker or label are still skipped, having no
        usable id or label. A :class:`CorpusIssuesWarning` summarises the
        faults, naming the first few, whenever there are any;
        :func:`save_issues` writes them all to ``issues.csv``.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch, as scikit-learn's dataset
        functions do; the speakers are ``X["speaker"]``.
    max_member_bytes : int or None, default=2**30 (1 GiB)
        The most one file of a ``.zip`` corpus may expand to; None for no
        limit. Ignored for folders.
    max_total_bytes : int or None, default=2**34 (16 GiB)
        The most the files read from a ``.zip`` corpus may expand to in all;
        None for no limit. Ignored for folders.
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
        parse, a ``session`` column, and a ``content`` column when the CSV
        has ``content`` or ``transcript``), ``target`` (label names), ``groups``
        (speakers), ``target_names``, ``sessions`` (ints parsed from the ids,
        ``Ses01F_...`` -> 1, or from the speakers, when every one parses;
        else None), ``modalities``, ``issues`` (DataFrame with columns ``id``,
        ``line`` (in ``dataset.csv``), ``modality`` and ``file`` (both None
        for row faults) and ``reason``) and ``DESCR``.
    (X, y) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When ``path`` is an archive other than a ``.zip`` or a damaged one,
        the CSV lacks a required column, ``modalities`` names an absent one,
        a modality's widths have no clear majority, a ``.zip`` passes a size
        limit, or (with ``errors="raise"``) at the first fault.

    See Also
    --------
    write_feature_table : Writes a corpus in this layout.
    save_issues : Writes the ``issues`` table to ``issues.csv``.
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
    target_names = None if target_names is None else [str(t) for t in target_names]
    if target_names is None:
        pass
    elif not target_names or len(set(target_names)) != len(target_names):
        raise ValueError(
            f"target_names must be distinct emotion names; got {target_names}"
        )
    source = open_source(
        path, max_member_bytes=max_member_bytes, max_total_bytes=max_total_bytes
    )
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
    rows = Rows(table, modalities, errors)
    content = _read_content(table)
    del table
    source.check_declared([c for column in rows.paths.values() for c in column])
    rows.read(source, target_names)
    for modality in modalities:
        rows.check_widths(modality)
    rows.warn_shared_files()

    kept = np.flatnonzero(rows.ok)
    data = {}
    for modality in modalities:
        column = np.empty(len(kept), dtype=object)
        for i, row in enumerate(kept):
            column[i] = rows.cells[modality][row]  # item by item: never stacked
        data[modality] = column
        rows.cells[modality] = None
    index = pd.Index([rows.ids[r] for r in kept], name="id")
    X = pd.DataFrame(data, index=index)
    groups = np.asarray([rows.speakers[r] for r in kept], dtype=object)
    X[SPEAKER] = groups
    sessions = parse_sessions(list(index), list(groups))
    if sessions is not None:
        X[SESSION] = sessions
    if content is not None:
        # object dtype: an empty cell stays None rather than becoming NaN
        values = [content[r] for r in kept]
        X[CONTENT] = pd.Series(values, index=index, dtype=object)
    y = None
    if rows.labels is not None:
        y = np.asarray([rows.names[r] for r in kept], dtype=object)
    if target_names is None:
        target_names = sorted({str(label) for label in (() if y is None else y)})
    issues = rows.issues(len(kept))
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
        DESCR=_describe(path, X, y, modalities, target_names, rows.n, len(issues)),
    )


def normalise_transcript(text):
    """A transcript as a content id: lowercased, punctuation stripped, spaces collapsed.

    >>> normalise_transcript("  Excuse me,   SIR!  ")
    'excuse me sir'
    """
    kept = (c for c in text.lower() if not unicodedata.category(c).startswith("P"))
    return " ".join("".join(kept).split())


def _read_content(table):
    """The content ids of the rows (None where empty), or None without a column."""
    if CONTENT_COLUMN in table:
        values = [v.strip() for v in table[CONTENT_COLUMN]]
    elif TRANSCRIPT_COLUMN in table:
        values = [normalise_transcript(v) for v in table[TRANSCRIPT_COLUMN]]
    else:
        return None
    return [v or None for v in values]


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
