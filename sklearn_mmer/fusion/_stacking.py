"""Stacking: a meta-classifier learns how to combine per-modality classifiers."""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv
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

from ..utils._data import SPEAKER, num_samples, speaker_group_kfold, speakers_of
from ..utils._sklearn_compat import HasMethods, HeterogeneousEnsemble, fit_context
from ._early import modality_members
from ._late import _rows, present_rows
from ._routing import groups_params, resolve_request


def _member_proba(estimator, X, n_classes):
    """A member's probabilities on X over all ``n_classes`` encoded labels.

    A class the member never saw in fit gets 0; a row missing the member's
    modality gets the uniform ``1 / n_classes`` (the member says nothing), both
    in the out-of-fold features and at predict time, so the meta-classifier
    learns what such a row looks like.
    """
    n_samples = num_samples(X)
    out = np.full((n_samples, n_classes), 1.0 / n_classes)
    rows = present_rows(estimator, X)
    if rows is None:
        rows = np.ones(n_samples, dtype=bool)
    if rows.any():
        seen = estimator.predict_proba(_rows(X, np.flatnonzero(rows)))
        out[rows] = 0.0
        out[np.ix_(rows, np.asarray(estimator.classes_, dtype=np.intp))] = seen
    return out


def _fit_member(estimator, X, y, params):
    return estimator.fit(X, y, **params)


def _out_of_fold(estimator, X, y, train, test, n_classes, params):
    estimator.fit(_rows(X, train), y[train], **params)
    return _member_proba(estimator, _rows(X, test), n_classes)


def _train_speakers(speakers, train):
    return None if speakers is None else speakers[train]


def _final_has(method):
    def check(self):
        estimator = getattr(self, "final_estimator_", self.final_estimator)
        return estimator is None or hasattr(estimator, method)

    return check


class StackingFusionClassifier(ClassifierMixin, HeterogeneousEnsemble):
    """Combine per-modality classifiers by a meta-classifier fit on their probabilities.

    Stacking learns from data how much to trust each modality, and for which
    emotions: the meta-classifier (``final_estimator``) reads every member's
    class probabilities and predicts the label. It is fit on *out-of-fold*
    probabilities: an inner cross-validation over the training data fits each
    member on some folds and predicts the held-out one, so that the
    meta-classifier sees the members' errors on unseen data, not their
    (optimistic) training fit. The members are then refit on all the training
    data for prediction.

    With speakers known, the inner folds are whole speakers: the out-of-fold
    probabilities of an utterance come from members that never saw its
    speaker, as at test time in speaker-independent evaluation. Speakers are
    the ``groups`` passed to ``fit``, else X's ``speaker_column`` when X is a
    DataFrame that has it (the data contract); when both are given they must
    name the same speakers. Without either,
    the inner folds are stratified but not grouped: members then predict
    speakers they were trained on, which flatters the members that memorise
    speakers, and the meta-classifier may over-trust them.

    A row missing a member's modality (see :class:`LateFusionClassifier`) gets
    uniform probabilities from that member, in training and prediction alike.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The members, usually one pipeline per modality (see
        :func:`make_stacking_fusion`); each needs ``predict_proba``.
    final_estimator : estimator or None, default=None
        The meta-classifier; ``LogisticRegression()`` when None.
        :func:`make_stacking_fusion` always sets an instance, so that its
        parameters can be tuned by name (``final_estimator__C``).
    cv : int, cross-validation generator or iterable, default=5
        The inner cross-validation. An int ``k`` means
        ``GroupKFold(min(k, n_speakers))`` over the training speakers (so that
        nested in an outer speaker fold it still runs), or
        ``StratifiedKFold(k)`` without speakers. A splitter is called as
        ``split(X, y, speakers)``; it must put each row in exactly one test
        fold.
    speaker_column : str, default="speaker"
        The column of X holding each row's speaker.
    n_jobs : int or None, default=None
        Number of member fits run in parallel.

    Attributes
    ----------
    estimators_ : list of estimators
        The members, fit on all the training data.
    named_estimators_ : Bunch
        The fitted members by name.
    final_estimator_ : estimator
        The meta-classifier, fit on the out-of-fold probabilities.
    inner_cv_ : cross-validation generator
        The inner cross-validation used.
    grouped_ : bool
        Whether the inner folds were grouped by speaker.
    le_ : LabelEncoder
        Encodes labels for the members, which are fit on ``0..n_classes - 1``.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of input columns (from the first member).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input columns, when X has them.

    See Also
    --------
    make_stacking_fusion : Builds one pipeline per modality and stacks them.
    LateFusionClassifier : A fixed (weighted) vote instead of a learned one.
    sklearn.ensemble.StackingClassifier : scikit-learn's stacking, whose inner
        cross-validation is not grouped by speaker.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn_mmer.fusion import StackingFusionClassifier
    >>> X = np.array([[0.0], [0.2], [0.1], [1.0], [1.2], [1.1]])
    >>> y = np.array(["calm", "calm", "calm", "angry", "angry", "angry"])
    >>> speakers = np.array(["a", "b", "c", "a", "b", "c"])
    >>> stack = StackingFusionClassifier(
    ...     [("lr", LogisticRegression()), ("nb", GaussianNB())], cv=3)
    >>> stack.fit(X, y, groups=speakers).predict([[0.1], [1.1]])
    array(['calm', 'angry'], dtype='<U5')
    >>> stack.grouped_
    True
    """

    _parameter_constraints = {
        "estimators": [list],
        "final_estimator": [None, HasMethods(["fit", "predict"])],
        "cv": ["cv_object"],
        "speaker_column": [str],
        "n_jobs": [None, Integral],
    }

    def __init__(
        self,
        estimators,
        *,
        final_estimator=None,
        cv=5,
        speaker_column=SPEAKER,
        n_jobs=None,
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.speaker_column = speaker_column
        self.n_jobs = n_jobs

    def _speakers(self, X, groups):
        return speakers_of(X, groups, column=self.speaker_column)

    def _inner_cv(self, y, speakers):
        cv = 5 if self.cv is None else self.cv
        if isinstance(cv, Integral):
            if speakers is None:
                return StratifiedKFold(cv)
            return speaker_group_kfold(
                speakers,
                cv,
                needed_by="stacking's speaker-grouped inner cross-validation",
                fix="Pass cv as a splitter to choose another inner cross-validation",
            )
        return check_cv(copy.deepcopy(cv), y, classifier=True)

    @fit_context(
        # the members and the meta-classifier are validated when they are fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, groups=None):
        """Fit the members out of fold, the meta-classifier, then the members.

        Parameters
        ----------
        X : DataFrame or array-like
            Input the members read; its ``speaker_column``, when present and
            ``groups`` are not given, gives the speakers of the inner folds.
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker ids of the inner folds; when X also has a
            ``speaker_column``, the two must agree. With metadata
            routing, request them with ``set_fit_request(groups=True)``.

        Returns
        -------
        self : StackingFusionClassifier
            The fitted ensemble.
        """
        names, members = self._validate_estimators()
        fitted = [(n, est) for n, est in zip(names, members) if est != "drop"]
        for name, est in fitted:
            if not hasattr(est, "predict_proba"):
                raise ValueError(
                    f"member {name!r} ({type(est).__name__}) has no predict_proba; "
                    "stacking reads the members' class probabilities"
                )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        check_consistent_length(X, y)
        if num_samples(X) == 0:
            raise ValueError("Found array with 0 sample(s); stacking needs data")
        self.le_ = LabelEncoder().fit(y)
        self.classes_ = self.le_.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                "StackingFusionClassifier needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})"
            )
        y = self.le_.transform(y)
        speakers = self._speakers(X, groups)
        self.grouped_ = speakers is not None
        self.inner_cv_ = self._inner_cv(y, speakers)
        meta = self._out_of_fold_probabilities(X, y, fitted, speakers)
        final = self.final_estimator
        self.final_estimator_ = clone(LogisticRegression() if final is None else final)
        self.final_estimator_.fit(meta, y)

        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(clone(est), X, y, groups_params(est, speakers))
            for _, est in fitted
        )
        self.named_estimators_ = Bunch(
            **{name: est for (name, _), est in zip(fitted, self.estimators_)}
        )
        first = self.estimators_[0]
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _out_of_fold_probabilities(self, X, y, members, speakers):
        """Every member's probabilities on each row, from fits without that row."""
        n_classes = self.classes_.shape[0]
        splits = list(self.inner_cv_.split(X, y, speakers))
        tested = np.bincount(
            np.concatenate([test for _, test in splits]), minlength=len(y)
        )
        if not np.all(tested == 1):
            raise ValueError(
                "cv must put each training row in exactly one test fold; "
                f"{int(np.sum(tested != 1))} rows are not"
            )
        jobs = [(m, train, test) for m in range(len(members)) for train, test in splits]
        # with metadata routing, a member that requested groups gets the
        # speakers of the rows it is fit on (for its early-stopping split)
        probas = Parallel(n_jobs=self.n_jobs)(
            delayed(_out_of_fold)(
                clone(members[m][1]),
                X,
                y,
                train,
                test,
                n_classes,
                groups_params(members[m][1], _train_speakers(speakers, train)),
            )
            for m, train, test in jobs
        )
        meta = np.empty((len(y), len(members) * n_classes))
        for (m, _, test), proba in zip(jobs, probas):
            meta[test, m * n_classes : (m + 1) * n_classes] = proba
        return meta

    def _meta_features(self, X):
        n_classes = self.classes_.shape[0]
        return np.hstack([_member_proba(est, X, n_classes) for est in self.estimators_])

    def predict(self, X):
        """Predict class labels with the meta-classifier.

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
        encoded = self.final_estimator_.predict(self._meta_features(X))
        return self.le_.inverse_transform(np.asarray(encoded, dtype=np.intp))

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the meta-classifier.

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
        return self.final_estimator_.predict_proba(self._meta_features(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def make_stacking_fusion(
    modalities,
    *,
    pooling="mean",
    classifier=None,
    final_estimator=None,
    cv=5,
    speaker_normalization=False,
    request_groups=None,
):
    """Build stacking fusion: one unimodal pipeline per modality, combined by a
    meta-classifier fit on their out-of-fold, speaker-grouped probabilities.

    Parameters
    ----------
    modalities : list of str
        Columns of X, one member each, named by the modality.
    pooling : str, default="mean"
        :class:`~sklearn_mmer.preprocessing.TemporalPooling` method of every
        member.
    classifier : estimator or None, default=None
        Classifier cloned into each member; a default
        :class:`~sklearn_mmer.neural.MLPClassifier` when None.
    final_estimator : estimator or None, default=None
        The meta-classifier, cloned; a ``LogisticRegression()`` when None. It
        is an instance in the returned estimator either way, so that its
        parameters can be tuned by name (``final_estimator__C``).
    cv : int, cross-validation generator or iterable, default=5
        The inner cross-validation (see :class:`StackingFusionClassifier`).
    speaker_normalization : bool, default=False
        Whether each member first standardises its modality per speaker (see
        :func:`make_modality_pipeline`).
    request_groups : bool or None, default=None
        Whether to request routed ``groups`` (speakers) for the stacking
        estimator and every network inside, as ``set_fit_request(groups=True)``
        on each would; the stacking estimator then hands each member the
        speakers of the rows it is fit on. None requests them when
        scikit-learn's metadata routing is on at the time of the call, on each
        estimator with no request of its own yet (and leaves them unset when
        it is off); True requests them on all (routing must be on); False
        never does.

    Returns
    -------
    stacking : StackingFusionClassifier
        Members are :func:`make_modality_pipeline` pipelines, so nested names
        read ``lexical__mlpclassifier__hidden_layer_sizes``.

    See Also
    --------
    make_late_fusion : A fixed vote over the same members.

    Examples
    --------
    >>> from sklearn_mmer.fusion import make_stacking_fusion
    >>> stack = make_stacking_fusion(["acoustic", "lexical"], cv=3)
    >>> sorted(stack.named_estimators), type(stack).__name__
    (['acoustic', 'lexical'], 'StackingFusionClassifier')
    >>> stack.set_params(final_estimator__C=0.1).final_estimator
    LogisticRegression(C=0.1)
    """
    members = modality_members(
        modalities,
        pooling=pooling,
        classifier=classifier,
        speaker_normalization=speaker_normalization,
    )
    stacking = StackingFusionClassifier(
        members,
        final_estimator=(
            LogisticRegression() if final_estimator is None else clone(final_estimator)
        ),
        cv=cv,
    )
    return resolve_request(stacking, request_groups)
