"""Are the sequence models worth their cost? Fit time and F1 against early fusion.

Two questions, answered side by side in one run:

1. ``--part methods``: the registered ``early_fusion``, ``gru`` and
   ``transformer`` methods on the bundled corpus (or ``--difficulty hard``)
   under the same speaker folds (SpeakerKFold(5)): mean F1-micro and fit
   seconds per fold, and each sequence model's time as a multiple of early
   fusion's (target: at most 3x, with F1-micro at least early fusion's).
   Beside them, the plain encoders without segment means, skip path and MLP
   head (and, for the GRU, without its projection and residual: ``*_plain``),
   trained the same way.
2. ``--part choices``: the same table for the registered ``gru`` and
   ``transformer`` methods beside variants that each undo one of their
   choices (the GRU's dropout, refit or residual encoder; the Transformer's
   refit, or dropout added): the figures that chose them
   (docs/stronger_methods.md). Not run by default (about 5 minutes).
3. ``--part long``: one GRU ``SequenceClassifier`` fit on 64 utterances of
   ``--frames`` frames each (600 by default) as ``fit`` does it (the GRU on
   the padded batch, subnormal numbers flushed to zero), beside the same fit
   with subnormals kept and with the GRU on packed sequences (as it was
   before); both replaced in this script only.
4. ``--part memory``: the memory a fit holds for its frames, on
   ``--utterances`` utterances of 128 features whose lengths are skewed as
   real ones are (most short, a few up to 1,000 frames): the frames end to
   end, padded one batch at a time (as ``fit`` does it), beside the whole
   data padded to the longest sequence once (as it was before), by
   tracemalloc's peak over the fit (NumPy reports its arrays to it; torch's
   batches are not counted, in either variant), and the fit time.

    python benchmarks/bench_sequence.py [--part methods choices long memory]
        [--difficulty standard] [--folds 5] [--frames 600] [--utterances 1000]
        [--repeats 3] [--seed 0]
"""

import argparse
import contextlib
import time
import tracemalloc

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sklearn_mmer.datasets import make_multimodal_emotion
from sklearn_mmer.evaluation import compare_methods, make_methods
from sklearn_mmer.methods._stronger import REGULARISED, SEQUENCE_TRAINING
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import SequenceClassifier
from sklearn_mmer.neural import _sequence as sequence_module
from sklearn_mmer.neural._modules import SequenceEncoder

MODALITIES = ["visual", "acoustic", "lexical"]
ENCODER_FORWARD = SequenceEncoder.forward


def registered_methods(args):
    """The registered early fusion, ``gru`` and ``transformer`` methods."""
    return make_methods(
        MODALITIES, ["early_fusion", "gru", "transformer"], random_state=args.seed
    )


def methods_part(args):
    methods = registered_methods(args)
    # the plain GRU and Transformer encoders, without the segment means, the
    # skip path of average frames, the MLP head (and the GRU's projection and
    # residual): what the methods were before them, trained as they are now
    # (early stopping, then a refit on all training speakers; no dropout)
    for architecture in ("gru", "transformer"):
        methods[f"{architecture}_plain"] = SequenceClassifier(
            MODALITIES,
            architecture=architecture,
            **SEQUENCE_TRAINING,
            random_state=args.seed,
        )
    print_table(methods, args, "registered settings")


def choices_part(args):
    methods = registered_methods(args)
    # each registered sequence method with one of its choices undone
    variants = {
        "gru_no_dropout": ("gru", {"dropout": 0.0}),
        "gru_no_refit": ("gru", {"refit": False}),
        "gru_plain_encoder": ("gru", {"architecture": "gru"}),
        "transformer_dropout": ("transformer", {"dropout": REGULARISED["dropout"]}),
        "transformer_no_refit": ("transformer", {"refit": False}),
    }
    for name, (method, params) in variants.items():
        methods[name] = clone(methods[method]).set_params(**params)
    print_table(methods, args, "the registered choices, one undone per row")


def print_table(methods, args, title):
    """Each method on the corpus of ``args``, against early fusion."""
    X, y = make_multimodal_emotion(
        random_state=args.seed, difficulty=args.difficulty, return_X_y=True
    )
    results = compare_methods(
        methods, X, y, cv=SpeakerKFold(args.folds), random_state=args.seed
    ).results
    means = results.groupby("method", sort=False)[["f1_micro", "fit_seconds"]].mean()
    base = means.loc["early_fusion"]
    print(
        f"{len(y)} utterances ({args.difficulty}, seed {args.seed}), "
        f"SpeakerKFold({args.folds}), {title}"
    )
    for name, row in means.iterrows():
        gain = row.f1_micro - base.f1_micro
        print(
            f"{name:>20}: F1-micro {row.f1_micro:.4f} ({gain:+.4f})"
            f"  fit {row.fit_seconds:7.1f} s/fold  "
            f"{row.fit_seconds / base.fit_seconds:5.2f}x early fusion"
        )


def packed_forward(self, frames, lengths):
    """SequenceEncoder.forward as it was: the GRU on packed sequences."""
    if self.architecture != "gru":
        return ENCODER_FORWARD(self, frames, lengths)
    length = max(int(lengths.max()), 1)
    frames = frames[:, :length]
    valid = torch.arange(length)[None, :] < lengths[:, None]
    packed = pack_padded_sequence(
        frames, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
    )
    states, _ = self.gru(packed)
    states, _ = pad_packed_sequence(states, batch_first=True, total_length=length)
    weights = valid.to(states.dtype).unsqueeze(-1)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


@contextlib.contextmanager
def patched(module, name, value):
    previous = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, previous)


def long_part(args):
    rng = np.random.RandomState(args.seed)
    y = np.array(["anger", "sadness"] * 32)
    # a slow drift within each utterance, as in real frame features
    drift = np.cumsum(rng.normal(scale=0.1, size=(64, args.frames, 16)), axis=1)
    cells = [d + (label == "anger") for d, label in zip(drift, y)]
    X = pd.DataFrame({"acoustic": list(cells)})
    variants = {
        "default": contextlib.nullcontext,
        "subnormals kept": lambda: patched(
            sequence_module, "flush_denormals", contextlib.nullcontext
        ),
        "packed sequences": lambda: patched(SequenceEncoder, "forward", packed_forward),
        "default again": contextlib.nullcontext,
    }
    SequenceClassifier(max_iter=1).fit(X, y)  # warm-up, not timed
    seconds, scores = {name: [] for name in variants}, {}
    for _ in range(args.repeats):  # alternating, so drifts in load hit all alike
        for name, variant in variants.items():
            clf = SequenceClassifier(max_iter=3, random_state=args.seed)
            with variant():
                start = time.perf_counter()
                clf.fit(X, y)
                seconds[name].append(time.perf_counter() - start)
                scores[name] = clf.predict_proba(X)
    seconds = {name: float(np.median(values)) for name, values in seconds.items()}
    print(
        f"GRU, 64 utterances x {args.frames} frames x 16 features, 3 epochs, "
        f"{torch.get_num_threads()} threads, median of {args.repeats}"
    )
    base = seconds["default"]
    for name, value in seconds.items():
        same = np.abs(scores[name] - scores["default"]).max()
        print(
            f"{name:>18}: {value:7.2f} s  {value / base:5.2f}x default"
            f"  (probabilities differ by at most {same:.1e})"
        )


def padded_block(frames, lengths):
    """The whole data padded to its longest sequence once, as fit held it before."""
    longest = max(int(lengths.max()), 1)
    block = np.zeros((len(lengths), longest, frames.shape[1]), dtype=frames.dtype)
    block[np.arange(longest)[None, :] < lengths[:, None]] = frames
    return block


def memory_part(args):
    rng = np.random.RandomState(args.seed)
    lengths = np.clip(rng.lognormal(np.log(40), 0.8, args.utterances), 1, 1000)
    lengths = lengths.astype(int)
    lengths[0] = 1000
    y = rng.randint(4, size=args.utterances)
    cells = [rng.normal(size=(n, 128)).astype(np.float32) for n in lengths]
    X = pd.DataFrame({"acoustic": cells})
    frame_bytes = lengths.sum() * 128 * 4
    print(
        f"{args.utterances} utterances x 128 features, lengths median "
        f"{int(np.median(lengths))}, longest {lengths.max()}: frames "
        f"{frame_bytes / 2**20:.0f} MiB, padded to the longest "
        f"{args.utterances * lengths.max() * 128 * 4 / 2**20:.0f} MiB"
    )
    variants = {
        "end to end, padded per batch": contextlib.nullcontext,
        "padded once (before)": lambda: patched(
            sequence_module, "RaggedFrames", padded_block
        ),
    }
    params = {"hidden_dim": 16, "max_iter": 1, "random_state": args.seed}
    SequenceClassifier(**params).fit(X.iloc[1:50], y[1:50])  # warm-up, not timed
    for name, variant in variants.items():
        with variant():
            tracemalloc.start()
            start = time.perf_counter()
            SequenceClassifier(**params).fit(X, y)
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        print(
            f"{name:>29}: peak {peak / 2**20:7.1f} MiB ({peak / frame_bytes:5.2f}x "
            f"the frames)  fit {seconds:6.1f} s"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        nargs="+",
        default=["methods", "long", "memory"],
        choices=["methods", "choices", "long", "memory"],
    )
    parser.add_argument("--difficulty", default="standard")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--utterances", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if "long" in args.part:
        long_part(args)
    if "memory" in args.part:
        memory_part(args)
    if "methods" in args.part:
        methods_part(args)
    if "choices" in args.part:
        choices_part(args)


if __name__ == "__main__":
    main()
