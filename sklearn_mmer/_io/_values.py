"""JSON views of parameters, and the manifest's summary of the training data."""

from collections import Counter

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..utils._data import cell_columns, fingerprint_data, is_missing


def jsonable(value):
    """``value`` as plain JSON data: estimators by class, odd objects by repr."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray) and value.size <= 10_000:
        return jsonable(value.tolist())
    if isinstance(value, BaseEstimator):
        return f"{type(value).__module__}.{type(value).__qualname__}"
    return repr(value)


#: The libraries whose versions a model file records (then Python's).
LIBRARIES = ("sklearn-mmer", "scikit-learn", "torch", "skops", "numpy")


def modality_widths(X):
    """``{modality: feature width}`` for the cell columns of a DataFrame."""
    widths = {}
    for column in cell_columns(X):
        cells = [np.asarray(c) for c in X[column] if not is_missing(c)]
        counts = Counter(int(c.shape[-1]) if c.ndim else 1 for c in cells)
        widths[str(column)] = counts.most_common(1)[0][0]
    return widths


def data_summary(X, y):
    """The manifest's training-data fields (all None without X)."""
    if X is None:
        return {"modalities": None, "n_samples": None, "fingerprint": None}
    if isinstance(X, pd.DataFrame):
        modalities = modality_widths(X) or None
    else:
        modalities = None
    summary = {
        "modalities": modalities,
        "n_samples": int(len(X)),
        "fingerprint": fingerprint_data(X, y),
    }
    if modalities is None and not isinstance(X, pd.DataFrame):
        summary["n_features"] = int(np.asarray(X).reshape(len(X), -1).shape[1])
    return summary


def check_input(manifest, X):
    """Raise when X lacks a modality of the model or has another feature width.

    Parameters
    ----------
    manifest : dict
        A model file's manifest (see :func:`read_manifest`).
    X : DataFrame
        The data to predict.

    Raises
    ------
    ValueError
        Naming the first modality that is missing from X or whose feature
        width differs from the one the model was fitted on.
    """
    expected = manifest.get("modalities") or {}
    if not expected:
        return
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            "the model was fitted on a DataFrame with the modalities "
            f"{', '.join(expected)}; X must be a DataFrame too"
        )
    missing = [m for m in expected if m not in X.columns]
    if missing:
        raise ValueError(
            f"the model needs the modality {missing[0]!r}, which the data lacks "
            f"(the model's modalities: {', '.join(expected)})"
        )
    widths = modality_widths(X[list(expected)])
    for modality, width in expected.items():
        found = widths.get(modality)
        if found is not None and found != width:
            raise ValueError(
                f"modality {modality!r} has feature width {found} in the data, but "
                f"the model was fitted on width {width}"
            )
