"""
=========================================
Attention weights, utterance by utterance
=========================================

:class:`~sklearn_mmer.neural.AttentionFusionClassifier` encodes each pooled
modality, scores it, and classifies a weighted sum of the encodings whose
weights (a softmax over the modalities) change from one utterance to the next.
:meth:`~sklearn_mmer.neural.AttentionFusionClassifier.predict_modality_weights`
returns those weights: one row per utterance, one column per modality, each
row summing to 1, and exactly 0 for a missing modality.

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data**, so which modality the model leans on reflects how the data
were drawn, not how people express emotion.
"""

# %%
# Fit on eight speakers, read the weights on the other two
# --------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import AttentionFusionClassifier

corpus = make_multimodal_emotion(500, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups
train, test = next(SpeakerKFold(5).split(X, y, speakers))

clf = AttentionFusionClassifier(corpus.modalities, max_iter=30, random_state=0)
clf.fit(X.iloc[train], y[train])
X_test = X.iloc[test].copy()
# the first three test utterances lose their video, to show the masking
X_test["visual"] = [None] * 3 + list(X_test["visual"].iloc[3:])
weights = clf.predict_modality_weights(X_test)
print(weights.head(5).round(3))
print(f"test accuracy: {clf.score(X_test, y[test]):.3f}")

# %%
# Per utterance
# -------------
# Thirty test utterances, each bar split by the weight of each modality. The
# first three have no visual cell: their visual share is exactly zero.
shown = weights.iloc[:30]
fig, ax = plt.subplots(figsize=(7, 3))
bottom = np.zeros(len(shown))
for modality in shown.columns:
    ax.bar(range(len(shown)), shown[modality], bottom=bottom, label=modality)
    bottom += shown[modality].to_numpy()
ax.set_xlabel("test utterance")
ax.set_ylabel("attention weight")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# Per emotion
# -----------
# Averaged by true emotion, the weights show which modality the model relies
# on for each class.
print(weights.groupby(np.asarray(y[test])).mean().round(3))

# %%
# Reading the weights
# -------------------
# The weights are learned to fit the *training* speakers, and a wide modality
# that a network can memorise (the synthetic visual features are 2,048 wide)
# can draw weight without being the most informative on new speakers. Read them
# on held-out speakers, as here, and compare the model with early fusion under
# speaker-independent cross-validation before reading them as what is
# informative (:doc:`/neural_models` has the figures).
