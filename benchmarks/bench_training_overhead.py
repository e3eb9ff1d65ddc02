"""Training overhead: MLPClassifier against a hand-written PyTorch loop.

Both train the same network (early-fusion width 2,944 -> 128 -> 64 -> 4) with
Adam (lr 1e-3, weight decay 1e-5), batches of 32, shuffled each epoch, for the
same number of epochs on the same data (~1,100 training rows, ~240 test rows of
a synthetic early-fusion matrix). Runs alternate so that machine noise hits both
alike; the script prints the median times, their ratio and both F1-micro scores.

    python benchmarks/bench_training_overhead.py [--epochs 50] [--repeats 5]
"""

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import f1_score

from sklearn_mmer.neural import MLPClassifier, MLPModule


def make_data(n_train=1100, n_test=236, width=2944, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=0.08, size=(4, width))
    codes = rng.randint(4, size=n_train + n_test)
    X = (centres[codes] + rng.normal(size=(len(codes), width))).astype(np.float32)
    return X[:n_train], codes[:n_train], X[n_train:], codes[n_train:]


def hand_written_loop(X, y, X_test, epochs, seed):
    """What a user writes by hand: tensors, a shuffled index, slices, Adam."""
    torch.manual_seed(seed)
    module = MLPModule(X.shape[1], 4, hidden_dims=(128, 64))
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, weight_decay=1e-5)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    for _ in range(epochs):
        module.train()
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), 32):
            batch = order[start : start + 32]
            optimizer.zero_grad()
            loss = loss_fn(module(X_t[batch]), y_t[batch])
            loss.backward()
            optimizer.step()
    module.eval()
    with torch.no_grad():
        return module(torch.from_numpy(X_test)).argmax(dim=1).numpy()


def toolkit(X, y, X_test, epochs, seed):
    clf = MLPClassifier(max_iter=epochs, random_state=seed).fit(X, y)
    return clf.predict(X_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X, y, X_test, y_test = make_data()
    times = {"hand-written loop": [], "MLPClassifier": []}
    scores = {name: [] for name in times}
    runners = {"hand-written loop": hand_written_loop, "MLPClassifier": toolkit}
    for repeat in range(args.repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            pred = run(X, y, X_test, args.epochs, seed=repeat)
            times[name].append(time.perf_counter() - start)
            scores[name].append(f1_score(y_test, pred, average="micro"))
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"{len(X)} x {X.shape[1]} rows, {args.epochs} epochs, "
        f"{args.repeats} alternating repeats"
    )
    for name in runners:
        print(
            f"{name:>18}: median {np.median(times[name]):6.2f} s   "
            f"F1-micro {np.mean(scores[name]):.3f} ± {np.std(scores[name]):.3f}"
        )
    ratio = np.median(times["MLPClassifier"]) / np.median(times["hand-written loop"])
    print(f"time ratio MLPClassifier / hand-written loop: {ratio:.3f} (target <= 1.15)")


if __name__ == "__main__":
    main()
