"""Early versus late fusion on the bundled synthetic corpus.

Runs the study's comparison with plain scikit-learn tools: each modality alone,
early fusion (pooled, scaled features concatenated into one MLP) and late
fusion (one MLP per modality, majority vote), each under 5-fold
speaker-independent cross-validation, and prints F1-micro (the study's metric),
macro F1 and unweighted accuracy, mean ± std over the folds.

The corpus is :func:`~sklearn_mmer.datasets.make_multimodal_emotion`: **synthetic
data** shaped like IEMOCAP (1,336 utterances, 10 speakers, visual, acoustic and
lexical features), not features of real speech. Its scores show that the
pipelines run and rank as in the study; they say nothing about real emotion
recognition.

Run it as ``python examples/plot_early_vs_late_fusion.py`` (a few minutes on two
CPU cores); ``--out fusion.png`` also saves a bar chart of F1-micro.
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import cross_validate

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import SCORING
from sklearn_mmer.fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier


def methods(modalities, random_state=0):
    """The compared pipelines, by name: each modality alone, early, late fusion."""
    classifier = MLPClassifier(random_state=random_state)
    compared = {m: make_modality_pipeline(m, classifier=classifier) for m in modalities}
    compared["early fusion"] = make_early_fusion(modalities, classifier=classifier)
    compared["late fusion"] = make_late_fusion(
        modalities, voting="hard", classifier=classifier
    )
    return compared


def compare(X, y, speakers, modalities, *, n_splits=5):
    """Cross-validate every method on the same speaker folds; one row per method."""
    rows = []
    for name, model in methods(modalities).items():
        start = time.perf_counter()
        scores = cross_validate(
            model, X, y, groups=speakers, cv=SpeakerKFold(n_splits), scoring=SCORING
        )
        seconds = time.perf_counter() - start
        rows.append((name, {m: scores[f"test_{m}"] for m in SCORING}, seconds))
        print(
            f"  {name:<13} F1-micro {scores['test_f1_micro'].mean():.3f}"
            f"  ({seconds:.0f} s)",
            flush=True,
        )
    return rows


def print_table(rows):
    header = f"{'method':<13}" + "".join(f"{m:>22}" for m in SCORING)
    print(header)
    for name, scores, _ in rows:
        cells = "".join(
            f"{f'{s.mean():.3f} ± {s.std():.3f}':>22}" for s in scores.values()
        )
        print(f"{name:<13}{cells}")


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")  # files only: the example runs on headless machines
    import matplotlib.pyplot as plt

    names = [name for name, _, _ in rows]
    means = [scores["f1_micro"].mean() for _, scores, _ in rows]
    stds = [scores["f1_micro"].std() for _, scores, _ in rows]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(names, means, yerr=stds, capsize=4, color="#4C72B0")
    ax.set_ylabel("F1-micro (5 speaker folds)")
    ax.set_ylim(0, 1)
    ax.set_title("Synthetic IEMOCAP-shaped corpus: unimodal, early and late fusion")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"saved {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="save a PNG bar chart of F1-micro here")
    parser.add_argument("--folds", type=int, default=5, help="speaker folds")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    corpus = make_multimodal_emotion(random_state=0)
    print(corpus.DESCR)
    print(f"generated in {time.perf_counter() - start:.1f} s; cross-validating:")
    rows = compare(
        corpus.data,
        corpus.target,
        corpus.groups,
        corpus.modalities,
        n_splits=args.folds,
    )
    print()
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.out:
        plot(rows, args.out)
    return rows


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
