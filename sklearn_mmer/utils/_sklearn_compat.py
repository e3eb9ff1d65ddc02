"""The one door to scikit-learn's private names, and the project's own code
in place of the riskier ones.

Every private scikit-learn name sklearn-mmer uses is imported here and
nowhere else (a test checks that), so that a scikit-learn release that moves
one breaks this module only. The names re-exported here have been stable
since scikit-learn 1.3 and are used the same way by scikit-learn-contrib
projects; the riskier ones (``_BaseHeterogeneousEnsemble``,
``VotingClassifier._weights_not_none``, ``_check_feature_names``,
``_check_feature_names_in``, ``_num_samples``, ``GroupsConsumerMixin``) are
replaced by the project's own small code on public API:
:class:`HeterogeneousEnsemble`, :func:`check_feature_names_in` and
:class:`GroupsConsumerMixin` here, :func:`._data.num_samples`, and
``validate_data(..., skip_check_array=True)`` for feature-name checks.
"""

from contextlib import suppress

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, is_classifier
from sklearn.utils import Bunch, _safe_indexing, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
    validate_params,
)

__all__ = [
    "GroupsConsumerMixin",
    "HasMethods",
    "HeterogeneousEnsemble",
    "Hidden",
    "Interval",
    "StrOptions",
    "check_feature_names_in",
    "fit_context",
    "safe_indexing",
    "validate_params",
]

#: Decorator of ``fit``: validates parameters once, then skips nested checks.
fit_context = _fit_context

#: Rows (or columns) of an array, DataFrame, sparse matrix or list.
safe_indexing = _safe_indexing


class GroupsConsumerMixin:
    """Make a splitter request ``groups`` for ``split`` under metadata routing.

    Put it before :class:`~sklearn.model_selection.BaseCrossValidator` among
    the bases; that class reads the request as scikit-learn's own group
    splitters' does.
    """

    __metadata_request__split = {"groups": True}


def check_feature_names_in(estimator, input_features=None):
    """The input feature names for ``get_feature_names_out``.

    ``input_features`` when given (checked against ``feature_names_in_`` and
    ``n_features_in_``); else ``feature_names_in_``; else ``x0, x1, ...``.
    """
    names_in = getattr(estimator, "feature_names_in_", None)
    n_features_in = getattr(estimator, "n_features_in_", None)
    if input_features is not None:
        input_features = np.asarray(input_features, dtype=object)
        if names_in is not None and not np.array_equal(names_in, input_features):
            raise ValueError("input_features is not equal to feature_names_in_")
        if n_features_in is not None and len(input_features) != n_features_in:
            raise ValueError(
                "input_features should have length equal to number of "
                f"features ({n_features_in}), got {len(input_features)}"
            )
        return input_features
    if names_in is not None:
        return names_in
    if n_features_in is None:
        raise ValueError("Unable to generate feature names without n_features_in_")
    return np.asarray([f"x{i}" for i in range(n_features_in)], dtype=object)


# --- ensembles of named estimators, on public API -------------------------------------

# What scikit-learn's private _BaseHeterogeneousEnsemble does for its ensembles
# (nested get_params/set_params by member name, members set to "drop", checking
# the list of members), so that an ensemble here does not depend on that class.


class HeterogeneousEnsemble(MetaEstimatorMixin, BaseEstimator):
    """An ensemble whose ``estimators`` parameter lists ``(name, estimator)``.

    Subclasses store ``estimators`` in ``__init__``.
    """

    @property
    def named_estimators(self):
        """The members by name.

        Returns
        -------
        named_estimators : Bunch
            ``name -> estimator`` of the ``estimators`` parameter.
        """
        return Bunch(**dict(self.estimators))

    def _validate_estimators(self):
        """Check ``estimators``; return ``(names, estimators)`` as tuples."""
        if len(self.estimators) == 0 or not all(
            isinstance(item, (tuple, list)) and isinstance(item[0], str)
            for item in self.estimators
        ):
            raise ValueError(
                "Invalid 'estimators' attribute, 'estimators' should be a "
                "non-empty list of (string, estimator) tuples."
            )
        names, estimators = zip(*self.estimators)
        self._validate_names(names)
        if all(_is_drop(est) for est in estimators):
            raise ValueError(
                "All estimators are dropped. At least one is required "
                "to be an estimator."
            )
        kind = "classifier" if is_classifier(self) else "regressor"
        for est in estimators:
            if not _is_drop(est) and get_tags(est).estimator_type != kind:
                raise ValueError(
                    f"The estimator {type(est).__name__} should be a {kind}."
                )
        return names, estimators

    def _validate_names(self, names):
        if len(set(names)) != len(names):
            raise ValueError(f"Names provided are not unique: {list(names)!r}")
        conflicts = set(names).intersection(self.get_params(deep=False))
        if conflicts:
            raise ValueError(
                "Estimator names conflict with constructor arguments: "
                f"{sorted(conflicts)!r}"
            )
        nested = [name for name in names if "__" in name]
        if nested:
            raise ValueError(f"Estimator names must not contain __: got {nested!r}")

    def get_params(self, deep=True):
        """Get the parameters, with every member and its parameters when deep.

        Parameters
        ----------
        deep : bool, default=True
            Also return each member (by name) and its parameters
            (``name__parameter``).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = super().get_params(deep=deep)
        if not deep:
            return out
        try:
            members = dict(self.estimators)
        except (TypeError, ValueError):
            # estimators is not a list of pairs: fit's check will say so
            return out
        out.update(members)
        for name, estimator in members.items():
            if hasattr(estimator, "get_params"):
                for key, value in estimator.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params):
        """Set parameters, members by name, or members' parameters.

        Parameters
        ----------
        **params : dict
            ``estimators`` (the whole list), a member's name (a new member,
            or ``"drop"``), ``name__parameter``, or another parameter.

        Returns
        -------
        self : object
            This ensemble.
        """
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        items = self.estimators
        if isinstance(items, list) and items:
            with suppress(TypeError, ValueError):
                names = [name for name, _ in items]
                for key in list(params):
                    if "__" not in key and key in names:
                        self._replace_member(key, params.pop(key))
        super().set_params(**params)
        return self

    def _replace_member(self, name, estimator):
        self.estimators = [
            (n, estimator if n == name else est) for n, est in self.estimators
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        with suppress(Exception):
            # estimators not a list of pairs: fit's check will say so
            members = [est for _, est in self.estimators if not _is_drop(est)]
            tags.input_tags.allow_nan = all(
                get_tags(est).input_tags.allow_nan for est in members
            )
            tags.input_tags.sparse = all(
                get_tags(est).input_tags.sparse for est in members
            )
        return tags


def _is_drop(estimator):
    return isinstance(estimator, str) and estimator == "drop"
