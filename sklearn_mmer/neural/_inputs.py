"""Input checks shared by the estimators that read a DataFrame of modalities.

AttentionFusionClassifier and SequenceClassifier read one column of frame
cells per modality (or a plain 2-D array as a single modality); these helpers
tell the two apart, resolve and check the modality columns, and check predict
input against fit.
"""

import numpy as np
import pandas as pd

from ..utils._data import (
    cell_columns,
    check_modalities,
    is_cell_column,
    is_cell_input,
    is_missing,
)

#: name of the single modality a plain 2-D array stands for
ARRAY_MODALITY = "x0"


def _listing(X):
    return ", ".join(repr(c) for c in X.columns)


def uses_cells(X, modalities, *, owner, parameter):
    """Tell whether ``X`` is a DataFrame of cells (True) or a plain array (False).

    Raises a ValueError for cells that are not in a DataFrame, and for a plain
    array when ``modalities`` names columns.
    """
    if isinstance(X, pd.DataFrame) and (modalities is not None or is_cell_input(X)):
        return True
    if is_cell_input(X):
        raise ValueError(
            f"{owner} reads a DataFrame with one column per modality, but X is a "
            f"{type(X).__name__} of cells; put the cells in a DataFrame column"
        )
    if modalities is not None:
        raise ValueError(
            f"{parameter}={modalities!r} names columns of a DataFrame, but X is a "
            f"plain {type(X).__name__} of numbers; pass the DataFrame, or "
            f"{parameter}=None to read X as a single modality"
        )
    return False


def check_modality_columns(X, names, *, parameter, fitted=False):
    """Raise a ValueError unless every name is a column of X holding arrays.

    After fit (``fitted=True``) a column may be all missing: a batch of
    utterances that all lack that modality.
    """
    for name in names:
        if name not in X.columns:
            raise ValueError(
                f"column {name!r} not in X; X has {_listing(X)}. Name columns of "
                f"X in {parameter}"
            )
        if fitted and all(is_missing(cell) for cell in X[name]):
            continue
        if not is_cell_column(X[name].to_numpy()):
            kinds = sorted({type(c).__name__ for c in X[name] if not is_missing(c)})
            raise ValueError(
                f"column {name!r} does not hold frame arrays (its cells are "
                f"{', '.join(kinds) or 'all missing'}); {parameter} must name "
                "columns whose cells are numpy arrays"
            )


def resolve_modalities(X, modalities, *, parameter):
    """The columns of the DataFrame X to read, in order, checked."""
    if modalities is None:
        names = cell_columns(X)
        if not names:
            raise ValueError(
                f"{parameter}=None reads every column of X holding arrays, but "
                f"none does; X has {_listing(X)}"
            )
        return names
    names = check_modalities(modalities, parameter=parameter)
    check_modality_columns(X, names, parameter=parameter)
    return names


def check_predict_input(estimator, X, *, on_cells, parameter):
    """At predict: X must be of the kind seen in fit, with the fitted modalities."""
    name = type(estimator).__name__
    if not on_cells:
        if is_cell_input(X):
            raise ValueError(
                f"{name} was fit on a plain numeric array but got cells holding "
                "arrays; fit and predict the same kind of input"
            )
        return
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{name} was fit on a DataFrame of modalities {estimator.modalities_} "
            f"but got a {type(X).__name__}; pass a DataFrame with those columns"
        )
    check_modality_columns(X, estimator.modalities_, parameter=parameter, fitted=True)


def modality_cells(X, modality):
    """The one-column DataFrame of a modality's cells, as objects.

    pandas stores a column of only None/NaN as floats, which would read as a
    plain numeric array; as objects it reads as cells, all missing.
    """
    column = X[[modality]]
    is_object = column.dtypes.iloc[0] == np.dtype(object)
    return column if is_object else column.astype(object)
