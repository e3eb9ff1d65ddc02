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

Every run uses the same settings and the same fixed number of epochs (no
early stopping, so no run stops sooner than another), the same mini-batch size
and the same torch thread count. Each of the four is fit once on the data before
any timing, on a slice of the rows (warm-up: torch's first calls, the
allocator and thread pool), then the
four are run in turn ``--repeats`` times; the median of each is printed with
the ratios to one network (target: 5 batched members well under 5x one) and
the test fold's F1-micro of each (of the last repeat; each run is seeded).

Why batching pays less on a CPU than on a GPU: with mini-batches of 32 rows a
step is bound by reading and updating the weights, and 5 members have 5 times
the weights of one; what the batched pass saves is the per-step work that does
not grow with the weights (Python, operator dispatch, skorch's bookkeeping).

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
SETTINGS = {
    "dropout": 0.5,
    "alpha": 1e-3,
    "max_iter": 30,
    "batch_size": 32,
    "early_stopping": False,
}


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
    for fit in runs.values():  # warm-up, untimed, on a slice of the rows
        fit(X_train[:256], y[train][:256], args.seed)
    seconds = {name: [] for name in runs}
    scores = {}
    for _ in range(args.repeats):
        for name, fit in runs.items():
            start = time.perf_counter()
            model = fit(X_train, y[train], args.seed)
            seconds[name].append(time.perf_counter() - start)
            scores[name] = f1_score(y[test], model.predict(X_test), average="micro")
    print(
        f"{len(train)} x {X_train.shape[1]} training rows, "
        f"{SETTINGS['max_iter']} epochs (no early stopping), warmed up, "
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
    loop = np.median(seconds["1 member (MLPEnsembleClassifier)"])
    batched_5 = np.median(seconds["5 members batched (MLPEnsembleClassifier)"])
    print(f"5 batched members / 1 member of the same loop: {batched_5 / loop:.2f}")


if __name__ == "__main__":
    main()
