"""Prediction latency of a fitted early-fusion pipeline: one utterance and 256.

Fits the default early-fusion pipeline (mean pooling, per-modality scaling, the
study's MLP) on the bundled synthetic corpus, then times ``predict`` on one
utterance and on a batch of 256, many times, and prints p50 and p99.

    python benchmarks/bench_latency.py [--repeats 500] [--epochs 10]
"""

import argparse
import time

import numpy as np
import torch

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.neural import MLPClassifier


def percentiles(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.percentile(np.asarray(times) * 1e3, [50, 99])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    X, y = make_multimodal_emotion(random_state=0, return_X_y=True)
    pipe = make_early_fusion(
        ["visual", "acoustic", "lexical"],
        classifier=MLPClassifier(max_iter=args.epochs, random_state=0),
    ).fit(X, y)
    one, batch = X.iloc[[0]], X.iloc[:256]
    for _ in range(20):  # warm-up
        pipe.predict(one)
    print(f"torch threads {torch.get_num_threads()}, {args.repeats} repeats")
    for name, data, repeats in [
        ("1 utterance", one, args.repeats),
        ("batch of 256", batch, max(20, args.repeats // 10)),
    ]:
        p50, p99 = percentiles(lambda: pipe.predict(data), repeats)
        print(
            f"{name:>13}: p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
            f"({len(data) / p50 * 1e3:,.0f} utterances/s at p50)"
        )


if __name__ == "__main__":
    main()
