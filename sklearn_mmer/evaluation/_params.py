"""Setting a parameter of a nested estimator wherever it occurs."""


def set_every(estimator, param, value):
    """Set ``param`` wherever it occurs in a (nested) estimator.

    A method may be a pipeline, a late-fusion ensemble of pipelines or a
    stacking of them, each with its own path to its networks
    (``lexical__mlpclassifier__max_epochs``). ``set_every`` sets a parameter
    of all of them without spelling out the paths: fewer epochs for a quick
    run, a seed, a hidden size. The ``mmer`` command's ``--epochs`` is
    ``set_every(method, "max_epochs", epochs)``.

    Parameters
    ----------
    estimator : estimator
        An estimator with nested parameters.
    param : str
        A parameter name such as ``"max_epochs"``; every nested parameter whose
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

    Examples
    --------
    >>> from sklearn_mmer.evaluation import make_methods, set_every
    >>> late = make_methods(["acoustic", "lexical"], ["late_fusion"])["late_fusion"]
    >>> set_every(late, "max_epochs", 2)
    2
    >>> late.get_params()["lexical__mlpclassifier__max_epochs"]
    2
    """
    names = [
        key
        for key in estimator.get_params(deep=True)
        if key.rsplit("__", 1)[-1] == param
    ]
    estimator.set_params(**dict.fromkeys(names, value))
    return len(names)
