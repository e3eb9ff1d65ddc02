"""The named methods of the comparison, and a registry to add more.

A *method* is a name (``"early_fusion"``) with a factory that builds an
unfitted estimator for given modalities and seed. Every modality is also a
method of its own (its unimodal pipeline), named by the modality. The ``mmer``
command and :func:`compare_methods` resolve names through this registry, so a
method registered here is offered everywhere at once.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
    make_stacking_fusion,
)
from ..neural import AttentionFusionClassifier, MLPClassifier, SequenceClassifier
from ._stronger import (
    SEQUENCE_MODEL,
    SEQUENCE_NETWORKS,
    SEQUENCE_TRAINING,
    STRONGER_METHODS,
)

#: The kinds of method: what ``register_method(kind=...)`` accepts and
#: ``method_kind`` answers; the figures colour unimodal and fusion methods apart.
METHOD_KINDS = ("unimodal", "early_fusion", "late_fusion", "other")


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
    """

    name: str
    factory: Callable
    description: str
    kind: str = "other"
    default: bool = False
    transductive: bool = False


_REGISTRY = {}


def register_method(
    name,
    factory,
    *,
    description,
    kind="other",
    default=False,
    transductive=False,
    replace=False,
):
    """Register a named method for :func:`compare_methods` and ``mmer compare``.

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
    kind : {"unimodal", "early_fusion", "late_fusion", "other"}, default="other"
        What the method is.
    default : bool, default=False
        Whether it runs when no methods are named.
    transductive : bool, default=False
        Whether it reads the test fold's unlabelled features at predict time.
    replace : bool, default=False
        Allow replacing a method registered under the same name.

    Returns
    -------
    method : Method
        The registered entry.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import (
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
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"a method named {name!r} is already registered; pass replace=True "
            "to replace it"
        )
    method = Method(name, factory, description, kind, bool(default), bool(transductive))
    _REGISTRY[name] = method
    return method


def unregister_method(name):
    """Remove a registered method.

    Parameters
    ----------
    name : str
        Name of a registered method.

    See Also
    --------
    register_method : Adds a method.
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

    Examples
    --------
    >>> from sklearn_mmer.evaluation import registered_methods
    >>> [name for name in registered_methods()][:2]
    ['early_fusion', 'late_fusion']
    """
    return dict(_REGISTRY)


def method_names(modalities, names=None):
    """Resolve method names: the defaults, ``"all"``, or a list to check.

    Parameters
    ----------
    modalities : list of str
        The corpus's modalities; each is also a unimodal method.
    names : list of str or None, default=None
        The names asked for. None gives the modalities and every default
        method; ``["all"]`` gives the modalities and every registered method.

    Returns
    -------
    names : list of str
        Distinct names, in the order given (modalities first otherwise).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones), ``"all"``
        combined with other names, or a modality named like a method.

    See Also
    --------
    make_methods : Builds the estimators of these names.
    registered_methods : The registered methods and what they are.

    Notes
    -----
    :func:`make_methods` and :func:`compare_methods` resolve names this way;
    call it to know which methods a comparison will run.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import method_names
    >>> method_names(["acoustic", "lexical"])
    ['acoustic', 'lexical', 'early_fusion', 'late_fusion']
    >>> method_names(["acoustic", "lexical"], ["late_fusion", "lexical"])
    ['late_fusion', 'lexical']
    """
    modalities = list(modalities)
    clash = sorted(set(modalities) & (set(_REGISTRY) | {"all"}))
    if clash:
        raise ValueError(
            f"modality {clash[0]!r} has the name of a method; rename that modality"
        )
    if names is None:
        return modalities + [n for n, m in _REGISTRY.items() if m.default]
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if "all" in names:
        if names != ["all"]:
            raise ValueError("methods 'all' cannot be combined with other names")
        return modalities + list(_REGISTRY)
    valid = modalities + list(_REGISTRY)
    for name in names:
        if name not in valid:
            raise ValueError(
                f"unknown method {name!r}; choose among {', '.join(valid)}, or 'all'"
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
        ``"late_fusion"`` or ``"other"`` (also for a name that is not
        registered).

    See Also
    --------
    save_comparison : Colours its figures by the ``kinds`` built with it.
    register_method : Declares the kind of a new method.

    Examples
    --------
    The ``kinds`` that :func:`save_comparison` and :func:`save_figures` take:

    >>> from sklearn_mmer.evaluation import method_kind
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
        unimodal methods and :func:`compare_methods` can fit them once.

    Returns
    -------
    methods : dict of str to estimator
        Unfitted estimators by method name.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import make_methods
    >>> methods = make_methods(["acoustic", "lexical"], random_state=0)
    >>> list(methods)
    ['acoustic', 'lexical', 'early_fusion', 'late_fusion']
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


def _unimodal(modality, random_state):
    return make_modality_pipeline(
        modality, classifier=MLPClassifier(random_state=random_state)
    )


def _early_fusion(modalities, random_state):
    return make_early_fusion(
        modalities, classifier=MLPClassifier(random_state=random_state)
    )


def _late_fusion(modalities, random_state):
    return make_late_fusion(
        modalities, voting="hard", classifier=MLPClassifier(random_state=random_state)
    )


register_method(
    "early_fusion",
    _early_fusion,
    description="pooled, scaled modalities concatenated into one MLP",
    kind="early_fusion",
    default=True,
)
register_method(
    "late_fusion",
    _late_fusion,
    description="one MLP per modality, majority vote (ties by summed probability)",
    kind="late_fusion",
    default=True,
)


# Beyond the study: named functions rather than lambdas, so that methods pickle
# into parallel workers.


def _late_fusion_soft(modalities, random_state):
    return make_late_fusion(
        modalities, voting="soft", classifier=MLPClassifier(random_state=random_state)
    )


def _late_fusion_weighted(modalities, random_state):
    weights = {"lexical": 2.0} if "lexical" in modalities else None
    return make_late_fusion(
        modalities,
        voting="soft",
        weights=weights,
        classifier=MLPClassifier(random_state=random_state),
    )


def _stacking(modalities, random_state):
    return make_stacking_fusion(
        modalities, classifier=MLPClassifier(random_state=random_state), cv=5
    )


def _early_fusion_speaker_norm(modalities, random_state):
    return make_early_fusion(
        modalities,
        speaker_normalization=True,
        classifier=MLPClassifier(random_state=random_state),
    )


def _late_fusion_speaker_norm(modalities, random_state):
    return make_late_fusion(
        modalities,
        voting="soft",
        speaker_normalization=True,
        classifier=MLPClassifier(random_state=random_state),
    )


def _early_fusion_balanced(modalities, random_state):
    return make_early_fusion(
        modalities,
        classifier=MLPClassifier(class_weight="balanced", random_state=random_state),
    )


def _attention_fusion(modalities, random_state):
    return AttentionFusionClassifier(list(modalities), random_state=random_state)


def _gru(modalities, random_state):
    return SequenceClassifier(
        list(modalities),
        **SEQUENCE_NETWORKS["gru"],
        **SEQUENCE_MODEL,
        **SEQUENCE_TRAINING,
        random_state=random_state,
    )


def _transformer(modalities, random_state):
    return SequenceClassifier(
        list(modalities),
        **SEQUENCE_NETWORKS["transformer"],
        **SEQUENCE_MODEL,
        **SEQUENCE_TRAINING,
        random_state=random_state,
    )


for _name, _factory, _kind, _description in [
    (
        "late_fusion_soft",
        _late_fusion_soft,
        "late_fusion",
        "one MLP per modality, mean probability (soft vote)",
    ),
    (
        "late_fusion_weighted",
        _late_fusion_weighted,
        "late_fusion",
        "soft vote with the lexical modality counting double (equal otherwise)",
    ),
    (
        "stacking",
        _stacking,
        "late_fusion",
        "a meta-classifier on out-of-fold, speaker-grouped member probabilities",
    ),
    (
        "early_fusion_speaker_norm",
        _early_fusion_speaker_norm,
        "early_fusion",
        "early fusion after per-speaker standardisation (uses the test "
        "speaker's unlabelled features)",
    ),
    (
        "late_fusion_speaker_norm",
        _late_fusion_speaker_norm,
        "late_fusion",
        "soft vote after per-speaker standardisation (uses the test speaker's "
        "unlabelled features)",
    ),
    (
        "early_fusion_balanced",
        _early_fusion_balanced,
        "early_fusion",
        'early fusion with class_weight="balanced" (for unweighted accuracy)',
    ),
    (
        "attention_fusion",
        _attention_fusion,
        "other",
        "pooled modalities weighted per utterance by learned attention",
    ),
    (
        "gru",
        _gru,
        "other",
        "a residual GRU per modality over up to 8 segment means, beside the "
        "average frames, into early fusion's MLP (dropout 0.5); epochs chosen "
        "on held-out speakers, then trained on all",
    ),
    (
        "transformer",
        _transformer,
        "other",
        "a Transformer per modality over up to 8 segment means, beside the "
        "average frames, into early fusion's MLP; epochs chosen on held-out "
        "speakers, then trained on all",
    ),
]:
    register_method(
        _name,
        _factory,
        description=_description,
        kind=_kind,
        transductive="speaker_norm" in _name,
    )

for _name, _factory, _kind, _description, _transductive in STRONGER_METHODS:
    register_method(
        _name,
        _factory,
        description=_description,
        kind=_kind,
        transductive=_transductive,
    )
