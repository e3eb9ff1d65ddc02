"""The stronger methods of the registry: regularised, ensembled, tuned."""

import json

import pytest
import torch
from sklearn.model_selection import GridSearchCV, cross_validate

from sklearn_mmer.evaluation import (
    compare_methods,
    make_methods,
    registered_methods,
    set_epochs,
    set_every,
)
from sklearn_mmer.methods._catalogue import STRONGER
from sklearn_mmer.methods._stronger import REGULARISED, SpeakerColumnGroupKFold
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier, MLPEnsembleClassifier

MODALITIES = ["visual", "acoustic", "lexical"]
NAMES = [method.name for method in STRONGER]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(n_utterances=96, informative=("lexical",), signal=2.0)


def quick(names):
    methods = make_methods(MODALITIES, names, random_state=0)
    for method in methods.values():
        set_epochs(method, 2)
        set_every(method, "hidden_layer_sizes", (8,))
    return methods


def recording_split(seen):
    """The tuned method's inner splitter (3 folds), appending the speakers of
    every X it splits to ``seen``. A closure, not an attribute: the search is
    cloned, and a clone deep-copies its splitter's attributes."""

    class Recording(SpeakerColumnGroupKFold):
        def split(self, X, y=None, groups=None):
            seen.append(set(X["speaker"]))
            yield from super().split(X, y, groups)

    return Recording(3)


def test_stronger_methods_are_registered_and_inductive():
    methods = registered_methods()
    for name in NAMES:
        assert name in methods
        assert not methods[name].transductive
        assert not methods[name].default


def test_study_baselines_keep_the_studys_settings():
    methods = make_methods(MODALITIES, ["early_fusion", "early_fusion_regularised"])
    study = methods["early_fusion"][-1]
    assert isinstance(study, MLPClassifier)
    assert (study.dropout, study.alpha, study.max_iter) == (0.0, 1e-5, 50)
    regularised = methods["early_fusion_regularised"][-1]
    assert {k: getattr(regularised, k) for k in REGULARISED} == REGULARISED


def test_ensemble_methods_hold_ensembles():
    methods = make_methods(
        MODALITIES, ["early_fusion_ensemble", "late_fusion_ensemble"]
    )
    assert isinstance(methods["early_fusion_ensemble"][-1], MLPEnsembleClassifier)
    late = methods["late_fusion_ensemble"]
    assert late.voting == "soft"
    assert all(
        isinstance(member[-1], MLPEnsembleClassifier) for _, member in late.estimators
    )


def test_stronger_methods_run_in_a_comparison(corpus):
    X, y, speakers = corpus
    comparison = compare_methods(quick(NAMES), X, y, cv=2, random_state=0)
    results = comparison.results
    assert sorted(results.method.unique()) == sorted(NAMES)
    assert results[["f1_micro", "f1_macro"]].notna().all().all()


def test_speaker_column_folds_hold_out_whole_speakers(corpus):
    X, y, speakers = corpus
    splitter = SpeakerColumnGroupKFold(3)
    assert splitter.get_n_splits(X) == 3
    tested = []
    for train, test in splitter.split(X, y):
        assert not set(speakers[train]) & set(speakers[test])
        tested.extend(test)
    assert sorted(tested) == list(range(len(y)))


def test_speaker_column_folds_need_speakers(corpus):
    X, y, _ = corpus
    with pytest.raises(ValueError, match="'speaker' column"):
        next(SpeakerColumnGroupKFold(3).split(X.drop(columns="speaker"), y))
    one = X[X.speaker == X.speaker.iloc[0]]
    with pytest.raises(ValueError, match="at least 2 training speakers"):
        next(SpeakerColumnGroupKFold(3).split(one))


def test_tuned_early_fusion_never_sees_the_outer_test_speakers(corpus):
    X, y, speakers = corpus
    tuned = quick(["tuned_early_fusion"])["tuned_early_fusion"]
    assert isinstance(tuned, GridSearchCV)
    seen = []
    tuned.set_params(cv=recording_split(seen))
    outer = list(SpeakerKFold(2).split(X, y, speakers))
    result = cross_validate(
        tuned, X, y, groups=speakers, cv=outer, return_estimator=True
    )
    for (train, test), inner, search in zip(outer, seen, result["estimator"]):
        assert inner == set(speakers[train])
        assert not inner & set(speakers[test])
        assert set(search.best_params_) == {
            "mlpclassifier__dropout",
            "mlpclassifier__alpha",
        }
        assert search.n_splits_ == 3


def test_compare_methods_records_the_tuned_parameters_of_each_fold(corpus):
    """End to end: the search in each outer fold sees only its training
    speakers, and results' best_params holds what it chose, fold by fold."""
    X, y, speakers = corpus
    tuned = quick(["tuned_early_fusion"])["tuned_early_fusion"]
    seen = []
    tuned.set_params(cv=recording_split(seen))
    grid = tuned.get_params()["param_grid"]
    outer = list(SpeakerKFold(2).split(X, y, speakers))
    comparison = compare_methods(
        {"tuned_early_fusion": tuned},
        X,
        y,
        speakers,
        cv=outer,
        random_state=0,
        error_score="raise",
        return_estimator=True,
    )
    results = comparison.results
    assert list(results["fold"]) == [1, 2]
    assert len(seen) == len(outer)
    for (train, test), inner, (_, row) in zip(outer, seen, results.iterrows()):
        assert inner == set(speakers[train])
        assert not inner & set(speakers[test])
        chosen = json.loads(row["best_params"])
        assert set(chosen) == set(grid)
        assert all(chosen[key] in grid[key] for key in grid)
        search = comparison.estimators[("tuned_early_fusion", 1, row["fold"])]
        assert chosen == search.best_params_
