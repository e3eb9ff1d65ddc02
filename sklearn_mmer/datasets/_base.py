"""What every corpus shares: the issues table and the warning that summarises it."""

import pandas as pd

#: Columns of a Bunch's ``issues`` table.
ISSUE_COLUMNS = ["id", "modality", "reason"]


class CorpusIssuesWarning(UserWarning):
    """Warns that a loaded corpus had faults: utterances skipped or files missing.

    The message gives the counts; the loader's Bunch lists every fault in
    ``issues``. Filter it like any warning, e.g.
    ``warnings.simplefilter("ignore", CorpusIssuesWarning)``.
    """


def empty_issues():
    """An issues table with no rows."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in ISSUE_COLUMNS})
