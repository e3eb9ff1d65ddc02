"""The columns of X that a member estimator reads."""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline


def member_reads(estimator):
    """How ``estimator`` reads X: ``(step, branches)``, or None when unknown.

    The estimator reads X through its first
    :class:`~sklearn.compose.ColumnTransformer`: the estimator itself, or a step
    of a Pipeline. ``step`` is that step's position (0 for the transformer
    itself), so that a caller can tell whether earlier steps (such as a speaker
    normaliser) see X first. ``branches`` is a list of ``(transformer,
    columns)``, ``columns`` a list of names or positions; dropped branches are
    left out. The fitted ``transformers_`` are read when the transformer is
    fitted. None when there is no ColumnTransformer, when it also reads a
    remainder, or when a branch selects columns by other means (a callable, a
    slice, a boolean mask), so that what is read cannot be told.
    """
    steps = (
        [s for _, s in estimator.steps]
        if isinstance(estimator, Pipeline)
        else [estimator]
    )
    for step, transformer in enumerate(steps):
        if isinstance(transformer, ColumnTransformer):
            branches = _branches(transformer)
            return None if branches is None else (step, branches)
    return None


def _branches(transformer):
    transformers = getattr(transformer, "transformers_", None)
    if transformers is None:
        transformers = list(transformer.transformers) + [
            ("remainder", transformer.remainder, None)
        ]
    branches = []
    for name, branch, selected in transformers:
        if isinstance(branch, str) and branch == "drop":
            continue
        if name == "remainder":
            if selected is None or len(selected):
                return None
            continue
        if isinstance(selected, (str, int, np.integer)):
            selected = [selected]
        if not isinstance(selected, (list, tuple, np.ndarray)):
            return None
        branches.append((branch, list(selected)))
    return branches


def member_columns(estimator):
    """The columns a member reads (names or positions, in order), or None.

    None when that cannot be told (see :func:`member_reads`).
    """
    reads = member_reads(estimator)
    if reads is None:
        return None
    return [column for _, columns in reads[1] for column in columns]
