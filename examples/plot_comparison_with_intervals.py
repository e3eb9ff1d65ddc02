"""
Comparing methods with confidence intervals and paired tests
============================================================

Is early fusion really better than the lexical modality alone, or did the
folds just fall its way? This example cross-validates a few methods
speaker-independently, repeated with two network seeds, and reads the results
as ``docs/reading_a_comparison.md`` explains:

- each method's mean score with the corrected resampled 95% interval of
  Nadeau and Bengio (2003), which allows for the overlap of training sets
  across folds;
- every method against early fusion on paired per-fold differences, with the
  corrected t-test and a Wilcoxon signed-rank test, Holm-adjusted;
- where each method fails: scores per held-out speaker and recall per emotion.

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`:
**synthetic data** shaped like IEMOCAP, here small (200 utterances, two
narrow modalities) and trained for a few epochs so that the example runs in well under
a minute on two CPU cores. Its numbers show how to read a comparison; they say
nothing about real emotion recognition.

Run it as ``python examples/plot_comparison_with_intervals.py``; ``--out DIR``
also saves the figures as PNG files.
"""

# %%
# A small corpus and the methods to compare
# -----------------------------------------
import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import (
    ConfusionMatricesDisplay,
    MethodComparisonDisplay,
    PerClassRecallDisplay,
    PerSpeakerDisplay,
    compare_methods,
    compare_to_reference,
    make_methods,
    per_class_recall,
    per_speaker_scores,
    set_epochs,
)

corpus = make_multimodal_emotion(
    200, modalities={"acoustic": 16, "lexical": 24}, random_state=0
)
X, y, speakers = corpus.data, corpus.target, corpus.groups
NAMES = ["acoustic", "lexical", "early_fusion", "late_fusion"]


def methods(seed):
    """The compared methods, every network seeded with ``seed``, 10 epochs."""
    built = make_methods(corpus.modalities, NAMES, random_state=seed)
    for method in built.values():
        set_epochs(method, 10)
    return built


# %%
# Five speaker folds, two seeds
# -----------------------------
# Every method meets every other on the same folds and seeds, so their
# per-fold scores can be paired.
comparison = compare_methods(
    methods, X, y, speakers, cv=5, n_repeats=2, random_state=0, n_jobs=1, n_threads=1
)
pd.set_option("display.width", 120)
columns = ["method", "f1_micro_mean", "f1_micro_ci_low", "f1_micro_ci_high"]
print(comparison.summary[columns].round(3).to_string(index=False))

# %%
# Every method against early fusion
# ---------------------------------
# ``difference`` is the mean paired difference in F1-micro; ``ci_low`` and
# ``ci_high`` its corrected interval; ``t_p_adjusted`` the Holm-adjusted
# p-value of the corrected resampled t-test.
comparisons = compare_to_reference(comparison.results, reference="early_fusion")
f1 = comparisons[comparisons.metric == "f1_micro"]
columns = ["method", "difference", "ci_low", "ci_high", "t_p_adjusted"]
print(
    f1[columns + ["wilcoxon_p_adjusted", "significant"]].round(3).to_string(index=False)
)

# %%
# Where each method fails
# -----------------------
per_speaker = per_speaker_scores(comparison.predictions, speakers)
print(
    per_speaker.pivot_table(index="method", columns="speaker", values="f1_micro")
    .round(2)
    .to_string()
)
recall = per_class_recall(comparison.predictions, labels=corpus.target_names)
print(recall.pivot(index="method", columns="label", values="recall").round(2))

# %%
# The figures
# -----------
# Each figure is a display, as scikit-learn's ``ConfusionMatrixDisplay``: built
# from the comparison and drawn on the axes it is given (here pyplot's, so that
# the figures show in a notebook or a gallery), with ``figure_`` and ``ax_``
# kept for later changes. The comparison marks with ``*`` the methods whose
# difference from early fusion is significant after Holm's adjustment.
fig, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
methods_display = MethodComparisonDisplay.from_comparison(
    comparison, comparisons=comparisons, ax=ax
)

# %%
# Scores per held-out speaker, and recall per emotion, side by side.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
speaker_display = PerSpeakerDisplay.from_predictions(
    comparison.predictions, speakers, ax=left
)
recall_display = PerClassRecallDisplay.from_predictions(
    comparison.predictions, labels=corpus.target_names, ax=right
)

# %%
# The confusions of each method, summed over folds and seeds.
fig, axes = plt.subplots(1, len(NAMES), figsize=(13, 3.6), layout="constrained")
confusion_display = ConfusionMatricesDisplay.from_comparison(comparison, ax=axes)
plt.show()

figures = {
    "comparison_with_intervals.png": methods_display.figure_,
    "where_methods_fail.png": speaker_display.figure_,
    "confusion_matrices.png": confusion_display.figure_,
}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Save the example's figures.")
    parser.add_argument("--out", help="folder for the PNG figures")
    out = parser.parse_args().out
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for name, figure in figures.items():
            figure.savefig(Path(out) / name, dpi=120)
        print(f"saved {', '.join(figures)} to {out}")
