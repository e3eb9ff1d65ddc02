"""What every corpus shares: the issues table, the warning that summarises it,
the writer of ``issues.csv``, a corpus's modalities narrowed down, and the
order of its labels."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._sklearn_compat import validate_params

#: Columns of a Bunch's ``issues`` table: the utterance id, its line in
#: ``dataset.csv``, the modality (None for a fault of the whole row), the
#: feature file as the CSV names it (None for a row fault) and the reason.
ISSUE_COLUMNS = ["id", "line", "modality", "file", "reason"]

#: Name of the file :func:`save_issues` writes.
ISSUES_FILE = "issues.csv"


class CorpusIssuesWarning(UserWarning):
    """Warns that a loaded corpus had faults: utterances skipped or files missing.

    The message gives the counts and the first few faults, and says where
    every fault is listed: the loader's Bunch lists each in ``issues``. Filter
    it like any warning, e.g.
    ``warnings.simplefilter("ignore", CorpusIssuesWarning)``.

    Parameters
    ----------
    summary : str
        The counts and first faults, without the pointer to the full list.
    listed_in : str, default="the Bunch's issues table"
        Where every fault is listed; the command line names its ``issues.csv``.

    See Also
    --------
    load_feature_table : The loader that warns it.
    save_issues : Write the faults to a CSV file.

    Examples
    --------
    >>> from sklearn_mmer.datasets import CorpusIssuesWarning
    >>> str(CorpusIssuesWarning("skipped 1 of 10 utterances"))
    "skipped 1 of 10 utterances; every fault is listed in the Bunch's issues table"
    """

    def __init__(self, summary, listed_in="the Bunch's issues table"):
        super().__init__(summary, listed_in)
        self.summary = summary
        self.listed_in = listed_in

    def __str__(self):
        return f"{self.summary}; every fault is listed in {self.listed_in}"


def empty_issues():
    """An issues table with no rows."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in ISSUE_COLUMNS})


@validate_params(
    {"issues": [pd.DataFrame], "folder": [str, os.PathLike]},
    prefer_skip_nested_validation=True,
)
def save_issues(issues, folder):
    """Write a corpus's faults to ``<folder>/issues.csv`` when it has any.

    One row per fault, with the columns of :data:`ISSUE_COLUMNS`: every
    skipped utterance (or, with ``errors="keep"``, every modality set to
    None), the feature file as ``dataset.csv`` names it and the reason.
    ``mmer compare --data`` calls it so that a command-line user can read what
    a Python user finds in the Bunch's ``issues``.

    Parameters
    ----------
    issues : DataFrame
        The ``issues`` of a Bunch returned by :func:`load_feature_table`.
    folder : str or path-like
        An existing folder.

    Returns
    -------
    path : Path or None
        The file written, or None when ``issues`` is empty (nothing is
        written then).

    See Also
    --------
    load_feature_table : Loads a corpus and lists its faults in ``issues``.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from sklearn_mmer.datasets import ISSUE_COLUMNS, save_issues
    >>> issues = pd.DataFrame(
    ...     [["Ses01F_a", 3, "visual", "/features/a.npy", "file not found: ..."]],
    ...     columns=ISSUE_COLUMNS)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_issues(issues, folder)
    ...     print(path.name, len(pd.read_csv(path)))
    issues.csv 1
    """
    if issues.empty:
        return None
    path = Path(folder) / ISSUES_FILE
    issues.to_csv(path, index=False)
    return path


def select_modalities(corpus, modalities):
    """The corpus with only some of its modalities.

    The other modalities' columns are dropped from ``data`` and ``modalities``
    lists the ones kept, in the order given; every row, the labels, speakers
    and issues stay as they are. On :func:`make_multimodal_emotion`'s corpus,
    generating every modality and then selecting some gives the same features
    whichever modalities are kept (each modality draws from the same random
    stream), which is how ``mmer compare --modalities`` builds the bundled
    corpus.

    Parameters
    ----------
    corpus : Bunch
        A corpus as :func:`make_multimodal_emotion` or
        :func:`load_feature_table` return it, with ``data`` and
        ``modalities``.
    modalities : list of str
        The modalities to keep: distinct modalities of the corpus.

    Returns
    -------
    corpus : Bunch
        A new Bunch (the given one is left as it was) whose ``data`` holds the
        kept modalities' columns and every other column (``speaker``,
        ``session``, ``content``).

    Raises
    ------
    ValueError
        When a name is not a modality of the corpus, or is given twice.

    See Also
    --------
    make_multimodal_emotion : The synthetic corpus, every modality drawn.
    load_feature_table : Takes ``modalities=`` and reads only those files.

    Examples
    --------
    >>> from sklearn_mmer.datasets import make_multimodal_emotion, select_modalities
    >>> corpus = make_multimodal_emotion(
    ...     20, n_speakers=2, n_sessions=1,
    ...     modalities={"acoustic": 3, "lexical": 2}, random_state=0)
    >>> lexical = select_modalities(corpus, ["lexical"])
    >>> lexical.modalities, list(lexical.data.columns)
    (['lexical'], ['lexical', 'speaker', 'session'])
    >>> bool((lexical.data["lexical"].iloc[0] == corpus.data["lexical"].iloc[0]).all())
    True
    """
    available = list(corpus.modalities)
    if isinstance(modalities, str):
        modalities = [modalities]
    modalities = list(modalities)
    for name in modalities:
        if name not in available:
            raise ValueError(
                f"unknown modality {name!r}; the corpus has {', '.join(available)}"
            )
    twice = sorted({m for m in modalities if modalities.count(m) > 1})
    if twice:
        raise ValueError(
            f"{twice[0]!r} is named twice in modalities ({' '.join(modalities)}); "
            "name each modality once"
        )
    selected = Bunch(**corpus)
    selected.data = corpus.data.drop(
        columns=[m for m in available if m not in modalities]
    )
    selected.modalities = modalities
    return selected


def label_order(target, target_names=None):
    """The order of a corpus's labels in tables and confusion matrices.

    The corpus's ``target_names`` that occur in ``target`` first, in their
    order (anger, sadness, happiness, neutral for the study's corpora), then
    any other label of ``target``, sorted.

    Parameters
    ----------
    target : array-like of shape (n_samples,)
        The labels.
    target_names : list or None, default=None
        The corpus's label names in their order (a Bunch's
        ``target_names``); None sorts every label.

    Returns
    -------
    labels : ndarray of object
        Each label of ``target`` once, in that order: what
        :func:`~sklearn_mmer.evaluation.compare_methods` takes as ``labels``.

    See Also
    --------
    sklearn_mmer.evaluation.compare_methods : Orders its confusion matrices by
        ``labels``.

    Examples
    --------
    >>> from sklearn_mmer.datasets import label_order
    >>> label_order(["neutral", "anger", "fear", "anger"],
    ...             ["anger", "sadness", "happiness", "neutral"]).tolist()
    ['anger', 'neutral', 'fear']
    """
    present = np.unique(np.asarray(target)).tolist()
    named = [t for t in target_names or [] if t in present]
    return np.asarray(named + [t for t in present if t not in named], dtype=object)
