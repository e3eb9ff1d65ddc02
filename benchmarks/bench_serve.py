"""Serving: latency and throughput of ``mmer serve``, and its memory over time.

Fits two small models in a temporary folder (early fusion on the bundled
synthetic corpus's three modalities, and early fusion on MFCCs of synthetic
tones, whose file keeps its extraction recipe), starts ``mmer serve`` on a
free loopback port in a process of its own, and drives it with an async httpx
client: at 1, 8 and 32 concurrent clients, each configuration bounded by
``--requests`` requests and ``--seconds`` seconds, it prints p50, p95 and p99
latency and throughput for one utterance's features per request (POST
/predict) and for a 3 s recording per request (POST /predict/audio), with
micro-batching on (``--max-batch-size 32 --max-wait-ms 5``) and off
(``--max-batch-size 1``). Then the server's resident memory after
``--memory-requests`` feature requests against after a tenth of them.

    python benchmarks/bench_serve.py [--requests 400] [--seconds 20] \\
        [--memory-requests 10000] [--concurrency 1 8 32] [--memory-only]
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 16_000


def fit_models(folder):
    """The features model and the audio model (with its recipe), saved."""
    import pandas as pd
    import soundfile

    from sklearn_mmer.datasets import load_feature_table, make_multimodal_emotion
    from sklearn_mmer.evaluation import set_epochs
    from sklearn_mmer.extraction import extract_corpus, read_recipe
    from sklearn_mmer.io import save
    from sklearn_mmer.methods import make_methods

    corpus = make_multimodal_emotion(200, random_state=0)
    X, y = corpus.data[list(corpus.modalities)], corpus.target
    model = make_methods(list(corpus.modalities), ["early_fusion"], random_state=0)
    model = model["early_fusion"]
    set_epochs(model, 5)
    model.fit(X, y)
    save(model, folder / "features.mmer", X=X, y=y, method="early_fusion")

    rows = []
    for k in range(16):
        path = folder / f"u{k}.wav"
        soundfile.write(path, tone(220 if k % 2 else 880, 3.0, seed=k), RATE)
        rows.append(
            {
                "file": str(path),
                "speaker": f"s{k % 4}",
                "emotion": ("anger", "sadness")[k % 2],
            }
        )
    extract_corpus(pd.DataFrame(rows), folder / "corpus", ["acoustic=mfcc"])
    audio = load_feature_table(folder / "corpus")
    Xa = audio.data[["acoustic"]]
    model = make_methods(["acoustic"], ["early_fusion"], random_state=0)
    model = model["early_fusion"]
    set_epochs(model, 5)
    model.fit(Xa, audio.target)
    recipe = read_recipe(folder / "corpus")
    save(model, folder / "audio.mmer", X=Xa, y=audio.target, recipe=recipe)
    instances = [
        {m: X[m].iat[k].tolist() for m in corpus.modalities} for k in range(64)
    ]
    return folder / "features.mmer", folder / "audio.mmer", instances


def tone(frequency, seconds, *, seed):
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).normal(scale=0.01, size=t.size)
    return (0.3 * np.sin(2 * np.pi * frequency * t) + noise).astype(np.float32)


class Served:
    """``mmer serve`` in a process of its own, on a free loopback port."""

    def __init__(self, model, *options):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "sklearn_mmer", "serve", "--model"]
        self.process = subprocess.Popen(
            [*command, str(model), "--port", str(self.port), "--quiet", *options]
        )

    def __enter__(self):
        import httpx

        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("mmer serve ended before it answered")
            try:
                if httpx.get(f"{self.url}/health").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("mmer serve did not start in 300 s")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


async def drive(url, requests, *, concurrency, n_requests, seconds):
    """Latencies (s) of up to n_requests requests, ``concurrency`` at a time,
    stopping at ``seconds``; and the wall time."""
    import httpx

    latencies, errors = [], 0
    stop = time.monotonic() + seconds
    counter = iter(range(n_requests))

    async def client(http):
        nonlocal errors
        for k in counter:
            if time.monotonic() > stop:
                return
            started = time.perf_counter()
            answer = await requests(http, k)
            latencies.append(time.perf_counter() - started)
            errors += answer.status_code != 200

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return np.array(latencies), wall, errors


def row(name, latencies, wall, errors):
    p50, p95, p99 = np.percentile(latencies * 1000, [50, 95, 99])
    return (
        f"{name:<44} {len(latencies):>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
        f"{len(latencies) / wall:>9.1f} {errors:>6}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--memory-only", action="store_true", help="measure the memory only"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    features, audio, instances = fit_models(folder)
    bodies = [json.dumps({"instances": [i]}).encode() for i in instances]
    recording = (folder / "u0.wav").read_bytes()
    headers = {"content-type": "application/json"}

    async def predict(http, k):
        return await http.post(
            "/predict", content=bodies[k % len(bodies)], headers=headers
        )

    async def upload(http, k):
        files = [("file", ("speech.wav", recording, "audio/wav"))]
        return await http.post("/predict/audio", files=files)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"{'configuration':<44} {'done':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'req/s':>9} {'errors':>6}"
    )
    batching = {"on": ["--max-batch-size", "32", "--max-wait-ms", "5"]}
    batching["off"] = ["--max-batch-size", "1"]
    workloads = [("features", features, predict), ("3 s audio", audio, upload)]
    for what, model, requests in [] if args.memory_only else workloads:
        for mode, options in batching.items():
            with Served(model, *options) as served:
                asyncio.run(
                    drive(
                        served.url, requests, concurrency=4, n_requests=20, seconds=30
                    )
                )  # warm-up
                for concurrency in args.concurrency:
                    latencies, wall, errors = asyncio.run(
                        drive(
                            served.url,
                            requests,
                            concurrency=concurrency,
                            n_requests=args.requests,
                            seconds=args.seconds,
                        )
                    )
                    name = f"{what}, batching {mode}, {concurrency} clients"
                    print(row(name, latencies, wall, errors), flush=True)

    first = args.memory_requests // 10
    with Served(features, *batching["on"]) as served:
        asyncio.run(
            drive(served.url, predict, concurrency=8, n_requests=first, seconds=3600)
        )
        after_first = served.rss_mib()
        asyncio.run(
            drive(
                served.url,
                predict,
                concurrency=8,
                n_requests=args.memory_requests - first,
                seconds=3600,
            )
        )
        after_all = served.rss_mib()
    print(
        f"server resident memory: {after_first:.1f} MiB after {first} requests, "
        f"{after_all:.1f} MiB after {args.memory_requests} "
        f"({after_all - after_first:+.1f} MiB)"
    )


if __name__ == "__main__":
    main()
