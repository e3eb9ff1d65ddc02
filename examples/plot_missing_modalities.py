"""
=====================================
Missing modalities at prediction time
=====================================

A cell holding ``None`` marks a modality missing for one utterance (no video
for a turn, a failed transcription). Every fusion method still classifies such
an utterance: early fusion imputes the missing modality's pooled features,
late fusion leaves the missing member out of the vote, and
:class:`~sklearn_mmer.neural.AttentionFusionClassifier` gives it an attention
weight of exactly zero.

Here the models are trained on complete utterances of eight speakers and
tested on the two other speakers with each test cell dropped independently
with probability ``p``. The corpus is
:func:`~sklearn_mmer.datasets.make_multimodal_emotion`: **synthetic data**, so
the curves show how the methods degrade, not how they would on real speech.
"""

# %%
# Train on complete data, held-out speakers for testing
# -----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import f1_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion, make_late_fusion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import AttentionFusionClassifier, MLPClassifier

corpus = make_multimodal_emotion(500, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups
modalities = corpus.modalities
train, test = next(SpeakerKFold(5).split(X, y, speakers))

mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
models = {
    "early fusion": make_early_fusion(modalities, classifier=mlp),
    "late, soft vote": make_late_fusion(modalities, voting="soft", classifier=mlp),
    "attention fusion": AttentionFusionClassifier(
        modalities, max_iter=20, random_state=0
    ),
}
for model in models.values():
    model.fit(X.iloc[train], y[train])


# %%
# Drop test cells at random
# -------------------------
def drop_cells(X, p, rng):
    """A copy of X with each modality cell replaced by None with probability p."""
    dropped = X.copy()
    for modality in modalities:
        lost = rng.random(len(X)) < p
        dropped[modality] = [
            None if gone else cell for gone, cell in zip(lost, X[modality])
        ]
    return dropped


probabilities = [0.0, 0.2, 0.4, 0.6]
scores = {name: [] for name in models}
for p in probabilities:
    # three random draws of the dropped cells per p, averaged
    draws = [drop_cells(X.iloc[test], p, np.random.default_rng(s)) for s in range(3)]
    for name, model in models.items():
        scores[name].append(
            np.mean(
                [f1_score(y[test], model.predict(d), average="micro") for d in draws]
            )
        )
    print(f"p={p:.1f}  " + "  ".join(f"{n}: {s[-1]:.3f}" for n, s in scores.items()))

# %%
# How the scores change as cells go missing
# -----------------------------------------
# Two test speakers give about a hundred utterances, so differences of a few
# points are noise; :doc:`/fusion` ("Missing modalities") measures the same
# over five speaker folds. The dashed line is the share of the most frequent
# class in the test fold: what a model that ignores its input would score.
majority = np.unique(y[test], return_counts=True)[1].max() / len(test)
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, values in scores.items():
    ax.plot(probabilities, values, marker="o", label=name)
ax.axhline(majority, color="grey", linestyle="--", label="majority class")
ax.set_xlabel("probability that a test cell is missing")
ax.set_ylabel("F1-micro, two held-out speakers")
ax.legend()
fig.tight_layout()
plt.show()
