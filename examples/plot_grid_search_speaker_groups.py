"""
==========================================
Tuning with GridSearchCV and speaker folds
==========================================

Hyper-parameters chosen on folds that share speakers with the held-out data
are chosen for those speakers. Give the speakers to
:class:`~sklearn.model_selection.GridSearchCV` as ``groups`` and use a
speaker splitter (:class:`~sklearn_mmer.model_selection.SpeakerKFold`) so that
every inner fold holds out whole speakers; then estimate the tuned model's
score with an *outer* speaker split (nested cross-validation), because the best
inner score is optimistic: it is the maximum over the grid.

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data** shaped like IEMOCAP; the grid is tiny and training short (10
epochs) so that the example runs quickly.
"""

# %%
# The search
# ----------
# Parameter names follow the pipeline's steps:
# ``columntransformer__<modality>__temporalpooling__method`` for a modality's
# pooling and ``mlpclassifier__<parameter>`` for the network.
import matplotlib.pyplot as plt
import pandas as pd
import sklearn
from sklearn.model_selection import GridSearchCV, cross_val_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

corpus = make_multimodal_emotion(400, random_state=0)
X, y, speakers = corpus.data, corpus.target, corpus.groups

model = make_early_fusion(
    corpus.modalities,
    classifier=MLPClassifier(max_iter=10, random_state=0),
)
grid = {
    "columntransformer__acoustic__temporalpooling__method": ["mean", "stats"],
    "mlpclassifier__hidden_layer_sizes": [(32,), (128, 64)],
}
search = GridSearchCV(model, grid, cv=SpeakerKFold(3), scoring="f1_micro")
search.fit(X, y, groups=speakers)
print("best parameters:", search.best_params_)
print(f"best inner score: {search.best_score_:.3f}")

# %%
# Every candidate, fold by fold
# -----------------------------
results = pd.DataFrame(search.cv_results_)
labels = [
    f"{params['columntransformer__acoustic__temporalpooling__method']}, "
    f"{params['mlpclassifier__hidden_layer_sizes']}"
    for params in results["params"]
]
fold_columns = [f"split{i}_test_score" for i in range(search.n_splits_)]
fig, ax = plt.subplots(figsize=(6, 3))
ax.boxplot(results[fold_columns].to_numpy().T)
ax.set_xticks(range(1, len(labels) + 1), labels, rotation=15)
ax.set_xlabel("acoustic pooling, hidden layers")
ax.set_ylabel("F1-micro, inner speaker folds")
fig.tight_layout()
plt.show()

# %%
# Nested cross-validation: an honest score for the tuned model
# ------------------------------------------------------------
# The outer split needs the speakers, and so does the search inside each outer
# training part. Metadata routing passes ``groups`` to both splitters; the
# network itself is told not to take them (``set_fit_request(groups=False)``;
# ``True`` would make its early stopping hold out whole speakers too).
with sklearn.config_context(enable_metadata_routing=True):
    routed = make_early_fusion(
        corpus.modalities,
        classifier=MLPClassifier(max_iter=10, random_state=0).set_fit_request(
            groups=False
        ),
    )
    nested = GridSearchCV(routed, grid, cv=SpeakerKFold(3), scoring="f1_micro")
    outer = cross_val_score(
        nested,
        X,
        y,
        cv=SpeakerKFold(5),
        scoring="f1_micro",
        params={"groups": speakers},
    )
print(f"nested F1-micro: {outer.mean():.3f} ± {outer.std():.3f} (5 outer folds)")
print(f"best inner score, for comparison: {search.best_score_:.3f}")

# %%
# The nested score comes from speakers that neither chose the parameters nor
# trained the model. With a grid of four candidates the inner score's optimism
# is small, and the spread over five outer folds can hide it; it grows with the
# size of the grid.
