"""The harder variant of the synthetic corpus (``difficulty="hard"``).

The standard corpus is easy in ways real IEMOCAP features are not: every
speaker has the same mix of emotions, every utterance's features come from its
own label, the weakest modality still carries signal, and the text is one
clean vector. The hard variant changes each of those, by construction (the
constants below are set by reasoning about real corpora, not tuned to make any
method win):

- speakers have their own mix of emotions (a speaker's class proportions are
  drawn around the corpus's), and stronger speaker effects;
- some utterances are ambiguous: their features are drawn from a confusable
  emotion of the same arousal (anger/happiness, sadness/neutral) while the
  label stays, as when annotators disagree;
- the visual modality is weak;
- the text is a sequence of token vectors: most are filler words shared by
  every emotion, and only a few keyword tokens carry the emotion, so that the
  signal is diluted by mean pooling and must be found among the tokens.
"""

import math

import numpy as np

DESCRIPTION = (
    "HARD VARIANT (difficulty='hard'): speakers have their own emotion mixes "
    "and stronger effects; 15% of the utterances carry features of a "
    "confusable emotion; visual is weak; the vector modalities are text given "
    "as (T, d) token sequences in which only keyword tokens carry the emotion.\n"
)

#: signal of each default modality in the hard variant (visual is weak)
HARD_SIGNAL = {"visual": 0.3, "acoustic": 1.5, "lexical": 2.6}

#: speaker effects are this much stronger than in the standard corpus
HARD_SPEAKER_VARIATION = 1.8

#: share of utterances whose features come from a confusable emotion
AMBIGUOUS_FRACTION = 0.15

#: Dirichlet concentration of each speaker's emotion mix around the corpus's
#: (lower: speakers differ more)
SPEAKER_MIX_CONCENTRATION = 8.0

#: tokens per utterance of the text modality (inclusive range)
N_TOKENS = (8, 30)

#: share of tokens that are emotion keywords, and the size of the filler vocabulary
KEYWORD_RATE = 0.15
FILLER_VOCABULARY = 400

# a keyword's class separation relative to the modality's signal: mean pooling
# over ~19 tokens with ~3 keywords dilutes it back to about the signal
_KEYWORD_GAIN = 1.5

#: emotions confused with each other (same arousal)
_CONFUSABLE = {
    "anger": "happiness",
    "happiness": "anger",
    "sadness": "neutral",
    "neutral": "sadness",
}


def speakers_by_mix(rng, codes, n_speakers):
    """Assign utterances to speakers whose emotion mixes differ.

    Each speaker draws its share of every emotion around the corpus's
    (Dirichlet); each utterance then goes to a speaker with probability
    proportional to that speaker's share of its emotion. Every speaker keeps at
    least one utterance.
    """
    n_classes = int(codes.max()) + 1
    affinity = rng.dirichlet(
        np.full(n_speakers, SPEAKER_MIX_CONCENTRATION), size=n_classes
    )
    speaker_of = np.empty(len(codes), dtype=np.int64)
    for c in range(n_classes):
        rows = np.flatnonzero(codes == c)
        speaker_of[rows] = rng.choice(n_speakers, size=rows.size, p=affinity[c])
    missing = np.setdiff1d(np.arange(n_speakers), speaker_of)
    if missing.size:
        # tiny corpora: give each absent speaker one utterance of the largest
        donors = np.argsort(-np.bincount(speaker_of, minlength=n_speakers))
        for speaker, donor in zip(missing, np.resize(donors, missing.size)):
            speaker_of[np.flatnonzero(speaker_of == donor)[0]] = speaker
    return speaker_of


def ambiguous_codes(rng, codes, target_names):
    """The emotion each utterance's features are drawn from.

    A share ``AMBIGUOUS_FRACTION`` of the utterances take a confusable emotion
    (another class, drawn at random, for names outside IEMOCAP's four).
    """
    index = {name: k for k, name in enumerate(target_names)}
    feature_codes = codes.copy()
    flip = np.flatnonzero(rng.random(len(codes)) < AMBIGUOUS_FRACTION)
    n_classes = len(target_names)
    for row in flip:
        partner = _CONFUSABLE.get(target_names[codes[row]])
        if partner in index:
            feature_codes[row] = index[partner]
        else:
            others = [k for k in range(n_classes) if k != codes[row]]
            feature_codes[row] = rng.choice(others)
    return feature_codes


def token_cells(rng, *, width, signal, codes, speaker_of, n_speakers, variation):
    """Text as float32 ``(T, width)`` token sequences; keywords carry the class.

    Every token is a word vector plus noise (std 1 per feature). Most words
    come from a filler vocabulary shared by all emotions; a ``KEYWORD_RATE``
    share are keywords whose vectors lie around their emotion's direction
    (each speaker words each emotion a little differently). Speakers offset
    and scale every feature, as in the other modalities.
    """
    n_classes = int(codes.max()) + 1
    scale = signal / math.sqrt(width)
    keywords = rng.standard_normal((n_classes, width)) * (_KEYWORD_GAIN * scale)
    speaker_keywords = keywords[np.newaxis] + variation * 0.6 * (
        rng.standard_normal((n_speakers, n_classes, width)) * scale
    )
    filler = rng.standard_normal((FILLER_VOCABULARY, width)) * scale
    offsets = variation * rng.standard_normal((n_speakers, width))
    gains = np.exp(variation * 0.25 * rng.standard_normal((n_speakers, width)))
    lengths = rng.integers(N_TOKENS[0], N_TOKENS[1] + 1, size=len(codes))
    cells = np.empty(len(codes), dtype=object)
    for row, (code, speaker, length) in enumerate(zip(codes, speaker_of, lengths)):
        is_keyword = rng.random(length) < KEYWORD_RATE
        words = filler[rng.integers(0, FILLER_VOCABULARY, size=length)]
        words[is_keyword] = speaker_keywords[speaker, code]
        tokens = words + rng.standard_normal((length, width))
        cells[row] = (tokens * gains[speaker] + offsets[speaker]).astype(np.float32)
    return cells
