"""Test corpora of a cross-corpus comparison: checked against the compared
corpus, standardised as asked, and stacked below it.

The test corpora's rows are appended to the compared corpus X, so that each
fit's view of the data (the modalities pooled once, see ``_sharing``) covers
them too, and each fold's fitted model scores them by their rows, exactly as
it scores its held-out speakers.
"""

import numpy as np
import pandas as pd

from ..preprocessing import SpeakerNormalizer
from ..utils._data import SPEAKER, fingerprint_data, is_missing, speakers_of

#: What ``test_standardization`` may be.
TEST_STANDARDIZATIONS = (None, "corpus", "speaker")


def check_test_sets(test_sets, X, y, modalities, *, standardization):
    """Check the test corpora; stack them below X.

    Returns ``(X, y, rows, notes, ids)``: the stacked corpus and labels, each
    test corpus's rows in them, the text its result rows carry (missing
    modalities, standardisation) and every stacked row's utterance id (its
    own corpus's index, as text).
    """
    if standardization not in TEST_STANDARDIZATIONS:
        raise ValueError(
            f"test_standardization must be None, 'corpus' or 'speaker'; got "
            f"{standardization!r}"
        )
    if not isinstance(test_sets, dict) or not test_sets:
        raise ValueError(
            "test_sets must be a non-empty dict {name: (X, y, groups)}; got "
            f"{type(test_sets).__name__}"
        )
    parts, labels, rows, notes = [X], [np.asarray(y)], {}, {}
    ids = [np.asarray(X.index).astype(str)]
    start = X.shape[0]
    for name, test_set in test_sets.items():
        X_test, y_test, groups, test_ids = _unpack(name, test_set)
        missing = [m for m in modalities if m not in X_test.columns]
        _check_widths(name, X, X_test, [m for m in modalities if m not in missing])
        groups = _given_speakers(name, X_test, groups)
        X_test = X_test.reindex(columns=[c for c in X.columns if c != SPEAKER])
        for modality in missing:
            X_test[modality] = pd.Series([None] * len(X_test), dtype=object)
        if groups is not None:
            X_test[SPEAKER] = np.asarray(groups)
        texts = []
        if missing:
            texts.append(
                f"test corpus {name!r} lacks modalit"
                f"{'ies' if len(missing) > 1 else 'y'} {', '.join(missing)}: "
                "scored as missing"
            )
        if standardization is not None:
            present = [m for m in modalities if m not in missing]
            X_test = _standardize(X, X_test, present, standardization)
            texts.append(_STANDARDIZATION_NOTES[standardization])
        if SPEAKER in X.columns and groups is None:
            X_test[SPEAKER] = name  # one unnamed speaker, none of X's
        elif SPEAKER in X.columns:
            # its speakers are not the compared corpus's, even when named alike
            X_test[SPEAKER] = [f"{name}/{s}" for s in X_test[SPEAKER]]
        X_test = X_test.reindex(columns=X.columns)
        parts.append(X_test)
        labels.append(y_test)
        ids.append(test_ids)
        rows[name] = np.arange(start, start + len(y_test))
        notes[name] = "; ".join(texts)
        start += len(y_test)
    stacked = pd.concat(parts, ignore_index=True)
    return stacked, np.concatenate(labels), rows, notes, np.concatenate(ids)


def speakers_of_test_sets(test_sets):
    """Each test corpus's speakers, one per utterance, as its rows are scored:
    its ``groups``, else its X's ``speaker`` column, else one speaker (the
    corpus). Call after :func:`check_test_sets`."""
    speakers = {}
    for name, test_set in test_sets.items():
        X_test, y_test, groups, _ = _unpack(name, test_set)
        groups = _given_speakers(name, X_test, groups)
        if groups is None:
            groups = [name] * len(y_test)
        speakers[name] = np.asarray(groups, dtype=object)
    return speakers


def _given_speakers(name, X_test, groups):
    """A test corpus's speakers as given, by the toolkit's one speaker rule:
    its ``groups``, else its X's ``speaker`` column, else None; when both are
    given and disagree, a ValueError names the corpus and both."""
    try:
        return speakers_of(X_test, groups)
    except ValueError as error:
        raise ValueError(f"test_sets[{name!r}]: {error}") from None


def describe_test_sets(X, y, rows, standardization):
    """What a checkpoint's manifest records of the test corpora: each one's
    size and fingerprint (its features as scored, standardised if asked,
    and its labels), in order, and the standardisation."""
    return {
        "corpora": {
            name: {
                "n_utterances": len(part),
                "fingerprint": fingerprint_data(X.iloc[part], y[part]),
            }
            for name, part in rows.items()
        },
        "standardization": standardization,
    }


def differences_in_test_corpora(previous, new):
    """How two runs' test corpora differ (what :func:`describe_test_sets` said
    of each, None without any), as reasons a resume is refused."""
    if previous == new:
        return
    old_names = list((previous or {}).get("corpora", {}))
    new_names = list((new or {}).get("corpora", {}))
    if old_names != new_names:
        before = (
            f"it was tested on the corpora {', '.join(old_names)}"
            if old_names
            else "it had no test corpora"
        )
        after = (
            f"this run tests on {', '.join(new_names)}"
            if new_names
            else "this run has none"
        )
        yield f"{before}, {after} (--test-data; test_sets in Python)"
        return
    if previous.get("standardization") != new.get("standardization"):
        old_how, new_how = (
            part.get("standardization") or "none" for part in (previous, new)
        )
        yield (
            f"its test standardisation was {old_how}, now {new_how} "
            "(--test-standardization; test_standardization in Python)"
        )
    changed = [
        name for name in new_names if previous["corpora"][name] != new["corpora"][name]
    ]
    if changed:
        yield (
            f"the test corpus {', '.join(changed)} differs (another corpus, other "
            "modalities or labels: --test-data, --labels or --label-map)"
        )


_STANDARDIZATION_NOTES = {
    "corpus": "test corpus standardised by its own statistics (every utterance, "
    "no label), matched to the compared corpus's",
    "speaker": "transductive: test corpus standardised speaker by speaker from "
    "its unlabelled features, matched to the compared corpus's statistics",
}


def _unpack(name, test_set):
    if not isinstance(test_set, (tuple, list)) or len(test_set) not in (2, 3):
        raise ValueError(
            f"test_sets[{name!r}] must be (X, y) or (X, y, groups); got "
            f"{type(test_set).__name__}"
        )
    X_test, y_test, groups = (*test_set, None)[:3]
    if not isinstance(X_test, pd.DataFrame):
        raise ValueError(
            f"test_sets[{name!r}]: X must be a pandas DataFrame; got "
            f"{type(X_test).__name__}"
        )
    y_test = np.asarray(y_test)
    if y_test.ndim != 1 or len(y_test) != len(X_test) or not len(y_test):
        raise ValueError(
            f"test_sets[{name!r}]: y must be 1-D with one label per row of X "
            f"({len(X_test)}); got shape {y_test.shape}"
        )
    if groups is not None and len(groups) != len(X_test):
        raise ValueError(
            f"test_sets[{name!r}]: groups must have one speaker per row of X "
            f"({len(X_test)}); got {len(groups)}"
        )
    ids = np.asarray(X_test.index).astype(str)
    return X_test.reset_index(drop=True).copy(), y_test, groups, ids


def _width(cells):
    for cell in cells:
        if not is_missing(cell):
            return np.shape(cell)[-1] if np.ndim(cell) else 1
    return None


def _check_widths(name, X, X_test, modalities):
    for modality in modalities:
        width, test_width = _width(X[modality]), _width(X_test[modality])
        if None not in (width, test_width) and width != test_width:
            raise ValueError(
                f"test_sets[{name!r}]: modality {modality!r} has {test_width} "
                f"features per frame, the compared corpus {width}; a model "
                "cannot read features of another width: extract both corpora "
                "with the same settings"
            )


def _standardize(X, X_test, modalities, how):
    """The test corpus standardised by its own statistics (per speaker with
    ``how="speaker"``), then given the compared corpus's mean and scale."""
    if not modalities:
        return X_test
    by_speaker = how == "speaker" and SPEAKER in X_test.columns
    own = SpeakerNormalizer(
        SPEAKER if by_speaker else "__no_speaker__",
        columns=list(modalities),
        min_utterances=1,
    ).fit_transform(X_test)
    target = SpeakerNormalizer("__no_speaker__", columns=list(modalities)).fit(X)
    for modality in modalities:
        mean, scale = target.mean_[modality], target.scale_[modality]
        own[modality] = [
            cell if is_missing(cell) else np.asarray(cell) * scale + mean
            for cell in own[modality]
        ]
    return own
