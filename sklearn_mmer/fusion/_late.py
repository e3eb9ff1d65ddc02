"""Late (decision-level) fusion: a vote over per-modality classifiers."""

import numpy as np
from sklearn.ensemble import VotingClassifier
from sklearn.utils.validation import check_is_fitted

from ._early import _check_modalities, clone_or_default, make_modality_pipeline


class LateFusionClassifier(VotingClassifier):
    """Combine per-modality classifiers by a hard (majority) or soft vote.

    A :class:`~sklearn.ensemble.VotingClassifier` whose hard vote breaks ties by
    the members' summed class probabilities, rather than by picking the lowest
    label: with three modalities and four emotions, three-way disagreements are
    common and the lowest-label rule would bias every one of them towards the
    first class.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The members, usually one pipeline per modality named by the modality
        (see :func:`make_late_fusion`). Each is cloned and fit on the whole X.
    voting : {"hard", "soft"}, default="hard"
        ``"hard"``: majority vote of predicted labels, ties broken by summed
        probability (when every member has ``predict_proba``; otherwise by the
        first tied class). ``"soft"``: argmax of the (weighted) mean probability.
    weights : array-like of shape (n_estimators,) or None, default=None
        Weight of each member's vote or probabilities; equal when None.
    n_jobs : int or None, default=None
        Number of members fit in parallel.
    flatten_transform : bool, default=True
        Shape of ``transform``'s output with soft voting, as in
        VotingClassifier.
    verbose : bool, default=False
        Print the time each member takes to fit.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    named_estimators_ : Bunch
        The fitted members by name.
    le_ : LabelEncoder
        Encodes labels for the members, which are fit on ``0..n_classes - 1``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input columns (from the first member).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns, when X has them.

    See Also
    --------
    make_late_fusion : Builds one pipeline per modality and votes over them.
    sklearn.ensemble.VotingClassifier : The scikit-learn estimator this extends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn_mmer.fusion import LateFusionClassifier
    >>> X = np.array([[0.0], [0.2], [1.0], [1.2]])
    >>> y = np.array(["calm", "calm", "angry", "angry"])
    >>> vote = LateFusionClassifier([("lr", LogisticRegression()),
    ...                              ("nb", GaussianNB())]).fit(X, y)
    >>> vote.predict([[0.1], [1.1]])
    array(['calm', 'angry'], dtype='<U5')
    """

    def __init__(
        self,
        estimators,
        *,
        voting="hard",
        weights=None,
        n_jobs=None,
        flatten_transform=True,
        verbose=False,
    ):
        super().__init__(
            estimators,
            voting=voting,
            weights=weights,
            n_jobs=n_jobs,
            flatten_transform=flatten_transform,
            verbose=verbose,
        )

    def predict(self, X):
        """Predict class labels by vote.

        Parameters
        ----------
        X : DataFrame or array-like
            Input the members read.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        check_is_fitted(self)
        if self.voting == "soft":
            return super().predict(X)
        predictions = self._predict(X)
        votes = self._count_votes(predictions)
        tied = np.isclose(votes, votes.max(axis=1, keepdims=True))
        winner = np.argmax(votes, axis=1)
        has_tie = tied.sum(axis=1) > 1
        if has_tie.any() and all(
            hasattr(est, "predict_proba") for est in self.estimators_
        ):
            rows = np.flatnonzero(has_tie)
            summed = self._summed_probas(_rows(X, rows))
            winner[rows] = np.argmax(np.where(tied[rows], summed, -np.inf), axis=1)
        return self.le_.inverse_transform(winner)

    def _count_votes(self, predictions):
        n_samples, n_members = predictions.shape
        weights = self._weights_not_none
        weights = np.ones(n_members) if weights is None else np.asarray(weights)
        votes = np.zeros((n_samples, self.classes_.shape[0]))
        for member in range(n_members):
            np.add.at(votes, (np.arange(n_samples), predictions[:, member]),
                      weights[member])
        return votes

    def _summed_probas(self, X):
        weights = self._weights_not_none
        probas = self._collect_probas(X)
        if weights is None:
            return probas.sum(axis=0)
        return np.tensordot(np.asarray(weights, dtype=float), probas, axes=1)


def _rows(X, rows):
    """Rows of a DataFrame or array, keeping its type."""
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, list):
        return [X[i] for i in rows]
    return np.asarray(X)[rows]


def make_late_fusion(modalities, *, voting="hard", pooling="mean", classifier=None):
    """Build late fusion: one unimodal pipeline per modality, combined by vote.

    Parameters
    ----------
    modalities : list of str
        Columns of X, one member each, named by the modality.
    voting : {"hard", "soft"}, default="hard"
        Majority vote (the study's method) or mean probability.
    pooling : str, default="mean"
        :class:`~sklearn_mmer.preprocessing.TemporalPooling` method of every
        member.
    classifier : estimator or None, default=None
        Classifier cloned into each member; a default
        :class:`~sklearn_mmer.neural.MLPClassifier` when None.

    Returns
    -------
    late_fusion : LateFusionClassifier
        Members are :func:`make_modality_pipeline` pipelines, so nested names
        read ``lexical__mlpclassifier__hidden_dims``.

    See Also
    --------
    make_early_fusion : Feature-level fusion in one classifier.

    Examples
    --------
    >>> from sklearn_mmer.fusion import make_late_fusion
    >>> late = make_late_fusion(["acoustic", "lexical"], voting="soft")
    >>> sorted(late.named_estimators)
    ['acoustic', 'lexical']
    """
    modalities = _check_modalities(modalities)
    members = [
        (
            m,
            make_modality_pipeline(
                m, pooling=pooling, classifier=clone_or_default(classifier)
            ),
        )
        for m in modalities
    ]
    return LateFusionClassifier(members, voting=voting)
