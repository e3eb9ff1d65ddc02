"""
====================================
Why random splits overstate accuracy
====================================

An emotion model meets new people. A random K-fold split puts utterances of
every speaker in both the training and the test part, so the model is scored
partly on how well it recognises the *speakers* it has already heard (their
voice, their face, their baseline), which never helps with a new speaker.
:class:`~sklearn_mmer.model_selection.SpeakerKFold` holds out whole speakers
instead, which is what a deployed model faces.

The same pipeline is scored both ways on the same data. The corpus is
:func:`~sklearn_mmer.datasets.make_multimodal_emotion`: **synthetic data**
whose speakers each shift their features (``speaker_variation=1.0``, the
default), as real speakers do; the size of the gap depends on that setting and
on the corpus, so measure it on yours.
"""

# %%
# The same model, two splits
# --------------------------
import matplotlib.pyplot as plt
from sklearn.model_selection import StratifiedKFold, cross_val_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

corpus = make_multimodal_emotion(600, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups
model = make_early_fusion(
    corpus.modalities,
    classifier=MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0),
)
splits = {
    "random (stratified) folds": StratifiedKFold(5, shuffle=True, random_state=0),
    "speaker folds": SpeakerKFold(5),
}
# StratifiedKFold ignores speakers; SpeakerKFold reads them from ``groups``
scores = {
    "random (stratified) folds": cross_val_score(
        model, X, y, cv=splits["random (stratified) folds"], scoring="f1_micro"
    ),
    "speaker folds": cross_val_score(
        model, X, y, groups=speakers, cv=splits["speaker folds"], scoring="f1_micro"
    ),
}
for name, fold_scores in scores.items():
    print(f"{name:<26} F1-micro {fold_scores.mean():.3f} ± {fold_scores.std():.3f}")
gap = scores["random (stratified) folds"].mean() - scores["speaker folds"].mean()
print(f"random folds score {gap:+.3f} higher")

# %%
# Fold by fold
# ------------
fig, ax = plt.subplots(figsize=(5, 3))
ax.boxplot(list(scores.values()))
ax.set_xticks([1, 2], list(scores))
ax.set_ylabel("F1-micro per fold")
ax.set_title("Synthetic corpus, same pipeline")
fig.tight_layout()
plt.show()

# %%
# Speakers in both parts of a split are a leak: a model can learn who speaks
# and use it. Tuning on such folds leaks too (see
# :ref:`sphx_glr_auto_examples_plot_grid_search_speaker_groups.py`).
