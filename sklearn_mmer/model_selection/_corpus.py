"""Leave one corpus out: train on the other corpora, test on the one left out."""

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from ..utils._sklearn_compat import GroupsConsumerMixin

#: The column of X that names each utterance's corpus, when ``groups`` is None.
CORPUS = "corpus"


class LeaveOneCorpusOut(GroupsConsumerMixin, BaseCrossValidator):
    """Each corpus in turn is the test set; the others are the training set.

    The corpora are ``groups`` when given, else X's ``corpus`` column. The
    folds follow the sorted corpus names. Since a corpus holds its own
    speakers, no test speaker is in training as long as no speaker id is
    shared between corpora (prefix them with the corpus name when they
    could be).

    See Also
    --------
    sklearn.model_selection.LeaveOneGroupOut : The same with any groups.
    SpeakerKFold : Speaker-independent folds within one corpus.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.model_selection import LeaveOneCorpusOut
    >>> corpus = np.array(["A", "A", "B", "C", "C"])
    >>> for train, test in LeaveOneCorpusOut().split(np.zeros(5), groups=corpus):
    ...     print(train, test)
    [2 3 4] [0 1]
    [0 1 3 4] [2]
    [0 1 2] [3 4]
    """

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds: the number of corpora (at least 2).

        Parameters
        ----------
        X : DataFrame or None, default=None
            The stacked corpora, with a ``corpus`` column when ``groups`` is
            None.
        y : object
            Ignored; present for API compatibility.
        groups : array-like or None, default=None
            The corpus of each row; else X's ``corpus`` column.

        Returns
        -------
        n_splits : int
            The number of corpora.
        """
        return len(np.unique(self._corpora(X, groups)))

    def _corpora(self, X, groups):
        if groups is None:
            columns = getattr(X, "columns", ())
            if CORPUS not in columns:
                raise ValueError(
                    "LeaveOneCorpusOut needs each utterance's corpus: pass "
                    "groups=<corpus of each row> or give X a 'corpus' column"
                )
            groups = X[CORPUS]
        corpora = np.asarray(groups).astype(str)
        if len(np.unique(corpora)) < 2:
            raise ValueError(
                f"LeaveOneCorpusOut needs at least 2 corpora; got "
                f"{np.unique(corpora).tolist()}"
            )
        return corpora

    def _iter_test_masks(self, X=None, y=None, groups=None):
        corpora = self._corpora(X, groups)
        for corpus in np.unique(corpora):
            yield corpora == corpus
