"""Speaker-independent cross-validation splitters."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.model_selection._split import GroupsConsumerMixin
from sklearn.utils._param_validation import Interval, validate_params


class SpeakerKFold(GroupsConsumerMixin, BaseCrossValidator):
    """K folds of whole speakers, as the study cut them.

    The sorted unique speaker ids are cut into ``n_splits`` contiguous groups
    (``numpy.array_split``); each group in turn is the test fold. No test speaker
    is ever in the training part. With IEMOCAP's ten speakers sorted
    (``Ses01F, Ses01M, Ses02F, ...``) and five folds, each fold is one session.

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
        if groups is None:
            raise ValueError(
                "SpeakerKFold needs the speaker of each sample: pass groups=speakers"
            )
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != _n_samples(X):
            raise ValueError(
                f"groups must be 1-D with one speaker per sample; got shape "
                f"{groups.shape} for {_n_samples(X)} samples"
            )
        speakers = np.unique(groups)
        if self.n_splits > speakers.shape[0]:
            raise ValueError(
                f"Cannot have n_splits={self.n_splits} greater than the number of "
                f"speakers ({speakers.shape[0]})"
            )
        for test_speakers in np.array_split(speakers, self.n_splits):
            yield np.isin(groups, test_speakers)

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


def _n_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)
