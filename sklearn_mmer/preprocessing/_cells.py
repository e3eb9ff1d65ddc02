"""Reading the data contract: columns whose cells hold per-utterance arrays.

A *cell* is what one utterance has for one modality: a ``(T, d)`` float array of
frames, a ``(d,)`` vector (one frame), or ``None`` / an empty array when the
modality is missing. These helpers are shared by every step that reads cells.
"""

import numpy as np
import pandas as pd

from ..utils._data import cell_as_frames, is_cell_input, is_missing

__all__ = [
    "as_cell_columns",
    "cell_as_frames",
    "cells_width",
    "check_fitted_cells",
    "fit_cell_columns",
    "is_cell_input",
    "is_missing",
]


def as_cell_columns(X, default_name="x0"):
    """Split cell input into ``(names, columns)``, each column a list of cells."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        return names, [list(X[c]) for c in X.columns]
    if isinstance(X, pd.Series):
        name = default_name if X.name is None else str(X.name)
        return [name], [list(X)]
    return [default_name], [list(X)]


def cells_width(cells, *, column):
    """Return the common feature width ``d`` of a column of cells.

    Raises a ValueError naming the first row whose width differs, or when every
    cell is missing (the width cannot be learned then).
    """
    width = None
    first_row = None
    for row, cell in enumerate(cells):
        frames = cell_as_frames(cell, column=column, row=row)
        if frames is None:
            continue
        if width is None:
            width, first_row = frames.shape[1], row
        elif frames.shape[1] != width:
            raise ValueError(
                f"column {column!r}: row {row} has feature width {frames.shape[1]} "
                f"but row {first_row} has {width}; every cell of a modality must "
                "have the same width d"
            )
    if width is None:
        raise ValueError(
            f"column {column!r}: every cell is missing, so its feature width "
            "cannot be learned"
        )
    return width


def check_fitted_cells(estimator, X):
    """Check cell input against what ``estimator`` was fit on.

    ``estimator`` was fit on cells (its ``frame_widths_`` is not None) and must
    get cells again, with as many columns and, when both have names, the same
    column names. Returns ``(names, columns)`` as :func:`as_cell_columns` does.
    """
    name = type(estimator).__name__
    if not is_cell_input(X):
        raise ValueError(
            f"{name} was fit on cells holding frame arrays but got a plain 2-D "
            "array; fit and transform the same kind of input"
        )
    names, columns = as_cell_columns(X)
    if len(columns) != estimator.n_features_in_:
        raise ValueError(
            f"X has {len(columns)} columns of cells, but {name} was fit on "
            f"{estimator.n_features_in_}"
        )
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if fitted_names is not None and hasattr(X, "columns"):
        if list(fitted_names) != names:
            raise ValueError(
                f"X has columns {names}, but {name} was fit on columns "
                f"{list(fitted_names)}"
            )
    return names, columns


def fit_cell_columns(estimator, X):
    """Record on ``estimator`` what fit learns of cell input; return the columns.

    Sets ``n_features_in_`` (the number of cell columns), ``feature_names_in_``
    (when X names its columns: a DataFrame or a named Series) and
    ``frame_widths_`` (each column's feature width), and returns ``(names,
    columns)`` as :func:`as_cell_columns` does.
    """
    names, columns = as_cell_columns(X)
    estimator.frame_widths_ = [
        cells_width(cells, column=name) for name, cells in zip(names, columns)
    ]
    estimator.n_features_in_ = len(names)
    if hasattr(X, "columns") or getattr(X, "name", None) is not None:
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return names, columns
