"""Cells: what one utterance has for one modality, and the columns holding them.

A *cell* is a ``(T, d)`` float array of frames, a ``(d,)`` vector, or ``None``
/ an empty array when the modality is missing for that utterance.
"""

import numbers

import numpy as np
import pandas as pd

from ._columns import METADATA_COLUMNS

#: The types a present cell may have.
CELL_TYPES = (np.ndarray, list, tuple)


def is_missing(cell):
    """Return True when ``cell`` stands for a missing modality."""
    if cell is None:
        return True
    if isinstance(cell, numbers.Real) and not isinstance(cell, bool):
        # pandas turns None into NaN in some constructors
        return bool(np.isnan(cell))
    return np.size(cell) == 0


def is_cell_column(values):
    """Whether a column holds cells: objects, at least one present, all arrays.

    ``values`` is a Series or a 1-D array. A column of only missing cells is
    not a cell column (nothing tells it from an empty metadata column).
    """
    if np.asarray(values).dtype != object:
        return False
    present = [cell for cell in values if not is_missing(cell)]
    return bool(present) and all(isinstance(cell, CELL_TYPES) for cell in present)


def cell_columns(X, *, exclude=METADATA_COLUMNS):
    """The columns of the DataFrame X holding cells, in X's order.

    Columns named in ``exclude`` (by default the data contract's metadata
    columns) are left out even when they hold arrays.
    """
    return [
        column
        for column in X.columns
        if column not in exclude and is_cell_column(X[column].to_numpy())
    ]


def is_cell_input(X):
    """Tell whether ``X`` holds cells (arrays per utterance) or is a plain 2-D array.

    A DataFrame with an object column, a Series, a 1-D object array or a list whose
    items are not all equal-length vectors hold cells; everything else is read as an
    ordinary numeric 2-D array.
    """
    if isinstance(X, pd.Series):
        return True
    if isinstance(X, pd.DataFrame):
        return any(dtype == np.dtype(object) for dtype in X.dtypes)
    if isinstance(X, np.ndarray):
        return X.dtype == object and X.ndim == 1
    if isinstance(X, (list, tuple)):
        return _list_holds_cells(X)
    return False


def _list_holds_cells(X):
    if len(X) == 0:
        return False
    first = X[0]
    if isinstance(first, np.ndarray) and first.ndim != 1:
        return True
    if any(is_missing(c) for c in X):
        return True
    try:
        arr = np.asarray(X, dtype=float)
    except (ValueError, TypeError):
        return True
    return arr.ndim != 2


def cell_as_frames(cell, *, column, row):
    """Return ``cell`` as a 2-D ``(T, d)`` float array, or None when missing."""
    if is_missing(cell):
        return None
    arr = np.asarray(cell)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(
            f"column {column!r}, row {row}: cells must hold numeric arrays, "
            f"got dtype {arr.dtype}"
        )
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    elif arr.ndim != 2:
        raise ValueError(
            f"column {column!r}, row {row}: cells must be (T, d) frame sequences "
            f"or (d,) vectors, got an array of shape {arr.shape}"
        )
    return arr
