"""compare_methods(checkpoint=...): every finished fold kept at once; resume."""

import hashlib
import json
import math
import os
import platform
import signal
import threading
import time
import warnings
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_mmer._testing import MemoryHoarder, ctrl_c_raises
from sklearn_mmer.evaluation import compare_methods, make_methods, set_epochs, set_every
from sklearn_mmer.fusion import make_late_fusion, make_modality_pipeline

MODALITIES = ["visual", "acoustic", "lexical"]


@pytest.fixture
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(n_utterances=60, informative=("lexical",))


class CountingLogisticRegression(LogisticRegression):
    """Counts fits across clones."""

    fits = []

    def fit(self, X, y, sample_weight=None):
        CountingLogisticRegression.fits.append(len(X))
        return super().fit(X, y, sample_weight=sample_weight)


def counting_methods(classifier=None):
    """Two modalities and their late fusion; by default, counting their fits.
    Runs in worker processes take a plain ``LogisticRegression``: a worker
    unpickling a class of this module would import the module, and with it
    every method family."""
    classifier = CountingLogisticRegression() if classifier is None else classifier
    methods = {
        m: make_modality_pipeline(m, classifier=classifier)
        for m in ("visual", "lexical")
    }
    methods["late_fusion"] = make_late_fusion(
        ["visual", "lexical"], classifier=classifier
    )
    return methods


def network_methods(seed):
    methods = make_methods(MODALITIES, ["lexical", "late_fusion"], random_state=seed)
    for method in methods.values():
        set_epochs(method, 2)
        set_every(method, "hidden_layer_sizes", (8,))
    return methods


def without_time(results):
    return results.drop(columns="fit_seconds")


def test_a_checkpoint_keeps_each_fold_and_the_results_so_far(corpus, tmp_path):
    X, y, speakers = corpus
    plain = compare_methods(counting_methods(), X, y, speakers, cv=3)
    kept = compare_methods(
        counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path
    )
    pd.testing.assert_frame_equal(
        without_time(plain.results), without_time(kept.results)
    )
    assert len(list((tmp_path / ".checkpoint").glob("*.json"))) == 9
    written = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert written.method.tolist() == kept.results.method.tolist()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert list(manifest["methods"]) == ["visual", "lexical", "late_fusion"]
    assert manifest["folds"]["sizes"] == [[40, 20]] * 3
    assert manifest["versions"]["scikit-learn"]


def test_resume_fits_only_what_is_missing_and_gives_the_same_bits(corpus, tmp_path):
    X, y, speakers = corpus
    whole = compare_methods(
        network_methods,
        X,
        y,
        speakers,
        cv=3,
        n_repeats=2,
        random_state=0,
        checkpoint=tmp_path,
    )
    parts = sorted((tmp_path / ".checkpoint").glob("*.json"))
    assert len(parts) == 2 * 2 * 3
    for part in parts[::3]:  # as if the run had been killed before these
        part.unlink()
    resumed = compare_methods(
        network_methods,
        X,
        y,
        speakers,
        cv=3,
        n_repeats=2,
        random_state=0,
        checkpoint=tmp_path,
        resume=True,
    )
    pd.testing.assert_frame_equal(
        without_time(whole.results), without_time(resumed.results)
    )
    pd.testing.assert_frame_equal(whole.predictions, resumed.predictions)
    for name in whole.confusion_matrices:
        np.testing.assert_array_equal(
            whole.confusion_matrices[name], resumed.confusion_matrices[name]
        )


def test_resume_skips_the_fits_of_finished_folds(corpus, tmp_path):
    X, y, speakers = corpus
    compare_methods(counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path)
    late = sorted(
        p
        for p in (tmp_path / ".checkpoint").glob("*-f2.json")
        if json.loads(p.read_text())["row"]["method"] == "late_fusion"
    )
    late[0].unlink()
    CountingLogisticRegression.fits.clear()
    compare_methods(
        counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path, resume=True
    )
    # the vote of fold 2 needs both members again; nothing else is fit
    assert CountingLogisticRegression.fits == [40, 40]


def _former_fingerprint(X, y, groups):
    """The data fingerprint a run's manifest.json recorded up to 0.1.0.dev0."""
    digest = hashlib.sha256()

    def update(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            digest.update(b"missing;")
            return
        array = np.asarray(value)
        if array.dtype == object:
            digest.update(repr(array.tolist()).encode())
        else:
            digest.update(f"{array.dtype.str}{array.shape};".encode())
            digest.update(np.ascontiguousarray(array).tobytes())

    for column in X.columns:
        digest.update(f"column {column!s}".encode())
        for cell in X[column]:
            update(cell)
    update(np.asarray(y))
    update(None if groups is None else np.asarray(groups))
    return digest.hexdigest()


def _former_versions():
    """The versions a run's manifest.json recorded up to 0.1.0.dev0."""
    found = {"python": platform.python_version()}
    for name in ("sklearn-mmer", "scikit-learn", "numpy", "torch", "skorch", "pandas"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def test_a_run_folder_written_by_the_former_code_resumes(corpus, tmp_path):
    X, y, speakers = corpus
    first = compare_methods(
        counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path
    )
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["data"]["fingerprint"] == _former_fingerprint(X, y, speakers)
    # as the former code wrote them: Python first, then each library
    manifest["versions"] = _former_versions()
    manifest_path.write_text(json.dumps(manifest, indent=1))
    CountingLogisticRegression.fits.clear()
    resumed = compare_methods(
        counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path, resume=True
    )
    assert CountingLogisticRegression.fits == []
    pd.testing.assert_frame_equal(first.results, resumed.results)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"cv": 2}, "the folds differ"),
        ({"methods": "epochs"}, "the parameters of late_fusion differ"),
        ({"methods": "fewer"}, "it compared the methods visual, lexical, late_fusion"),
        ({"y": "shuffled"}, "the data differ"),
        ({"scoring": "accuracy"}, "its scoring were"),
    ],
)
def test_resume_refuses_another_configuration(corpus, tmp_path, change, message):
    X, y, speakers = corpus
    arguments = {"methods": counting_methods(), "X": X, "y": y, "groups": speakers}
    compare_methods(**arguments, cv=3, checkpoint=tmp_path)
    arguments["cv"] = 3
    arguments.update(change)
    if change.get("methods") == "epochs":
        arguments["methods"] = counting_methods()
        arguments["methods"]["late_fusion"].set_params(
            visual__countinglogisticregression__C=2.0
        )
    elif change.get("methods") == "fewer":
        arguments["methods"] = {"visual": counting_methods()["visual"]}
    elif change.get("y") == "shuffled":
        arguments["y"] = np.random.RandomState(0).permutation(y)
    with pytest.raises(ValueError, match=f"cannot resume the run in .*{message}"):
        compare_methods(**arguments, checkpoint=tmp_path, resume=True)


def test_resume_needs_a_run_to_resume(corpus, tmp_path):
    X, y, speakers = corpus
    with pytest.raises(ValueError, match="nothing to resume in .*manifest.json"):
        compare_methods(
            counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path, resume=True
        )
    with pytest.raises(ValueError, match="resume=True needs the checkpoint folder"):
        compare_methods(counting_methods(), X, y, speakers, cv=3, resume=True)


class SwallowsInterrupt(LogisticRegression):
    """Is interrupted mid-fit and carries on, as skorch's fit does."""

    def fit(self, X, y, sample_weight=None):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the signal lands here
        except KeyboardInterrupt:
            pass  # skorch: stop training early, return the half-trained net
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_fit_cut_short_by_ctrl_c_is_never_scored(corpus, tmp_path):
    X, y, speakers = corpus
    methods = {
        "lexical": make_modality_pipeline("lexical", classifier=LogisticRegression()),
        "cut_short": make_modality_pipeline("visual", classifier=SwallowsInterrupt()),
    }
    with ctrl_c_raises(), pytest.raises(KeyboardInterrupt):
        compare_methods(methods, X, y, speakers, cv=3, checkpoint=tmp_path, n_jobs=1)
    kept = pd.read_csv(tmp_path / "results.csv")
    assert kept.method.tolist() == ["lexical"]  # its first fold, fit before


class SwallowsInterruptThenFails(LogisticRegression):
    """Is interrupted before anything is trained, carries on as skorch's fit
    does, then fails on what the interrupt left (skorch: a history without a
    finished epoch)."""

    def fit(self, X, y, sample_weight=None):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the signal lands here
        except KeyboardInterrupt:
            pass
        raise KeyError("Key 'train_loss' was not found in history.")


def test_ctrl_c_wins_over_the_error_a_fit_that_caught_it_then_raises(corpus, tmp_path):
    """The user's Ctrl-C stops the run; the fit's own error after it is no
    failed fold that the run records and carries on from."""
    X, y, speakers = corpus
    methods = {
        "lexical": make_modality_pipeline("lexical", classifier=LogisticRegression()),
        "cut_short": make_modality_pipeline(
            "visual", classifier=SwallowsInterruptThenFails()
        ),
    }
    with ctrl_c_raises(), pytest.raises(KeyboardInterrupt) as stopped:
        compare_methods(methods, X, y, speakers, cv=3, checkpoint=tmp_path, n_jobs=1)
    assert isinstance(stopped.value.__cause__, KeyError)
    kept = pd.read_csv(tmp_path / "results.csv")
    assert kept.method.tolist() == ["lexical"]  # its first fold, fit before


class SendsCtrlC(LogisticRegression):
    """Sends this process a SIGINT in the middle of its fit."""

    def fit(self, X, y, sample_weight=None):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # where a handler would raise
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(corpus, tmp_path):
    """A background job of a shell script starts with SIGINT ignored:
    a SIGINT during a fit, or while a fold is kept, then changes nothing."""
    X, y, speakers = corpus
    methods = {
        "lexical": make_modality_pipeline("lexical", classifier=LogisticRegression()),
        "signalled": make_modality_pipeline("visual", classifier=SendsCtrlC()),
    }
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        comparison = compare_methods(
            methods,
            X,
            y,
            speakers,
            cv=3,
            checkpoint=tmp_path,
            n_jobs=1,
            progress=lambda record: os.kill(os.getpid(), signal.SIGINT),
        )
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(comparison.results) == 6
    assert comparison.results.f1_micro.notna().all()


def test_an_interrupted_parallel_run_says_nothing_of_cancelled_tasks(corpus):
    X, y, speakers = corpus

    def interrupt(record):
        raise KeyboardInterrupt  # Ctrl-C just after the first fold is recorded

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            compare_methods(
                counting_methods(LogisticRegression()),
                X,
                y,
                speakers,
                cv=3,
                n_jobs=2,
                progress=interrupt,
            )
    # the workers' fits are cancelled on purpose: joblib's note on it is noise
    assert not [w for w in caught if "task" in str(w.message)], [
        str(w.message) for w in caught
    ]


def test_ctrl_c_while_a_fold_is_kept_waits_until_the_progress_counts_it(
    corpus, tmp_path, monkeypatch
):
    from sklearn_mmer.evaluation._checkpoint import Checkpoint

    X, y, speakers = corpus
    add = Checkpoint.add

    def add_then_interrupt(self, *args, **kwargs):
        add(self, *args, **kwargs)
        # after the write, before progress; delivered to another thread, as
        # the kernel may do with a Ctrl-C when joblib's threads run
        other = threading.Thread(target=time.sleep, args=(1,))
        other.start()
        signal.pthread_kill(other.ident, signal.SIGINT)
        other.join()

    monkeypatch.setattr(Checkpoint, "add", add_then_interrupt)
    counted = []
    with ctrl_c_raises(), pytest.raises(KeyboardInterrupt):
        compare_methods(
            counting_methods(),
            X,
            y,
            speakers,
            cv=3,
            checkpoint=tmp_path,
            n_jobs=1,
            progress=lambda record: counted.append(record["n_finished"]),
        )
    kept = pd.read_csv(tmp_path / "results.csv")
    assert len(kept) == 1 and counted == [1]


def test_a_worker_restarted_for_its_memory_loses_nothing_and_says_nothing(corpus):
    pytest.importorskip("psutil")  # loky checks memory only with it
    X, y, speakers = corpus
    methods = {
        m: make_modality_pipeline(m, classifier=MemoryHoarder())
        for m in ("visual", "lexical")
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comparison = compare_methods(
            methods, X, y, speakers, cv=3, n_jobs=2, return_estimator=True
        )
    results = comparison.results
    assert len(results) == 6 and results.f1_micro.notna().all()
    assert not [w for w in caught if "worker stopped" in str(w.message)]
    # a worker takes its reference after its first fit and leaves after its
    # second: 6 fits on 2 workers need a third process, started mid-run
    pids = {fitted[-1].pid_ for fitted in comparison.estimators.values()}
    assert len(pids) >= 3, pids


def test_predictions_carry_the_utterance_id_and_probabilities(corpus, tmp_path):
    X, y, speakers = corpus
    X = X.set_axis([f"utt{i:03d}" for i in range(len(X))])
    methods = counting_methods()
    methods["late_fusion"].set_params(voting="hard")
    comparison = compare_methods(methods, X, y, speakers, cv=3)
    predictions = comparison.predictions
    probas = [f"proba_{label}" for label in comparison.labels]
    assert predictions.columns.tolist() == [
        *["method", "repeat", "fold", "row", "y_true", "y_pred"],
        "utterance_id",
        *probas,
    ]
    assert (predictions.utterance_id == X.index[predictions.row]).all()
    soft = predictions[predictions.method != "late_fusion"]
    assert np.allclose(soft[probas].sum(axis=1), 1.0)
    best = np.asarray(comparison.labels)[soft[probas].to_numpy().argmax(axis=1)]
    assert (best == soft.y_pred).all()
    # a hard vote has no probabilities
    hard = predictions.loc[predictions.method == "late_fusion", probas]
    assert hard.isna().to_numpy().all()


def test_a_run_of_an_earlier_version_without_probabilities_resumes(corpus, tmp_path):
    from sklearn_mmer.evaluation._records import checksum

    X, y, speakers = corpus
    whole = compare_methods(counting_methods(), X, y, speakers, cv=3)
    compare_methods(counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path)
    stripped = []
    for path in sorted((tmp_path / ".checkpoint").glob("*.json")):
        record = json.loads(path.read_text())  # as the earlier version wrote it
        if record.pop("proba", None) is not None:  # the hard vote has none
            stripped.append(path)
        record["sha256"] = checksum(record)
        path.write_text(json.dumps(record))
    assert len(stripped) == 6
    stripped[0].unlink()  # one fold left to run
    resumed = compare_methods(
        counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path, resume=True
    )
    pd.testing.assert_frame_equal(
        without_time(resumed.results), without_time(whole.results)
    )
    probas = [c for c in resumed.predictions if c.startswith("proba_")]
    has = resumed.predictions[probas].notna().all(axis=1)
    assert 0 < has.sum() < len(has)  # only the fold run again has them
    columns = ["method", "repeat", "fold", "row", "y_true", "y_pred"]
    pd.testing.assert_frame_equal(
        resumed.predictions[columns], whole.predictions[columns]
    )


def test_a_record_with_altered_probabilities_is_refused(corpus, tmp_path):
    from sklearn_mmer.evaluation import CheckpointError
    from sklearn_mmer.evaluation._records import checksum

    X, y, speakers = corpus
    compare_methods(counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path)
    records = sorted((tmp_path / ".checkpoint").glob("*.json"))
    path = next(p for p in records if "proba" in json.loads(p.read_text()))
    record = json.loads(path.read_text())
    record["proba"][0][0] = 1.5
    record["sha256"] = checksum(record)
    path.write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="probabilities are not"):
        compare_methods(
            counting_methods(), X, y, speakers, cv=3, checkpoint=tmp_path, resume=True
        )
