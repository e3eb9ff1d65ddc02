"""Scaling: time and peak memory of pooling, training and prediction by corpus size.

For each size (default 1k, 10k and 100k utterances) a fresh process generates a
``make_multimodal_emotion`` corpus with the default modalities (visual 2048,
acoustic 128, lexical 768) and short sequences (``--frames`` per utterance, the
same at every size so that the work per utterance is fixed), then times:
pooling + scaling (the early-fusion ColumnTransformer), training the study's
MLP for a fixed number of epochs, and prediction. Peak resident memory is read
after each stage. Linear scaling shows as a constant time per 1k utterances.

    python benchmarks/bench_scaling.py [--sizes 1000 10000 100000] [--epochs 2]
"""

import argparse
import json
import resource
import subprocess
import sys
import time


def peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_one(n_utterances, epochs, frames):
    from sklearn_mmer.datasets import make_multimodal_emotion
    from sklearn_mmer.fusion import make_early_fusion
    from sklearn_mmer.neural import MLPClassifier

    stages = {}
    start = time.perf_counter()
    X, y = make_multimodal_emotion(
        n_samples=n_utterances, n_frames=frames, random_state=0, return_X_y=True
    )
    stages["generate"] = (time.perf_counter() - start, peak_gib())
    pipe = make_early_fusion(
        ["visual", "acoustic", "lexical"],
        classifier=MLPClassifier(max_iter=epochs, random_state=0),
    )
    start = time.perf_counter()
    features = pipe[:-1].fit_transform(X)
    stages["pool+scale"] = (time.perf_counter() - start, peak_gib())
    start = time.perf_counter()
    pipe[-1].fit(features, y)
    stages["train"] = (time.perf_counter() - start, peak_gib())
    start = time.perf_counter()
    pipe.predict(X)
    stages["predict"] = (time.perf_counter() - start, peak_gib())
    return stages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--frames", type=int, nargs=2, default=[2, 8])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.epochs, tuple(args.frames))))
        return
    results = {}
    for size in args.sizes:
        command = [
            sys.executable,
            __file__,
            "--child",
            str(size),
            "--epochs",
            str(args.epochs),
            "--frames",
            *map(str, args.frames),
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True)
        results[size] = json.loads(output.stdout.strip().splitlines()[-1])
    print(
        f"early fusion (2,944 features), {args.epochs} epochs, "
        f"{args.frames[0]}-{args.frames[1]} frames per sequence"
    )
    base = args.sizes[0]
    for stage in ["generate", "pool+scale", "train", "predict"]:
        print(f"{stage}:")
        for size in args.sizes:
            seconds, peak = results[size][stage]
            per_k = seconds / size * 1000
            base_per_k = results[base][stage][0] / base * 1000
            print(
                f"  {size:>7,} utterances: {seconds:8.2f} s  "
                f"({per_k:6.3f} s per 1k, x{per_k / base_per_k:4.2f} of the "
                f"{base:,} rate)   peak RSS {peak:5.2f} GiB"
            )


if __name__ == "__main__":
    main()
