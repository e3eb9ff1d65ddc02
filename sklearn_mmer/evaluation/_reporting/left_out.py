"""A leave-one-corpus-out comparison read corpus by corpus.

:func:`compare_methods` with the folds of
:class:`~sklearn_mmer.model_selection.LeaveOneCorpusOut` scores each corpus
once, as the held-out part of its fold; :func:`name_left_out_corpora` names
each fold's corpus in ``test_corpus`` and gives the comparison the fields of
one with test corpora, so that the cross-corpus tables (and ``mmer compare
--cv corpus``) read it as they read ``test_sets``.
"""

import numpy as np
from sklearn.utils import Bunch

from .._schema import ROW_COLUMN, TEST_CORPUS
from .cross_corpus import summarize_cross_corpus


def name_left_out_corpora(comparison, corpus, groups=None):
    """Name each fold's left-out corpus and key the comparison by corpus.

    Parameters
    ----------
    comparison : Bunch
        ``compare_methods(...)``'s result, its folds those of
        :class:`~sklearn_mmer.model_selection.LeaveOneCorpusOut` (each test
        part one whole corpus).
    corpus : array-like of shape (n_samples,)
        The corpus of each utterance of the compared X.
    groups : array-like of shape (n_samples,) or None, default=None
        The speaker of each utterance: with them, each corpus's interval is
        the speaker bootstrap of its predictions (see
        :func:`summarize_cross_corpus`); without, a corpus scored once has
        none.

    Returns
    -------
    comparison : Bunch
        A copy whose ``results`` name the left-out corpus in ``test_corpus``,
        with the fields of a comparison with test corpora:
        ``cross_confusion_matrices``, ``cross_predictions`` (``row`` the
        position in its own corpus), ``cross_speakers`` (each corpus's
        speakers by that position; only with ``groups``) and
        ``cross_corpus_summary``.

    Raises
    ------
    ValueError
        When a fold's test part holds several corpora.

    See Also
    --------
    summarize_cross_corpus : The summary it computes.
    sklearn_mmer.model_selection.LeaveOneCorpusOut : The folds.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mmer.evaluation import (
    ...     compare_methods, format_cross_corpus_table, name_left_out_corpora)
    >>> from sklearn_mmer.fusion import make_modality_pipeline
    >>> from sklearn_mmer.model_selection import LeaveOneCorpusOut
    >>> rng = np.random.RandomState(0)
    >>> y = np.array(["calm", "angry"] * 24)
    >>> X = pd.DataFrame({"acoustic": [rng.normal(v == "angry", 1, 3) for v in y]})
    >>> corpus = np.repeat(["A", "B"], 24)
    >>> speakers = np.repeat(["s1", "s2", "s3", "s4", "s5", "s6"], 8)
    >>> comparison = compare_methods(
    ...     {"acoustic": make_modality_pipeline(
    ...         "acoustic", classifier=LogisticRegression())},
    ...     X, y, speakers, cv=list(LeaveOneCorpusOut().split(X, y, corpus)),
    ...     random_state=0)
    >>> named = name_left_out_corpora(comparison, corpus, speakers)
    >>> print(format_cross_corpus_table(named.cross_corpus_summary))
    method    f1_micro A          95% CI  f1_micro B          95% CI
    acoustic       0.750  [0.500, 0.875]       0.708  [0.625, 0.875]
    95% CI: speaker bootstrap on A, B
    """
    corpus = np.asarray(corpus, dtype=object)
    left_out = []
    for fold, (_, test) in enumerate(comparison.splits, start=1):
        names = list(dict.fromkeys(corpus[test]))
        if len(names) != 1:
            raise ValueError(
                f"fold {fold} tests on the corpora {', '.join(map(str, names))}; "
                "each fold must leave one whole corpus out (LeaveOneCorpusOut)"
            )
        left_out.append(names[0])
    named = Bunch(**comparison)
    results = comparison.results.copy()
    results[TEST_CORPUS] = [left_out[f - 1] for f in results["fold"]]
    named.results = results
    order = [name for name in dict.fromkeys(corpus) if name in left_out]
    n_folds = len(left_out)
    named.cross_confusion_matrices = {
        name: {
            method: matrices[
                [k for k in range(len(matrices)) if left_out[k % n_folds] == name]
            ]
            for method, matrices in comparison.confusion_matrices.items()
        }
        for name in order
    }
    positions = np.zeros(len(corpus), dtype=int)
    for name in order:
        mine = corpus == name
        positions[mine] = np.arange(mine.sum())
    cross = comparison.predictions.copy()
    rows = cross[ROW_COLUMN].to_numpy(dtype=int)
    cross.insert(3, TEST_CORPUS, corpus[rows])
    cross[ROW_COLUMN] = positions[rows]
    named.cross_predictions = cross
    if groups is not None:
        groups = np.asarray(groups, dtype=object)
        named.cross_speakers = {name: groups[corpus == name] for name in order}
    named.cross_corpus_summary = summarize_cross_corpus(
        results, predictions=cross, speakers=named.get("cross_speakers")
    )
    return named
