"""
==================================
Unimodal baselines, one per column
==================================

Before fusing modalities, measure each on its own: the same pipeline
(:func:`~sklearn_mmer.fusion.make_modality_pipeline`: pool the frames over
time, scale, classify with :class:`~sklearn_mmer.neural.MLPClassifier`) on one
modality column at a time, under speaker-independent cross-validation
(:class:`~sklearn_mmer.model_selection.SpeakerKFold`: no speaker is ever in
both the training and the test part of a fold).

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data** shaped like IEMOCAP, drawn so that the lexical column is the
most informative, as in the study. The scores show how to measure baselines,
not how well real recordings are recognised.
"""

# %%
# A small synthetic corpus
# ------------------------
# Four hundred utterances from ten speakers; each modality column holds one
# array per utterance: ``(T, d)`` frames for visual and acoustic, a ``(d,)``
# vector for lexical.
import matplotlib.pyplot as plt
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import cross_val_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

corpus = make_multimodal_emotion(400, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups
print(corpus.DESCR)

# %%
# One pipeline per modality
# -------------------------
# A short training (20 epochs) keeps the example quick; the study trained for
# 50. The majority-class baseline says what "no information" scores.
mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
cv = SpeakerKFold(5)
scores = {
    modality: cross_val_score(
        make_modality_pipeline(modality, classifier=mlp),
        X,
        y,
        groups=speakers,
        cv=cv,
        scoring="f1_micro",
    )
    for modality in corpus.modalities
}
scores["majority class"] = cross_val_score(
    DummyClassifier(), X, y, groups=speakers, cv=cv, scoring="f1_micro"
)
for name, fold_scores in scores.items():
    print(f"{name:<15} F1-micro {fold_scores.mean():.3f} ± {fold_scores.std():.3f}")

# %%
# Fold by fold
# ------------
# Each point is one fold (two held-out speakers). The spread between folds is
# part of the result: a difference smaller than it is not a finding.
fig, ax = plt.subplots(figsize=(6, 3))
for position, (name, fold_scores) in enumerate(scores.items()):
    ax.scatter([position] * len(fold_scores), fold_scores, color="C0")
    ax.hlines(fold_scores.mean(), position - 0.25, position + 0.25, color="C1")
ax.set_xticks(range(len(scores)), list(scores))
ax.set_ylabel("F1-micro per speaker fold")
ax.set_title("Synthetic corpus: each modality alone")
fig.tight_layout()
plt.show()
