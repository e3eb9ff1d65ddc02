"""The types a model file may hold, and the audit of its skops payload.

skops rebuilds an object from its type's name and its attributes: any type it
is told to trust is imported and rebuilt, and rebuilding runs the type's code
(``__setstate__``, a constructor, a function stored as a parameter and called
at predict time). Trusting whole packages is therefore unsafe: scipy.stats
distributions ``exec`` a string attribute in ``__setstate__``, and a pipeline of
``FunctionTransformer`` steps whose functions are NumPy functions can chain
into an ``exec`` at predict time. skops' own default list trusts such types too
(every scikit-learn estimator, ``FunctionTransformer`` included).

So sklearn-mmer trusts only what its own models hold: the exact names below,
each for the one way (skops' *node kind*, its ``__loader__``) in which skops
stores it. :func:`payload_names` reads the payload's ``schema.json`` itself,
never building an object, and walks every node without recursion;
:func:`audit_payload` requires each node's kind and type to be listed here or
named by the caller's ``trusted``. skops then loads the payload trusting
exactly the names found. Functions, methods,
partials, ``operator`` functions and builtins are refused unless the caller
trusts them by name; the only functions listed are the scikit-learn metrics a
search's scorer holds, which compute a number from arrays and call nothing.

A test saves every registered method and every public estimator and checks
that each type it holds is listed, so that the list follows the toolkit.
"""

import zipfile
from io import BytesIO

from ..utils._files import json_depth
from ._container import DAMAGED_ZIP
from ._errors import ModelFileError
from ._limits import MAX_JSON_DEPTH, read_json

#: The skops protocol the supported skops releases (0.14 to 0.16) write; other
#: protocols use other node layouts, and are refused.
SKOPS_PROTOCOL = 2

#: Objects rebuilt from their attributes (skops' ``ObjectNode``): sklearn-mmer's
#: estimators, splitters and network placeholder, and the scikit-learn classes
#: its factories, registered methods and searches build.
TRUSTED_OBJECTS = frozenset(
    {
        "sklearn_mmer._io._nets.NetPlaceholder",
        # extractors hold their parameters and recipe only (models load by path)
        "sklearn_mmer.extraction._encoders.SpeechEncoderExtractor",
        "sklearn_mmer.extraction._encoders.TextEncoderExtractor",
        "sklearn_mmer.extraction._opensmile.OpenSmileExtractor",
        "sklearn_mmer.extraction._spectral.LogMelExtractor",
        "sklearn_mmer.extraction._spectral.MFCCExtractor",
        "sklearn_mmer.methods._stronger.SpeakerColumnGroupKFold",
        "sklearn_mmer.fusion._late.LateFusionClassifier",
        "sklearn_mmer.fusion._stacking.StackingFusionClassifier",
        "sklearn_mmer.model_selection._content.ContentDisjointSplit",
        "sklearn_mmer.model_selection._split.LeaveOneSessionOut",
        "sklearn_mmer.model_selection._split.SpeakerKFold",
        "sklearn_mmer.neural._attention.AttentionFusionClassifier",
        "sklearn_mmer.neural._mlp.MLPClassifier",
        "sklearn_mmer.neural._mlp.MLPEnsembleClassifier",
        "sklearn_mmer.neural._sequence.SequenceClassifier",
        "sklearn_mmer.preprocessing._padding.SequencePadder",
        "sklearn_mmer.preprocessing._pooling.TemporalPooling",
        "sklearn_mmer.preprocessing._speaker.SpeakerNormalizer",
        "sklearn.compose._column_transformer.ColumnTransformer",
        # a ColumnTransformer's remainder columns, in older scikit-learn
        "sklearn.compose._column_transformer._RemainderColsList",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.metrics._scorer._PassthroughScorer",
        "sklearn.metrics._scorer._Scorer",
        "sklearn.model_selection._search.GridSearchCV",
        "sklearn.model_selection._split.GroupKFold",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.pipeline.Pipeline",
        # the classical baselines' models (sklearn_mmer.methods._classical)
        "sklearn.svm._classes.SVC",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._label.LabelEncoder",
        # the routing requests a scorer holds, in older scikit-learn
        "sklearn.utils._metadata_requests.MetadataRequest",
        "sklearn.utils._metadata_requests.MethodMetadataRequest",
    }
)

#: Functions (skops' ``FunctionNode``): the metrics that the scorer of a
#: search with ``scoring="f1_micro"`` (and the like) holds.
TRUSTED_FUNCTIONS = frozenset(
    {
        "sklearn.metrics._classification.accuracy_score",
        "sklearn.metrics._classification.balanced_accuracy_score",
        "sklearn.metrics._classification.f1_score",
    }
)

#: NumPy arrays and scalars (``NdArrayNode``: a search's best score and
#: index, 32-bit ones from float32 data), masked arrays (a search's
#: ``cv_results_``), dtypes, and a ``random_state`` given as a RandomState.
TRUSTED_ARRAYS = {
    "NdArrayNode": frozenset(
        {
            "numpy.ndarray",
            "numpy.float32",
            "numpy.float64",
            "numpy.int32",
            "numpy.int64",
        }
    ),
    # numpy.ma.core.MaskedArray is its name in NumPy 1
    "MaskedArrayNode": frozenset({"numpy.ma.MaskedArray", "numpy.ma.core.MaskedArray"}),
    "DTypeNode": frozenset({"numpy.dtype"}),
    "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
}

#: Python containers and values: JSON values (skops writes each as
#: ``builtins.str``), the key types of a dict (``TypeNode``: str, or int for
#: a dict keyed by class labels), a slice (a ColumnTransformer's columns).
TRUSTED_VALUES = {
    "DictNode": frozenset({"builtins.dict", "sklearn.utils._bunch.Bunch"}),
    "ListNode": frozenset({"builtins.list"}),
    "TupleNode": frozenset({"builtins.tuple"}),
    "JsonNode": frozenset({"builtins.str"}),
    "SliceNode": frozenset({"builtins.slice"}),
    "TypeNode": frozenset({"builtins.str", "builtins.int"}),
}

#: The names above that only older releases of the dependencies write (a
#: test checks that every other name exists in the installed releases).
OLDER_NAMES = frozenset(
    {
        "numpy.ma.core.MaskedArray",
        "sklearn.compose._column_transformer._RemainderColsList",
        "sklearn.utils._metadata_requests.MetadataRequest",
        "sklearn.utils._metadata_requests.MethodMetadataRequest",
    }
)

#: Names that earlier releases wrote and that have moved since: a file naming
#: one is refused with the advice to refit, never loaded from another module.
MOVED = {
    "sklearn_mmer.evaluation._stronger.SpeakerColumnGroupKFold": (
        "sklearn_mmer.methods._stronger.SpeakerColumnGroupKFold"
    ),
    "sklearn_mmer.neural._ensemble.MLPEnsembleClassifier": (
        "sklearn_mmer.neural._mlp.MLPEnsembleClassifier"
    ),
}

#: Each skops node kind with the exact type names it may hold.
TRUSTED_NODES = {
    "ObjectNode": TRUSTED_OBJECTS,
    "FunctionNode": TRUSTED_FUNCTIONS,
    **TRUSTED_ARRAYS,
    **TRUSTED_VALUES,
}

#: Every type and function name a model file may hold without ``trusted=``.
TRUSTED_TYPES = frozenset().union(*TRUSTED_NODES.values())

# the node kinds of skops' protocol 2 (but CachedNode, which skops does not
# write): a name the caller trusts is accepted in any of them; any other kind
# is refused
_SKOPS_KINDS = frozenset(
    {
        *TRUSTED_NODES,
        "BytearrayNode",
        "BytesNode",
        "ConstructorFromReduceNode",
        "DefaultDictNode",
        "LossNode",
        "MethodNode",
        "OperatorFuncNode",
        "PartialNode",
        "QuantileForestNode",
        "RandomGeneratorNode",
        "SetNode",
        "SparseMatrixNode",
        "TreeNode",
    }
)
_WHAT = {
    "ObjectNode": "an object of type",
    "FunctionNode": "the function",
    "TypeNode": "the type or builtin",
    "MethodNode": "the method",
    "PartialNode": "a partial function of type",
    "OperatorFuncNode": "the operator function",
    "ConstructorFromReduceNode": "an object built by calling",
}
_META = ("__loader__", "__module__", "__class__", "__id__")


def check_trusted(trusted):
    """The caller's ``trusted`` names as a frozenset (empty for None)."""
    if trusted is None:
        return frozenset()
    if isinstance(trusted, (str, bytes, bool)) or not hasattr(trusted, "__iter__"):
        raise TypeError(
            "trusted must be a list of fully qualified names, such as "
            f"['numpy.log1p']; got {trusted!r}"
        )
    names = list(trusted)
    for name in names:
        if not isinstance(name, str) or "." not in name.strip("."):
            raise ValueError(
                "trusted must hold fully qualified names such as 'numpy.log1p'; "
                f"got {name!r}"
            )
    return frozenset(names)


def audit_payload(
    payload, *, trusted=frozenset(), where="skeleton.skops", saving=False
):
    """The type names a skops payload holds; refuses any that is not trusted.

    Parameters
    ----------
    payload : bytes
        A skops payload (a zip holding ``schema.json``).
    trusted : frozenset of str, default=frozenset()
        Names the caller trusts beyond :data:`TRUSTED_TYPES`.
    where : str, default="skeleton.skops"
        What to call the payload in error messages (the model file and
        member, or the model being saved).
    saving : bool, default=False
        Whether the payload is being saved: the advice then names ``save``.

    Returns
    -------
    names : dict of str to str
        Every type and function name found, each with the node kind that
        holds it: what skops must be told to trust.

    Raises
    ------
    ModelFileError
        When the payload is malformed or names a kind or type that is not
        trusted, naming the first such type and where in the model it is.
    """
    found, refused = {}, []
    for kind, name, path, checked in payload_names(payload, where=where):
        found.setdefault(name, kind)
        if checked and not (name in TRUSTED_NODES.get(kind, ()) or name in trusted):
            refused.append((kind, name, path))
    moved = [name for _, name, _ in refused if name in MOVED]
    if moved:
        raise ModelFileError(
            f"{where}: written by an earlier sklearn-mmer, whose {moved[0]} is "
            f"now {MOVED[moved[0]]}; refit and save the model with this release"
        )
    if refused:
        raise _refusal(where, refused, saving)
    return found


def payload_names(payload, *, where="skeleton.skops"):
    """Every node's kind and names in a skops payload, read without building any.

    Reads ``schema.json`` (its size and nesting checked first) and walks every
    node without recursion, checking its shape.

    Parameters
    ----------
    payload : bytes
        A skops payload.
    where : str, default="skeleton.skops"
        What to call the payload in error messages.

    Returns
    -------
    names : list of (str, str, str, bool)
        ``(kind, name, path, checked)`` per name, in file order: ``path`` says
        where in the model the node is (``Pipeline.steps[0][1].func``);
        ``checked`` is False for the owner type of a bound method, which is a
        node of its own and checked there (the method's name is checked).

    Raises
    ------
    ModelFileError
        When the payload or a node is malformed, or of another skops protocol.
    """
    try:
        with zipfile.ZipFile(BytesIO(payload)) as archive:
            files = set(archive.namelist())
            schema_bytes = archive.read("schema.json")
    except (KeyError, *DAMAGED_ZIP) as error:
        raise ModelFileError(
            f"{where} is not a readable skops payload ({error})"
        ) from None
    schema = read_json(where, "schema.json", schema_bytes)
    protocol = schema.get("protocol")
    if protocol != SKOPS_PROTOCOL or isinstance(protocol, bool):
        raise ModelFileError(
            f"{where}: skops protocol {protocol!r}, but sklearn-mmer reads "
            f"protocol {SKOPS_PROTOCOL} only (the one its skops releases write)"
        )
    names = []
    stack = [(schema, _root_path(schema), False)]
    while stack:
        value, path, attributes = stack.pop()
        if isinstance(value, list):
            stack.extend(
                (v, f"{path}[{i}]", False) for i, v in reversed(list(enumerate(value)))
            )
        elif isinstance(value, dict) and "__loader__" not in value:
            stack.extend((v, f"{path}.{k}", False) for k, v in reversed(value.items()))
        elif isinstance(value, dict):
            kind, name, method = _node_names(value, where, path, files)
            names.append((kind, name, path, method is None))
            if method is not None:
                names.append((kind, method, path, True))
            stack.extend(reversed(list(_children(value, kind, path, attributes))))
    return names


def _root_path(schema):
    name = schema.get("__class__")
    return name if isinstance(name, str) else "the model"


def _node_names(node, where, path, files):
    """The node's kind, type name and method name (or None); checks its shape."""
    kind, module, name = (node.get(key) for key in _META[:3])
    if not all(isinstance(v, str) for v in (kind, module, name)):
        raise ModelFileError(
            f"{where}: a node at {path} lacks a string __loader__, __module__ "
            "or __class__ (the file is damaged or was crafted)"
        )
    if kind not in _SKOPS_KINDS:
        raise ModelFileError(
            f"{where}: the node at {path} is of the unknown kind {kind!r} "
            "(the file is damaged or was crafted)"
        )
    if "file" in node and not (isinstance(node["file"], str) and node["file"] in files):
        raise ModelFileError(
            f"{where}: the node at {path} names the member {node['file']!r}, "
            "which the payload lacks"
        )
    if kind == "NdArrayNode" and node.get("type") not in ("numpy", "json"):
        raise ModelFileError(
            f"{where}: the array at {path} has the unknown storage {node.get('type')!r}"
        )
    if kind == "JsonNode":
        content = node.get("content")
        if not isinstance(content, str) or json_depth(content) > MAX_JSON_DEPTH:
            raise ModelFileError(
                f"{where}: the JSON value at {path} is not a string or nests "
                f"more than {MAX_JSON_DEPTH} levels deep"
            )
    method = None
    if kind == "MethodNode":
        content = node.get("content")
        owner = content.get("obj") if isinstance(content, dict) else None
        func = content.get("func") if isinstance(content, dict) else None
        if not isinstance(owner, dict) or not isinstance(func, str):
            raise ModelFileError(f"{where}: the method at {path} is malformed")
        method = f"{owner.get('__module__')}.{owner.get('__class__')}.{func}"
    return kind, f"{module}.{name}", method


def _children(node, kind, path, attributes):
    """``(value, path, attributes)`` for each part of a node, in file order.

    The path names where in the model a value is, as Python would reach it:
    ``Pipeline.steps[0][1].func``. An ObjectNode's content is the dict of its
    attributes, whose keys read as ``.name``; other dicts' keys as ``['key']``.
    """
    for key, value in node.items():
        if key in _META or not isinstance(value, (dict, list)):
            continue
        if key != "content":
            yield value, f"{path}.{key}", False
        elif kind == "ObjectNode":
            yield value, path, True
        elif kind == "DictNode" and isinstance(value, dict):
            for name, item in value.items():
                child = f"{path}.{name}" if attributes else f"{path}[{name!r}]"
                yield item, child, False
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield item, f"{path}[{i}]", False
        else:
            yield value, path, False


def _refusal(where, refused, saving):
    kind, name, path = refused[0]
    what = _WHAT.get(kind, f"a {kind} of type")
    others = sorted({n for _, n, _ in refused[1:]} - {name})
    message = (
        f"{what} '{name}' (at {path}), which sklearn-mmer does not trust: a "
        "model file may hold only the types sklearn-mmer's own models hold "
        "(sklearn_mmer.io.TRUSTED_TYPES), so that loading one never runs its code"
    )
    if saving:
        message = (
            f"cannot save {where}: it holds {message}. If you trust it, pass "
            f"trusted=[{name!r}] to sklearn_mmer.save, and the same to "
            "sklearn_mmer.load"
        )
    else:
        message = (
            f"{where} holds {message}; the file is refused before anything in it "
            "is built. If you know where the file comes from and trust this, pass "
            f"trusted=[{name!r}] to sklearn_mmer.load (mmer predict --trusted "
            f"{name})"
        )
    return ModelFileError(
        message + (f" (also untrusted: {', '.join(others)})" if others else "")
    )
