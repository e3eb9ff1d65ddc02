"""How a fusion ensemble hands ``sample_weight`` to its members.

Without metadata routing, scikit-learn's ensembles pass ``sample_weight`` to
``member.fit`` as a keyword, which a :class:`~sklearn.pipeline.Pipeline` (every
member :func:`make_modality_pipeline` builds) refuses. A pipeline takes it as
``<final step>__sample_weight`` instead, and that is what these helpers pass.
"""

import time

import numpy as np
from sklearn import get_config
from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import process_routing
from sklearn.utils.validation import has_fit_parameter


def check_member_sample_weight(sample_weight, n_samples):
    """``sample_weight`` as a float array of shape ``(n_samples,)``."""
    weight = np.asarray(sample_weight, dtype=np.float64)
    if weight.ndim == 0:
        weight = np.full(n_samples, float(weight))
    if weight.ndim != 1 or weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per "
            f"sample of X; got shape {weight.shape}"
        )
    return weight


def sample_weight_params(name, estimator, sample_weight):
    """The fit parameters that give member ``name`` the sample weights.

    ``{"sample_weight": w}`` for a member whose ``fit`` takes it, and
    ``{"<final step>__sample_weight": w}`` for a pipeline whose final step
    does. Raises a TypeError, naming the member, for any other member.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return {"sample_weight": sample_weight}
    if isinstance(estimator, Pipeline):
        step, final = estimator.steps[-1]
        if final not in (None, "passthrough") and has_fit_parameter(
            final, "sample_weight"
        ):
            return {f"{step}__sample_weight": sample_weight}
        estimator = final
    raise TypeError(
        f"member {name!r} ({type(estimator).__name__}) does not support sample "
        "weights: its fit takes no sample_weight. Give it a classifier whose fit "
        "does, drop it, or fit without sample_weight"
    )


def member_fit_params(ensemble, members, sample_weight, fit_params):
    """Each member's fit parameters, by name, for an ensemble's ``fit``.

    ``members`` are the ``(name, estimator)`` pairs of the ensemble. With
    metadata routing, ``sample_weight`` and ``fit_params`` go where the members
    requested them; without, every member gets ``sample_weight`` (see
    :func:`sample_weight_params`) and nothing else.
    """
    names = [name for name, _ in members]
    if get_config()["enable_metadata_routing"]:
        if sample_weight is not None:
            fit_params = {**fit_params, "sample_weight": sample_weight}
        routed = process_routing(ensemble, "fit", **fit_params)
        return {name: routed[name].fit for name in names}
    if fit_params:
        raise ValueError(
            f"fit got {sorted(fit_params)}, which reach the members only with "
            "metadata routing: enable it with "
            "sklearn.set_config(enable_metadata_routing=True)"
        )
    return {
        name: {}
        if sample_weight is None or est == "drop"
        else sample_weight_params(name, est, sample_weight)
        for name, est in members
    }


def fit_member(estimator, X, y, params, message=None):
    """Fit one member with its own fit parameters; print the time when asked."""
    start = time.perf_counter()
    estimator.fit(X, y, **params)
    if message is not None:
        elapsed = time.perf_counter() - start
        print(f"[Voting] {message}, total={elapsed:5.1f}s")
    return estimator
