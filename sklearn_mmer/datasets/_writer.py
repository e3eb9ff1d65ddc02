"""Writing a corpus in the course-feature layout, e.g. to try the loader or the CLI."""

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._data import METADATA_COLUMNS, SESSION, SPEAKER, is_missing, parse_sessions
from ..utils._sklearn_compat import validate_params
from ._loader import (
    CSV_NAME,
    FEATURE_SUFFIX,
    ID_COLUMN,
    LABEL_COLUMN,
    SPEAKER_COLUMN,
)
from ._synthetic import IEMOCAP_CLASS_COUNTS

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@validate_params(
    {
        "X": [pd.DataFrame],
        "y": ["array-like"],
        "path": [str, os.PathLike],
        "modalities": ["array-like", None],
        "target_names": ["array-like", None],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def write_feature_table(
    X,
    y,
    path,
    *,
    modalities=None,
    target_names=tuple(IEMOCAP_CLASS_COUNTS),
    overwrite=False,
):
    """Write a corpus in the course-feature layout: ``dataset.csv`` + ``.npy`` files.

    Each cell of each modality is saved (``allow_pickle=False``) as
    ``<path>/features/<modality>_features/Session<k>/<id>.npy``, named in the
    CSV as ``/features/<modality>_features/Session<k>/<id>.npy`` (the folder
    ``Session<k>`` is left out when sessions are unknown); a missing cell
    (None, NaN or an empty array) leaves its CSV cell empty.
    :func:`load_feature_table` reads the result back; it reports an empty cell
    as a fault ("no file named"), so load with ``errors="keep"`` to keep such
    utterances with that modality missing (None) rather than skip them.

    Parameters
    ----------
    X : DataFrame
        One row per utterance, indexed by utterance id (ids become file names,
        so they may hold only letters, digits, ``_``, ``-`` and ``.``), with a
        ``speaker`` column and, optionally, a ``session`` column.
    y : array-like of shape (n_samples,)
        Emotion labels.
    path : str or path-like
        Folder to write into (created if needed).
    modalities : list of str or None, default=None
        Columns of X to write; None writes every column but ``speaker`` and
        ``session``.
    target_names : sequence of str or None, default=("anger", "sadness", \
            "happiness", "neutral")
        Labels are written as their index in ``target_names``, as the course
        files do; None writes the labels as they are.
    overwrite : bool, default=False
        Whether to replace an existing ``dataset.csv`` in ``path``.

    Returns
    -------
    csv_path : pathlib.Path
        The ``dataset.csv`` written.

    See Also
    --------
    load_feature_table : Reads the layout back.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table
    >>> X, y = make_multimodal_emotion(
    ...     8, n_speakers=2, n_sessions=1, modalities={"lexical": 3},
    ...     random_state=0, return_X_y=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(write_feature_table(X, y, folder).read_text().splitlines()[1])
    Ses01F_impro01_F000,Ses01F,/features/lexical_features/Session1/Ses01F_impro01_F000.npy,3
    """
    if SPEAKER not in X:
        raise ValueError(
            "X has no 'speaker' column; the course-feature layout needs each "
            "utterance's speaker"
        )
    y = np.asarray(y, dtype=object)
    if y.shape != (len(X),):
        raise ValueError(
            f"y must hold one label per row of X ({len(X)}); got {y.shape}"
        )
    if modalities is None:
        modalities = [c for c in X.columns if c not in METADATA_COLUMNS]
    modalities = list(modalities)
    missing = [m for m in modalities if m not in X]
    if missing:
        raise ValueError(f"modalities {missing} are not columns of X {list(X.columns)}")
    ids = [str(i) for i in X.index]
    bad = [i for i in ids if not _SAFE_ID.match(i)]
    if bad or len(set(ids)) != len(ids):
        raise ValueError(
            "X's index must hold distinct utterance ids usable as file names "
            f"(letters, digits, '_', '-', '.'); got {bad[:3] or 'duplicates'}"
        )
    if target_names is not None:
        position = {name: k for k, name in enumerate(target_names)}
        unknown = sorted({str(label) for label in y if label not in position})
        if unknown:
            raise ValueError(
                f"y holds labels {unknown} that are not in target_names "
                f"{list(target_names)}; pass target_names=None to write them as text"
            )
        y = np.asarray([position[label] for label in y])
    if SESSION in X:
        sessions = list(X[SESSION])
    else:
        parsed = parse_sessions(ids, [str(s) for s in X[SPEAKER]])
        sessions = [None] * len(X) if parsed is None else list(parsed)

    root = Path(path)
    csv_path = root / CSV_NAME
    if csv_path.exists() and not overwrite:
        raise FileExistsError(f"{csv_path} exists; pass overwrite=True to replace it")
    files = {modality: [] for modality in modalities}
    for position, (uid, session) in enumerate(zip(ids, sessions)):
        cells = {m: X[m].iloc[position] for m in modalities}
        names = write_feature_row(root, uid, cells, session=session)
        for modality in modalities:
            files[modality].append(names[modality])
    return write_feature_index(
        root,
        pd.DataFrame(files, index=ids),
        [str(s) for s in X[SPEAKER]],
        labels=list(y),
        overwrite=overwrite,
    )


def write_feature_row(path, utterance, cells, *, session=None):
    """Write one utterance's cells to their ``.npy`` files of the layout.

    The per-row half of :func:`write_feature_table`, for a corpus written
    utterance by utterance (as ``mmer extract`` does, so that a killed run
    keeps what it finished): each file is written to a temporary name and
    renamed, so that a file of the layout is never half-written. Call
    :func:`write_feature_index` once every row is written.

    Parameters
    ----------
    path : str or path-like
        The corpus folder (created if needed).
    utterance : str
        The utterance id: letters, digits, ``_``, ``-`` and ``.``.
    cells : dict of str to ndarray or None
        The utterance's frames ``(T, d)`` (or vector ``(d,)``) per modality;
        a missing cell (None, NaN or an empty array) writes no file.
    session : int or None, default=None
        The session: files go in a ``Session<k>`` folder when given.

    Returns
    -------
    files : dict of str to str
        Per modality, the file's name as ``dataset.csv`` holds it
        (``/features/<modality>_features/<id>.npy``), ``""`` for a missing cell.

    See Also
    --------
    write_feature_index : Writes ``dataset.csv`` naming these files.
    write_feature_table : Writes a whole corpus at once.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn_mmer.datasets import write_feature_row
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_feature_row(folder, "u1", {"mfcc": np.zeros((5, 13))})
    {'mfcc': '/features/mfcc_features/u1.npy'}
    """
    utterance = str(utterance)
    if not _SAFE_ID.match(utterance):
        raise ValueError(
            f"utterance id {utterance!r} cannot name a file: use letters, "
            "digits, '_', '-' and '.'"
        )
    root = Path(path)
    names = {}
    for modality, cell in cells.items():
        if is_missing(cell):
            names[modality] = ""
            continue
        folder = f"features/{modality}{FEATURE_SUFFIX}"
        if session is not None:
            folder = f"{folder}/Session{session}"
        (root / folder).mkdir(parents=True, exist_ok=True)
        target = root / folder / f"{utterance}.npy"
        handle, temporary = tempfile.mkstemp(
            dir=root / folder, prefix=".part-", suffix=".npy"
        )
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, np.asarray(cell), allow_pickle=False)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        names[modality] = f"/{folder}/{utterance}.npy"
    return names


def write_feature_index(
    path, files, speakers, *, labels=None, columns=None, overwrite=False
):
    """Write ``dataset.csv`` naming feature files already written.

    The table half of :func:`write_feature_table`: after
    :func:`write_feature_row` has written each utterance's files, this writes
    the CSV that :func:`load_feature_table` reads (atomically: a reader never
    sees half of it).

    Parameters
    ----------
    path : str or path-like
        The corpus folder.
    files : DataFrame
        Indexed by utterance id, one column per modality holding the names
        :func:`write_feature_row` returned (``""`` for a missing cell).
    speakers : array-like of shape (n_utterances,)
        Each utterance's speaker.
    labels : array-like of shape (n_utterances,) or None, default=None
        The emotion labels, written as they are; None writes no
        ``emotion_labels`` column (a corpus to predict).
    columns : DataFrame or None, default=None
        Further columns to keep in ``dataset.csv`` (a ``content`` or
        ``transcript`` column, a session...), one row per utterance; their
        names may not be the layout's own.
    overwrite : bool, default=False
        Whether to replace an existing ``dataset.csv``.

    Returns
    -------
    csv_path : pathlib.Path
        The ``dataset.csv`` written.

    See Also
    --------
    write_feature_row : Writes one utterance's files.
    load_feature_table : Reads the corpus back.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from sklearn_mmer.datasets import (
    ...     load_feature_table, write_feature_index, write_feature_row)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rows = {u: write_feature_row(folder, u, {"mfcc": np.ones((4, 2))})
    ...             for u in ["u1", "u2"]}
    ...     files = pd.DataFrame.from_dict(rows, orient="index")
    ...     _ = write_feature_index(folder, files, ["s1", "s2"],
    ...                             labels=["anger", "neutral"])
    ...     print(load_feature_table(folder).target)
    ['anger' 'neutral']
    """
    root = Path(path)
    csv_path = root / CSV_NAME
    if csv_path.exists() and not overwrite:
        raise FileExistsError(f"{csv_path} exists; pass overwrite=True to replace it")
    n = len(files)
    table = {ID_COLUMN: [str(i) for i in files.index]}
    table[SPEAKER_COLUMN] = [str(s) for s in speakers]
    if len(table[SPEAKER_COLUMN]) != n:
        raise ValueError(f"speakers must hold one speaker per row of files ({n})")
    for modality in files.columns:
        table[modality + FEATURE_SUFFIX] = list(files[modality])
    if columns is not None:
        if len(columns) != n:
            raise ValueError(f"columns must hold one row per row of files ({n})")
        for name in columns.columns:
            if name in table or name == LABEL_COLUMN or name.endswith(FEATURE_SUFFIX):
                raise ValueError(
                    f"column {name!r} would take a name of the layout's own "
                    f"({ID_COLUMN}, {SPEAKER_COLUMN}, <modality>{FEATURE_SUFFIX}, "
                    f"{LABEL_COLUMN}); rename it"
                )
            table[name] = list(columns[name])
    if labels is not None:
        labels = list(labels)
        if len(labels) != n:
            raise ValueError(f"labels must hold one label per row of files ({n})")
        table[LABEL_COLUMN] = labels
    root.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=root, prefix=".part-", suffix=".csv")
    os.close(handle)
    try:
        pd.DataFrame(table).to_csv(temporary, index=False)
        os.replace(temporary, csv_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return csv_path
