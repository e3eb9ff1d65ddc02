"""What every corpus shares: the issues table, the warning that summarises it,
and the writer of ``issues.csv``."""

import os
from pathlib import Path

import pandas as pd

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
