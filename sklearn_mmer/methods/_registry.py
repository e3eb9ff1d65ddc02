"""The registry of named methods: what the catalogue fills and users extend.

A *method* is a name (``"early_fusion"``) with a factory that builds an
unfitted estimator for given modalities and seed, and what it is declared to
be (its kind, the modalities it reads, whether it is transductive). Every
modality is also a method of its own (its unimodal pipeline), named by the
modality. The ``mmer`` command and ``compare_methods`` resolve names through
this registry, so a method registered here is offered everywhere at once.
Nothing here is inferred from a method's name: what is not declared takes the
default.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ._factories import _unimodal

#: The kinds of method: what ``register_method(kind=...)`` accepts and
#: ``method_kind`` answers; the figures colour unimodal and fusion methods apart.
#: ``"classical"``: a scikit-learn model (no network) on pooled statistics.
METHOD_KINDS = ("unimodal", "early_fusion", "late_fusion", "classical", "other")


@dataclass(frozen=True)
class Method:
    """A registered method.

    Parameters
    ----------
    name : str
        The name users type, such as ``"early_fusion"``.
    factory : callable
        ``factory(modalities, random_state) -> estimator``: an unfitted
        estimator over the list of modality names, seeded by ``random_state``.
    description : str
        One line for ``mmer methods`` and the docs.
    kind : str
        One of ``METHOD_KINDS``.
    default : bool
        Whether ``mmer compare`` runs it when ``--methods`` is not given.
    transductive : bool
        Whether it reads the test fold's unlabelled features at predict time
        (per-speaker statistics of unseen speakers): its scores are then not
        comparable one to one with purely inductive methods.
    modalities : tuple of str or None
        The modalities it reads, when declared as a fixed set; None (every
        built-in method) means every modality of the corpus it is given.
    requires : tuple of str or None
        Modalities the corpus must have for the method to be what it says
        (``late_fusion_weighted`` weights ``lexical``); None needs none but
        those of ``modalities``.

    See Also
    --------
    register_method : Registers a method.
    registered_methods : The registered methods by name.

    Examples
    --------
    >>> from sklearn_mmer.methods import registered_methods
    >>> method = registered_methods()["early_fusion_speaker_norm"]
    >>> method.kind, method.transductive, method.modalities
    ('early_fusion', True, None)
    """

    name: str
    factory: Callable
    description: str
    kind: str = "other"
    default: bool = False
    transductive: bool = False
    modalities: tuple | None = None
    requires: tuple | None = None


_REGISTRY = {}


def register_method(
    name,
    factory,
    *,
    description,
    kind="other",
    default=False,
    transductive=False,
    modalities=None,
    requires=None,
    replace=False,
):
    """Register a named method for ``compare_methods`` and ``mmer compare``.

    Parameters
    ----------
    name : str
        Name of the method. It must not be ``"all"`` and should not be a
        modality name (modalities are methods of their own).
    factory : callable
        ``factory(modalities, random_state) -> estimator``, returning a new
        unfitted classifier that reads the given modality columns of X.
    description : str
        One line saying what the method is.
    kind : str, default="other"
        What the method is: one of ``METHOD_KINDS`` (``"unimodal"``,
        ``"early_fusion"``, ``"late_fusion"``, ``"classical"``, ``"other"``).
    default : bool, default=False
        Whether it runs when no methods are named.
    transductive : bool, default=False
        Whether it reads the test fold's unlabelled features at predict time.
        Declared, never guessed: a name such as ``"my_speaker_norm"`` does not
        make a method transductive.
    modalities : list of str or None, default=None
        The modalities it reads, when a fixed set; None means every modality
        of the corpus (recorded in :class:`Method`; the factory is still
        called with the corpus's modalities).
    requires : list of str or None, default=None
        Modalities a corpus must have for the method to run (besides
        ``modalities``): on a corpus without one of them the method is
        refused by name, left out of ``"all"``, and ``mmer methods --data``
        says why.
    replace : bool, default=False
        Allow replacing a method registered under the same name.

    Returns
    -------
    method : Method
        The registered entry.

    See Also
    --------
    unregister_method : Removes a method.
    registered_methods : The registered methods and what they are.

    Examples
    --------
    >>> from sklearn_mmer.methods import (
    ...     register_method, registered_methods, unregister_method)
    >>> from sklearn_mmer.fusion import make_late_fusion
    >>> _ = register_method(
    ...     "my_soft_vote",
    ...     lambda modalities, random_state: make_late_fusion(
    ...         modalities, voting="soft"),
    ...     description="late fusion by mean probability", kind="late_fusion")
    >>> "my_soft_vote" in registered_methods()
    True
    >>> unregister_method("my_soft_vote")
    >>> "my_soft_vote" in registered_methods()
    False
    """
    if not isinstance(name, str) or not name or name == "all":
        raise ValueError(
            f"name must be a non-empty string other than 'all'; got {name!r}"
        )
    if not callable(factory):
        raise ValueError(
            f"factory of method {name!r} must be callable; got {factory!r}"
        )
    if kind not in METHOD_KINDS:
        raise ValueError(f"kind must be one of {METHOD_KINDS}; got {kind!r}")
    modalities = _names(name, "modalities", modalities)
    requires = _names(name, "requires", requires)
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"a method named {name!r} is already registered; pass replace=True "
            "to replace it"
        )
    method = Method(
        name,
        factory,
        description,
        kind,
        bool(default),
        bool(transductive),
        modalities,
        requires,
    )
    _REGISTRY[name] = method
    return method


def _names(name, field, value):
    """``value``, a list of modality names or None, as a tuple or None."""
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(m, str) for m in value):
        raise ValueError(
            f"{field} of method {name!r} must be a list of modality names "
            f"or None (every modality); got {value!r}"
        )
    return tuple(value)


def unregister_method(name):
    """Remove a registered method.

    Parameters
    ----------
    name : str
        Name of a registered method.

    See Also
    --------
    register_method : Adds a method.

    Examples
    --------
    >>> from sklearn_mmer.methods import (
    ...     register_method, registered_methods, unregister_method)
    >>> from sklearn_mmer.fusion import make_early_fusion
    >>> _ = register_method(
    ...     "plain_early", lambda m, random_state: make_early_fusion(m),
    ...     description="early fusion")
    >>> unregister_method("plain_early")
    >>> "plain_early" in registered_methods()
    False
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"no method named {name!r} is registered; registered: "
            f"{', '.join(_REGISTRY)}"
        )
    del _REGISTRY[name]


def registered_methods():
    """The registered methods by name, in registration order.

    Modalities, which are methods of their own, are not listed: they depend on
    the corpus.

    Returns
    -------
    methods : dict of str to Method
        A copy of the registry.

    See Also
    --------
    register_method : Adds a method.
    method_names : Resolves the names a comparison runs.

    Examples
    --------
    >>> from sklearn_mmer.methods import registered_methods
    >>> [name for name in registered_methods()][:2]
    ['early_fusion', 'late_fusion']
    """
    return dict(_REGISTRY)


def method_availability(modalities):
    """Which registered methods can run on a corpus of these modalities.

    A method runs when the corpus has every modality it declares it reads
    (``modalities``) and requires (``requires``).

    Parameters
    ----------
    modalities : list of str
        The corpus's modalities.

    Returns
    -------
    availability : dict of str to str or None
        For each registered method, in registration order, None when it can
        run, else why not, in words.

    See Also
    --------
    method_names : Refuses, by name, a method that cannot run.
    registered_methods : The registered methods and what they are.

    Examples
    --------
    >>> from sklearn_mmer.methods import method_availability
    >>> available = method_availability(["acoustic", "visual"])
    >>> available["early_fusion"] is None
    True
    >>> available["late_fusion_weighted"]
    "needs the modality 'lexical', which the corpus lacks"
    """
    present = set(modalities)
    availability = {}
    for name, method in _REGISTRY.items():
        needed = [*(method.modalities or ()), *(method.requires or ())]
        missing = [m for m in dict.fromkeys(needed) if m not in present]
        availability[name] = (
            None
            if not missing
            else f"needs the modalit{'y' if len(missing) == 1 else 'ies'} "
            f"{', '.join(map(repr, missing))}, which the corpus lacks"
        )
    return availability


def method_names(modalities, names=None, *, allow_all=True):
    """Resolve method names: the defaults, ``"all"``, or a list to check.

    Parameters
    ----------
    modalities : list of str
        The corpus's modalities; each is also a unimodal method.
    names : list of str or None, default=None
        The names asked for. None gives the modalities and every default
        method; ``["all"]`` gives the modalities and every registered method.
    allow_all : bool, default=True
        Whether ``"all"`` is accepted. False where one method is trained
        (``mmer fit``): ``"all"`` is then an unknown name, and the message
        does not offer it.

    Returns
    -------
    names : list of str
        Distinct names, in the order given (modalities first otherwise).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones), a method
        that cannot run on these modalities (see :func:`method_availability`),
        ``"all"`` combined with other names, or a modality named like a
        method. ``"all"`` and the defaults leave out the methods that cannot
        run.

    See Also
    --------
    make_methods : Builds the estimators of these names.
    registered_methods : The registered methods and what they are.

    Notes
    -----
    :func:`make_methods` and
    :func:`~sklearn_mmer.evaluation.compare_methods` resolve names this way; call
    it to know which methods a comparison will run.

    Examples
    --------
    >>> from sklearn_mmer.methods import method_names
    >>> method_names(["acoustic", "lexical"])
    ['acoustic', 'lexical', 'early_fusion', 'late_fusion', 'logistic_regression']
    >>> method_names(["acoustic", "lexical"], ["late_fusion", "lexical"])
    ['late_fusion', 'lexical']
    """
    modalities = list(modalities)
    clash = sorted(set(modalities) & (set(_REGISTRY) | {"all"}))
    if clash:
        raise ValueError(
            f"modality {clash[0]!r} has the name of a method; rename that modality"
        )
    why_not = method_availability(modalities)
    if names is None:
        return modalities + [
            n for n, m in _REGISTRY.items() if m.default and why_not[n] is None
        ]
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if "all" in names and allow_all:
        if names != ["all"]:
            raise ValueError("methods 'all' cannot be combined with other names")
        return modalities + [n for n in _REGISTRY if why_not[n] is None]
    valid = modalities + list(_REGISTRY)
    for name in names:
        if name not in valid:
            offer = ", or 'all'" if allow_all else ""
            raise ValueError(
                f"unknown method {name!r}; choose among {', '.join(valid)}{offer}"
            )
        if name not in modalities and why_not[name] is not None:
            raise ValueError(
                f"method {name!r} cannot run on the modalities "
                f"{', '.join(modalities)}: it {why_not[name]}"
            )
    return list(dict.fromkeys(names))


def method_kind(name, modalities):
    """The kind of a method name: ``"unimodal"`` for a modality, else its entry's.

    Parameters
    ----------
    name : str
        A method name.
    modalities : list of str
        The corpus's modalities.

    Returns
    -------
    kind : str
        One of ``METHOD_KINDS``: ``"unimodal"``, ``"early_fusion"``,
        ``"late_fusion"``, ``"classical"`` or ``"other"`` (also for a name
        that is not registered).

    See Also
    --------
    sklearn_mmer.evaluation.save_comparison : Colours its figures by the
        ``kinds`` built with it.
    register_method : Declares the kind of a new method.

    Examples
    --------
    The ``kinds`` that :func:`~sklearn_mmer.evaluation.save_comparison` and
    :func:`~sklearn_mmer.evaluation.save_figures` take:

    >>> from sklearn_mmer.methods import method_kind
    >>> modalities = ["acoustic", "lexical"]
    >>> {name: method_kind(name, modalities)
    ...  for name in ["lexical", "early_fusion", "late_fusion"]}
    {'lexical': 'unimodal', 'early_fusion': 'early_fusion', \
'late_fusion': 'late_fusion'}
    """
    if name in modalities:
        return "unimodal"
    return _REGISTRY[name].kind if name in _REGISTRY else "other"


def make_methods(modalities, names=None, *, random_state=None):
    """Build the unfitted estimators of named methods.

    Parameters
    ----------
    modalities : list of str
        Columns of X holding the modalities.
    names : list of str or None, default=None
        Method names, as for :func:`method_names` (None: the defaults).
    random_state : int or None, default=None
        Seed handed to every factory. The built-in methods give each of their
        classifiers this same seed, so that late fusion's members equal the
        unimodal methods and :func:`~sklearn_mmer.evaluation.compare_methods`
        can fit them once.

    Returns
    -------
    methods : dict of str to estimator
        Unfitted estimators by method name.

    See Also
    --------
    method_names : The names these are built for.
    registered_methods : The registered methods and what they are.

    Examples
    --------
    >>> from sklearn_mmer.methods import make_methods
    >>> methods = make_methods(["acoustic", "lexical"], random_state=0)
    >>> list(methods)
    ['acoustic', 'lexical', 'early_fusion', 'late_fusion', 'logistic_regression']
    >>> methods["late_fusion"].voting
    'hard'
    """
    modalities = list(modalities)
    methods = {}
    for name in method_names(modalities, names):
        if name in modalities:
            methods[name] = _unimodal(name, random_state)
        else:
            methods[name] = _REGISTRY[name].factory(modalities, random_state)
    return methods
