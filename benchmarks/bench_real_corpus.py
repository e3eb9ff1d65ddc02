"""Every registered method on a corpus you hold, against the study's early fusion.

Runs :func:`~sklearn_mmer.evaluation.compare_methods` over the registry on a
course-layout corpus (``--data``: a folder or ``.zip`` holding ``dataset.csv``
and the ``.npy`` feature files) or, without ``--data``, on the harder synthetic
variant (``make_multimodal_emotion(difficulty="hard")``), under speaker folds
(``SpeakerKFold``), and prints per method the mean ± std F1-micro, macro F1,
unweighted accuracy, the difference in F1-micro to ``early_fusion`` and the fit
seconds per fold. Nothing is tuned to the corpus: every method runs with its
registered settings.

    python benchmarks/bench_real_corpus.py [--data PATH] [--methods all]
        [--folds 5] [--n-jobs 1] [--seed 0] [--out results.csv]

``--methods`` takes registered names or modalities (``all`` by default: every
registered method; the sequence models take the longest).
"""

import argparse
import time

import numpy as np

from sklearn_mmer.datasets import load_feature_table, make_multimodal_emotion
from sklearn_mmer.evaluation import compare_methods, make_methods, modality_columns
from sklearn_mmer.model_selection import SpeakerKFold

METRICS = ["f1_micro", "f1_macro", "unweighted_accuracy"]


def load(args):
    if args.data:
        corpus = load_feature_table(args.data)
        return corpus, args.data
    corpus = make_multimodal_emotion(random_state=args.seed, difficulty="hard")
    return corpus, "synthetic corpus, difficulty='hard'"


def table(results):
    """Mean ± std per method, best F1-micro first, with the gap to early fusion."""
    grouped = results.groupby("method", sort=False)
    means, stds = grouped[METRICS].mean(), grouped[METRICS].std(ddof=0)
    seconds = grouped["fit_seconds"].mean()
    reference = means["f1_micro"].get("early_fusion", np.nan)
    lines = [
        f"{'method':>26}  {'f1_micro':>13}  {'f1_macro':>13}  {'unweighted_acc':>14}"
        f"  {'vs early':>8}  {'fit s':>7}"
    ]
    for name in means["f1_micro"].sort_values(ascending=False).index:
        cells = [f"{means.at[name, m]:.4f}±{stds.at[name, m]:.3f}" for m in METRICS]
        lines.append(
            f"{name:>26}  {cells[0]:>13}  {cells[1]:>13}  {cells[2]:>14}"
            f"  {means.at[name, 'f1_micro'] - reference:+8.4f}"
            f"  {seconds[name]:7.1f}"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="course-layout corpus")
    parser.add_argument("--methods", nargs="+", default=["all"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the per-fold results")
    args = parser.parse_args()
    corpus, name = load(args)
    X, y = corpus.data, np.asarray(corpus.target)
    modalities = modality_columns(X)
    methods = make_methods(modalities, args.methods, random_state=args.seed)
    start = time.perf_counter()
    comparison = compare_methods(
        methods,
        X,
        y,
        np.asarray(corpus.groups),
        cv=SpeakerKFold(args.folds),
        n_jobs=args.n_jobs,
        random_state=args.seed,
        progress=lambda row: print(
            f"  {row['method']} fold {row['fold']}: F1-micro {row['f1_micro']:.4f}"
            f" ({row['fit_seconds']:.1f} s)",
            flush=True,
        ),
    )
    print(
        f"\n{name}: {len(y)} utterances, {len(set(corpus.groups))} speakers, "
        f"modalities {modalities}, SpeakerKFold({args.folds}), seed {args.seed}, "
        f"{time.perf_counter() - start:.0f} s in all"
    )
    print(table(comparison.results))
    if "best_params" in comparison.results.columns:
        # an untuned method's best_params is "" (no search), never NaN
        tuned = comparison.results["best_params"].fillna("").astype(str) != ""
        for _, row in comparison.results[tuned].iterrows():
            print(f"{row['method']} fold {row['fold']}: {row['best_params']}")
    if args.out:
        comparison.results.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
