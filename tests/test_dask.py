"""Grid searches and comparisons on a real Dask cluster give one process's scores.

One LocalCluster of 2 worker processes on 127.0.0.1 serves the whole module; the
test that kills a worker runs last.
"""

import concurrent.futures
import os
import pickle
import signal
import sys
from types import SimpleNamespace

import distributed
import numpy as np
import pandas as pd
import pytest
import torch
from joblib import Parallel, cpu_count, delayed, parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV

from sklearn_mmer.cli import main
from sklearn_mmer.evaluation import (
    SCORING,
    compare_methods,
    make_methods,
    set_epochs,
    set_every,
)
from sklearn_mmer.evaluation._sharing import _CorpusView, plan_work
from sklearn_mmer.fusion import make_modality_pipeline
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.utils import _runtime
from sklearn_mmer.utils._dask_plugin import TorchThreads
from sklearn_mmer.utils._data import is_cell_input

MODALITIES = ["visual", "acoustic", "lexical"]
SCORES = ["method", "fold", *SCORING]
# a bound on every run here: a hang fails the test instead of the suite
RUN_SECONDS = 180


@pytest.fixture(scope="module")
def client():
    """2 worker processes of one thread on 127.0.0.1, one torch thread per fit
    (as in this process, so that the float arithmetic is the same)."""
    with _runtime.dask_client("local:2", torch_threads=1, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def corpus():
    from sklearn_mmer._testing import make_tiny_corpus

    return make_tiny_corpus(
        n_utterances=48, n_speakers=4, informative=("acoustic", "lexical")
    )


def tiny(names):
    methods = make_methods(MODALITIES, names, random_state=0)
    for method in methods.values():
        set_epochs(method, 1)
        set_every(method, "hidden_layer_sizes", (8,))
        set_every(method, "hidden_dim", 4)
    return methods


def on_cluster(client, function, *args, scatter=None):
    """``function(*args)`` under joblib's dask backend; also the tasks run."""
    pool = concurrent.futures.ThreadPoolExecutor(1)

    def call():
        with (
            distributed.get_task_stream(client) as stream,
            parallel_config(backend="dask", client=client, scatter=scatter),
        ):
            result = function(*args)
        return result, stream.data

    try:
        return pool.submit(call).result(timeout=RUN_SECONDS)
    finally:
        pool.shutdown(wait=False)


def grid_searches():
    early, late, gru = tiny(["early_fusion", "late_fusion", "gru"]).values()
    return {
        "early_fusion": (
            early,
            {"columntransformer__lexical__temporalpooling__method": ["mean", "max"]},
        ),
        "late_fusion": (late, {"voting": ["hard", "soft"]}),
        "gru": (gru, {"hidden_dim": [4, 8]}),
    }


@pytest.mark.parametrize("name", ["early_fusion", "late_fusion", "gru"])
def test_grid_search_on_the_cluster_scores_as_one_process(client, corpus, name):
    X, y, speakers = corpus
    estimator, grid = grid_searches()[name]
    search = GridSearchCV(estimator, grid, cv=SpeakerKFold(2), scoring="f1_micro")
    local = clone(search).fit(X, y, groups=speakers)
    remote, tasks = on_cluster(
        client, lambda: clone(search).fit(X, y, groups=speakers), scatter=[X, y]
    )
    assert tasks, "no task ran on the cluster"
    for key in ["split0_test_score", "split1_test_score", "mean_test_score"]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_


def test_fitted_nets_come_back_from_the_workers_usable(client, corpus):
    X, y, _ = corpus
    estimators = list(tiny(["lexical", "gru"]).values())
    local = [clone(e).fit(X, y) for e in estimators]

    def fit_all(estimators):
        return Parallel()(delayed(clone(e).fit)(X, y) for e in estimators)

    remote, tasks = on_cluster(client, fit_all, estimators)
    assert tasks
    for fitted, reference in zip(remote, local):
        expected = reference.predict_proba(X)
        np.testing.assert_array_equal(fitted.predict_proba(X), expected)
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.predict_proba(X), expected)
        assert list(fitted.classes_) == list(reference.classes_)


def test_a_pickled_corpus_is_still_read_as_cells(corpus):
    # unpickled dtypes are equal to np.dtype(object) but not the same object
    X = pickle.loads(pickle.dumps(corpus[0]))
    assert is_cell_input(X[["acoustic"]])
    gru = tiny(["gru"])["gru"]
    np.testing.assert_array_equal(
        clone(gru).fit(X, corpus[1]).predict_proba(corpus[0]),
        clone(gru).fit(corpus[0], corpus[1]).predict_proba(corpus[0]),
    )


def test_compare_methods_on_the_cluster_gives_the_local_table(client, corpus):
    X, y, speakers = corpus
    methods = tiny(["lexical", "early_fusion", "late_fusion", "gru"])
    local = compare_methods(methods, X, y, speakers, cv=2)
    remote, tasks = on_cluster(
        client, lambda: compare_methods(methods, X, y, speakers, cv=2, n_jobs=-1)
    )
    assert tasks
    pd.testing.assert_frame_equal(remote.results[SCORES], local.results[SCORES])
    for name in methods:
        np.testing.assert_array_equal(
            remote.confusion_matrices[name], local.confusion_matrices[name]
        )


def test_fits_on_the_cluster_compute_with_n_threads(client, corpus):
    from sklearn_mmer._testing import ThreadRecordingLogisticRegression

    X, y, speakers = corpus
    pipeline = make_modality_pipeline(
        "lexical", classifier=ThreadRecordingLogisticRegression()
    )
    comparison, tasks = on_cluster(
        client,
        lambda: compare_methods(
            {"lexical": pipeline},
            X,
            y,
            speakers,
            cv=2,
            n_jobs=-1,
            n_threads=2,
            return_estimator=True,
        ),
    )
    assert tasks
    seen = [fitted[-1].threads_ for fitted in comparison.estimators.values()]
    assert seen == [{2}] * 2
    # the workers keep the threads they were started with
    assert set(client.run(torch.get_num_threads).values()) == {1}


def test_a_cluster_of_one_thread_gives_the_local_table(corpus):
    """joblib runs the tasks of a one-thread cluster in the calling process."""
    X, y, speakers = corpus
    methods = tiny(["lexical", "late_fusion"])
    local = compare_methods(methods, X, y, speakers, cv=2)
    with _runtime.dask_cluster("local:1", torch_threads=1, timeout=60):
        alone = compare_methods(methods, X, y, speakers, cv=2, n_jobs=-1)
    assert (alone.results.error == "").all(), alone.results.error.iloc[0]
    pd.testing.assert_frame_equal(alone.results[SCORES], local.results[SCORES])


def test_the_corpus_is_sent_to_the_cluster_once(client, corpus, monkeypatch):
    X, y, speakers = corpus
    pickled = []
    reduce = _CorpusView.__reduce_ex__

    def counting_reduce(self, protocol):
        pickled.append(id(self))
        return reduce(self, protocol)

    monkeypatch.setattr(_CorpusView, "__reduce_ex__", counting_reduce)
    methods = tiny(["visual", "acoustic", "lexical", "early_fusion"])
    on_cluster(client, lambda: compare_methods(methods, X, y, speakers, cv=4))
    n_tasks = 4 * len(methods)
    n_views = len(plan_work([methods], X, MODALITIES, share_members=True).views)
    assert n_views == 4
    # each view is pickled to reach the scheduler and then one worker (the
    # scheduler runs in this process), not once per task that reads it (one
    # per fold): the other workers copy it from that one
    assert len(pickled) <= 2 * n_views < n_tasks


def test_cli_runs_on_a_running_scheduler(client, tmp_path):
    quick = ["--n-utterances", 40, "--folds", 2, "--epochs", 1, "--methods", "lexical"]
    quick += ["late_fusion", "--quiet", "--no-figures"]
    tables = []
    for where in [["--n-jobs", 1], ["--scheduler", client.scheduler.address]]:
        out = tmp_path / where[0].strip("-")
        status = main([str(a) for a in ["compare", *quick, *where, "--out", out]])
        assert status == 0
        tables.append(pd.read_csv(out / "results.csv"))
    pd.testing.assert_frame_equal(tables[1][SCORES], tables[0][SCORES])


def test_cli_across_corpora_runs_on_a_running_scheduler(client, tmp_path):
    from sklearn_mmer._testing import make_clean_corpus
    from sklearn_mmer.datasets import write_feature_table

    for name, seed in (("A", 0), ("B", 1)):
        X, y, _ = make_clean_corpus(seed=seed)
        write_feature_table(X, y, tmp_path / name, target_names=None)
    quick = ["--data", tmp_path / "A", "--test-data", tmp_path / "B", "--folds", 2]
    quick += ["--epochs", 1, "--methods", "lexical", "late_fusion", "--quiet"]
    quick += ["--no-figures"]
    tables = []
    for where in [["--n-jobs", 1], ["--scheduler", client.scheduler.address]]:
        out = tmp_path / where[0].strip("-")
        with distributed.get_task_stream(client) as stream:
            status = main([str(a) for a in ["compare", *quick, *where, "--out", out]])
        assert status == 0
        assert bool(stream.data) == (where[0] == "--scheduler")
        tables.append(pd.read_csv(out / "results.csv", keep_default_na=False))
    columns = [*SCORES, "test_corpus"]
    assert tables[0]["test_corpus"].tolist() == [""] * 4 + ["B"] * 4
    pd.testing.assert_frame_equal(tables[1][columns], tables[0][columns])


def test_workers_run_the_torch_threads_asked(client):
    assert set(client.run(torch.get_num_threads).values()) == {1}
    assert client.submit(torch.get_num_threads, pure=False).result() == 1


@pytest.mark.parametrize(
    "slots, nthreads, sharing",
    [
        (None, 1, 1),  # a host not known: its worker alone
        ({"127.0.0.1": 2}, 1, 2),  # two workers on this host
        ({"10.0.0.9": 8}, 2, 2),  # another host's workers do not count
        ({"127.0.0.1": 1}, 2, 2),  # a worker counts at least its own threads
    ],
)
def test_torch_threads_share_a_machine_s_cores(slots, nthreads, sharing):
    worker = SimpleNamespace(
        address="tcp://127.0.0.1:4000", state=SimpleNamespace(nthreads=nthreads)
    )
    expected = max(1, cpu_count() // sharing)
    assert TorchThreads(None, slots).threads_for(worker) == expected
    assert TorchThreads(3, slots).threads_for(worker) == 3


@pytest.mark.parametrize(
    "value, message",
    [
        ("local:0", "positive integer, as in 'local:4'; got 'local:0'"),
        ("local:two", "positive integer"),
        ("", "scheduler must be 'local', 'local:N' or a scheduler address"),
    ],
)
def test_a_malformed_scheduler_is_a_usage_error(value, message, capsys):
    assert main(["compare", "--scheduler", value]) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_scheduler_fails_within_the_timeout(monkeypatch, capsys):
    monkeypatch.setattr(_runtime, "CONNECT_TIMEOUT", 1)
    status = main(
        ["compare", "--n-utterances", "40", "--scheduler", "tcp://127.0.0.1:9"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err[-1] == (
        "mmer: error: --scheduler tcp://127.0.0.1:9: no Dask scheduler answered "
        "at tcp://127.0.0.1:9 within 1 s; check the address and that 'dask "
        "scheduler' runs there, or use local:N for a cluster on this machine"
    )


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_a_scheduler_without_workers_is_reported(monkeypatch, capsys):
    monkeypatch.setattr(_runtime, "CONNECT_TIMEOUT", 1)
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None
    ) as empty:
        address = empty.scheduler_address
        status = main(["compare", "--n-utterances", "40", "--scheduler", address])
    assert status == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"mmer: error: --scheduler {address}: the Dask scheduler at {address} has "
        f"no worker after 1 s; start some with 'dask worker {address}'"
    )


def test_without_distributed_the_error_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["compare", "--n-utterances", "40", "--scheduler", "local:2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "needs the 'distributed' package" in err
    assert "pip install 'sklearn-mmer[dask]'" in err


class KillsItsWorkerOnce(ClassifierMixin, BaseEstimator):
    """Fits ``estimator``; the first fit on a Dask worker kills that worker."""

    def __init__(self, estimator=None, *, marker=None):
        self.estimator = estimator
        self.marker = marker

    def fit(self, X, y):
        try:
            distributed.get_worker()
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except (ValueError, FileExistsError):
            pass  # not on a worker, or already killed one
        else:
            os.kill(os.getpid(), signal.SIGKILL)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


def test_a_killed_worker_loses_no_fold(client, corpus, tmp_path):
    X, y, speakers = corpus
    marker = tmp_path / "killed"
    methods = tiny(["lexical", "late_fusion"])
    methods["killer"] = KillsItsWorkerOnce(methods["lexical"], marker=str(marker))
    local = compare_methods(methods, X, y, speakers, cv=2)
    remote, _ = on_cluster(
        client, lambda: compare_methods(methods, X, y, speakers, cv=2, n_jobs=-1)
    )
    assert marker.exists(), "no worker was killed"
    pd.testing.assert_frame_equal(remote.results[SCORES], local.results[SCORES])
