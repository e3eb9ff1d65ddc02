"""What the first pooling and the first spectral frames in a new process cost,
with numba's cache empty and once ``compile_kernels`` has filled it.

Pooling compiles its kernels on first use, once for each kind of frames
(float32 or float64, writeable or read-only), and librosa compiles its kernels
when it is imported; both keep them in numba's cache, and until the cache
holds them every process that pools or extracts compiles them again (each
worker of a test run or of a first parallel run). ``scripts/setup.sh`` fills
the cache once with the two ``compile_kernels`` (pooling's and the spectral
extractors'). Here each process gets its own empty cache folder
(``NUMBA_CACHE_DIR``), so that the repository's and librosa's caches are left
as they are. For both states, a new process pools float32 and float64 frames
(writeable), or computes a second of MFCCs and of log-mel energies (librosa
imported on that first use), and reports the seconds that took; the processes
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

EXTRACT = """
import time
import numpy as np
from sklearn_mmer.extraction import LogMelExtractor, MFCCExtractor
tone = np.sin(np.arange(16000) / 5).astype(np.float32)
start = time.perf_counter()
for kind in (MFCCExtractor, LogMelExtractor):
    kind()._frames(tone)
print(time.perf_counter() - start)
"""

CASES = {
    "poolings": (POOL, "sklearn_mmer.preprocessing._pooling"),
    "spectral frames": (EXTRACT, "sklearn_mmer.extraction._spectral"),
}


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
    for case, (code, module) in CASES.items():
        fill = f"from {module} import compile_kernels\ncompile_kernels()\n"
        cold, warm = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as empty:
                cold.append(float(run(code, empty)))
            with tempfile.TemporaryDirectory() as filled:
                run(fill, filled)
                warm.append(float(run(code, filled)))
        for name, seconds in [("empty cache", cold), ("after compile_kernels", warm)]:
            shown = ", ".join(f"{s:.2f}" for s in seconds)
            print(f"first {case} of a process, {name}: {shown} s")
        ratio = min(warm) / min(cold)
        print(f"{case}: ratio (filled / empty, best of each): {ratio:.3f}")


if __name__ == "__main__":
    main()
