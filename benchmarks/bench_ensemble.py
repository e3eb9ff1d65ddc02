"""What a seed ensemble of 5 networks costs, trained batched or one after another.

On one speaker fold of the bundled synthetic corpus (pooled, scaled early-fusion
features, computed once), with the regularised settings of the new methods
(hidden layers 128 and 64, dropout 0.5, weight decay 1e-3, 30 epochs, batches
of 32), times side by side:

- one network (``MLPClassifier``);
- ``MLPEnsembleClassifier(n_members=5)``: 5 members in one batched pass;
- 5 ``MLPClassifier`` with seeds 0..4 fit one after another, probabilities
  averaged (what the ensemble replaces);
- ``MLPEnsembleClassifier(n_members=1)``: the ensemble's own loop for one
  network, to separate the loop from the batching.

The four are run in turn ``--repeats`` times; the median of each is printed
with the ratios to one network (target: 5 batched members well under 5x one)
and the test fold's F1-micro of each.

    python benchmarks/bench_ensemble.py [--repeats 3] [--threads N] [--seed 0]
"""

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import f1_score

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier, MLPEnsembleClassifier

MODALITIES = ["visual", "acoustic", "lexical"]
SETTINGS = {"dropout": 0.5, "weight_decay": 1e-3, "max_epochs": 30}


def one_network(X, y, seed):
    return MLPClassifier(**SETTINGS, random_state=seed).fit(X, y)


def batched(n_members):
    def fit(X, y, seed):
        return MLPEnsembleClassifier(
            n_members=n_members, **SETTINGS, random_state=seed
        ).fit(X, y)

    return fit


class Sequential:
    """Five networks fit one after another, probabilities averaged."""

    def __init__(self, members):
        self.members = members
        self.classes_ = members[0].classes_

    def predict(self, X):
        proba = np.mean([m.predict_proba(X) for m in self.members], axis=0)
        return self.classes_[proba.argmax(axis=1)]


def sequential(X, y, seed):
    return Sequential([one_network(X, y, seed + k) for k in range(5)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = make_multimodal_emotion(random_state=args.seed, return_X_y=True)
    speakers = X["speaker"].to_numpy()
    train, test = next(SpeakerKFold(5).split(X, y, speakers))
    features = make_early_fusion(MODALITIES)[:-1]
    X_train = features.fit_transform(X.iloc[train]).astype(np.float32)
    X_test = features.transform(X.iloc[test]).astype(np.float32)
    runs = {
        "1 network (MLPClassifier)": one_network,
        "5 members batched (MLPEnsembleClassifier)": batched(5),
        "5 networks one after another": sequential,
        "1 member (MLPEnsembleClassifier)": batched(1),
    }
    seconds = {name: [] for name in runs}
    scores = {}
    for _ in range(args.repeats):
        for name, fit in runs.items():
            start = time.perf_counter()
            model = fit(X_train, y[train], args.seed)
            seconds[name].append(time.perf_counter() - start)
            scores[name] = f1_score(y[test], model.predict(X_test), average="micro")
    print(
        f"{len(train)} x {X_train.shape[1]} training rows, 30 epochs, "
        f"{torch.get_num_threads()} torch threads, median of {args.repeats}"
    )
    base = np.median(seconds["1 network (MLPClassifier)"])
    for name in runs:
        median = np.median(seconds[name])
        print(
            f"{name:>42}: {median:7.2f} s  {median / base:5.2f}x one network  "
            f"F1-micro {scores[name]:.4f}"
        )
    ratio = np.median(seconds["5 members batched (MLPEnsembleClassifier)"]) / base
    print(f"5 batched members / 1 network: {ratio:.2f} (target well under 5)")


if __name__ == "__main__":
    main()
