"""Same seed, same scores, whatever ``--n-jobs``: the time each way takes.

Runs one ``mmer compare`` (the issue's case by default: acoustic, lexical,
early and late fusion, 25 epochs, seed 3, 5 speaker folds on the bundled
corpus) in a fresh process per run, in this order:

- ``--n-jobs 1``: every fit in the command's own process, one thread each (the
  default ``--threads 1``);
- ``--n-jobs 2``: two joblib worker processes, one thread per fit;
- ``--scheduler local:2``: a local Dask cluster of two worker processes
  (its start-up counted in the wall time, as a user waits for it);
- ``--n-jobs 1 --threads 2``: the cost of the default, one fit at a time with
  two threads (the scores may then differ in the last digits).

It prints each run's wall time, the ratio to ``--n-jobs 1``, and whether its
``results.csv`` scores (every column but ``fit_seconds``) and
``predictions.csv`` are bit-identical to those of ``--n-jobs 1``.

    python benchmarks/bench_threads.py [--data PATH] [--epochs 25] [--seed 3]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

RUNS = {
    "--n-jobs 1": ["--n-jobs", "1"],
    "--n-jobs 2": ["--n-jobs", "2"],
    "--scheduler local:2": ["--scheduler", "local:2"],
    "--n-jobs 1 --threads 2": ["--n-jobs", "1", "--threads", "2"],
}


def same_bits(out, reference):
    for name in ("results.csv", "predictions.csv"):
        got = pd.read_csv(out / name, keep_default_na=False)
        expected = pd.read_csv(reference / name, keep_default_na=False)
        columns = [c for c in expected.columns if c != "fit_seconds"]
        if not got[columns].equals(expected[columns]):
            return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a corpus (default: the bundled one)")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["acoustic", "lexical", "early_fusion", "late_fusion"],
    )
    args = parser.parse_args()
    common = ["--epochs", str(args.epochs), "--seed", str(args.seed), "--quiet"]
    common += ["--methods", *args.methods]
    if args.data:
        common += ["--data", args.data]
    with tempfile.TemporaryDirectory() as folder:
        times, outs = {}, {}
        for name, options in RUNS.items():
            out = Path(folder) / name.replace(" ", "_").replace(":", "")
            command = [sys.executable, "-m", "sklearn_mmer", "compare", *common]
            start = time.perf_counter()
            done = subprocess.run(
                [*command, *options, "--out", str(out)],
                capture_output=True,
                text=True,
                check=False,
            )
            times[name] = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"{name} failed:\n{done.stderr}")
            outs[name] = out
        reference = outs["--n-jobs 1"]
        print(f"{'run':<24} {'wall s':>7} {'ratio':>6}  same bits as --n-jobs 1")
        for name in RUNS:
            print(
                f"{name:<24} {times[name]:7.1f} "
                f"{times[name] / times['--n-jobs 1']:6.2f}  "
                f"{same_bits(outs[name], reference)}"
            )


if __name__ == "__main__":
    main()
