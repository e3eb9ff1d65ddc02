"""The whole comparison: ``compare_methods`` against cross-validating each method alone.

Both run the default methods of ``mmer compare`` (one MLP per modality, early
fusion, late fusion by majority vote) on the bundled synthetic corpus under the
same ``SpeakerKFold(5)`` folds, seeds and ``n_jobs``. The naive side is what a
user writes with scikit-learn alone: ``cross_validate`` per method, so every
method pools its modalities again and late fusion retrains its unimodal members.
``compare_methods`` pools once, reuses the unimodal fits in late fusion and runs
(fold, estimator) tasks in parallel. Prints both wall times, their ratio (target
<= 0.6) and whether every fold score is the same.

    python benchmarks/bench_compare_vs_naive.py [--epochs 50] [--n-jobs 2]
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import cross_validate

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import (
    SCORING,
    compare_methods,
    make_methods,
    set_epochs,
)
from sklearn_mmer.model_selection import SpeakerKFold


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    corpus = make_multimodal_emotion(random_state=0)
    X, y, speakers = corpus.data, corpus.target, corpus.groups
    methods = make_methods(corpus.modalities, random_state=0)
    for method in methods.values():
        set_epochs(method, args.epochs)

    start = time.perf_counter()
    comparison = compare_methods(
        methods, X, y, speakers, cv=SpeakerKFold(5), n_jobs=args.n_jobs
    )
    shared = time.perf_counter() - start

    start = time.perf_counter()
    naive = {
        name: cross_validate(
            method,
            X,
            y,
            groups=speakers,
            cv=SpeakerKFold(5),
            scoring=SCORING,
            n_jobs=args.n_jobs,
        )
        for name, method in methods.items()
    }
    scratch = time.perf_counter() - start

    results = comparison.results
    same = all(
        np.allclose(
            naive[name][f"test_{metric}"],
            results.loc[results.method == name, metric],
        )
        for name in methods
        for metric in SCORING
    )
    print(
        f"{len(y)} utterances, methods {', '.join(methods)}, {args.epochs} epochs, "
        f"SpeakerKFold(5), n_jobs={args.n_jobs}"
    )
    print(f"compare_methods:           {shared:7.1f} s")
    print(f"naive cross_validate each: {scratch:7.1f} s")
    print(f"time ratio: {shared / scratch:.2f} (target <= 0.6); same scores: {same}")


if __name__ == "__main__":
    main()
