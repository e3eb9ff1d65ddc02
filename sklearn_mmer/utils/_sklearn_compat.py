"""The one door to scikit-learn's private names.

Every private scikit-learn name sklearn-mmer uses is imported here and
nowhere else (a test checks that), so that a scikit-learn release that moves
one breaks this module only. The names re-exported here have been stable
since scikit-learn 1.3 and are used the same way by scikit-learn-contrib
projects; the riskier ones (``_BaseHeterogeneousEnsemble``,
``VotingClassifier._weights_not_none``, ``_check_feature_names``,
``_check_feature_names_in``, ``_num_samples``, ``GroupsConsumerMixin``) are
replaced by the project's own small code: :mod:`._ensemble`,
:func:`check_feature_names_in`, :class:`GroupsConsumerMixin` here,
:func:`._groups.num_samples`, and ``validate_data(...,
skip_check_array=True)`` for feature-name checks.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
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
