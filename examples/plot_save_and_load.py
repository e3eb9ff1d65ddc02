"""
Train, save and load a model, and predict new utterances
========================================================

Fits early fusion on a small synthetic corpus, saves it with
:func:`sklearn_mmer.save` to one file that loads without unpickling, loads it
back with :func:`sklearn_mmer.load`, checks that the loaded model predicts
exactly as the saved one, reads the file's manifest, and predicts utterances of
new speakers.

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data** shaped like IEMOCAP, not features of real speech; its scores
say nothing about real emotion recognition. Runs in well under a minute on two
CPU cores: ``python examples/plot_save_and_load.py``.
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np

import sklearn_mmer
from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.io import read_manifest
from sklearn_mmer.neural import MLPClassifier

# %%
# A small corpus: 120 utterances of 6 speakers for training, and 40 utterances
# of another corpus draw (other speakers' features) to predict.
widths = {"visual": 32, "acoustic": 16, "lexical": 24}
X, y = make_multimodal_emotion(
    120,
    n_speakers=6,
    n_sessions=3,
    modalities=widths,
    random_state=0,
    return_X_y=True,
)
X_new, y_new = make_multimodal_emotion(
    40,
    n_speakers=2,
    n_sessions=1,
    modalities=widths,
    random_state=1,
    return_X_y=True,
)

# %%
# Fit and save. ``X`` and ``y`` are passed so that the manifest records the
# modalities, their feature widths and a fingerprint of the training data.
model = make_early_fusion(
    list(widths), classifier=MLPClassifier((64,), max_iter=20, random_state=0)
).fit(X, y)
folder = Path(tempfile.mkdtemp())
path = folder / "early_fusion.mmer"
sklearn_mmer.save(model, path, X=X, y=y, method="early_fusion")
print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")

# %%
# The manifest tells what the file holds without loading it.
manifest = read_manifest(path)
print("classes:", manifest["classes"])
print("modalities:", manifest["modalities"])
print("fitted with torch", manifest["versions"]["torch"])

# %%
# Load and check: the loaded model's probabilities equal the saved model's,
# bit for bit.
loaded = sklearn_mmer.load(path)
same = np.array_equal(loaded.predict_proba(X_new), model.predict_proba(X_new))
print("identical probabilities after loading:", same)

# %%
# Predict the new utterances. (On this tiny synthetic corpus, expect accuracy
# not far above chance, 0.25: the point here is the round trip.)
predicted = loaded.predict(X_new)
print("accuracy on the new speakers:", f"{np.mean(predicted == y_new):.2f}")
for utterance, label in list(zip(X_new.index, predicted))[:5]:
    print(f"  {utterance}: {label}")

shutil.rmtree(folder)
