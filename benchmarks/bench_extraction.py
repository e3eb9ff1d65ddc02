"""Feature extraction: speed in times real time per kind, memory, and a cached rerun.

For each kind, a fresh process reads the recordings a CSV of utterances lists
(the ``file`` column, relative to the CSV, as ``mmer extract`` reads it) and
extracts them in batches of 16 with one extractor, torch and BLAS limited to
``--threads`` threads (2: the project machine's cores), writing to an empty
cache folder; then extracts them again with the same cache, which serves every
item. It prints, side by side: the audio's duration, the first run's speed in
times real time (audio seconds per wall second), the peak resident memory of
the process above what it held after loading the extractor and extracting one
file (per audio hour, since the frames of every file are held), the frames'
own size per audio hour, and the speed of the rerun served from the cache.

    python benchmarks/bench_extraction.py --data utterances.csv \\
        [--kinds mfcc logmel egemaps compare] [--encoder FOLDER] [--limit N]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args):
    """Measure one kind in this process and print one JSON line."""
    import numpy as np
    import pandas as pd
    import soundfile
    import torch
    from threadpoolctl import threadpool_limits

    from sklearn_mmer.extraction import make_extractor

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    table = pd.read_csv(args.data)
    folder = Path(args.data).resolve().parent
    files = [str(folder / f) for f in table["file"]][: args.limit]
    seconds = sum(
        soundfile.info(f).frames / soundfile.info(f).samplerate for f in files
    )
    with tempfile.TemporaryDirectory() as cache:
        extractor = make_extractor(args.child, cache=cache)
        extractor.extract(files[:1])  # libraries and model loaded
        for entry in Path(cache).rglob("*.npy"):
            entry.unlink()  # the first file too is extracted in the timed run
        base = _rss_mib()
        times, frames = [], []
        for _ in range(2):
            start = time.perf_counter()
            frames = []
            for k in range(0, len(files), 16):
                frames += extractor.extract(files[k : k + 16])
            times.append(time.perf_counter() - start)
            if not frames:
                break
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    good = [f for f in frames if isinstance(f, np.ndarray)]
    hours = seconds / 3600
    print(
        json.dumps(
            {
                "kind": args.child,
                "files": len(files),
                "failed": len(frames) - len(good),
                "audio_seconds": seconds,
                "first_seconds": times[0],
                "cached_seconds": times[1],
                "peak_above_base_mib_per_hour": max(peak - base, 0.0) / hours,
                "frames_mib_per_hour": sum(f.nbytes for f in good) / 2**20 / hours,
                "width": int(good[0].shape[-1]) if good else None,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a CSV of utterances")
    parser.add_argument(
        "--kinds", nargs="+", default=["mfcc", "logmel", "egemaps", "compare"]
    )
    parser.add_argument("--encoder", help="also a speech encoder's folder")
    parser.add_argument("--limit", type=int, help="only the first N files")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    kinds = list(args.kinds) + ([f"encoder:{args.encoder}"] if args.encoder else [])
    rows = []
    for kind in kinds:
        command = [sys.executable, __file__, "--data", args.data, "--child", kind]
        command += ["--threads", str(args.threads)]
        if args.limit:
            command += ["--limit", str(args.limit)]
        done = subprocess.run(
            command, capture_output=True, text=True, env=dict(os.environ)
        )
        if done.returncode:
            print(f"{kind}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(
        f"{'kind':<12} {'files':>5} {'audio h':>8} {'x real time':>11} "
        f"{'peak MiB/h':>10} {'frames MiB/h':>12} {'cached x RT':>11}"
    )
    for row in rows:
        hours = row["audio_seconds"] / 3600
        print(
            f"{row['kind'][:12]:<12} {row['files']:>5} {hours:>8.3f} "
            f"{row['audio_seconds'] / row['first_seconds']:>11.1f} "
            f"{row['peak_above_base_mib_per_hour']:>10.0f} "
            f"{row['frames_mib_per_hour']:>12.1f} "
            f"{row['audio_seconds'] / row['cached_seconds']:>11.0f}"
        )


if __name__ == "__main__":
    main()
