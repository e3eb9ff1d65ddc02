"""Every registered method on real recordings, extracted here, against early fusion.

From a recordings CSV (``--data``: ``file``, ``speaker``, ``emotion`` columns,
paths relative to the CSV, as ``mmer extract`` reads), each audio kind of
``--kinds`` is extracted with :func:`~sklearn_mmer.extraction.make_extractor`
(results kept by content in ``--cache``, so a rerun extracts nothing) into one
column of frame cells per kind. With audio only, the kinds are the modalities:
``--kinds mfcc egemaps`` gives two acoustic views, named by their kind, which
the multimodal methods fuse as they would fuse audio and text; a single kind
runs the unimodal methods only.

Then :func:`~sklearn_mmer.evaluation.compare_methods` runs every registered
method that applies (``--methods``, all by default; the classical baselines
``logistic_regression``, ``svm_rbf`` and ``gradient_boosting`` among them) on
speaker-disjoint folds
(GroupKFold on the speaker), ``--repeats`` times with other seeds, and prints
per method the mean F1-micro, macro F1 and unweighted accuracy with 95%
corrected resampled t intervals, the fit seconds per fold, and the paired test
of each method against ``early_fusion``
(:func:`~sklearn_mmer.evaluation.compare_to_reference`, Holm-adjusted).

    python benchmarks/bench_real_speech.py --data UTTERANCES_CSV
        [--kinds mfcc egemaps] [--cache DIR] [--folds 4] [--repeats 1]
        [--methods all] [--options [NAME ...]] [--seed 0] [--out results.csv]

``--options`` adds the training and pooling options of the neural
classifiers, each changed alone from a registered method, so that each is
measured against the method it changes on the same folds and seeds:
``early_fusion+mixup`` (``mixup_alpha=0.2``), ``early_fusion+smoothing``
(``label_smoothing=0.1``), ``gru+attentive`` (``pooling="attentive"``) and
``frames_attentive`` (no encoder: attentive statistics pooling of the frames
into early fusion's MLP shape, ``head_dims=(128, 64)``, with the sequence
methods' training settings) and ``early_fusion+attentive`` (early fusion's
MLP, its settings unchanged, with ``pooling="attentive"``: each utterance's
frames of every kind joined side by side, ``join_frames``, and pooled by
attentive statistics pooling inside the network instead of averaged before
it). ``--options NAME ...`` adds only the variants named.

Nothing is tuned to the corpus: every method runs with its registered
settings.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_mmer.evaluation import (
    compare_methods,
    compare_to_reference,
    confidence_intervals,
    make_methods,
)
from sklearn_mmer.extraction import make_extractor

METRICS = ["f1_micro", "f1_macro", "unweighted_accuracy"]
REFERENCE = "early_fusion"


def extract(csv, kinds, cache):
    """The corpus as the data contract: one column of cells per kind, speaker."""
    table = pd.read_csv(csv)
    root = str(Path(csv).resolve().parent)
    columns = {}
    for kind in kinds:
        start = time.perf_counter()
        extractor = make_extractor(kind, column="file", root=root, cache=cache)
        columns[kind] = extractor.fit_transform(table[["file"]])[kind].to_numpy()
        print(f"  {kind}: {time.perf_counter() - start:.0f} s", flush=True)
    X = pd.DataFrame(columns)
    X["speaker"] = table["speaker"].to_numpy()
    return X, table["emotion"].to_numpy(), table["speaker"].to_numpy()


def join_frames(X, kinds):
    """One column ``frames``: each utterance's frames of every kind side by side.

    The kinds are cut to the shortest one's frame count (the same 10 ms hop,
    so they differ by a frame or two at the end); an utterance missing a kind
    is missing.
    """
    joined = np.empty(len(X), dtype=object)
    for row, cells in enumerate(zip(*(X[kind] for kind in kinds))):
        if any(cell is None or np.size(cell) == 0 for cell in cells):
            continue
        length = min(len(cell) for cell in cells)
        joined[row] = np.hstack([np.asarray(cell)[:length] for cell in cells])
    out = pd.DataFrame({"frames": joined}, index=X.index)
    if "speaker" in X:
        out["speaker"] = X["speaker"].to_numpy()
    return out


def option_variants(modalities, seed):
    """Registered methods with one new option changed each (``--options``)."""
    from sklearn_mmer.fusion import make_early_fusion
    from sklearn_mmer.neural import MLPClassifier, SequenceClassifier

    gru = make_methods(modalities, ["gru"], random_state=seed)["gru"]
    frames = SequenceClassifier(
        list(modalities),
        architecture="none",
        pooling="attentive",
        head_dims=(128, 64),
        random_state=seed,
    ).set_params(**{k: v for k, v in gru.get_params().items() if k in TRAINING})
    return {
        "early_fusion+mixup": make_early_fusion(
            modalities, classifier=MLPClassifier(mixup_alpha=0.2, random_state=seed)
        ),
        "early_fusion+smoothing": make_early_fusion(
            modalities,
            classifier=MLPClassifier(label_smoothing=0.1, random_state=seed),
        ),
        "gru+attentive": gru.set_params(pooling="attentive"),
        "frames_attentive": frames,
        "early_fusion+attentive": make_pipeline(
            FunctionTransformer(join_frames, kw_args={"kinds": list(modalities)}),
            MLPClassifier(pooling="attentive", random_state=seed),
        ),
    }


#: the sequence methods' training settings that frames_attentive shares
TRAINING = (
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "refit",
    "alpha",
    "dropout",
)


def table(results, intervals, reference):
    """Mean [95% interval] per metric, best F1-micro first, with fit seconds."""
    grouped = results.groupby("method", sort=False)
    means = grouped[METRICS].mean()
    seconds = grouped["fit_seconds"].mean()
    intervals = intervals.set_index("method")
    lines = [
        f"| method | {' | '.join(METRICS)} | fit s / fold |",
        "|---|" + "---|" * (len(METRICS) + 1),
    ]
    for name in means["f1_micro"].sort_values(ascending=False).index:
        cells = [
            f"{means.at[name, m]:.3f} [{intervals.at[name, f'{m}_ci_low']:.3f}, "
            f"{intervals.at[name, f'{m}_ci_high']:.3f}]"
            for m in METRICS
        ]
        mark = " (reference)" if name == reference else ""
        lines.append(f"| {name}{mark} | {' | '.join(cells)} | {seconds[name]:.1f} |")
    return "\n".join(lines)


def paired(results, reference):
    """Each method minus the reference on F1-micro and UA, with Holm's p."""
    tests = compare_to_reference(results, reference, metrics=METRICS)
    lines = [
        "| method | metric | mean difference [95% interval] | p (Holm) | significant |",
        "|---|---|---|---|---|",
    ]
    for _, row in tests.iterrows():
        lines.append(
            f"| {row['method']} | {row['metric']} | {row['difference']:+.3f} "
            f"[{row['ci_low']:+.3f}, {row['ci_high']:+.3f}] | "
            f"{row['t_p_adjusted']:.3f} | {'yes' if row['significant'] else 'no'} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="recordings CSV")
    parser.add_argument("--kinds", nargs="+", default=["mfcc", "egemaps"])
    parser.add_argument("--cache", default=None, help="extraction cache folder")
    parser.add_argument("--methods", nargs="+", default=["all"])
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--options",
        nargs="*",
        default=None,
        metavar="NAME",
        help="add the option variants (all, or only those named)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the per-fold results")
    args = parser.parse_args()
    print(f"extracting {args.kinds} from {args.data}", flush=True)
    X, y, speakers = extract(args.data, args.kinds, args.cache)
    modalities = list(args.kinds)

    def methods(seed):
        built = make_methods(modalities, args.methods, random_state=seed)
        if args.options is not None:
            variants = option_variants(modalities, seed)
            unknown = sorted(set(args.options) - set(variants))
            if unknown:
                known = list(variants)
                raise SystemExit(f"unknown --options {unknown}; known: {known}")
            chosen = args.options or list(variants)
            built.update({name: variants[name] for name in chosen})
        return built

    folds = list(GroupKFold(args.folds).split(X, y, speakers))
    start = time.perf_counter()
    comparison = compare_methods(
        methods,
        X,
        y,
        speakers,
        cv=folds,
        n_repeats=args.repeats,
        random_state=args.seed,
        progress=lambda row: print(
            f"  {row['method']} repeat {row.get('repeat', 1)} fold {row['fold']}: "
            f"F1-micro {row['f1_micro']:.3f} ({row['fit_seconds']:.1f} s)",
            flush=True,
        ),
    )
    results = comparison.results
    print(
        f"\n{args.data}: {len(y)} utterances, {len(set(speakers))} speakers, "
        f"{len(set(y))} classes; modalities {modalities}; GroupKFold({args.folds}) "
        f"on speaker, {args.repeats} repeat(s), seed {args.seed}; "
        f"{time.perf_counter() - start:.0f} s in all\n"
    )
    print(table(results, confidence_intervals(results, metrics=METRICS), REFERENCE))
    if REFERENCE in set(results["method"]):
        print(f"\npaired against {REFERENCE} (corrected resampled t-test):\n")
        print(paired(results, REFERENCE))
    if args.out:
        results.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
