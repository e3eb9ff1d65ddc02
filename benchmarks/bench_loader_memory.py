"""Loader memory: peak memory of load_feature_table against the bytes of the frames.

Writes a 10,000-utterance corpus with three modalities in the course-feature
layout (small widths keep the disk use near 100 MB: visual 64 and acoustic 32
features per frame, 10 to 40 frames per utterance, lexical one 96-wide vector)
into a temporary folder, zips it, then loads the folder and the ``.zip`` in
fresh processes. For each it prints the float32 bytes of all frames, the peak
of memory allocated during the load (tracemalloc, which sees numpy's buffers)
and the growth of the peak resident set over the resident set before the load
(an upper bound; Linux only), each as a ratio to the frame bytes, and the
traced memory beyond the frames per utterance (ids, paths, array headers, the
zip's index). A loader that keeps one copy of the frames stays near 1.0x plus
that fixed per-utterance overhead, which wide real features make negligible;
a stacked or listed second copy would show 2.0x or more.

    python benchmarks/bench_loader_memory.py [--utterances 10000]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

WIDTHS = {"visual": 64, "acoustic": 32, "lexical": 96}


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def child(path):
    import gc
    import tracemalloc

    from sklearn_mmer.datasets import load_feature_table

    gc.collect()
    rss_before = current_rss_bytes()
    tracemalloc.start()
    start = time.perf_counter()
    corpus = load_feature_table(path)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    frames = sum(
        cell.nbytes
        for m in corpus.modalities
        for cell in corpus.data[m]
        if cell is not None
    )
    print(
        json.dumps(
            {
                "rows": len(corpus.data),
                "issues": len(corpus.issues),
                "frame_bytes": frames,
                "traced_peak": peak,
                # an upper bound: the process's peak RSS less its RSS before
                "rss_growth": peak_rss_bytes() - rss_before,
                "seconds": seconds,
            }
        )
    )


def write_corpus(folder, n_utterances):
    from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table

    X, y = make_multimodal_emotion(
        n_utterances,
        modalities=WIDTHS,
        n_frames=(10, 40),
        random_state=0,
        return_X_y=True,
    )
    frames = sum(cell.nbytes for m in WIDTHS for cell in X[m])
    root = Path(folder) / "corpus"
    write_feature_table(X, y, root)
    zip_path = Path(folder) / "corpus.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return root, zip_path, frames


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=10000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        root, zip_path, frames = write_corpus(folder, args.utterances)
        print(
            f"wrote {args.utterances} utterances x {len(WIDTHS)} modalities "
            f"({frames / 2**20:.1f} MiB of float32 frames) in "
            f"{time.perf_counter() - start:.0f} s"
        )
        print(
            f"{'source':<8}{'load s':>8}{'traced peak':>14}{'peak RSS growth':>18}"
            f"{'overhead/utt':>15}"
        )
        for name, path in (("folder", root), ("zip", zip_path)):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            assert result["rows"] == args.utterances and result["issues"] == 0
            assert result["frame_bytes"] == frames
            overhead = result["traced_peak"] - frames
            print(
                f"{name:<8}{result['seconds']:>8.1f}"
                f"{result['traced_peak'] / frames:>13.2f}x"
                f"{result['rss_growth'] / frames:>17.2f}x"
                f"{overhead / args.utterances / 1024:>12.1f} KiB"
            )


if __name__ == "__main__":
    main()
