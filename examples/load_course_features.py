"""
=================================================
Load your own corpus in the course-feature layout
=================================================

Load a corpus in the course-feature layout and compare fusion methods on it.

The layout is the one of the study's course files: a ``dataset.csv`` with the
columns ``file_name_list, speakers, <modality>_features ..., emotion_labels``,
each feature cell naming a ``.npy`` file of ``(T, d)`` frames or a ``(d,)``
vector. :func:`~sklearn_mmer.datasets.load_feature_table` reads it from a
folder, the CSV itself or a ``.zip``, and records every faulty utterance in the
Bunch's ``issues`` instead of crashing or dropping it silently.

Give the path of your own corpus (IEMOCAP features cannot be redistributed)::

    python examples/load_course_features.py path/to/corpus

Python puts the script's folder, not the repository, on its path, so the
script imports the *installed* ``sklearn_mmer``. In a checkout that is not the
installed one (a second clone, a git worktree), run it as
``PYTHONPATH=. python examples/load_course_features.py`` from the checkout's
root, or install the checkout with ``pip install -e .``, or the script runs
another version of the package than the one beside it.

Without a path, the example writes a small corpus from the **synthetic**
:func:`~sklearn_mmer.datasets.make_multimodal_emotion` into a temporary folder,
breaks two of its files to show how faults are reported, and loads that. It
then runs unimodal, early and late fusion under speaker-independent CV with a
small, quick MLP (a minute or less on two cores).
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import cross_val_score

from sklearn_mmer.datasets import (
    CorpusIssuesWarning,
    load_feature_table,
    make_multimodal_emotion,
    write_feature_table,
)
from sklearn_mmer.fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

DESCRIPTION = "Load a corpus in the course-feature layout and compare fusion methods."


def write_demo_corpus(folder):
    """A 400-utterance synthetic corpus in the course layout, with two faults."""
    X, y = make_multimodal_emotion(
        400,
        modalities={"visual": 64, "acoustic": 32, "lexical": 48},
        random_state=0,
        return_X_y=True,
    )
    write_feature_table(X, y, folder)
    features = Path(folder) / "features"
    # a truncated file and one holding NaN, as real corpora sometimes have
    truncated = next((features / "visual_features" / "Session2").glob("*.npy"))
    truncated.write_bytes(truncated.read_bytes()[:-40])
    with_nan = next((features / "lexical_features" / "Session4").glob("*.npy"))
    array = np.load(with_nan)
    array[0] = np.nan
    np.save(with_nan, array)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "path", nargs="?", help="corpus folder, dataset.csv or .zip (default: demo)"
    )
    parser.add_argument("--folds", type=int, default=5, help="speaker folds")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        path = args.path or write_demo_corpus(folder)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CorpusIssuesWarning)
            corpus = load_feature_table(path, errors="skip")
        for warning in caught:
            print(f"warning: {warning.message}\n")
    print(corpus.DESCR)
    if len(corpus.issues):
        print("Issues (utterances skipped):")
        print(corpus.issues.to_string(index=False, max_colwidth=70), "\n")

    X, y, speakers = corpus.data, corpus.target, corpus.groups
    quick = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    methods = {
        m: make_modality_pipeline(m, classifier=quick) for m in corpus.modalities
    }
    if len(corpus.modalities) > 1:
        methods["early fusion"] = make_early_fusion(corpus.modalities, classifier=quick)
        methods["late fusion"] = make_late_fusion(corpus.modalities, classifier=quick)
    print(f"F1-micro, {args.folds} speaker-independent folds:")
    for name, model in methods.items():
        scores = cross_val_score(
            model,
            X,
            y,
            groups=speakers,
            cv=SpeakerKFold(args.folds),
            scoring="f1_micro",
        )
        print(f"  {name:<13} {scores.mean():.3f} ± {scores.std():.3f}")


if __name__ == "__main__":
    main()
