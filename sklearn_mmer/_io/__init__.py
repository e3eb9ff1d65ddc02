"""Safe model files: :func:`save`, :func:`load` and :func:`read_manifest`."""

import json
from pathlib import Path

import skops.io
from sklearn.utils.validation import check_is_fitted

from ._container import (
    FORMAT_VERSION,
    read_container,
    read_manifest_only,
    write_container,
)
from ._errors import ModelFileError
from ._nets import reassemble, take_apart
from ._trusted import TRUSTED_PACKAGES, trusted_types
from ._values import check_input, data_summary, jsonable, versions

SKELETON = "skeleton.skops"
PARAMS = "params.json"

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_PACKAGES",
    "ModelFileError",
    "check_input",
    "load",
    "read_manifest",
    "save",
]


def save(model, path, *, X=None, y=None, method=None, threads=None):
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

    Returns
    -------
    manifest : dict
        The manifest written into the file.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When ``model`` is not fitted.
    ModelFileError
        When the model holds an object outside sklearn-mmer, scikit-learn,
        NumPy and SciPy (other than its torch networks).

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
    >>> clf = MLPClassifier((8,), max_epochs=5, random_state=0).fit(X, y)
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
    skeleton, members, networks = take_apart(model)
    try:
        payload = skops.io.dumps(skeleton)
    except Exception as error:  # skops raises many kinds on an odd object
        raise ModelFileError(
            f"cannot store this {type(model).__name__} in a model file: {error}"
        ) from None
    trusted_types(payload)
    members = {
        SKELETON: payload,
        PARAMS: json.dumps(jsonable(model.get_params(deep=True))).encode(),
        **members,
    }
    classes = getattr(model, "classes_", None)
    manifest = {
        "versions": versions(),
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
        "method": method,
        "threads": threads,
        "classes": None if classes is None else jsonable(list(classes)),
        **data_summary(X, y),
        "networks": networks,
    }
    return write_container(path, manifest, members)


def load(path, *, device=None):
    """Load a model saved by :func:`save`, without unpickling anything.

    The file is read in memory (never extracted) and refused with a
    :class:`ModelFileError` when it is not a model file, truncated, altered
    (a member's checksum differs from the manifest's), from another format
    version, holds a pickle, or names a type from outside sklearn-mmer,
    scikit-learn, NumPy and SciPy.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str, default=None
        Where to put the networks (``"cpu"``, ``"cuda"``...). None keeps the
        device each network was saved with when it is available here, and
        otherwise loads it on ``"cpu"`` with a warning, setting the network's
        ``device`` parameter to ``"cpu"`` so that a refit works here too.

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
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    _, members = read_container(path)
    if SKELETON not in members:
        raise ModelFileError(f"{path}: no {SKELETON}; not an sklearn-mmer model file")
    payload = members[SKELETON]
    trusted = trusted_types(payload, member=SKELETON)
    try:
        skeleton = skops.io.loads(payload, trusted=trusted)
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
