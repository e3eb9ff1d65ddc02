"""Setting a parameter of a nested estimator wherever it occurs."""

from ..neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)

#: the toolkit's neural classifiers, whose ``max_iter`` counts epochs
NETWORKS = (
    AttentionFusionClassifier,
    MLPClassifier,
    MLPEnsembleClassifier,
    SequenceClassifier,
)


def set_every(estimator, param, value):
    """Set ``param`` wherever it occurs in a (nested) estimator.

    A method may be a pipeline, a late-fusion ensemble of pipelines or a
    stacking of them, each with its own path to its networks
    (``lexical__mlpclassifier__max_iter``). ``set_every`` sets a parameter
    of all of them without spelling out the paths: fewer epochs for a quick
    run, a seed, a hidden size. For the networks' epochs, use
    :func:`set_epochs`: ``max_iter`` is also scikit-learn's name for a
    solver's iterations.

    Parameters
    ----------
    estimator : estimator
        An estimator with nested parameters.
    param : str
        A parameter name such as ``"max_iter"``; every nested parameter whose
        last ``__`` component is this name is set.
    value : object
        The new value.

    Returns
    -------
    n_set : int
        How many parameters were set (0 when the estimator has none by that
        name).

    See Also
    --------
    make_methods : Builds the estimators of named methods.
    set_epochs : Sets the networks' ``max_iter`` only.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import make_methods, set_every
    >>> late = make_methods(["acoustic", "lexical"], ["late_fusion"])["late_fusion"]
    >>> set_every(late, "hidden_layer_sizes", (8,))
    2
    >>> late.get_params()["lexical__mlpclassifier__hidden_layer_sizes"]
    (8,)
    """
    return _set_where(estimator, param, value)


def set_epochs(estimator, epochs):
    """Set the epochs (``max_iter``) of every network in a (nested) estimator.

    ``set_every(method, "max_iter", epochs)`` would also set the ``max_iter``
    of scikit-learn estimators beside the networks (a
    ``LogisticRegression``'s solver iterations), which is another thing; this
    sets it on the toolkit's neural classifiers only. The ``mmer`` command's
    ``--epochs`` is ``set_epochs(method, epochs)``.

    Parameters
    ----------
    estimator : estimator
        An estimator with nested parameters, or a neural classifier itself.
    epochs : int
        The number of epochs (the most, with early stopping).

    Returns
    -------
    n_set : int
        How many networks were set (0 when the estimator holds none).

    See Also
    --------
    set_every : Sets a parameter wherever it occurs.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import make_methods, set_epochs
    >>> stack = make_methods(["acoustic", "lexical"], ["stacking"])["stacking"]
    >>> set_epochs(stack, 2)
    2
    >>> stack.get_params()["final_estimator__max_iter"]
    100
    """
    return _set_where(estimator, "max_iter", epochs, owners=NETWORKS)


def _set_where(estimator, param, value, owners=None):
    """Set every nested ``param`` (of an instance of ``owners`` only, when
    given) to ``value``; return how many were set."""
    params = estimator.get_params(deep=True)

    def owner(key):
        return params[key.rsplit("__", 1)[0]] if "__" in key else estimator

    names = [
        key
        for key in params
        if key.rsplit("__", 1)[-1] == param
        and (owners is None or isinstance(owner(key), owners))
    ]
    estimator.set_params(**dict.fromkeys(names, value))
    return len(names)
