"""Temporal pooling throughput against a single NumPy reduction over the same frames.

Generates ``--n`` variable-length float32 sequences of width ``--width`` and pools
them with TemporalPooling (mean, max, stats). The reference is one NumPy
reduction of the same frames laid out in one contiguous array (``np.add.reduce``
for mean, ``np.maximum.reduce`` for max): it reads every frame once and has no
per-sequence overhead. It is NumPy's floor, not the hardware's: TemporalPooling
runs compiled kernels (``sklearn_mmer/preprocessing/_kernels.py``) that can come
close to it or pass it. ``stats`` (mean and standard deviation) is shown against
one sum and against the sum plus the sum of squares (the least NumPy work that
yields both). Prints frames per second and the ratio of times (target: within
2x). Kernels are compiled (or loaded from numba's cache) before timing.

    python benchmarks/bench_pooling_throughput.py [--n 10000] [--width 2048]
"""

import argparse
import time

import numpy as np

from sklearn_mmer.preprocessing import TemporalPooling


def _sum(frames):
    return np.add.reduce(frames, axis=0)


def _sum_and_squares(frames):
    return _sum(frames), np.einsum("ij,ij->j", frames, frames)


# method -> [(name, single-array lower bound)]; "stats" (mean and std) needs the
# sum and the sum of squares: it is shown against both a single sum and the two
# single-pass reductions that are the least NumPy work giving mean and std
LOWER_BOUNDS = {
    "mean": [("one sum", _sum)],
    "max": [("one max", lambda frames: np.maximum.reduce(frames, axis=0))],
    "stats": [("one sum", _sum), ("sum + sum of squares", _sum_and_squares)],
}


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--min-frames", type=int, default=5)
    parser.add_argument("--max-frames", type=int, default=45)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lengths = rng.integers(args.min_frames, args.max_frames + 1, size=args.n)
    frames = rng.standard_normal((lengths.sum(), args.width), dtype=np.float32)
    # the sequences are views into one buffer, so both sides read the same bytes
    cells = np.split(frames, np.cumsum(lengths)[:-1])
    n_frames = int(lengths.sum())
    print(
        f"{args.n} sequences, {n_frames} frames of width {args.width} "
        f"({frames.nbytes / 2**30:.2f} GiB float32), best of {args.repeats}"
    )
    for method, bounds in LOWER_BOUNDS.items():
        pooling = TemporalPooling(method).fit(cells[:2])
        pooling.transform(cells[:2])  # compile before timing
        ours = best_of(args.repeats, lambda: pooling.transform(cells))
        print(f"{method:>6}: TemporalPooling {n_frames / ours / 1e6:6.2f} M frames/s")
        for name, lower_bound in bounds:
            bound = best_of(args.repeats, lambda: lower_bound(frames))
            print(
                f"        {name:>22} over one array {n_frames / bound / 1e6:6.2f} "
                f"M frames/s, time ratio {ours / bound:.2f} (target <= 2)"
            )


if __name__ == "__main__":
    main()
