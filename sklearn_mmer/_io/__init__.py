"""Safe model files: :func:`save`, :func:`load` and :func:`read_manifest`."""

import json
from pathlib import Path

import skops.io
from sklearn.utils.validation import check_is_fitted

from ..utils._runtime import versions
from ._container import (
    FORMAT_VERSION,
    SKELETON,
    read_container,
    read_manifest_only,
    write_container,
)
from ._errors import ModelFileError
from ._limits import (
    DEFAULT_MAX_MEMBER_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    ReadBudget,
    read_json,
)
from ._nets import reassemble, take_apart
from ._trusted import TRUSTED_TYPES, audit_payload, check_trusted
from ._values import LIBRARIES, check_input, data_summary, jsonable

PARAMS = "params.json"

__all__ = [
    "DEFAULT_MAX_MEMBER_BYTES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "ModelFileError",
    "check_input",
    "load",
    "read_manifest",
    "save",
]


def save(
    model,
    path,
    *,
    X=None,
    y=None,
    method=None,
    threads=None,
    trusted=None,
    recipe=None,
):
    """Save a fitted model to a file that loads without unpickling.

    The file is a zip holding the scikit-learn parts as a skops payload, the
    weights of each network as safetensors, parameters as JSON, and a manifest
    (``manifest.json``): format version, versions of sklearn-mmer,
    scikit-learn and torch, the estimator, the method name, the classes, the
    modalities with their feature widths, a fingerprint of the training data,
    and a SHA-256 checksum of every other member.

    Parameters
    ----------
    model : estimator
        A fitted estimator: any of sklearn-mmer's, a registered method, or a
        scikit-learn composition of them.
    path : str or path-like
        The file to write (``.mmer`` by convention); replaced if it exists.
        Its folder must exist, and it must not be a folder itself.
    X : DataFrame or array-like, default=None
        The training data, for the manifest's modalities, feature widths,
        number of samples and fingerprint (None leaves them empty).
    y : array-like, default=None
        The training labels, included in the fingerprint.
    method : str, default=None
        The method's name (such as ``"early_fusion"``), recorded as is.
    threads : int, default=None
        The torch and BLAS threads the model was fit with (``mmer fit
        --threads``), recorded as is: with another number, a refit from the
        same seed can differ in the last digits.
    trusted : list of str, default=None
        Fully qualified names of types or functions outside
        :data:`~sklearn_mmer.io.TRUSTED_TYPES` that the model may hold (such as
        ``["numpy.log1p"]`` for a ``FunctionTransformer(np.log1p)``); loading
        the file then needs the same ``trusted``.
    recipe : dict, default=None
        How the features were extracted from recordings (the recipe
        :func:`sklearn_mmer.extraction.read_recipe` reads beside a corpus
        ``mmer extract`` wrote), kept in the manifest so that ``mmer predict
        --input`` extracts the same features from new recordings. Plain JSON
        data only: dicts with string keys, lists, strings, numbers, booleans
        and None.

    Returns
    -------
    manifest : dict
        The manifest written into the file.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When ``model`` is not fitted.
    ModelFileError
        When the model holds a type or function that is neither in
        :data:`~sklearn_mmer.io.TRUSTED_TYPES` nor in ``trusted`` (the message
        names it and where it is), or an object skops cannot store.
    IsADirectoryError, FileNotFoundError
        When ``path`` is a folder, or its folder does not exist; nothing is
        written.

    See Also
    --------
    load : Loads the model back.
    read_manifest : The manifest of a file, without loading the model.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from sklearn_mmer import load, save
    >>> from sklearn_mmer.neural import MLPClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
    >>> y = np.array(["sad"] * 20 + ["happy"] * 20)
    >>> clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.mmer"
    ...     manifest = save(clf, path, X=X, y=y)
    ...     again = load(path)
    >>> bool((again.predict_proba(X) == clf.predict_proba(X)).all())
    True
    >>> manifest["classes"]
    ['happy', 'sad']
    """
    check_is_fitted(model)
    path = Path(path)
    trusted = check_trusted(trusted)
    if recipe is not None:
        recipe = _plain_json(recipe, "recipe")
    if path.is_dir():
        raise IsADirectoryError(
            f"{path}: is a folder; give save a file name, such as {path / 'model.mmer'}"
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path}: the folder {path.parent} does not exist")
    skeleton, members, networks = take_apart(model)
    try:
        payload = skops.io.dumps(skeleton)
    except Exception as error:  # skops raises many kinds on an odd object
        raise ModelFileError(
            f"cannot store this {type(model).__name__} in a model file: {error}"
        ) from None
    audit_payload(
        payload, trusted=trusted, where=f"this {type(model).__name__}", saving=True
    )
    members = {
        SKELETON: payload,
        PARAMS: json.dumps(jsonable(model.get_params(deep=True))).encode(),
        **members,
    }
    classes = getattr(model, "classes_", None)
    manifest = {
        "versions": versions(LIBRARIES),
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
        "method": method,
        "threads": threads,
        "classes": None if classes is None else jsonable(list(classes)),
        **data_summary(X, y),
        "networks": networks,
    }
    if recipe is not None:
        manifest["recipe"] = recipe
    return write_container(path, manifest, members)


def _plain_json(value, where):
    """``value`` if it is plain JSON data (no other object), else a TypeError."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise TypeError(f"{where}: {value} is not a JSON number")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_json(v, f"{where}[{k}]") for k, v in enumerate(value)]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string")
        return {k: _plain_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(
        f"{where}: a {type(value).__name__} is not plain JSON data (dicts, lists, "
        "strings, numbers, booleans and None only)"
    )


def load(
    path,
    *,
    device=None,
    trusted=None,
    max_member_bytes=DEFAULT_MAX_MEMBER_BYTES,
    max_total_bytes=DEFAULT_MAX_TOTAL_BYTES,
):
    """Load a model saved by :func:`save`, without unpickling or running its code.

    The file is read in memory (never extracted) and refused with a
    :class:`ModelFileError`, before any object in it is built, when it is not
    a model file, truncated, altered (a member's checksum differs from the
    manifest's), from another format version, holds a pickle, declares more
    than the limits below, or names a type or function that is neither in
    :data:`~sklearn_mmer.io.TRUSTED_TYPES` (the exact types sklearn-mmer's
    own models hold) nor in ``trusted``. The docs' page "Loading model files
    safely" says what this guarantees and what it does not.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default=None
        Where to put the networks (``"cpu"``, ``"cuda"``...). None keeps the
        device each network was saved with when it is available here, and
        otherwise loads it on ``"cpu"`` with a warning, setting the network's
        ``device`` parameter to ``"cpu"`` so that a refit works here too.
    trusted : list of str, default=None
        Fully qualified names of further types or functions to accept, such
        as ``["numpy.log1p"]`` (the error refusing a file names what it
        needs). Only name what you know the file's author put there: a
        trusted function can be made to run with the file's arguments.
    max_member_bytes : int or None, default=2**31
        The most one member (network weights, the skops payload or one of its
        arrays) may expand to, checked before it is read; None for no limit.
    max_total_bytes : int or None, default=2**32
        The most all members may expand to together.

    Returns
    -------
    model : estimator
        The fitted model, predicting as the saved one did.

    Raises
    ------
    ModelFileError
        When the file is refused (see above).
    ValueError
        When ``device`` is not available here.

    See Also
    --------
    save : Writes the file.
    read_manifest : The manifest of a file, without loading the model.

    Examples
    --------
    See :func:`save`.
    """
    path = Path(path)
    trusted = check_trusted(trusted)
    budget = ReadBudget(path, max_member_bytes, max_total_bytes)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    _, members = read_container(path, budget)
    if SKELETON not in members:
        raise ModelFileError(f"{path}: no {SKELETON}; not an sklearn-mmer model file")
    if PARAMS in members:
        read_json(path, PARAMS, members[PARAMS], mapping=False)
    payload = members[SKELETON]
    names = audit_payload(payload, trusted=trusted, where=f"{path}: {SKELETON}")
    try:
        skeleton = skops.io.loads(payload, trusted=sorted(names))
    except Exception as error:  # a damaged payload raises many kinds
        raise ModelFileError(f"{path}: {SKELETON} cannot be loaded ({error})") from None
    return reassemble(skeleton, members, device, path)


def read_manifest(path):
    """The manifest of a model file, without loading the model.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    manifest : dict
        Format version, versions, estimator, method, classes, modalities with
        feature widths, number of training samples, fingerprint, networks and
        the members' checksums. Only the format and version are checked:
        :func:`load` checks the rest.

    Examples
    --------
    See :func:`save`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    return read_manifest_only(path)
