"""Speaker-independent cross-validation splitters."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.model_selection import BaseCrossValidator

from ..utils._data import (
    SESSION,
    SPEAKER,
    parse_session,
    sorted_speaker_folds,
    speakers_of,
)
from ..utils._sklearn_compat import GroupsConsumerMixin, Interval, validate_params


class SpeakerKFold(GroupsConsumerMixin, BaseCrossValidator):
    """K folds of whole speakers, as the study cut them.

    The sorted unique speaker ids are cut into ``n_splits`` contiguous groups
    (``numpy.array_split``); each group in turn is the test fold. No test speaker
    is ever in the training part. With IEMOCAP's ten speakers sorted
    (``Ses01F, Ses01M, Ses02F, ...``) and five folds, each fold is one session.

    The speakers are ``groups`` when given, else X's ``speaker`` column (the
    data contract), so that the splitter also works nested in a search to
    which scikit-learn passes no ``groups``; when both are given they must
    agree.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2 and at most the number of speakers.

    See Also
    --------
    sklearn.model_selection.GroupKFold : Balances fold sizes instead of keeping
        speakers in sorted order; works as well for speaker-independent CV.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.model_selection import SpeakerKFold
    >>> speakers = np.array(["s1", "s1", "s2", "s3", "s3", "s4"])
    >>> for train, test in SpeakerKFold(2).split(speakers, groups=speakers):
    ...     print(np.unique(speakers[test]).tolist())
    ['s1', 's2']
    ['s3', 's4']
    """

    @validate_params(
        {"n_splits": [Interval(Integral, 2, None, closed="left")]},
        prefer_skip_nested_validation=True,
    )
    def __init__(self, n_splits=5):
        self.n_splits = n_splits

    def _iter_test_masks(self, X, y=None, groups=None):
        groups = speakers_of(X, groups, needed_by="SpeakerKFold")
        yield from sorted_speaker_folds(groups, self.n_splits)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
            ``n_splits``.
        """
        return self.n_splits


def _sessions_of(speakers, X, session_column):
    """Map each unique speaker to its session (see LeaveOneSessionOut)."""
    if hasattr(X, "columns") and session_column in X.columns:
        pairs = pd.DataFrame(
            {SPEAKER: speakers, SESSION: np.asarray(X[session_column])}
        ).drop_duplicates()
        shared = pairs[SPEAKER][pairs[SPEAKER].duplicated()]
        if len(shared):
            speaker = shared.iloc[0]
            found = sorted(pairs[SESSION][pairs[SPEAKER] == speaker].tolist())
            raise ValueError(
                f"speaker {speaker!r} is in sessions {found} of X's "
                f"{session_column!r} column; each speaker must belong to one session"
            )
        return dict(zip(pairs[SPEAKER], pairs[SESSION]))
    unique = sorted(set(speakers.tolist()), key=str)
    sessions = [parse_session(s) for s in unique]
    if None not in sessions:
        return dict(zip(unique, sessions))
    return {s: k // 2 for k, s in enumerate(unique)}


class LeaveOneSessionOut(GroupsConsumerMixin, BaseCrossValidator):
    """Leave out one recording session (both its speakers) per fold.

    The usual IEMOCAP protocol. IEMOCAP's five sessions are each a dyad of two
    actors talking to each other, and partners mirror each other's emotions, so
    holding out a speaker while training on the partner leaks some of the test
    dialogue. Each fold here holds out every speaker of one session together.

    Groups are speakers (``groups`` when given, else X's ``speaker`` column;
    when both are given they must agree). Each speaker's session is taken, in
    order:

    1. from X's ``session_column`` when X is a DataFrame that has it (the data
       contract's ``session`` column);
    2. else parsed from IEMOCAP-style speaker ids (``"Ses01F"`` and
       ``"Ses01M"`` are session 1) when every id has that form;
    3. else the sorted unique speakers are paired two by two (the first and
       second are one session, the third and fourth the next, an odd last
       speaker alone): a guess that fits corpora of dyads whose ids sort by
       session; give X a session column when yours do not.

    Parameters
    ----------
    session_column : str, default="session"
        The column of X holding each row's session.

    See Also
    --------
    SpeakerKFold : Folds of whole speakers, ignoring sessions.
    sklearn.model_selection.LeaveOneGroupOut : The same with sessions passed
        directly as groups.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.model_selection import LeaveOneSessionOut
    >>> speakers = np.array(["Ses01F", "Ses01M", "Ses02F", "Ses02M", "Ses02M"])
    >>> for train, test in LeaveOneSessionOut().split(speakers, groups=speakers):
    ...     print(np.unique(speakers[test]).tolist(), "out;", len(train), "in")
    ['Ses01F', 'Ses01M'] out; 3 in
    ['Ses02F', 'Ses02M'] out; 2 in
    """

    @validate_params(
        {"session_column": [str]},
        prefer_skip_nested_validation=True,
    )
    def __init__(self, session_column=SESSION):
        self.session_column = session_column

    def _sessions(self, X, groups):
        """The session of each sample, from X, the speaker ids, or pairing."""
        groups = speakers_of(X, groups, needed_by="LeaveOneSessionOut")
        session_of = _sessions_of(groups, X, self.session_column)
        sessions = np.array([session_of[s] for s in groups.tolist()], dtype=object)
        if len(set(session_of.values())) < 2:
            raise ValueError(
                "LeaveOneSessionOut needs at least 2 sessions; all speakers are "
                f"in session {next(iter(session_of.values()))!r}"
            )
        return sessions

    def _iter_test_masks(self, X, y=None, groups=None):
        sessions = self._sessions(X, groups)
        for session in sorted(set(sessions.tolist()), key=str):
            yield sessions == session

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds: the number of sessions.

        Parameters
        ----------
        X : DataFrame, array-like or None, default=None
            The samples; its ``session_column`` is read when it has one.
        y : object
            Ignored.
        groups : array-like of shape (n_samples,) or None, default=None
            Speaker ids; required when X has no ``speaker`` column.

        Returns
        -------
        n_splits : int
            Number of sessions.
        """
        if X is None and groups is not None:
            X = groups
        return len(set(self._sessions(X, groups).tolist()))
