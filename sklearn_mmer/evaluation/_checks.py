"""The input checks of :func:`compare_methods`, each with the fix in its message."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import get_scorer_names

from ..methods import make_methods
from ..utils._data import METADATA_COLUMNS, cell_columns, speakers_of
from ._metrics import SCORING
from ._params import set_every
from ._schema import NON_SCORE_COLUMNS

#: The largest seed numpy's RandomState (and so every method) accepts.
MAX_SEED = 2**32 - 1


def modality_columns(X):
    """The columns of X holding modality cells (arrays), in X's order.

    Parameters
    ----------
    X : DataFrame
        A corpus in the data contract.

    Returns
    -------
    modalities : list of str
        Columns other than the metadata (``speaker``, ``session``,
        ``content``) whose present cells are all arrays.

    See Also
    --------
    make_methods : Builds the methods of these modalities.

    Notes
    -----
    :func:`compare_methods` takes these as the modalities when given method
    names (or None); call it to see what a corpus will be compared on, or to
    build the methods yourself with :func:`make_methods`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_mmer.evaluation import modality_columns
    >>> X = pd.DataFrame({"speaker": ["s1", "s2"],
    ...                   "acoustic": [np.zeros((3, 2)), np.ones((4, 2))],
    ...                   "lexical": [np.zeros((1, 5)), np.ones((2, 5))]})
    >>> modality_columns(X)
    ['acoustic', 'lexical']
    """
    return [str(column) for column in cell_columns(X, exclude=METADATA_COLUMNS)]


def check_data(X, y, groups):
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            "X must be a pandas DataFrame with one column of cells per modality; "
            f"got {type(X).__name__}"
        )
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must be 1-D with one label per row of X ({X.shape[0]}); got shape "
            f"{y.shape}"
        )
    classes = np.unique(y)
    if classes.size < 2:
        # every fit would fail alike: say it once, before any
        held = "no label"
        if classes.size:
            held = f"a single class, {classes.tolist()[0]!r}"
        raise ValueError(
            f"y holds {held}; a comparison of classifiers needs utterances of at "
            "least 2 emotions"
        )
    # folds follow groups, while speaker normalisation and stacking read X's
    # speaker column: the speaker rule checks the two name the same speakers
    groups = speakers_of(X, groups)
    return X, y, groups


def check_methods(methods, X, random_state, *, reseed):
    """The methods of one repeat, seeded with ``random_state``."""
    if methods is None or isinstance(methods, (str, list, tuple)):
        return make_methods(modality_columns(X), methods, random_state=random_state)
    if callable(methods) and not hasattr(methods, "fit"):
        return check_methods(methods(random_state), X, random_state, reseed=False)
    if not isinstance(methods, dict) or not methods:
        raise ValueError(
            "methods must be a non-empty dict of name -> estimator, a list of "
            f"method names or None; got {methods!r}"
        )
    for name, estimator in methods.items():
        if not isinstance(name, str) or not hasattr(estimator, "fit"):
            raise ValueError(
                f"methods[{name!r}] must be an estimator under a string name; got "
                f"{estimator!r}"
            )
    if not reseed:
        return dict(methods)
    methods = {name: clone(estimator) for name, estimator in methods.items()}
    for estimator in methods.values():
        set_every(estimator, "random_state", random_state)
    return methods


def check_scoring(scoring):
    if scoring is None:
        scoring = SCORING
    elif isinstance(scoring, str):
        scoring = {scoring: scoring}
    elif isinstance(scoring, (list, tuple)):
        scoring = {name: name for name in scoring}
    elif callable(scoring):
        scoring = {"score": scoring}
    if not isinstance(scoring, dict) or not scoring:
        raise ValueError(
            f"scoring must be a metric name, a list or dict of them, or None; got "
            f"{scoring!r}"
        )
    clash = set(NON_SCORE_COLUMNS) & set(scoring)
    if clash:
        raise ValueError(f"scoring may not name a metric {sorted(clash)[0]!r}")
    return {name: _scorer(scorer) for name, scorer in scoring.items()}


def _scorer(scorer):
    """A scorer name checked now, so that a typo fails once rather than each fit;
    the toolkit's own metrics by name too."""
    if not isinstance(scorer, str):
        return scorer
    own = {name: s for name, s in SCORING.items() if not isinstance(s, str)}
    if scorer in own:
        return own[scorer]
    if scorer not in get_scorer_names():
        names = ", ".join(sorted({*own, *get_scorer_names()}))
        raise ValueError(
            f"scoring names an unknown scorer {scorer!r}; give one of {names}, or a "
            "callable scorer"
        )
    return scorer


def check_labels(labels, y):
    present = np.unique(y)
    if labels is None:
        return present
    labels = np.asarray(labels)
    unknown = sorted(set(present.tolist()) - set(labels.tolist()))
    if unknown:
        raise ValueError(
            f"labels must include every label of y; {unknown} are missing from "
            f"labels={labels.tolist()}"
        )
    return labels


def check_repeats(n_repeats, random_state):
    """The seed of each repeat, each one numpy and torch accept."""
    if not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be an int of at least 1; got {n_repeats!r}")
    seeded = isinstance(random_state, numbers.Integral)
    if n_repeats > 1 and not seeded:
        raise ValueError(
            f"n_repeats={n_repeats} needs an int random_state (repeat r is seeded "
            f"with random_state + r - 1); got random_state={random_state!r}"
        )
    if not seeded:
        return [None]
    # checked here, not in every fit: each method would fail on its own
    if not 0 <= random_state <= MAX_SEED:
        raise ValueError(
            f"random_state must be an int from 0 to 2**32-1 ({MAX_SEED}), the "
            f"seeds numpy accepts; got {random_state!r}"
        )
    if random_state + n_repeats - 1 > MAX_SEED:
        raise ValueError(
            f"random_state={random_state} with n_repeats={n_repeats} would seed the "
            f"last repeat with {random_state + n_repeats - 1}, past 2**32-1; use "
            f"random_state at most {MAX_SEED - n_repeats + 1}"
        )
    return [int(random_state) + r for r in range(n_repeats)]


def check_error_score(error_score):
    if isinstance(error_score, str) and error_score == "raise":
        return
    if not isinstance(error_score, numbers.Real) or isinstance(error_score, bool):
        raise ValueError(
            f"error_score must be 'raise' or a number such as np.nan; got "
            f"{error_score!r}"
        )
