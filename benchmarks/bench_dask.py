"""A comparison on a local Dask cluster vs joblib's local processes (n_jobs=2).

Runs the default comparison (each modality, early and late fusion, 5 speaker
folds) on the bundled corpus three ways, in this order:

- ``n_jobs=2``: joblib's default backend (two local worker processes);
- ``local:2``: a ``distributed.LocalCluster`` of two worker processes on
  127.0.0.1, through ``mmer compare --scheduler``'s code path, where the
  corpus goes to the cluster once;
- ``local:2, per task``: the same cluster with the corpus sent with every
  task instead (what joblib's dask backend does with an object it cannot size),
  for reference.

For each it prints the wall time and the bytes sent per fit task. Locally:
what this process wrote (``/proc/self/io`` ``wchar``: the pipes to the worker
processes and the memory-mapped files joblib writes for large arrays). On the
cluster: the bytes written by this process's TCP connections (the client to the
scheduler, and the scheduler, which runs in this process, to the workers), plus
the bytes the workers sent one another (copies of the corpus). Both sides are
warmed up first (a tiny comparison), so that no run pays for starting workers
or importing torch. Scores are checked identical across the runs (every column
but fit_seconds). Linux only (``/proc``).

    python benchmarks/bench_dask.py [--n-utterances 1336] [--epochs 5]
"""

import argparse
import pickle
import time
from unittest import mock


def written_bytes():
    with open("/proc/self/io") as io:
        for line in io:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise RuntimeError("no wchar line in /proc/self/io")


class TCPBytes:
    """Bytes written by this process's Dask TCP connections, while patched."""

    def __init__(self):
        from distributed.comm.tcp import TCP

        self.total, self.tcp, self.write = 0, TCP, TCP.write

        async def write(comm, *args, **kwargs):
            n = await self.write(comm, *args, **kwargs)
            self.total += n
            return n

        TCP.write = write

    def __call__(self):
        return self.total


def between_workers(client):
    """Bytes the workers have sent one another so far."""

    def sent(dask_worker):
        return dask_worker.transfer_outgoing_bytes_total

    return sum(client.run(sent).values())


def run(methods, X, y, groups, sent=written_bytes, **kwargs):
    from sklearn_mmer.evaluation import compare_methods

    before, start = sent(), time.perf_counter()
    comparison = compare_methods(methods, X, y, groups, cv=5, **kwargs)
    return comparison, time.perf_counter() - start, sent() - before


def warm_up(**kwargs):
    from sklearn_mmer.datasets import make_multimodal_emotion
    from sklearn_mmer.evaluation import (
        compare_methods,
        make_methods,
        set_epochs,
    )

    corpus = make_multimodal_emotion(40, random_state=1)
    methods = make_methods(corpus.modalities, random_state=0)
    set_epochs(methods["early_fusion"], 1)
    compare_methods(
        {"early_fusion": methods["early_fusion"]},
        corpus.data,
        corpus.target,
        corpus.groups,
        cv=2,
        **kwargs,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-utterances", type=int, default=1336)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    from sklearn_mmer.datasets import make_multimodal_emotion
    from sklearn_mmer.evaluation import (
        SCORING,
        _compare,
        make_methods,
        set_epochs,
    )
    from sklearn_mmer.evaluation._sharing import plan_work
    from sklearn_mmer.utils._runtime import dask_cluster

    corpus = make_multimodal_emotion(n_samples=args.n_utterances, random_state=0)
    X, y, groups = corpus.data, corpus.target, corpus.groups
    methods = make_methods(corpus.modalities, random_state=0)
    for method in methods.values():
        set_epochs(method, args.epochs)
    plan = plan_work([methods], X, corpus.modalities, share_members=True)
    n_tasks, views = 5 * len(plan.fits), plan.views
    print(
        f"{args.n_utterances} utterances, {len(methods)} methods, 5 folds: "
        f"{n_tasks} fit tasks; the corpus pickles to "
        f"{len(pickle.dumps(X)) / 2**20:.1f} MiB ({args.epochs} epochs)"
    )

    warm_up(n_jobs=2)
    runs = {"n_jobs=2": run(methods, X, y, groups, n_jobs=2)}
    start = time.perf_counter()
    with dask_cluster("local:2") as client:
        started = time.perf_counter() - start
        warm_up(n_jobs=-1)
        tcp = TCPBytes()

        def sent():
            return tcp() + between_workers(client)

        runs["local:2"] = run(methods, X, y, groups, sent=sent, n_jobs=-1)
        # for reference: the corpus sent with every task
        with mock.patch.object(_compare, "to_workers", lambda objects: lambda o: o):
            runs["local:2, per task"] = run(methods, X, y, groups, sent=sent, n_jobs=-1)

    columns = ["method", "fold", *SCORING]
    reference = runs["n_jobs=2"][0].results[columns]
    print(f"{'run':<18} {'wall s':>7} {'MiB sent':>9} {'KiB/task':>9}  same scores")
    for name, (comparison, seconds, sent) in runs.items():
        same = comparison.results[columns].equals(reference)
        print(
            f"{name:<18} {seconds:7.1f} {sent / 2**20:9.2f} "
            f"{sent / n_tasks / 2**10:9.1f}  {same}"
        )
    print(f"(starting the local cluster took {started:.1f} s, not counted above)")
    print(
        f"the corpus as the fits read it (pooled where they pool): "
        f"{sum(len(pickle.dumps(v)) for v in views.values()) / 2**20:.1f} MiB"
    )
    wall = {name: seconds for name, (_, seconds, _) in runs.items()}
    print(
        f"wall-time ratio local:2 / n_jobs=2: {wall['local:2'] / wall['n_jobs=2']:.2f}"
    )


if __name__ == "__main__":
    main()
