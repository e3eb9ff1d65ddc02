"""Labels across corpora: rename with a map, keep the classes every corpus has,
and count what is dropped."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

#: Columns of :func:`harmonize_labels`'s ``dropped`` table.
DROPPED_COLUMNS = ["corpus", "label", "n_utterances", "reason"]
#: Columns of a label map's CSV file (see :func:`read_label_map`).
LABEL_MAP_COLUMNS = ("corpus", "from", "to")


def read_label_map(path):
    """Read a label map from a CSV file with columns ``corpus,from,to``.

    Parameters
    ----------
    path : str or path-like
        The CSV file. ``corpus`` names the corpus a line applies to, or is
        ``*`` (or empty) for every corpus; ``from`` is a label as the corpus
        spells it and ``to`` the label it becomes.

    Returns
    -------
    label_map : dict of str to dict of str to str
        ``{corpus: {from: to}}``; ``"*"`` holds the lines for every corpus.

    Raises
    ------
    ValueError
        When the header is not ``corpus,from,to``, a line has another number
        of fields, or a label is mapped twice in one corpus.

    See Also
    --------
    harmonize_labels : Applies the map.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn_mmer.datasets import read_label_map
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "map.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("corpus,from,to\\nA,angry,anger\\n*,exc,happiness\\n")
    ...     read_label_map(path)
    {'A': {'angry': 'anger'}, '*': {'exc': 'happiness'}}
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    if not lines or tuple(c.strip() for c in lines[0]) != LABEL_MAP_COLUMNS:
        raise ValueError(
            f"label map {path}: the first line must be 'corpus,from,to'; got "
            f"{','.join(lines[0]) if lines else 'an empty file'!r}"
        )
    label_map = {}
    for number, fields in enumerate(lines[1:], start=2):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != 3:
            raise ValueError(
                f"label map {path}, line {number}: {len(fields)} fields, not 3 "
                "(corpus,from,to)"
            )
        corpus, source, target = (field.strip() for field in fields)
        mapping = label_map.setdefault(corpus or "*", {})
        if source in mapping and mapping[source] != target:
            raise ValueError(
                f"label map {path}, line {number}: {source!r} of corpus "
                f"{corpus or '*'!r} is mapped twice ({mapping[source]!r} and "
                f"{target!r})"
            )
        mapping[source] = target
    return label_map


def harmonize_labels(corpora, labels=None, label_map=None):
    """Give several corpora one label set, and count what it drops.

    Each corpus's labels are first renamed by ``label_map``; then only the
    classes every corpus has are kept (or those ``labels`` names), and the
    utterances of every other class are dropped. Nothing is dropped silently:
    ``dropped`` counts each class left out of each corpus.

    Parameters
    ----------
    corpora : dict of str to tuple
        ``{name: (X, y, groups)}``: each corpus's DataFrame (or array-like of
        rows), labels and speakers (``groups`` may be None).
    labels : list of str or None, default=None
        The classes to keep, after renaming. None keeps the classes that
        every corpus has.
    label_map : dict or None, default=None
        ``{corpus: {from: to}}`` (see :func:`read_label_map`); ``"*"`` applies
        to every corpus, a corpus's own lines win over it.

    Returns
    -------
    harmonized : Bunch
        With ``corpora`` (``{name: (X, y, groups)}`` with the kept rows only,
        labels renamed; X keeps its index, the utterances' ids), ``labels``
        (the kept classes, sorted) and ``dropped`` (DataFrame with columns
        ``corpus, label, n_utterances, reason``: one row per class dropped
        from a corpus).

    Raises
    ------
    ValueError
        When ``label_map`` names a corpus that is not given, ``labels`` names
        a class some corpus lacks, or fewer than 2 classes are left.

    See Also
    --------
    read_label_map : Reads ``label_map`` from a CSV file.
    sklearn_mmer.evaluation.compare_methods : Tests on other corpora
        (``test_sets``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_mmer.datasets import harmonize_labels
    >>> a = (pd.DataFrame({"x": range(4)}), np.array(["angry", "sad", "neu", "sad"]),
    ...      None)
    >>> b = (pd.DataFrame({"x": range(3)}), np.array(["anger", "sad", "hap"]), None)
    >>> h = harmonize_labels({"A": a, "B": b}, label_map={"A": {"angry": "anger"}})
    >>> h.labels
    ['anger', 'sad']
    >>> h.dropped[["corpus", "label", "n_utterances"]]
      corpus label  n_utterances
    0      A   neu             1
    1      B   hap             1
    """
    if not isinstance(corpora, dict) or not corpora:
        raise ValueError("corpora must be a non-empty dict {name: (X, y, groups)}")
    label_map = dict(label_map or {})
    unknown = sorted(set(label_map) - set(corpora) - {"*"})
    if unknown:
        raise ValueError(
            f"label_map names corpus {unknown[0]!r}, which is not one of "
            f"{', '.join(map(repr, corpora))}"
        )
    renamed = {}
    for name, (X, y, groups) in corpora.items():
        mapping = {**label_map.get("*", {}), **label_map.get(name, {})}
        y = np.asarray([mapping.get(str(label), label) for label in np.asarray(y)])
        renamed[name] = (X, y, groups)
    present = {name: set(map(str, y)) for name, (_, y, _) in renamed.items()}
    if labels is None:
        keep = set.intersection(*present.values())
    else:
        keep = {str(label) for label in labels}
        for name, classes in present.items():
            lacking = sorted(keep - classes)
            if lacking:
                raise ValueError(
                    f"labels names {lacking[0]!r}, which corpus {name!r} lacks "
                    f"(it has {', '.join(sorted(classes))}); map a label to it "
                    "with label_map or leave it out"
                )
    if len(keep) < 2:
        raise ValueError(
            f"the corpora share {len(keep)} class{'es' if len(keep) != 1 else ''} "
            f"({', '.join(sorted(keep)) or 'none'}); at least 2 are needed: "
            "rename labels with label_map"
        )
    kept, dropped = {}, []
    for name, (X, y, groups) in renamed.items():
        for label in sorted(present[name] - keep):
            lacking = [o for o in corpora if o != name and label not in present[o]]
            reason = (
                f"not in every corpus: {', '.join(lacking)} lack"
                f"{'s' if len(lacking) == 1 else ''} it"
                if labels is None and lacking
                else "not in labels"
            )
            count = int(np.sum(y.astype(str) == label))
            dropped.append([name, label, count, reason])
        rows = np.flatnonzero(np.isin(y.astype(str), sorted(keep)))
        kept[name] = (
            _take(X, rows),
            y[rows],
            None if groups is None else np.asarray(groups)[rows],
        )
    return Bunch(
        corpora=kept,
        labels=sorted(keep),
        dropped=pd.DataFrame(dropped, columns=DROPPED_COLUMNS),
    )


def _take(X, rows):
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows]
    return [X[row] for row in rows]
