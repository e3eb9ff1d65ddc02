"""What the first pooling in a new process costs, with numba's cache of the
pooling kernels empty and once ``compile_kernels`` has filled it.

Pooling compiles its kernels on first use, once for each kind of frames
(float32 or float64, writeable or read-only), and keeps them in numba's cache;
until the cache holds them, every process that pools compiles them again (each
worker of a test run or of a first parallel run). ``scripts/setup.sh`` fills
the cache once with ``compile_kernels``. Here each process gets its own empty
cache folder (``NUMBA_CACHE_DIR``), so that the repository's cache is left as
it is. For both states, a new process pools float32 and float64 frames
(writeable) and reports the seconds its first poolings took; the processes
run one after the other, and the first and the second state alternate.

    python benchmarks/bench_kernel_cache.py [--repeats 2]
"""

import argparse
import os
import subprocess
import sys
import tempfile

POOL = """
import time
import numpy as np
from sklearn_mmer.preprocessing import TemporalPooling
cells = {dtype: [np.ones((5, 3), dtype=dtype)] for dtype in (np.float32, np.float64)}
start = time.perf_counter()
for dtype in (np.float32, np.float64):
    TemporalPooling("stats").fit_transform(cells[dtype])
print(time.perf_counter() - start)
"""

FILL = (
    "from sklearn_mmer.preprocessing._pooling import compile_kernels\n"
    "compile_kernels()\n"
)


def run(code, cache):
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as empty:
            cold.append(float(run(POOL, empty)))
        with tempfile.TemporaryDirectory() as filled:
            run(FILL, filled)
            warm.append(float(run(POOL, filled)))
    for name, seconds in [("empty cache", cold), ("after compile_kernels", warm)]:
        shown = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"first poolings of a process, {name}: {shown} s")
    ratio = min(warm) / min(cold)
    print(f"ratio (filled / empty, best of each): {ratio:.3f}")


if __name__ == "__main__":
    main()
