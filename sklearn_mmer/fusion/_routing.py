"""Requesting routed ``groups`` (speakers) for every network inside a composite.

With scikit-learn's metadata routing on, ``cross_validate(..., params={"groups":
speakers})`` hands the speakers to an estimator's ``fit`` only where it asked for
them with ``set_fit_request(groups=True)``; a late fusion of three modalities
holds three networks, each asking on its own. :func:`request_groups` asks for
all of them. The factories ask by default whenever routing is on when they
build (``request_groups=None``), so that the common recipes (a factory's
pipeline inside ``GridSearchCV`` with a speaker splitter, nested in
``cross_validate(..., params={"groups": speakers})``) run without a
``set_fit_request`` call.
"""

import inspect

from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils.metadata_routing import get_routing_for_object


def _fit_takes_groups(obj):
    if not isinstance(obj, BaseEstimator) or isinstance(obj, type):
        return False
    return "groups" in inspect.signature(obj.fit).parameters


def _request_is_set(obj):
    # a consumer's own request for fit's groups: None while unset
    return obj._get_metadata_request().fit.requests.get("groups") is not None


def request_groups(estimator, *, keep_set=False):
    """Request ``groups`` in ``fit`` of ``estimator`` and of every estimator in it.

    Returns ``estimator``, changed in place. Raises a ValueError when metadata
    routing is off, since only routing hands ``groups`` to an inner ``fit``.
    With ``keep_set``, an estimator whose request is already set (a classifier
    given with ``set_fit_request(groups=False)``, say) keeps it.
    """
    if not get_config()["enable_metadata_routing"]:
        raise ValueError(
            "request_groups=True asks scikit-learn's metadata routing to hand "
            "groups to every network's fit, but routing is off; enable it first "
            "with sklearn.set_config(enable_metadata_routing=True) (or inside "
            "sklearn.config_context(enable_metadata_routing=True))"
        )
    for obj in [estimator, *estimator.get_params(deep=True).values()]:
        if _fit_takes_groups(obj) and not (keep_set and _request_is_set(obj)):
            obj.set_fit_request(groups=True)
    return estimator


def resolve_request(estimator, requested):
    """Apply a factory's ``request_groups`` argument to the estimator it built.

    ``True`` requests ``groups`` everywhere (a ValueError when routing is off),
    ``False`` leaves the requests as they are, and ``None`` requests them when
    scikit-learn's metadata routing is on at the time of the call, where no
    request was set yet (a caller's ``set_fit_request`` survives the clone).
    """
    if requested is None:
        if not get_config()["enable_metadata_routing"]:
            return estimator
        return request_groups(estimator, keep_set=True)
    return request_groups(estimator) if requested else estimator


def groups_params(estimator, groups):
    """``{"groups": groups}`` when routing is on and ``estimator`` requested them.

    What a meta-estimator that knows the speakers passes to a member's ``fit``.
    """
    if groups is None or not get_config()["enable_metadata_routing"]:
        return {}
    if get_routing_for_object(estimator).consumes("fit", ["groups"]):
        return {"groups": groups}
    return {}
