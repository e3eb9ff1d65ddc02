"""Taking the torch networks out of a fitted model, and putting them back.

skops cannot hold torch tensors or skorch nets. Before skops sees a model, each
fitted neural estimator's ``net_`` (and ``history_``) is replaced, in a copy of
the model, by a :class:`NetPlaceholder` naming its members in the file: the
weights as safetensors, and the device, parameters and training history as
JSON. Loading rebuilds each network from the estimator's parameters and fitted
attributes, loads the weights into it and puts it back in place.
"""

import copy
import json
import warnings

import numpy as np
import safetensors.torch
import torch
from sklearn.base import BaseEstimator
from skorch.history import History

from ..utils._runtime import first_line
from ._errors import ModelFileError
from ._limits import read_json
from ._values import jsonable

# the fields of a network's JSON member and the JSON types each may hold
_CONFIG_FIELDS = {
    "estimator": (str,),
    "device": (str,),
    "params": (dict,),
    "history": (list, type(None)),
}


class NetPlaceholder:
    """Stands, in the skops part of a model file, for one network's members.

    Parameters
    ----------
    key : str
        The network's name in the file (``"net_0"``...): its members are
        ``nets/<key>.safetensors`` and ``nets/<key>.json``.
    """

    def __init__(self, key):
        self.key = key


def fitted_networks(model):
    """The fitted neural estimators in a model's object tree, in a fixed order."""
    found = []
    _walk(model, set(), found)
    return found


def _is_neural(obj):
    """A neural classifier: an estimator that builds its network in place."""
    return isinstance(obj, BaseEstimator) and callable(
        getattr(obj, "_initialize_net", None)
    )


def _walk(obj, seen, found):
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if _is_neural(obj):
        if "net_" in vars(obj):
            found.append(obj)
        return
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = obj
    elif isinstance(obj, np.ndarray) and obj.dtype == object:
        children = obj.ravel().tolist()
    elif isinstance(obj, BaseEstimator):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        _walk(child, seen, found)


def take_apart(model):
    """A copy of ``model`` without torch objects, and the networks' members.

    Returns
    -------
    skeleton : estimator
        A deep copy in which every fitted network is a :class:`NetPlaceholder`.
    members : dict of str to bytes
        ``nets/<key>.safetensors`` and ``nets/<key>.json`` per network.
    networks : dict of str to dict
        Per network key: its estimator class and device, for the manifest.
    """
    memo, members, networks = {}, {}, {}
    for i, estimator in enumerate(fitted_networks(model)):
        key = f"net_{i}"
        memo[id(estimator.net_)] = NetPlaceholder(key)
        history = vars(estimator).get("history_")
        if history is not None:
            memo[id(history)] = None
        state = {
            name: tensor.detach().to("cpu").clone().contiguous()
            for name, tensor in estimator.net_.module_.state_dict().items()
        }
        members[f"nets/{key}.safetensors"] = safetensors.torch.save(state)
        config = {
            "estimator": _qualified_name(estimator),
            "device": str(estimator.device),
            "params": jsonable(estimator.get_params(deep=False)),
            "history": jsonable(list(history) if history is not None else None),
        }
        members[f"nets/{key}.json"] = json.dumps(config).encode()
        networks[key] = {"estimator": config["estimator"], "device": config["device"]}
    return copy.deepcopy(model, memo), members, networks


def reassemble(skeleton, members, device, path):
    """Rebuild each network of a loaded skeleton in place; returns it."""
    used = set()
    for estimator in fitted_networks(skeleton):
        placeholder = estimator.net_
        if not isinstance(placeholder, NetPlaceholder):
            raise ModelFileError(
                f"{path}: {type(estimator).__name__}.net_ is a "
                f"{type(placeholder).__name__}, not a network stored in the file"
            )
        key = str(placeholder.key)
        config = _read_config(members, key, path)
        if config.get("estimator") != _qualified_name(estimator):
            raise ModelFileError(
                f"{path}: nets/{key}.json is for {config.get('estimator')}, "
                f"but the model holds a {_qualified_name(estimator)} there"
            )
        try:
            state = safetensors.torch.load(members[f"nets/{key}.safetensors"])
        except KeyError:
            raise ModelFileError(f"{path}: nets/{key}.safetensors is missing") from None
        except Exception as error:  # safetensors raises its own error type
            raise ModelFileError(
                f"{path}: nets/{key}.safetensors is not readable ({error})"
            ) from None
        target = _target_device(config["device"], device)
        estimator.device = target
        estimator.net_ = _rebuild(estimator, state, path, key)
        if config.get("history") is not None:
            # skorch-backed networks carry their training history; others none
            history = History(config["history"])
            estimator.net_.history = history
            estimator.history_ = history
            # a file written before the training curves were recorded: the
            # estimator reads them from the history
            restore = getattr(estimator, "_restore_history", None)
            if callable(restore):
                restore(history)
        used.update({f"nets/{key}.json", f"nets/{key}.safetensors"})
    unused = sorted(n for n in members if n.startswith("nets/") and n not in used)
    if unused:
        raise ModelFileError(f"{path}: {unused[0]} belongs to no network of the model")
    return skeleton


def _read_config(members, key, path):
    name = f"nets/{key}.json"
    if name not in members:
        raise ModelFileError(f"{path}: {name} is missing")
    config = read_json(path, name, members[name])
    for field, types in _CONFIG_FIELDS.items():
        if not isinstance(config.get(field), types):
            raise ModelFileError(
                f"{path}: {name} field {field!r} holds a JSON "
                f"{type(config.get(field)).__name__}, not a {types[0].__name__} "
                "(the file is damaged or was altered)"
            )
    return config


def _target_device(saved, requested):
    """The device to load on: ``requested``, else the saved one where usable."""
    if requested is not None:
        if not _usable(requested):
            raise ValueError(
                f"device={requested!r} is not available here; use device='cpu'"
            )
        return str(requested)
    if _usable(saved):
        return saved
    warnings.warn(
        f"the model was saved with device={saved!r}, which is not available "
        "here; it is loaded on 'cpu' and its networks' device parameter set to "
        "'cpu' (pass device= to load to choose)",
        UserWarning,
        stacklevel=3,
    )
    return "cpu"


def _usable(device):
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        return False
    if parsed.type == "cuda":
        index = parsed.index or 0
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if parsed.type == "mps":
        return torch.backends.mps.is_available()
    return parsed.type == "cpu"


def _rebuild(estimator, state, path, key):
    """The network of a fitted neural estimator, rebuilt without training.

    The estimator builds its network from its parameters and fitted
    attributes (``_initialize_net``); its initial weights, drawn in a private
    copy of torch's RNG so that the caller's stays as it was, are replaced by
    the saved ones. The network is first built on torch's ``meta`` device
    (shapes without memory) and compared with the saved weights, so that
    parameters in the file (a layer's width...) cannot make loading allocate
    more than the weights themselves take.
    """
    _check_shapes(estimator, state, path, key)
    with torch.random.fork_rng(devices=[]):
        net = estimator._initialize_net(for_training=False)
    try:
        net.module_.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ModelFileError(
            f"{path}: the weights of nets/{key} do not fit the "
            f"{type(estimator).__name__} they belong to ({str(error).splitlines()[0]})"
        ) from None
    net.module_.eval()
    return net


def _check_shapes(estimator, state, path, key):
    """Refuse weights that differ from the network's, before allocating it."""
    device = estimator.device
    estimator.device = "meta"
    try:
        # torch.device("meta") makes the modules' constructors allocate
        # nothing either, before they are moved to the estimator's device
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            module = estimator._initialize_net(for_training=False).module_
        expected = {
            n: (tuple(t.shape), t.dtype) for n, t in module.state_dict().items()
        }
    except Exception as error:  # parameters from the file can fail in many ways
        raise ModelFileError(
            f"{path}: the {type(estimator).__name__} of nets/{key} cannot be "
            f"rebuilt from its parameters ({first_line(error)})"
        ) from None
    finally:
        estimator.device = device
    saved = {n: (tuple(t.shape), t.dtype) for n, t in state.items()}
    if saved != expected:
        name = min(set(saved) ^ set(expected), default=None) or min(
            n for n in saved if saved[n] != expected[n]
        )
        raise ModelFileError(
            f"{path}: the weights of nets/{key} do not fit the "
            f"{type(estimator).__name__} they belong to: {name!r} is "
            f"{_describe(saved.get(name))} in the file, but the network's "
            f"parameters make it {_describe(expected.get(name))}"
        )


def _describe(spec):
    return "absent" if spec is None else f"{list(spec[0])} of {spec[1]}"


def _qualified_name(obj):
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"
