"""Late (decision-level) fusion: a vote over per-modality classifiers."""

import numpy as np
from scipy.sparse import issparse
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ..utils._data import check_modalities, is_missing, member_columns, num_samples
from ..utils._sklearn_compat import fit_context, safe_indexing
from ._early import modality_members
from ._routing import resolve_request
from ._weights import check_member_sample_weight, fit_member, member_fit_params


def _voting_is_soft(estimator):
    if estimator.voting != "soft":
        raise AttributeError(
            f"predict_proba is not available when voting={estimator.voting!r}"
        )
    return True


class LateFusionClassifier(VotingClassifier):
    """Combine per-modality classifiers by a hard (majority) or soft vote.

    A :class:`~sklearn.ensemble.VotingClassifier` whose hard vote breaks ties by
    the members' summed class probabilities, rather than by picking the lowest
    label: with three modalities and four emotions, three-way disagreements are
    common and the lowest-label rule would bias every one of them towards the
    first class.

    Missing modalities: when X is a DataFrame, a member that reads its columns
    through a :class:`~sklearn.compose.ColumnTransformer` (as every
    :func:`make_modality_pipeline` does) votes only for the rows where at least
    one of its columns holds a value (not None); the others vote (or average
    their probabilities) without it. A row that no member can see gets the
    class prior of the training labels (the most frequent class from
    ``predict``). Members are fit on every training row, so a member must
    accept rows missing its modality in fit (the imputer of
    :func:`make_modality_pipeline` does). ``transform`` returns every member's
    output on every row.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The members, usually one pipeline per modality named by the modality
        (see :func:`make_late_fusion`). Each is cloned and fit on the whole X,
        with the labels encoded as ``0..n_classes - 1`` (in the order of
        ``classes_``), as VotingClassifier does: a label-keyed member parameter
        such as a ``class_weight`` dict uses those codes.
    voting : {"hard", "soft"}, default="hard"
        ``"hard"``: majority vote of predicted labels, ties broken by summed
        probability (so every member needs ``predict_proba``). ``"soft"``:
        argmax of the (weighted) mean probability.
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
    class_prior_ : ndarray of shape (n_classes,)
        Frequency of each class in the training labels (weighted by
        ``sample_weight``); the prediction for a row with every modality missing.
    n_features_in_ : int
        Number of input columns (from the first member).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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

    @fit_context(
        # the members are validated when they are fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, *, sample_weight=None, **fit_params):
        """Fit every member on the whole training data.

        Parameters
        ----------
        X : DataFrame or array-like
            Input the members read.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample. Without metadata routing, every member gets
            it: in its ``fit`` as ``sample_weight``, or, for a pipeline, as
            ``<final step>__sample_weight`` (so the final classifier is
            weighted; its preprocessing is not). A member that cannot take it
            raises a TypeError. With routing, it goes to the members that
            requested it, as in :class:`~sklearn.ensemble.VotingClassifier`.
            It also weights ``class_prior_``.
        **fit_params : dict
            With metadata routing, parameters routed to the members (such as
            ``groups``).

        Returns
        -------
        self : LateFusionClassifier
            The fitted ensemble.
        """
        names, members = self._validate_estimators()
        self._check_members(names, members)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = check_member_sample_weight(sample_weight, len(y))
        pairs = list(zip(names, members))
        params = member_fit_params(self, pairs, sample_weight, fit_params)
        self.le_ = LabelEncoder().fit(y)
        self.classes_ = self.le_.classes_
        encoded = self.le_.transform(y)
        fitted = [(n, est) for n, est in zip(names, members) if est != "drop"]
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_member)(
                clone(est),
                X,
                encoded,
                params[name],
                self._log_message(name, i + 1, len(fitted)),
            )
            for i, (name, est) in enumerate(fitted)
        )
        members_fitted = iter(self.estimators_)
        self.named_estimators_ = Bunch(
            **{
                n: est if est == "drop" else next(members_fitted)
                for n, est in self.estimators
            }
        )
        if hasattr(self.estimators_[0], "feature_names_in_"):
            self.feature_names_in_ = self.estimators_[0].feature_names_in_
        counts = np.bincount(
            encoded, weights=sample_weight, minlength=self.classes_.shape[0]
        )
        self.class_prior_ = counts / counts.sum()
        return self

    def _check_members(self, names, members):
        if self.weights is not None and len(self.weights) != len(members):
            raise ValueError(
                f"weights has {len(self.weights)} entries but there are "
                f"{len(members)} estimators; give one weight per estimator"
            )
        if self.voting == "hard":
            blind = [
                name
                for name, est in zip(names, members)
                if est != "drop" and not hasattr(est, "predict_proba")
            ]
            if blind:
                raise ValueError(
                    f"members {blind} have no predict_proba, which hard voting "
                    "needs to break ties by summed probability; give them one "
                    "(e.g. SVC(probability=True)) or drop them"
                )

    @available_if(_voting_is_soft)
    def predict_proba(self, X):
        """Weighted mean of the class probabilities of the members that see a row.

        Parameters
        ----------
        X : DataFrame or array-like
            Input the members read.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        probas, present = self._member_outputs(X, "predict_proba")
        return self._average(probas, present)

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
            return self.le_.inverse_transform(np.argmax(self.predict_proba(X), axis=1))
        predictions, present = self._member_outputs(X, "predict")
        votes = self._count_votes(predictions, present)
        tied = np.isclose(votes, votes.max(axis=1, keepdims=True))
        winner = np.argmax(votes, axis=1)
        has_tie = (tied.sum(axis=1) > 1) & present.any(axis=0)
        if has_tie.any():
            # probabilities of all the rows, not only the tied ones: a member may
            # read a test speaker's other rows (speaker normalisation)
            probas, seen = self._member_outputs(X, "predict_proba")
            summed = np.einsum(
                "mn,mnc->nc", self._member_weights()[:, None] * seen, probas
            )
            rows = np.flatnonzero(has_tie)
            winner[rows] = np.argmax(
                np.where(tied[rows], summed[rows], -np.inf), axis=1
            )
        winner[~present.any(axis=0)] = np.argmax(self.class_prior_)
        return self.le_.inverse_transform(winner)

    def _member_weights(self):
        if self.weights is None:
            return np.ones(len(self.estimators_))
        # the weights of the members not dropped, as estimators_ holds them
        return np.asarray(
            [w for (_, est), w in zip(self.estimators, self.weights) if est != "drop"],
            dtype=float,
        )

    def _member_outputs(self, X, method):
        """Each member's ``method`` on the rows it can see, and those rows.

        Returns ``(outputs, present)``: ``outputs[m]`` holds member ``m``'s
        output on every row (zeros where it cannot see the row) and
        ``present[m]`` marks the rows it can see.
        """
        n_samples = num_samples(X)
        outputs, present = [], []
        for est in self.estimators_:
            rows = present_rows(est, X)
            if rows is None:
                outputs.append(getattr(est, method)(X))
                present.append(np.ones(n_samples, dtype=bool))
                continue
            width = (self.classes_.shape[0],) if method == "predict_proba" else ()
            full = np.zeros((n_samples, *width))
            if rows.any():
                full[rows] = getattr(est, method)(_rows(X, np.flatnonzero(rows)))
            outputs.append(full)
            present.append(rows)
        outputs = np.asarray(outputs)
        if method == "predict":
            outputs = outputs.astype(np.intp)
        return outputs, np.asarray(present)

    def _average(self, probas, present):
        """Weighted mean over the members present in each row; the prior elsewhere."""
        weights = self._member_weights()[:, None] * present
        total = weights.sum(axis=0)
        summed = np.einsum("mn,mnc->nc", weights, probas)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = summed / total[:, None]
        return np.where(total[:, None] > 0, mean, self.class_prior_)

    def _count_votes(self, predictions, present):
        n_members, n_samples = predictions.shape
        weights = self._member_weights()
        votes = np.zeros((n_samples, self.classes_.shape[0]))
        for member in range(n_members):
            rows = np.flatnonzero(present[member])
            np.add.at(votes, (rows, predictions[member, rows]), weights[member])
        return votes


def present_rows(estimator, X):
    """Mask of the rows of X where a member sees at least one of its columns.

    None when every row is seen, or when that cannot be told (X is not a
    DataFrame, or the member's columns are unknown).
    """
    if not hasattr(X, "columns"):
        return None
    columns = member_columns(estimator)
    if not columns:
        return None
    names = []
    for column in columns:
        if isinstance(column, (bool, np.bool_)):
            return None
        if isinstance(column, (int, np.integer)) and column not in X.columns:
            if not 0 <= column < X.shape[1]:
                return None
            column = X.columns[column]
        if column not in X.columns:
            return None
        names.append(column)
    present = np.zeros(X.shape[0], dtype=bool)
    for name in names:
        present |= [not is_missing(cell) for cell in X[name].to_numpy()]
    return None if present.all() else present


def _rows(X, rows):
    """Rows of a DataFrame, array, sparse matrix or list, keeping its type."""
    if issparse(X):
        # COO and DIA formats cannot be indexed by row
        X = X.tocsr()
    if hasattr(X, "iloc") or hasattr(X, "shape") or isinstance(X, list):
        return safe_indexing(X, rows)
    return np.asarray(X)[rows]


def _modality_weights(weights, modalities):
    """``weights`` (a sequence, or a dict by modality) as a list, or None."""
    if weights is None:
        return None
    if isinstance(weights, dict):
        unknown = sorted(set(weights) - set(modalities))
        if unknown:
            raise ValueError(
                f"weights names modalities {unknown} that are not in "
                f"modalities={modalities}"
            )
        return [float(weights.get(m, 1.0)) for m in modalities]
    weights = [float(w) for w in weights]
    if len(weights) != len(modalities):
        raise ValueError(
            f"weights has {len(weights)} entries but there are {len(modalities)} "
            f"modalities {modalities}; give one weight per modality, or a dict"
        )
    return weights


def make_late_fusion(
    modalities,
    *,
    voting="hard",
    pooling="mean",
    classifier=None,
    weights=None,
    speaker_normalization=False,
    request_groups=None,
):
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
    weights : sequence of float, dict or None, default=None
        Weight of each modality's vote (hard) or probabilities (soft): one per
        modality in order, or a dict ``{modality: weight}`` (1 for those it
        leaves out). Equal when None. To learn the weighting from data
        instead, see :func:`make_stacking_fusion`.
    speaker_normalization : bool, default=False
        Whether each member first standardises its modality per speaker (see
        :func:`make_modality_pipeline`).
    request_groups : bool or None, default=None
        Whether to request routed ``groups`` (speakers) for every estimator
        inside whose ``fit`` takes them (each network, for a speaker-disjoint
        early-stopping split), as ``set_fit_request(groups=True)`` on each
        would. None requests them when scikit-learn's metadata routing is on
        at the time of the call, on each estimator with no request of its own
        yet (and leaves them unset when it is off), so that
        ``cross_validate(..., params={"groups": speakers})`` and
        ``GridSearchCV.fit(..., groups=speakers)`` run without further calls;
        True requests them on all (routing must be on); False never does.

    Returns
    -------
    late_fusion : LateFusionClassifier
        Members are :func:`make_modality_pipeline` pipelines, so nested names
        read ``lexical__mlpclassifier__hidden_layer_sizes``.

    See Also
    --------
    make_early_fusion : Feature-level fusion in one classifier.
    make_stacking_fusion : A meta-classifier learns how to combine the members.

    Examples
    --------
    >>> from sklearn_mmer.fusion import make_late_fusion
    >>> late = make_late_fusion(["acoustic", "lexical"], voting="soft",
    ...                         weights={"lexical": 2.0})
    >>> sorted(late.named_estimators), late.weights
    (['acoustic', 'lexical'], [1.0, 2.0])
    """
    modalities = check_modalities(modalities)
    members = modality_members(
        modalities,
        pooling=pooling,
        classifier=classifier,
        speaker_normalization=speaker_normalization,
    )
    late_fusion = LateFusionClassifier(
        members, voting=voting, weights=_modality_weights(weights, modalities)
    )
    return resolve_request(late_fusion, request_groups)
