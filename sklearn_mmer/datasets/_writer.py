"""Writing a corpus in the course-feature layout, e.g. to try the loader or the CLI."""

import os
import re
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
    table = {ID_COLUMN: ids, SPEAKER_COLUMN: [str(s) for s in X[SPEAKER]]}
    for modality in modalities:
        folder = f"features/{modality}{FEATURE_SUFFIX}"
        names = []
        for uid, session, cell in zip(ids, sessions, X[modality]):
            if is_missing(cell):
                names.append("")
                continue
            subfolder = folder if session is None else f"{folder}/Session{session}"
            (root / subfolder).mkdir(parents=True, exist_ok=True)
            np.save(
                root / subfolder / f"{uid}.npy", np.asarray(cell), allow_pickle=False
            )
            names.append(f"/{subfolder}/{uid}.npy")
        table[modality + FEATURE_SUFFIX] = names
    table[LABEL_COLUMN] = list(y)
    pd.DataFrame(table).to_csv(csv_path, index=False)
    return csv_path
