"""Model files: save and load time, file size, and a cold process's first prediction.

Fits early fusion, late fusion (hard vote) and the GRU sequence model on the
bundled synthetic corpus (a few epochs: the weights' size, not their quality,
matters here), then for each prints the time of ``sklearn_mmer.save`` and
``sklearn_mmer.load`` (median of ``--repeats``), the file size, and the same for
``pickle`` side by side (the unsafe format a model file replaces). Last, a
fresh Python process imports sklearn-mmer, loads each file and predicts one
utterance: the time a command-line user waits, split into import, load and
predict; beside it, the same process with the networks rebuilt with an
optimiser, as loading did before (torch imports its compiler for it).

    python benchmarks/bench_model_io.py [--n-utterances 400] [--epochs 2] [--repeats 5]
"""

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sklearn_mmer
from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import make_methods, set_epochs

METHODS = ["early_fusion", "late_fusion", "gru"]
MODALITIES = ["visual", "acoustic", "lexical"]

COLD = """
import time
start = time.perf_counter()
import numpy as np, pandas as pd
import sklearn_mmer
model = sklearn_mmer.load  # resolves the lazy import of torch, skops
imported = time.perf_counter()
{before_load}
model = sklearn_mmer.load({path!r})
loaded = time.perf_counter()
cells = np.load({cells!r})
X = pd.DataFrame({{m: [cells[m]] for m in {modalities!r}}})
X["speaker"] = ["Ses01F"]
label = model.predict(X)[0]
done = time.perf_counter()
print(imported - start, loaded - imported, done - loaded, label)
"""

# loading as it was before: each network built with its optimiser
WITH_OPTIMIZER = """
from sklearn_mmer.neural import _base
build = _base.BaseNeuralClassifier._initialize_net
_base.BaseNeuralClassifier._initialize_net = lambda self, **kwargs: build(
    self, **{**kwargs, "for_training": True}
)
"""


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-utterances", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    X, y = make_multimodal_emotion(args.n_utterances, random_state=0, return_X_y=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-model-io-"))
    cells = folder / "one.npz"
    np.savez(cells, **{m: X[m].iloc[0] for m in MODALITIES})
    print(
        f"{args.n_utterances} utterances, {args.epochs} epochs, {args.repeats} repeats"
    )
    print(
        f"{'method':>13} {'save ms':>9} {'load ms':>9} {'file MiB':>9}   "
        f"{'pickle save':>11} {'pickle load':>11} {'pickle MiB':>10}"
    )
    paths = {}
    for name in METHODS:
        model = make_methods(MODALITIES, [name], random_state=0)[name]
        set_epochs(model, args.epochs)
        model.fit(X, y)
        path = paths[name] = folder / f"{name}.mmer"
        save = median_time(
            lambda: sklearn_mmer.save(model, path, X=X, y=y), args.repeats
        )
        load = median_time(lambda: sklearn_mmer.load(path), args.repeats)
        blob = pickle.dumps(model)
        pickle_save = median_time(lambda: pickle.dumps(model), args.repeats)
        pickle_load = median_time(lambda: pickle.loads(blob), args.repeats)
        print(
            f"{name:>13} {save * 1e3:9.1f} {load * 1e3:9.1f} "
            f"{path.stat().st_size / 2**20:9.2f}   {pickle_save * 1e3:11.1f} "
            f"{pickle_load * 1e3:11.1f} {len(blob) / 2**20:10.2f}"
        )
    print("\ncold process: import, load, predict one utterance (seconds)")
    for name, path in paths.items():
        walls = {}
        for how, before_load in [("as shipped", ""), ("optimiser", WITH_OPTIMIZER)]:
            script = COLD.format(
                path=str(path),
                cells=str(cells),
                modalities=MODALITIES,
                before_load=before_load,
            )
            start = time.perf_counter()
            output = subprocess.run(
                [sys.executable, "-c", script],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            wall = walls[how] = time.perf_counter() - start
            imported, loaded, predicted = map(float, output[:3])
            print(
                f"{name:>13} {how:>10}: import {imported:5.2f}  load {loaded:5.2f}  "
                f"predict {predicted:5.2f}  process wall {wall:5.2f}"
            )
        print(
            f"{name:>13}: process wall as shipped / with an optimiser built "
            f"{walls['as shipped'] / walls['optimiser']:.2f}"
        )


if __name__ == "__main__":
    main()
