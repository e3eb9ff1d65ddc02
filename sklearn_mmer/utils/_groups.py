"""Sample counts and speaker groups."""

import numbers

import numpy as np


def num_samples(X):
    """The number of samples (rows) of an array-like, DataFrame or sparse matrix.

    An object with neither a length nor a shape is read through ``__array__``;
    a TypeError says when X is not a collection of samples.
    """
    if not hasattr(X, "__len__") and not hasattr(X, "shape"):
        if not hasattr(X, "__array__"):
            raise TypeError(f"Expected sequence or array-like, got {type(X)}")
        X = np.asarray(X)
    shape = getattr(X, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise TypeError(
                f"Singleton array {X!r} cannot be considered a valid collection."
            )
        if isinstance(shape[0], numbers.Integral):
            return int(shape[0])
    return len(X)


def check_groups(groups, n_samples):
    """Return ``groups`` as a 1-D array of one speaker per sample.

    Raises a ValueError naming the shape when it is not one.
    """
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != n_samples:
        raise ValueError(
            f"groups must be 1-D with one speaker per sample; got shape "
            f"{groups.shape} for {n_samples} samples"
        )
    return groups
