"""Corpora: the course-feature layout loader and a synthetic IEMOCAP-shaped corpus.

:func:`load_feature_table` reads the layout users bring (``dataset.csv`` plus
``.npy`` feature files, in a folder or a ``.zip``); :func:`make_multimodal_emotion`
generates a synthetic corpus of the same shape that needs no files;
:func:`write_feature_table` writes a corpus in the layout (or, row by row,
:func:`write_feature_row` then :func:`write_feature_index`); :func:`save_issues`
writes what loading one skipped to ``issues.csv``; :func:`select_modalities`
keeps some of a corpus's modalities and :func:`label_order` orders its labels
for tables and confusion matrices.
:func:`harmonize_labels` gives several corpora one label set (renamed by a
map read with :func:`read_label_map`) and counts what it drops.
:data:`DEFAULT_MODALITIES` names the study's modalities (with the synthetic
corpus's default feature widths).
"""

from ._base import (
    ISSUE_COLUMNS,
    CorpusIssuesWarning,
    label_order,
    save_issues,
    select_modalities,
)
from ._harmonize import harmonize_labels, read_label_map
from ._loader import load_feature_table
from ._synthetic import DEFAULT_MODALITIES, make_multimodal_emotion
from ._writer import write_feature_index, write_feature_row, write_feature_table

__all__ = [
    "DEFAULT_MODALITIES",
    "ISSUE_COLUMNS",
    "CorpusIssuesWarning",
    "harmonize_labels",
    "label_order",
    "load_feature_table",
    "make_multimodal_emotion",
    "read_label_map",
    "save_issues",
    "select_modalities",
    "write_feature_index",
    "write_feature_row",
    "write_feature_table",
]
