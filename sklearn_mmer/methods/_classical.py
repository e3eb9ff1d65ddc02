"""Classical baselines: scikit-learn models on pooled, scaled statistics.

A comparison that omits classical models flatters the networks: on real
acted speech (docs/results.md) a logistic regression on pooled statistics
beat the study's early fusion. These factories build early fusion's
pipeline (each modality pooled to its per-utterance mean and standard
deviation, ``TemporalPooling("stats")``, scaled by its own
``StandardScaler``, the modalities concatenated, a missing one imputed with
its training mean) with a scikit-learn classifier at the end instead of a
network. Their settings are fixed beforehand, never chosen on a corpus's
test folds:

- ``logistic_regression``: ``LogisticRegression(C=1.0)``, scikit-learn's
  default L2 strength, moderate on standardised features; no class weights,
  as the study's ``early_fusion`` has none, so the two are compared on the
  same footing (``early_fusion_balanced`` is the weighted network).
- ``svm_rbf``: ``SVC(kernel="rbf", C=1.0, gamma="scale")``, scikit-learn's
  defaults, no class weights. ``probability=False``: an early-fused model
  needs no probabilities to vote, and Platt scaling would cost an inner
  5-fold fit; it has ``decision_function`` but no ``predict_proba``, so
  outputs that need probabilities leave it out.

Histogram gradient-boosted trees did not earn a place: on real acted speech
(docs/results.md) they scored below both models here at fifty times their fit
time, and a saved model would need nine more trusted types.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from ..fusion import make_early_fusion

#: the pooling of every classical baseline: mean and standard deviation
CLASSICAL_POOLING = "stats"


def logistic_regression(modalities, random_state):
    """Early-fused pooled statistics into a logistic regression."""
    return make_early_fusion(
        modalities,
        pooling=CLASSICAL_POOLING,
        classifier=LogisticRegression(C=1.0, max_iter=2000, random_state=random_state),
    )


def svm_rbf(modalities, random_state):
    """Early-fused pooled statistics into an RBF support vector machine."""
    return make_early_fusion(
        modalities,
        pooling=CLASSICAL_POOLING,
        classifier=SVC(kernel="rbf", C=1.0, gamma="scale", random_state=random_state),
    )
