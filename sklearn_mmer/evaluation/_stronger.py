"""The stronger methods' settings, kept importable here (benchmarks read them).

They live in the method catalogue, :mod:`sklearn_mmer.methods._stronger`.
"""

from ..methods._catalogue import STRONGER
from ..methods._stronger import (  # noqa: F401 (re-exports)
    REGULARISED,
    SEQUENCE_MODEL,
    SEQUENCE_NETWORKS,
    SEQUENCE_TRAINING,
    TUNING_GRID,
    TUNING_INNER_FOLDS,
    SpeakerColumnGroupKFold,
    early_fusion_ensemble,
    early_fusion_regularised,
    late_fusion_ensemble,
    tuned_early_fusion,
)

#: (name, factory, kind, description, transductive) of each stronger method
STRONGER_METHODS = [
    (m.name, m.factory, m.kind, m.description, m.transductive) for m in STRONGER
]
