"""Content-disjoint cross-validation: no test sentence is ever trained on."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from ..utils._data import CONTENT, num_samples
from ..utils._sklearn_compat import GroupsConsumerMixin
from ._split import SpeakerKFold


class ContentDisjointSplit(GroupsConsumerMixin, BaseCrossValidator):
    """Speaker folds whose training part shares no content with the test part.

    In scripted corpora the same lines are spoken by many speakers (IEMOCAP's
    scripted sessions), so a speaker-independent split still tests on
    sentences seen in training, and lexical features score optimistically
    (Pepino et al., ICASSP 2020). This wrapper takes the folds of any splitter
    and drops from each training part the rows whose content id (a script-line
    id or a normalised transcript) occurs in that fold's test part. Test parts
    are left as they are. Rows without a content id (None, NaN or an empty
    string) are never dropped and never cause a drop.

    Parameters
    ----------
    cv : int, cross-validation splitter or None, default=None
        The folds to make content-disjoint: ``SpeakerKFold(5)`` when None,
        ``SpeakerKFold(cv)`` for an int, or any object with ``split(X, y,
        groups)`` and ``get_n_splits`` (a splitter that shuffles must have a
        fixed ``random_state``, as :meth:`split` and :meth:`n_dropped` must see
        the same folds).
    content : str or array-like of shape (n_samples,), default="content"
        The content id of each row: the name of a column of X, or the ids
        themselves. Ids are compared as strings.

    See Also
    --------
    SpeakerKFold : Folds of whole speakers.
    LeaveOneSessionOut : One IEMOCAP session per fold.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_mmer.model_selection import ContentDisjointSplit
    >>> X = pd.DataFrame({"speaker": ["s1", "s1", "s2", "s2", "s3", "s3"],
    ...                   "content": ["hi", "bye", "hi", "ok", "no", "ok"]})
    >>> cv = ContentDisjointSplit(3)
    >>> for train, test in cv.split(X, groups=X["speaker"]):
    ...     print(train.tolist(), test.tolist())
    [3, 4, 5] [0, 1]
    [1, 4] [2, 3]
    [0, 1, 2] [4, 5]
    >>> cv.n_dropped(X, groups=X["speaker"]).tolist()
    [1, 2, 1]
    """

    def __init__(self, cv=None, *, content=CONTENT):
        self.cv = cv
        self.content = content

    def split(self, X, y=None, groups=None):
        """Generate indices of the content-disjoint training and test parts.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The samples; a DataFrame with the ``content`` column when
            ``content`` names one.
        y : array-like of shape (n_samples,), default=None
            Passed to the wrapped splitter.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, passed to the wrapped splitter.

        Yields
        ------
        train : ndarray
            The wrapped splitter's training indices, less the rows whose
            content occurs in the test part.
        test : ndarray
            The wrapped splitter's test indices.
        """
        for train, test, _ in self._folds(X, y, groups):
            yield train, test

    def n_dropped(self, X, y=None, groups=None):
        """Number of training rows dropped in each fold.

        Parameters
        ----------
        X, y, groups
            As for :meth:`split`.

        Returns
        -------
        n_dropped : ndarray of shape (n_splits,)
            Per fold, the rows of the wrapped splitter's training part left
            out because their content occurs in the test part.
        """
        return np.array([n for _, _, n in self._folds(X, y, groups)], dtype=int)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds: that of the wrapped splitter.

        Parameters
        ----------
        X, y, groups
            Passed to the wrapped splitter's ``get_n_splits``.

        Returns
        -------
        n_splits : int
            The number of folds.
        """
        return self._inner().get_n_splits(X, y, groups)

    def _inner(self):
        cv = self.cv
        if cv is None:
            return SpeakerKFold(5)
        if isinstance(cv, Integral) and not isinstance(cv, bool):
            return SpeakerKFold(int(cv))
        if not (hasattr(cv, "split") and hasattr(cv, "get_n_splits")):
            raise ValueError(
                f"cv must be None, an int or a splitter with split and "
                f"get_n_splits; got {cv!r}"
            )
        return cv

    def _folds(self, X, y, groups):
        ids = self._content_ids(X)
        for train, test in self._inner().split(X, y, groups):
            train, test = np.asarray(train), np.asarray(test)
            tested = np.unique(ids[test][ids[test] != ""])
            keep = ~np.isin(ids[train], tested) | (ids[train] == "")
            if train.size and not keep.any():
                raise ValueError(
                    f"every training row shares its content with the test fold "
                    f"holding rows {test[:5].tolist()}...; a content-disjoint "
                    "split needs content that differs between speakers"
                )
            yield train[keep], test, int(train.size - keep.sum())

    def _content_ids(self, X):
        """Each row's content id as a string, '' where missing."""
        n_samples = num_samples(X)
        if isinstance(self.content, str):
            if not hasattr(X, "columns") or self.content not in X.columns:
                has = list(map(str, getattr(X, "columns", [])))
                raise ValueError(
                    f"content={self.content!r} is not a column of X (X has "
                    f"{has or 'no named columns'}); give X a {self.content!r} "
                    "column of script-line ids or transcripts, or pass "
                    "content=<one id per row>"
                )
            ids = X[self.content]
        else:
            ids = np.asarray(self.content, dtype=object)
            if ids.ndim != 1 or ids.shape[0] != n_samples:
                raise ValueError(
                    f"content must be a column name or hold one id per row of X "
                    f"({n_samples} rows); got an array of shape {ids.shape}"
                )
        ids = pd.Series(ids).reset_index(drop=True)
        missing = ids.isna().to_numpy()
        text = ids.astype(str).str.strip().to_numpy(dtype=object)
        text[missing] = ""
        return text
