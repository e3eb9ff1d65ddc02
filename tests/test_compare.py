"""compare_methods: the scores of cross-validation, with shared work done once."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import cross_validate

from sklearn_mmer.evaluation import (
    SCORING,
    compare_methods,
    make_methods,
    method_names,
    register_method,
    registered_methods,
    set_epochs,
    set_every,
    summarize,
    unregister_method,
)
from sklearn_mmer.evaluation._sharing import assemble_vote, plan_work
from sklearn_mmer.fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
)
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier
from sklearn_mmer.preprocessing import TemporalPooling

MODALITIES = ["visual", "acoustic", "lexical"]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny networks train fastest on one thread (and alike in every process)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(
        n_utterances=120, informative=("acoustic", "lexical"), signal=1.0
    )


def quick_methods(names=None, seed=0):
    methods = make_methods(MODALITIES, names, random_state=seed)
    for method in methods.values():
        set_epochs(method, 3)
        set_every(method, "hidden_layer_sizes", (16,))
    return methods


class CountingLogisticRegression(LogisticRegression):
    """Counts fits across clones, to see which fits are shared."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        CountingLogisticRegression.fits.append(X.shape[1])
        return super().fit(X, y, sample_weight=sample_weight)


def test_compare_methods_scores_equal_cross_validate(corpus):
    X, y, speakers = corpus
    methods = quick_methods()
    # "stats" pooling cannot be shared, so this one reads the frames themselves
    methods["acoustic_stats"] = make_modality_pipeline(
        "acoustic",
        pooling="stats",
        classifier=MLPClassifier((16,), max_iter=3, random_state=0),
    )
    comparison = compare_methods(methods, X, y, speakers, cv=SpeakerKFold(3))
    for name, method in methods.items():
        expected = cross_validate(
            method, X, y, groups=speakers, cv=SpeakerKFold(3), scoring=SCORING
        )
        got = comparison.results[comparison.results.method == name]
        assert got.fold.tolist() == [1, 2, 3]
        for metric in SCORING:
            np.testing.assert_allclose(got[metric], expected[f"test_{metric}"])


def test_shared_late_fusion_predicts_as_fit_from_scratch(corpus):
    X, y, speakers = corpus
    methods = quick_methods()
    comparison = compare_methods(methods, X, y, speakers, cv=3)
    for fold, (train, test) in enumerate(comparison.splits):
        late = clone(methods["late_fusion"]).fit(X.iloc[train], y[train])
        expected = confusion_matrix(
            y[test], late.predict(X.iloc[test]), labels=comparison.labels
        )
        np.testing.assert_array_equal(
            comparison.confusion_matrices["late_fusion"][fold], expected
        )


def test_assembled_vote_equals_fitted_vote(corpus):
    X, y, _ = corpus
    late = quick_methods(["late_fusion"])["late_fusion"]
    fitted = clone(late).fit(X, y)
    codes = fitted.le_.transform(y)
    members = [clone(member).fit(X, codes) for _, member in late.estimators]
    assembled = assemble_vote(late, members, X, y)
    np.testing.assert_array_equal(assembled.predict(X), fitted.predict(X))
    np.testing.assert_array_equal(assembled.classes_, fitted.classes_)
    np.testing.assert_allclose(assembled.class_prior_, fitted.class_prior_)
    assert list(assembled.named_estimators_) == MODALITIES
    assert assembled.estimators_[0] is members[0]
    # the parameters stay those of the unfitted vote
    assert assembled.get_params()["visual"] is not members[0]


def test_late_fusion_members_are_fit_once_per_fold(corpus):
    X, y, speakers = corpus
    CountingLogisticRegression.fits.clear()
    classifier = CountingLogisticRegression()
    methods = {
        m: make_modality_pipeline(m, classifier=classifier)
        for m in ("visual", "lexical")
    }
    methods["late_fusion"] = make_late_fusion(
        ["visual", "lexical"], classifier=classifier
    )
    comparison = compare_methods(methods, X, y, speakers, cv=3)
    # two unimodal fits per fold serve both the unimodal methods and the vote
    assert len(CountingLogisticRegression.fits) == 3 * 2
    assert comparison.results.groupby("method").size().to_dict() == {
        "late_fusion": 3,
        "lexical": 3,
        "visual": 3,
    }


class AnswerCountingLogisticRegression(LogisticRegression):
    """Counts the rows each response method is asked about, across clones."""

    asked = []

    def predict(self, X):
        AnswerCountingLogisticRegression.asked.append(("predict", len(X)))
        return super().predict(X)

    def predict_proba(self, X):
        AnswerCountingLogisticRegression.asked.append(("predict_proba", len(X)))
        return super().predict_proba(X)


@pytest.mark.parametrize(
    "scoring",
    [
        None,
        ["accuracy", "neg_log_loss"],  # one metric reads probabilities
        {"mine": lambda estimator, X, y: float(estimator.score(X, y))},
    ],
)
def test_each_fold_s_test_rows_are_predicted_once(corpus, scoring):
    X, y, speakers = corpus
    # predict reads probabilities, not predict_proba: each call counts once
    lexical = make_modality_pipeline(
        "lexical", classifier=AnswerCountingLogisticRegression()
    )
    AnswerCountingLogisticRegression.asked.clear()
    comparison = compare_methods(
        {"lexical": lexical}, X, y, speakers, cv=SpeakerKFold(3), scoring=scoring
    )
    test_sizes = [len(test) for _, test in comparison.splits]
    own = isinstance(scoring, dict)  # the user's scorer predicts once more
    expected = []
    for size in test_sizes:
        expected += [("predict", size), ("predict_proba", size)]
        expected += [("predict", size)] if own else []
    assert AnswerCountingLogisticRegression.asked == expected
    # and the scores are those of scikit-learn's own cross-validation
    reference = cross_validate(
        lexical,
        X,
        y,
        groups=speakers,
        cv=SpeakerKFold(3),
        scoring=SCORING if scoring is None else scoring,
    )
    metrics = [name.removeprefix("test_") for name in reference if "test_" in name]
    assert metrics and set(metrics) <= set(comparison.results.columns)
    for metric in metrics:
        np.testing.assert_allclose(
            comparison.results[metric], reference[f"test_{metric}"]
        )


def test_late_fusion_time_is_its_members_time(corpus):
    X, y, speakers = corpus
    comparison = compare_methods(quick_methods(), X, y, speakers, cv=3)
    seconds = comparison.results.pivot(
        index="fold", columns="method", values="fit_seconds"
    )
    np.testing.assert_allclose(seconds["late_fusion"], seconds[MODALITIES].sum(axis=1))


def test_pooling_is_computed_once_per_modality(corpus):
    X, _, _ = corpus
    plan = plan_work([quick_methods()], X, MODALITIES)
    # three unimodal pipelines, early fusion and the classical baseline
    assert len(plan.fits) == 5
    views = [plan.views[fit.view] for fit in plan.fits]
    views += [plan.views[vote.view] for vote in plan.votes]
    for modality in MODALITIES:
        arrays = {id(v.pooled[modality][0]) for v in views if modality in v.pooled}
        assert len(arrays) == 1  # one pooled array, shared by every view
    visual = views[0]
    np.testing.assert_array_equal(
        visual.pooled["visual"][0], TemporalPooling().fit_transform(X["visual"])
    )
    # a unimodal view carries its own modality only, besides the speakers
    assert sorted(visual.take(np.arange(3)).columns) == ["speaker", "visual"]


def test_label_keyed_parameters_are_not_shared(corpus):
    X, y, speakers = corpus
    methods = quick_methods(["lexical", "late_fusion"])
    weights = {"anger": 3.0, "sadness": 1.0, "happiness": 1.0, "neutral": 1.0}
    methods["lexical"].set_params(mlpclassifier__class_weight=weights)
    # the vote's members are fit on encoded labels (0 is "anger"), as in
    # VotingClassifier; string keys there are an error, not silently ignored
    encoded = {0: 3.0, 1: 1.0, 2: 1.0, 3: 1.0}
    methods["late_fusion"].set_params(lexical__mlpclassifier__class_weight=encoded)
    plan = plan_work([methods], X, MODALITIES)
    assert len(plan.fits) == 4  # lexical on labels, and the vote's three members
    comparison = compare_methods(methods, X, y, speakers, cv=3)
    expected = cross_validate(
        methods["lexical"],
        X,
        y,
        groups=speakers,
        cv=SpeakerKFold(3),
        scoring="f1_micro",
    )
    got = comparison.results.query("method == 'lexical'").f1_micro
    np.testing.assert_allclose(got, expected["test_score"])


def test_parallel_folds_give_the_same_results(corpus):
    X, y, speakers = corpus
    methods = quick_methods(["lexical", "early_fusion", "late_fusion"])
    serial = compare_methods(methods, X, y, speakers, cv=3)
    parallel = compare_methods(methods, X, y, speakers, cv=3, n_jobs=2)
    columns = ["method", "fold", *SCORING]
    pd.testing.assert_frame_equal(serial.results[columns], parallel.results[columns])
    for name in methods:
        np.testing.assert_array_equal(
            serial.confusion_matrices[name], parallel.confusion_matrices[name]
        )


def test_progress_reports_every_method_and_fold(corpus):
    X, y, speakers = corpus
    records = []
    compare_methods(
        quick_methods(["lexical", "late_fusion"]),
        X,
        y,
        speakers,
        cv=2,
        progress=records.append,
    )
    assert sorted((r["method"], r["fold"]) for r in records) == [
        ("late_fusion", 1),
        ("late_fusion", 2),
        ("lexical", 1),
        ("lexical", 2),
    ]
    assert all(r["n_folds"] == 2 and 0 <= r["f1_micro"] <= 1 for r in records)


def test_progress_true_shows_the_command_line_s_progress(corpus, capsys):
    X, y, speakers = corpus
    comparison = compare_methods(
        quick_methods(["lexical"]), X, y, speakers, cv=2, progress=True
    )
    err = capsys.readouterr().err.splitlines()
    # not a terminal: one line per finished fold, as mmer compare logs them
    assert sorted(line.split("  (")[0] for line in err) == [
        f"[lexical] fold {fold}/2  f1_micro={score:.3f}"
        for fold, score in zip([1, 2], comparison.results.f1_micro)
    ]


def test_progress_must_be_a_bool_or_a_callable(corpus):
    X, y, speakers = corpus
    with pytest.raises(ValueError, match="progress must be True, False, None"):
        compare_methods(quick_methods(["lexical"]), X, y, speakers, progress="yes")


def test_test_speakers_are_never_trained_on(corpus):
    X, y, speakers = corpus
    comparison = compare_methods(quick_methods(["lexical"]), X, y, speakers, cv=3)
    for train, test in comparison.splits:
        assert not set(speakers[train]) & set(speakers[test])
    tested = np.concatenate([test for _, test in comparison.splits])
    assert sorted(tested) == list(range(len(y)))


def test_methods_by_name_use_the_modality_columns(corpus):
    X, y, _ = corpus
    comparison = compare_methods(["lexical", "early_fusion"], X.iloc[:, :], y, cv=2)
    assert comparison.results.method.unique().tolist() == ["lexical", "early_fusion"]
    counts = comparison.confusion_matrices["lexical"].sum(axis=(1, 2))
    assert counts.sum() == len(y)
    assert comparison.labels.tolist() == sorted(set(y))


def test_summary_is_mean_and_std_best_first():
    results = pd.DataFrame(
        {
            "method": ["a", "a", "b", "b"],
            "fold": [1, 2, 1, 2],
            "f1_micro": [0.2, 0.4, 0.5, 0.9],
            "fit_seconds": [1.0, 3.0, 2.0, 2.0],
        }
    )
    summary = summarize(results)
    assert summary.method.tolist() == ["b", "a"]
    np.testing.assert_allclose(summary.f1_micro_mean, [0.7, 0.3])
    np.testing.assert_allclose(summary.f1_micro_std, [0.2, 0.1])
    np.testing.assert_allclose(summary.fit_seconds_mean, [2.0, 2.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X": np.zeros((4, 2))}, "X must be a pandas DataFrame"),
        ({"y": ["anger"] * 3}, "y must be 1-D with one label per row"),
        ({"cv": 7}, "greater than the number of speakers"),
        ({"methods": ["lexical", "audio"]}, "unknown method 'audio'; choose among"),
        ({"labels": ["anger", "sadness"]}, "labels must include every label of y"),
        ({"scoring": {"fold": "accuracy"}}, "scoring may not name a metric 'fold'"),
        ({"groups": "shuffled"}, r"groups and X\['speaker'\] disagree on"),
        (
            {"scoring": ["f1_micro", "nonexistent"]},
            "unknown scorer 'nonexistent'; give one of accuracy, .*f1_micro",
        ),
        ({"y": ["anger"] * 120}, "y holds a single class, 'anger'; .* at least 2"),
        ({"random_state": -1}, r"random_state must be an int from 0 to 2\*\*32-1"),
        ({"random_state": 2**32}, r"from 0 to 2\*\*32-1 \(4294967295\).* 4294967296"),
        (
            {"random_state": 2**32 - 1, "n_repeats": 2},
            "would seed the last repeat with 4294967296, past 2\\*\\*32-1; use "
            "random_state at most 4294967294",
        ),
    ],
)
def test_compare_methods_rejects_bad_input(corpus, kwargs, message):
    X, y, speakers = corpus
    arguments = {"methods": ["lexical"], "X": X, "y": y, "groups": speakers, "cv": 2}
    arguments.update(kwargs)
    if kwargs.get("groups") == "shuffled":
        arguments["groups"] = np.random.RandomState(0).permutation(speakers)
    with pytest.raises(ValueError, match=message):
        compare_methods(**arguments)


def test_compare_methods_takes_its_own_metrics_by_name(corpus):
    X, y, speakers = corpus
    scoring = ["unweighted_accuracy", "accuracy"]
    comparison = compare_methods(quick_methods(["lexical"]), X, y, speakers, cv=2)
    named = compare_methods(
        quick_methods(["lexical"]), X, y, speakers, cv=2, scoring=scoring
    )
    assert (named.results.error == "").all()
    np.testing.assert_array_equal(
        named.results.unweighted_accuracy, comparison.results.unweighted_accuracy
    )


def test_compare_methods_starts_no_more_workers_than_fits(corpus):
    psutil = pytest.importorskip("psutil")
    X, y, speakers = corpus
    methods = {
        "lexical": make_modality_pipeline("lexical", classifier=LogisticRegression())
    }
    compare_methods(methods, X, y, speakers, cv=2, n_jobs=4)
    # loky keeps the workers of its last run for the next (one per n_jobs)
    workers = [
        child
        for child in psutil.Process().children()
        if "popen_loky" in " ".join(child.cmdline())
    ]
    assert len(workers) == 2


def test_missing_cells_give_the_scores_of_cross_validate(corpus):
    X, y, speakers = corpus
    X = X.copy()
    X.loc[X.index[::4], "acoustic"] = None
    methods = quick_methods(["acoustic", "early_fusion", "late_fusion"])
    comparison = compare_methods(methods, X, y, speakers, cv=SpeakerKFold(3))
    for name, method in methods.items():
        expected = cross_validate(
            method, X, y, groups=speakers, cv=SpeakerKFold(3), scoring="f1_macro"
        )
        got = comparison.results.query("method == @name").f1_macro
        np.testing.assert_allclose(got, expected["test_score"])


def test_method_names_resolve_defaults_all_and_mistakes():
    assert method_names(["acoustic", "lexical"]) == [
        "acoustic",
        "lexical",
        "early_fusion",
        "late_fusion",
        "logistic_regression",
    ]
    everything = method_names(["lexical"], ["all"])
    assert everything[:3] == ["lexical", "early_fusion", "late_fusion"]
    with pytest.raises(ValueError, match="unknown method 'visual'; choose among"):
        method_names(["lexical"], ["visual"])
    with pytest.raises(ValueError, match="modality 'early_fusion' has the name"):
        method_names(["early_fusion"])


def test_registered_methods_are_offered_by_name_and_with_all(corpus):
    X, y, speakers = corpus

    def factory(modalities, random_state):
        return make_early_fusion(
            modalities, classifier=LogisticRegression(random_state=random_state)
        )

    register_method("linear_early_fusion", factory, description="logistic regression")
    try:
        assert "linear_early_fusion" in method_names(MODALITIES, ["all"])
        assert "linear_early_fusion" not in method_names(MODALITIES)
        comparison = compare_methods(["linear_early_fusion"], X, y, speakers, cv=2)
        assert comparison.results.method.tolist() == ["linear_early_fusion"] * 2
        with pytest.raises(ValueError, match="already registered"):
            register_method("linear_early_fusion", factory, description="again")
    finally:
        unregister_method("linear_early_fusion")
    assert "linear_early_fusion" not in registered_methods()


def test_set_every_sets_a_parameter_at_every_depth():
    late = make_methods(MODALITIES, ["late_fusion"])["late_fusion"]
    assert set_every(late, "hidden_layer_sizes", (4,)) == 3
    params = late.get_params()
    assert [params[f"{m}__mlpclassifier__hidden_layer_sizes"] for m in MODALITIES] == [
        (4,)
    ] * 3


def test_set_epochs_sets_the_networks_max_iter_only():
    # scikit-learn's max_iter of a logistic regression counts solver steps
    vote = VotingClassifier(
        [("lr", LogisticRegression(max_iter=2000)), ("mlp", MLPClassifier())]
    )
    assert set_epochs(vote, 4) == 1
    assert vote.get_params()["lr__max_iter"] == 2000
    assert vote.get_params()["mlp__max_iter"] == 4


@pytest.mark.parametrize("n_jobs, n_threads", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_every_fit_computes_with_n_threads_whatever_n_jobs(corpus, n_jobs, n_threads):
    X, y, speakers = corpus
    torch.set_num_threads(3)  # the caller's own setting is not the fits'
    from sklearn_mmer._testing import ThreadRecordingLogisticRegression

    pipeline = make_modality_pipeline(
        "lexical", classifier=ThreadRecordingLogisticRegression()
    )
    comparison = compare_methods(
        {"lexical": pipeline},
        X,
        y,
        speakers,
        cv=3,
        n_jobs=n_jobs,
        n_threads=n_threads,
        return_estimator=True,
    )
    seen = [fitted[-1].threads_ for fitted in comparison.estimators.values()]
    assert seen == [{n_threads}] * 3
    assert torch.get_num_threads() == 3


def test_a_tuned_method_s_inner_fits_compute_with_n_threads(corpus):
    from sklearn.model_selection import GridSearchCV

    from sklearn_mmer._testing import ThreadRecordingLogisticRegression

    X, y, speakers = corpus
    torch.set_num_threads(3)
    ThreadRecordingLogisticRegression.seen = seen = []
    search = GridSearchCV(
        make_modality_pipeline(
            "lexical", classifier=ThreadRecordingLogisticRegression()
        ),
        {"threadrecordinglogisticregression__C": [0.1, 1.0]},
        cv=2,
    )
    compare_methods({"tuned": search}, X, y, speakers, cv=3, n_jobs=1, n_threads=2)
    assert len(seen) == 3 * (2 * 2 + 1)  # per fold: 2 candidates x 2 folds, refit
    assert set().union(*seen) == {2}


def test_the_same_seed_gives_the_same_bits_whatever_n_jobs(corpus):
    X, y, speakers = corpus
    names = ["acoustic", "lexical", "early_fusion", "late_fusion"]
    one, two = (
        compare_methods(quick_methods(names), X, y, speakers, cv=3, n_jobs=n_jobs)
        for n_jobs in (1, 2)
    )
    scores = one.results.columns.drop("fit_seconds")
    pd.testing.assert_frame_equal(one.results[scores], two.results[scores])
    pd.testing.assert_frame_equal(one.predictions, two.predictions)
