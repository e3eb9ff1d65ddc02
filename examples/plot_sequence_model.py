"""
========================================
A sequence model against pooled features
========================================

Pooling (the mean over an utterance's frames) discards the order of frames.
:class:`~sklearn_mmer.neural.SequenceClassifier` reads the frames in order with
a GRU (or a small Transformer) instead: padding never changes its result, and
a missing cell is a sequence of length zero.

Here a GRU on the acoustic frames is compared with the pooled pipeline of
:func:`~sklearn_mmer.fusion.make_modality_pipeline` on the same held-out
speakers. The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data** whose frames are roughly stationary within an utterance, so
the order carries little here and pooling loses little; on real speech the
comparison is worth making on your own corpus.
"""

# %%
# Data and models
# ---------------
import matplotlib.pyplot as plt

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier, SequenceClassifier

corpus = make_multimodal_emotion(400, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups
train, test = next(SpeakerKFold(5).split(X, y, speakers))

gru = SequenceClassifier(
    "acoustic", architecture="gru", hidden_dim=32, max_iter=15, random_state=0
)
pooled = make_modality_pipeline(
    "acoustic", classifier=MLPClassifier(max_iter=15, random_state=0)
)
for model in (gru, pooled):
    model.fit(X.iloc[train], y[train])
print(f"GRU on frames:      accuracy {gru.score(X.iloc[test], y[test]):.3f}")
print(f"MLP on mean frames: accuracy {pooled.score(X.iloc[test], y[test]):.3f}")

# %%
# The GRU's training curve
# ------------------------
# ``history_`` is skorch's record of the fit: one row per epoch.
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(gru.history_[:, "train_loss"], marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("GRU on acoustic frames")
fig.tight_layout()
plt.show()
