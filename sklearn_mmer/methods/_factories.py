"""The factories of the catalogue's methods: the study's and those beyond it.

A factory is ``factory(modalities, random_state) -> estimator``. They are named
functions rather than lambdas, so that methods pickle into parallel workers.
The stronger methods' factories live in :mod:`._stronger`; :mod:`._catalogue`
declares what each method is.
"""

from ..fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
    make_stacking_fusion,
)
from ..neural import AttentionFusionClassifier, MLPClassifier, SequenceClassifier
from ._stronger import SEQUENCE_MODEL, SEQUENCE_NETWORKS, SEQUENCE_TRAINING


def _unimodal(modality, random_state):
    return make_modality_pipeline(
        modality, classifier=MLPClassifier(random_state=random_state)
    )


def _early_fusion(modalities, random_state):
    return make_early_fusion(
        modalities, classifier=MLPClassifier(random_state=random_state)
    )


def _late_fusion(modalities, random_state):
    return make_late_fusion(
        modalities, voting="hard", classifier=MLPClassifier(random_state=random_state)
    )


# Beyond the study


def _late_fusion_soft(modalities, random_state):
    return make_late_fusion(
        modalities, voting="soft", classifier=MLPClassifier(random_state=random_state)
    )


def _late_fusion_weighted(modalities, random_state):
    # without lexical it would be late_fusion_soft under another name
    if "lexical" not in modalities:
        raise ValueError(
            "late_fusion_weighted counts the lexical modality double; the "
            f"modalities {list(modalities)} have no lexical, so it would equal "
            "late_fusion_soft: use late_fusion_soft"
        )
    return make_late_fusion(
        modalities,
        voting="soft",
        weights={"lexical": 2.0},
        classifier=MLPClassifier(random_state=random_state),
    )


def _stacking(modalities, random_state):
    return make_stacking_fusion(
        modalities, classifier=MLPClassifier(random_state=random_state), cv=5
    )


def _early_fusion_speaker_norm(modalities, random_state):
    return make_early_fusion(
        modalities,
        speaker_normalization=True,
        classifier=MLPClassifier(random_state=random_state),
    )


def _late_fusion_speaker_norm(modalities, random_state):
    return make_late_fusion(
        modalities,
        voting="soft",
        speaker_normalization=True,
        classifier=MLPClassifier(random_state=random_state),
    )


def _early_fusion_balanced(modalities, random_state):
    return make_early_fusion(
        modalities,
        classifier=MLPClassifier(class_weight="balanced", random_state=random_state),
    )


def _attention_fusion(modalities, random_state):
    return AttentionFusionClassifier(list(modalities), random_state=random_state)


def _gru(modalities, random_state):
    return SequenceClassifier(
        list(modalities),
        **SEQUENCE_NETWORKS["gru"],
        **SEQUENCE_MODEL,
        **SEQUENCE_TRAINING,
        random_state=random_state,
    )


def _transformer(modalities, random_state):
    return SequenceClassifier(
        list(modalities),
        **SEQUENCE_NETWORKS["transformer"],
        **SEQUENCE_MODEL,
        **SEQUENCE_TRAINING,
        random_state=random_state,
    )
