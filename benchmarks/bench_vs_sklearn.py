"""Early fusion with our MLPClassifier against scikit-learn's own MLPClassifier.

Both sit at the end of the same early-fusion pipeline (mean pooling, per-modality
StandardScaler) with the same hidden layers (128, 64), Adam at 1e-3, batches of
32 and 50 epochs, on the bundled synthetic corpus under the same speaker folds
(SpeakerKFold(5)). Prints mean F1-micro and fit+predict time per fold side by
side, and the ratios.

    python benchmarks/bench_vs_sklearn.py [--epochs 50] [--seed 0]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

MODALITIES = ["visual", "acoustic", "lexical"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, y = make_multimodal_emotion(random_state=args.seed, return_X_y=True)
    speakers = X["speaker"]
    classifiers = {
        "sklearn_mmer MLPClassifier": MLPClassifier(
            max_iter=args.epochs, random_state=args.seed
        ),
        "sklearn MLPClassifier": SkMLPClassifier(
            hidden_layer_sizes=(128, 64),
            solver="adam",
            learning_rate_init=1e-3,
            alpha=1e-5,
            batch_size=32,
            max_iter=args.epochs,
            n_iter_no_change=args.epochs,  # train every epoch, as ours does
            random_state=args.seed,
        ),
    }
    scores = {name: [] for name in classifiers}
    seconds = {name: [] for name in classifiers}
    folds = list(SpeakerKFold(5).split(X, y, speakers))
    for train, test in folds:
        # the same pooled, scaled fold for both: only the classifier differs
        features = make_early_fusion(MODALITIES)[:-1]
        X_train = features.fit_transform(X.iloc[train])
        X_test = features.transform(X.iloc[test])
        for name, classifier in classifiers.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pred = clone(classifier).fit(X_train, y[train]).predict(X_test)
            seconds[name].append(time.perf_counter() - start)
            scores[name].append(f1_score(y[test], pred, average="micro"))
    print(
        f"{len(y)} utterances, {X_train.shape[1]} early-fusion features, "
        f"{args.epochs} epochs, SpeakerKFold(5)"
    )
    for name in classifiers:
        print(
            f"{name:>27}: F1-micro {np.mean(scores[name]):.4f} "
            f"± {np.std(scores[name]):.4f}   {np.mean(seconds[name]):6.2f} s/fold"
        )
    ours, theirs = classifiers
    print(
        f"F1-micro difference (ours - sklearn): "
        f"{np.mean(scores[ours]) - np.mean(scores[theirs]):+.4f} (target >= 0)"
    )
    print(
        f"time ratio (ours / sklearn): "
        f"{np.mean(seconds[ours]) / np.mean(seconds[theirs]):.3f} (target <= 1)"
    )


if __name__ == "__main__":
    main()
