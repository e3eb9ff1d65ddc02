"""Feature extraction: scikit-learn transformers from media to frame matrices.

Each extractor maps a column of audio paths (or texts) to a column of cells,
each a float32 array of frames ``(T, D)``, so that
``Pipeline([extract, pool, scale, classify])`` runs from raw recordings under
cross-validation. The libraries each kind uses are optional extras
(``pip install "sklearn-mmer[audio]"`` for ``mfcc`` and ``logmel``; see
:func:`list_kinds`); this package imports none of them until a kind is used.
:func:`extract_corpus` turns a CSV of recordings into a corpus in the
course-feature layout (``mmer extract``), keeping the recipe that
:func:`extract_table` uses to extract the same features for prediction.
"""

from ._audio import ExtractionError, read_audio
from ._base import BaseExtractor
from ._corpus import extract_corpus, extract_table
from ._encoders import SpeechEncoderExtractor, TextEncoderExtractor
from ._kinds import list_kinds, make_extractor
from ._opensmile import OpenSmileExtractor
from ._recipe import read_recipe
from ._spectral import LogMelExtractor, MFCCExtractor

__all__ = [
    "BaseExtractor",
    "ExtractionError",
    "LogMelExtractor",
    "MFCCExtractor",
    "OpenSmileExtractor",
    "SpeechEncoderExtractor",
    "TextEncoderExtractor",
    "extract_corpus",
    "extract_table",
    "list_kinds",
    "make_extractor",
    "read_audio",
    "read_recipe",
]
