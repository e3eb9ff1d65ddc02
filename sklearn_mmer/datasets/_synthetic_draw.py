"""Drawing the synthetic corpus: speakers, sessions, labels and frames."""

import math

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ..utils._data import SESSION, SPEAKER
from . import _synthetic_hard as hard

# Speaker effects, in units of the per-utterance noise (std 1 per feature), all
# multiplied by ``speaker_variation``: an offset in random directions (who is
# speaking), a shift along the class directions (a speaker's baseline emotion
# expression), per-speaker class idiosyncrasies, and a per-feature gain.
_SPEAKER_OFFSET = 1.0
_SPEAKER_CLASS_SHIFT = 0.35
_SPEAKER_IDIOSYNCRASY = 0.6
_SPEAKER_LOG_GAIN = 0.25

# Frame noise scale by class on sequence modalities: high-arousal emotions vary
# more within an utterance, so std pooling carries some signal too.
_AROUSAL_SPREAD = {"anger": 1.3, "happiness": 1.15, "sadness": 0.85, "neutral": 0.9}


def _class_counts(n_samples, class_weights):
    """Split ``n_samples`` by weight (largest remainders), each class >= 1."""
    names = list(class_weights)
    weights = np.asarray([class_weights[c] for c in names], dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError(
            f"class_weights must be positive numbers; got {dict(class_weights)}"
        )
    if n_samples < len(names):
        raise ValueError(
            f"n_samples={n_samples} is smaller than the number of classes "
            f"({len(names)}); every class needs at least one utterance"
        )
    exact = weights / weights.sum() * (n_samples - len(names))
    counts = np.floor(exact).astype(int) + 1
    leftover = n_samples - counts.sum()
    counts[np.argsort(exact - np.floor(exact))[::-1][:leftover]] += 1
    return names, counts


def _speaker_ids(n_speakers, n_sessions):
    """IEMOCAP-style ids, ``Ses01F, Ses01M, Ses02F, ...``, and their sessions.

    Speakers are dealt to sessions in sorted order, so sorting the ids keeps each
    session's speakers together (``SpeakerKFold(n_sessions)`` leaves one session
    out per fold when the speakers split evenly).
    """
    ids, sessions = [], []
    for session, members in enumerate(
        np.array_split(np.arange(n_speakers), n_sessions), start=1
    ):
        for k in range(len(members)):
            suffix = "" if k < 2 else str(k // 2 + 1)
            ids.append(f"Ses{session:02d}{'FM'[k % 2]}{suffix}")
            sessions.append(session)
    order = np.argsort(ids)
    return np.asarray(ids, dtype=object)[order], np.asarray(sessions)[order]


def _utterance_ids(speakers, speaker_of):
    """Ids such as ``Ses01F_impro03_F007``: eight dialogues per speaker."""
    ids = np.empty(len(speaker_of), dtype=object)
    for s, speaker in enumerate(speakers):
        rows = np.flatnonzero(speaker_of == s)
        gender = speaker[5]
        per_dialogue = max(1, math.ceil(len(rows) / 8))
        for k, row in enumerate(rows):
            dialogue, index = divmod(k, per_dialogue)
            ids[row] = f"{speaker}_impro{dialogue + 1:02d}_{gender}{index:03d}"
    return ids


def _modality_cells(
    rng, *, width, signal, codes, speaker_of, n_speakers, frames, spread, variation
):
    """Generate one modality's cells: float32 ``(T, width)`` arrays or vectors.

    Frames of all utterances are drawn into one float32 buffer and shaped in
    place, so generation needs about one copy of the frames in memory; each cell
    is a view of its rows of that buffer.
    """
    n_classes = spread.shape[0]
    centroids = rng.standard_normal((n_classes, width)) * (signal / math.sqrt(width))
    # a speaker's shift along the class directions and idiosyncratic class means
    shift = rng.standard_normal((n_speakers, n_classes)) @ centroids
    means = centroids[np.newaxis] + variation * (
        _SPEAKER_CLASS_SHIFT * shift[:, np.newaxis]
        + _SPEAKER_IDIOSYNCRASY
        * rng.standard_normal((n_speakers, n_classes, width))
        * (signal / math.sqrt(width))
    )
    offsets = variation * _SPEAKER_OFFSET * rng.standard_normal((n_speakers, width))
    gains = np.exp(
        variation * _SPEAKER_LOG_GAIN * rng.standard_normal((n_speakers, width))
    )
    means, offsets, gains = (a.astype(np.float32) for a in (means, offsets, gains))
    centres = means[speaker_of, codes] + rng.standard_normal(
        (len(codes), width), dtype=np.float32
    )
    cells = np.empty(len(codes), dtype=object)
    if frames is None:
        centres *= gains[speaker_of]
        centres += offsets[speaker_of]
        for row in range(len(codes)):
            cells[row] = centres[row]
        return cells
    buffer = rng.standard_normal((int(frames.sum()), width), dtype=np.float32)
    stops = np.cumsum(frames)
    for row, (start, stop) in enumerate(zip(stops - frames, stops)):
        s = speaker_of[row]
        block = buffer[start:stop]
        block *= spread[codes[row]]
        block += centres[row]
        block *= gains[s]
        block += offsets[s]
        cells[row] = block
    return cells


def draw_corpus(
    n_samples,
    *,
    n_speakers,
    n_sessions,
    modalities,
    class_weights,
    n_frames,
    vector_modalities,
    strengths,
    speaker_variation,
    random_state,
    difficulty="standard",
):
    """Draw the corpus: X, y, groups, sessions, target names, counts, speakers."""
    target_names, counts = _class_counts(n_samples, class_weights)

    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    rng = np.random.default_rng(seed)
    speakers, speaker_sessions = _speaker_ids(n_speakers, n_sessions)
    if difficulty == "hard":
        codes = rng.permutation(np.repeat(np.arange(len(target_names)), counts))
        speaker_of = hard.speakers_by_mix(rng, codes, n_speakers)
        order = np.argsort(speaker_of, kind="stable")
        codes, speaker_of = codes[order], speaker_of[order]
        feature_codes = hard.ambiguous_codes(rng, codes, target_names)
        speaker_variation = speaker_variation * hard.HARD_SPEAKER_VARIATION
    else:
        speaker_of = np.sort(rng.permutation(np.arange(n_samples) % n_speakers))
        codes = rng.permutation(np.repeat(np.arange(len(target_names)), counts))
        feature_codes = codes
    spread = np.asarray(
        [_AROUSAL_SPREAD.get(c, 1.0) for c in target_names], dtype=np.float32
    )

    columns = {}
    for modality, width in modalities.items():
        if difficulty == "hard" and modality in vector_modalities:
            columns[modality] = hard.token_cells(
                rng,
                width=width,
                signal=strengths[modality],
                codes=feature_codes,
                speaker_of=speaker_of,
                n_speakers=n_speakers,
                variation=speaker_variation,
            )
            continue
        frames = None
        if modality not in vector_modalities:
            frames = rng.integers(n_frames[0], n_frames[1] + 1, size=n_samples)
        columns[modality] = _modality_cells(
            rng,
            width=width,
            signal=strengths[modality],
            codes=feature_codes,
            speaker_of=speaker_of,
            n_speakers=n_speakers,
            frames=frames,
            spread=spread,
            variation=speaker_variation,
        )
    ids = _utterance_ids(speakers, speaker_of)
    X = pd.DataFrame(columns, index=pd.Index(ids, name="id"))
    groups = speakers[speaker_of]
    sessions = speaker_sessions[speaker_of]
    X[SPEAKER] = groups
    X[SESSION] = sessions
    y = np.asarray(target_names, dtype=object)[codes]
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        sessions=sessions,
        target_names=target_names,
        counts=counts,
        speakers=speakers,
    )
