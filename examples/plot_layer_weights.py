"""
====================================================
Learned layer weights over a speech encoder's layers
====================================================

A self-supervised speech encoder (wav2vec 2.0, HuBERT, WavLM) holds
different information in different layers, and which layer serves emotion
best is not known in advance. The SUPERB protocol reads every layer and learns
one softmax weight per layer: ``make_extractor("encoder:PATH", layer="all")``
returns cells of shape ``(L, T, d)``, and
:class:`~sklearn_mmer.neural.SequenceClassifier` mixes the ``L`` layers of
every frame with learned weights (positive, summing to one) before its encoder
and pooling. The fitted ``layer_weights_`` shows where the model looked.

The cells here are **synthetic**: random frames for 6 "layers", of which only
layer 4 carries the class (a shift of the frames), so the figure shows the
mechanism, not a property of any real encoder. With real encoder features the
same code runs on the extracted cells.
"""

# %%
# Synthetic cells of every layer
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_mmer.neural import SequenceClassifier

rng = np.random.RandomState(0)
n_layers, width = 6, 8
y = np.array(["neutral", "angry", "sad"] * 40)
shift = {"neutral": 0.0, "angry": 1.5, "sad": -1.5}
cells = []
for label in y:
    cell = rng.normal(size=(n_layers, rng.randint(10, 30), width))
    cell[4] += shift[label]
    cells.append(cell.astype(np.float32))
X = pd.DataFrame({"encoder": cells})
print(X["encoder"][0].shape, "= (layers, frames, features)")

# %%
# A light head over the mixed layers
# ----------------------------------
# ``architecture="none"`` pools the mixed frames themselves (no recurrent
# encoder), here with attentive statistics pooling, into a small MLP: the
# light head of the SUPERB protocol.
clf = SequenceClassifier(
    "encoder",
    architecture="none",
    pooling="attentive",
    head_dims=(32,),
    learning_rate_init=0.03,
    max_iter=15,
    random_state=0,
)
clf.fit(X, y)
weights = clf.layer_weights_["encoder"]
print("layer weights:", weights.round(3), "sum", weights.sum().round(6))

# %%
# The learned weights
# -------------------
# The informative layer draws the most weight; the others, which hold only
# noise, lose theirs.
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(range(n_layers), weights)
ax.axhline(1 / n_layers, color="grey", linestyle="--", label="equal weights")
ax.set_xlabel("encoder layer")
ax.set_ylabel("learned weight")
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()

# %%
# For the methods that pool before a classical model,
# :class:`~sklearn_mmer.preprocessing.TemporalPooling` chooses layers
# instead: ``layer=-1`` (the last), ``layer=[3, 4]`` (their average) or
# ``layer="mean"``.
