"""The catalogue: every built-in method with what it is declared to be.

Each entry states its name, factory, kind (family), the modalities it reads,
whether it is transductive, whether ``mmer compare`` runs it by default and
its one-line description. Nothing is inferred from a name. The order is that
of ``mmer methods``: the study's two methods, the classical baselines of
:mod:`._classical`, those beyond the study, then the stronger methods of
:mod:`._stronger`.
"""

from ._classical import logistic_regression, svm_rbf
from ._factories import (
    _attention_fusion,
    _early_fusion,
    _early_fusion_balanced,
    _early_fusion_speaker_norm,
    _gru,
    _late_fusion,
    _late_fusion_soft,
    _late_fusion_speaker_norm,
    _late_fusion_weighted,
    _stacking,
    _transformer,
)
from ._registry import Method, register_method
from ._stronger import (
    early_fusion_ensemble,
    early_fusion_regularised,
    late_fusion_ensemble,
    tuned_early_fusion,
)

#: the study's methods, run by default
STUDY = (
    Method(
        "early_fusion",
        _early_fusion,
        "pooled, scaled modalities concatenated into one MLP",
        kind="early_fusion",
        default=True,
    ),
    Method(
        "late_fusion",
        _late_fusion,
        "one MLP per modality, majority vote (ties by summed probability)",
        kind="late_fusion",
        default=True,
    ),
)

#: classical baselines: scikit-learn models on early-fused pooled statistics
#: (see :mod:`._classical` for their settings); the logistic regression runs by
#: default, so that every comparison shows whether the networks beat it
CLASSICAL = (
    Method(
        "logistic_regression",
        logistic_regression,
        "mean and std pooled, scaled modalities concatenated into a logistic "
        "regression (C=1, no class weights)",
        kind="classical",
        default=True,
    ),
    Method(
        "svm_rbf",
        svm_rbf,
        "mean and std pooled, scaled modalities concatenated into an RBF SVM "
        "(C=1, gamma='scale'; no probabilities)",
        kind="classical",
    ),
)

#: methods beyond the study: other votes, stacking, speaker normalisation,
#: class weights, attention and sequence networks
BEYOND = (
    Method(
        "late_fusion_soft",
        _late_fusion_soft,
        "one MLP per modality, mean probability (soft vote)",
        kind="late_fusion",
    ),
    Method(
        "late_fusion_weighted",
        _late_fusion_weighted,
        "soft vote with the lexical modality counting double (needs lexical)",
        kind="late_fusion",
        requires=("lexical",),
    ),
    Method(
        "stacking",
        _stacking,
        "a meta-classifier on out-of-fold, speaker-grouped member probabilities",
        kind="late_fusion",
    ),
    Method(
        "early_fusion_speaker_norm",
        _early_fusion_speaker_norm,
        "early fusion after per-speaker standardisation (uses the test "
        "speaker's unlabelled features)",
        kind="early_fusion",
        transductive=True,
    ),
    Method(
        "late_fusion_speaker_norm",
        _late_fusion_speaker_norm,
        "soft vote after per-speaker standardisation (uses the test speaker's "
        "unlabelled features)",
        kind="late_fusion",
        transductive=True,
    ),
    Method(
        "early_fusion_balanced",
        _early_fusion_balanced,
        'early fusion with class_weight="balanced" (for unweighted accuracy)',
        kind="early_fusion",
    ),
    Method(
        "attention_fusion",
        _attention_fusion,
        "pooled modalities weighted per utterance by learned attention",
        kind="other",
    ),
    Method(
        "gru",
        _gru,
        "a residual GRU per modality over up to 8 segment means, beside the "
        "average frames, into early fusion's MLP (dropout 0.5); epochs chosen "
        "on held-out speakers, then trained on all",
        kind="other",
    ),
    Method(
        "transformer",
        _transformer,
        "a Transformer per modality over up to 8 segment means, beside the "
        "average frames, into early fusion's MLP; epochs chosen on held-out "
        "speakers, then trained on all",
        kind="other",
    ),
)

#: the stronger methods (see docs/stronger_methods.md)
STRONGER = (
    Method(
        "early_fusion_regularised",
        early_fusion_regularised,
        "early fusion, one MLP with dropout 0.5, weight decay 1e-3, 30 epochs",
        kind="early_fusion",
    ),
    Method(
        "early_fusion_ensemble",
        early_fusion_ensemble,
        "early fusion, 5 regularised MLPs from different seeds trained in one "
        "batched pass, probabilities averaged",
        kind="early_fusion",
    ),
    Method(
        "late_fusion_ensemble",
        late_fusion_ensemble,
        "soft vote of one 5-member regularised MLP ensemble per modality",
        kind="late_fusion",
    ),
    Method(
        "tuned_early_fusion",
        tuned_early_fusion,
        "early fusion with dropout and weight decay chosen per fold by a "
        "2x2 grid search over 3 inner folds of whole training speakers",
        kind="early_fusion",
    ),
)

#: every built-in method, in the order ``mmer methods`` lists them
CATALOGUE = STUDY + CLASSICAL + BEYOND + STRONGER


def register_catalogue():
    """Register every method of :data:`CATALOGUE` (done once, on import)."""
    for method in CATALOGUE:
        register_method(
            method.name,
            method.factory,
            description=method.description,
            kind=method.kind,
            default=method.default,
            transductive=method.transductive,
            modalities=method.modalities,
            requires=method.requires,
        )
