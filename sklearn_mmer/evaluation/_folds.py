"""The folds of a comparison: checked once, and what a user should know of them."""

import warnings

import numpy as np

from ..model_selection import SpeakerKFold


class FoldWarning(UserWarning):
    """A fold whose scores mean less than they seem (issued by compare_methods)."""


def check_splits(cv, X, y, groups):
    """The ``(train, test)`` index arrays of ``cv`` on the corpus."""
    cv = SpeakerKFold(5) if cv is None else cv
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cv = SpeakerKFold(int(cv))
    if hasattr(cv, "split"):
        pairs = cv.split(X, y, groups)
    elif isinstance(cv, (list, tuple)) and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in cv
    ):
        pairs = cv
    else:
        raise ValueError(
            "cv must be None, an int, a splitter or a list of (train, test) index "
            f"arrays; got {type(cv).__name__} {str(cv)[:60]}"
        )
    splits = [(np.asarray(tr), np.asarray(te)) for tr, te in pairs]
    if not splits:
        raise ValueError("cv gave no fold")
    for fold, (train, test) in enumerate(splits, start=1):
        if len(train) == 0 or len(test) == 0:
            side = "training" if len(train) == 0 else "test"
            raise ValueError(f"fold {fold} of cv has no {side} utterance")
    return splits


def fold_warnings(splits, y, groups):
    """One text per fold (``""`` when all is well), each also issued as a
    :class:`FoldWarning`: a test fold of a single utterance, and classes of a
    test fold that its training part lacks."""
    texts = []
    for fold, (train, test) in enumerate(splits, start=1):
        notes = []
        if len(test) == 1:
            notes.append(
                f"fold {fold} tests a single utterance"
                f"{_of_speakers(groups, test)}: its scores are 0 or 1"
            )
        unseen = sorted(set(y[test].tolist()) - set(y[train].tolist()), key=str)
        for label in unseen:
            rows = test[y[test] == label]
            notes.append(
                f"fold {fold}: class {label!r} ({len(rows)} test utterance"
                f"{'s' if len(rows) != 1 else ''}{_of_speakers(groups, rows)}) is "
                "absent from its training speakers, so no method can learn it"
            )
        for note in notes:
            warnings.warn(note, FoldWarning, stacklevel=3)
        texts.append("; ".join(notes))
    return texts


def _of_speakers(groups, rows):
    if groups is None:
        return ""
    speakers = sorted({str(s) for s in groups[rows]})
    shown = ", ".join(speakers[:5]) + (", ..." if len(speakers) > 5 else "")
    return f" of speaker{'s' if len(speakers) > 1 else ''} {shown}"
