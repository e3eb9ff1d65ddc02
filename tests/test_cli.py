"""The mmer command end to end, on tiny corpora: files, contents, errors."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_mmer._testing import run
from sklearn_mmer.datasets import make_multimodal_emotion, write_feature_table
from sklearn_mmer.model_selection import SpeakerKFold

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_METHODS = [
    "visual",
    "acoustic",
    "lexical",
    "early_fusion",
    "late_fusion",
    "logistic_regression",
]
METRICS = ["f1_micro", "f1_macro", "unweighted_accuracy"]
QUICK = ["--epochs", "2", "--n-jobs", "1"]


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """One default comparison on a 60-utterance bundled corpus, two folds."""
    out_dir = tmp_path_factory.mktemp("bundled")
    status, out, err = run(
        "compare", "--n-utterances", 60, "--folds", 2, "--out", out_dir, *QUICK
    )
    return status, out, err, out_dir


def small_corpus():
    """``(X, y)`` of 48 utterances, 4 speakers in 2 sessions, small widths."""
    X, y = make_multimodal_emotion(
        48,
        n_speakers=4,
        n_sessions=2,
        random_state=0,
        return_X_y=True,
        modalities={"visual": 10, "acoustic": 6, "lexical": 8},
    )
    return X, y


@pytest.fixture(scope="module")
def course_corpus(tmp_path_factory):
    """A small corpus written in the course-feature layout."""
    X, y = small_corpus()
    folder = tmp_path_factory.mktemp("course")
    write_feature_table(X, y, folder)
    return folder


def test_compare_writes_results_with_the_documented_schema(bundled):
    status, _, _, out_dir = bundled
    assert status == 0
    results = pd.read_csv(out_dir / "results.csv")
    assert results.columns.tolist() == [
        *["method", "repeat", "fold", "test_corpus", "seed", "n_train", "n_test"],
        *METRICS,
        *["fit_seconds", "best_params", "warnings", "error"],
    ]
    assert (results.repeat == 1).all() and (results.seed == 0).all()
    assert results.groupby("method").n_test.sum().unique().tolist() == [60]
    assert (results.n_train + results.n_test == 60).all()
    assert results.error.isna().all()
    assert results.method.unique().tolist() == DEFAULT_METHODS
    assert results.groupby("method").fold.apply(list).map(tuple).unique().tolist() == [
        (1, 2)
    ]
    assert results[METRICS].stack().between(0, 1).all()
    assert (results.fit_seconds > 0).all()


def test_summary_is_the_mean_and_std_of_results_best_first(bundled):
    out_dir = bundled[3]
    results = pd.read_csv(out_dir / "results.csv")
    summary = pd.read_csv(out_dir / "summary.csv")
    assert summary.columns.tolist() == [
        "method",
        "n_folds",
        "n_repeats",
        "n_failed",
    ] + [f"{m}_{s}" for m in METRICS for s in ("mean", "std", "ci_low", "ci_high")] + [
        "fit_seconds_mean",
        "fit_seconds_std",
    ]
    assert summary.f1_micro_mean.is_monotonic_decreasing
    by_method = results.groupby("method")
    for metric in METRICS:
        expected = by_method[metric].mean()[summary.method]
        np.testing.assert_allclose(summary[f"{metric}_mean"], expected)
        expected = by_method[metric].std(ddof=0)[summary.method]
        np.testing.assert_allclose(summary[f"{metric}_std"], expected)


def test_printed_table_matches_the_summary(bundled):
    _, out, _, out_dir = bundled
    summary = pd.read_csv(out_dir / "summary.csv")
    table, against = out.strip().split("\n\n")
    header, *rows = table.splitlines()
    assert header.split() == ["method", "f1_micro", "95%", "CI", *METRICS[1:]] + [
        "fit_seconds"
    ]
    assert [row.split()[0] for row in rows] == summary.method.tolist()
    first = summary.iloc[0]
    assert f"{first.f1_micro_mean:.3f} ± {first.f1_micro_std:.3f}" in rows[0]
    assert f"[{first.f1_micro_ci_low:.3f}, {first.f1_micro_ci_high:.3f}]" in rows[0]
    title, header, *rows = against.splitlines()
    assert title.startswith("f1_micro minus early_fusion, over 2 pairs of fold")
    assert header.split()[:2] == ["method", "difference"]
    others = [m for m in summary.method if m != "early_fusion"]
    assert [row.split()[0] for row in rows] == others


def test_comparisons_and_breakdowns_are_written(bundled):
    out_dir = bundled[3]
    results = pd.read_csv(out_dir / "results.csv")
    comparisons = pd.read_csv(out_dir / "comparisons.csv")
    # every default method but the reference: the modalities, late fusion and
    # the classical baseline
    assert len(comparisons) == 5 * len(METRICS)
    assert set(comparisons.reference) == {"early_fusion"}
    scores = results.pivot(index="fold", columns="method", values="f1_micro")
    for _, row in comparisons[comparisons.metric == "f1_micro"].iterrows():
        paired = scores[row.method] - scores["early_fusion"]
        assert row.difference == pytest.approx(paired.mean())
        # equal paired differences have no spread, so no interval around them
        # (their std is 0 up to rounding, which depends on the pandas release)
        no_spread = paired.std() == pytest.approx(0, abs=1e-12)
        assert row.ci_low < row.difference < row.ci_high or no_spread
    per_speaker = pd.read_csv(out_dir / "per_speaker.csv")
    # each of the 10 speakers is held out once, by every method
    assert per_speaker.groupby("method").speaker.nunique().tolist() == [10] * 6
    assert per_speaker.groupby("method").n_utterances.sum().tolist() == [60] * 6
    recall = pd.read_csv(out_dir / "per_class_recall.csv")
    predictions = pd.read_csv(out_dir / "predictions.csv")
    hits = predictions.assign(hit=predictions.y_true == predictions.y_pred)
    expected = hits.groupby(["method", "y_true"]).hit.mean()
    assert len(recall) == 6 * 4
    for _, row in recall.iterrows():
        assert row.recall == pytest.approx(expected[row.method, row.label])
    for name in ["per_speaker", "per_class_recall"]:
        assert (out_dir / f"{name}.png").read_bytes().startswith(PNG_SIGNATURE)


def test_progress_has_one_line_per_method_and_fold(bundled):
    err = bundled[2]
    pattern = re.compile(
        r"^\[(\w+)\] fold ([12])/2  f1_micro=[01]\.\d{3}  \(\d+\.\d s\)$"
    )
    progress = [m.groups() for m in map(pattern.match, err.splitlines()) if m]
    assert sorted(progress) == sorted((m, f) for m in DEFAULT_METHODS for f in "12")
    assert "synthetic data" in err.splitlines()[0]


def test_figures_and_confusion_counts_are_written(bundled):
    out_dir = bundled[3]
    for name in ["method_comparison", "modality_contribution", "confusion_matrices"]:
        data = (out_dir / f"{name}.png").read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
    counts = pd.read_csv(out_dir / "confusion_matrices.csv")
    # every utterance is tested once per method
    assert counts.groupby("method")["count"].sum().tolist() == [60] * 6


def test_no_figures_writes_the_same_tables_and_no_png(bundled, tmp_path):
    status, out, err = run(
        "compare",
        "--n-utterances",
        60,
        "--folds",
        2,
        "--out",
        tmp_path,
        *QUICK,
        "--no-figures",
    )
    assert status == 0, err
    assert not list(tmp_path.glob("*.png"))
    wrote = err.strip().splitlines()[-1]
    assert "wrote results.csv" in wrote and ".png" not in wrote
    for name in ["results.csv", "summary.csv", "predictions.csv", "per_speaker.csv"]:
        got, expected = (
            pd.read_csv(folder / name) for folder in (tmp_path, bundled[3])
        )
        timing = [c for c in expected if c.startswith("fit_seconds")]
        pd.testing.assert_frame_equal(
            got.drop(columns=timing), expected.drop(columns=timing)
        )


def test_quiet_prints_only_the_table(tmp_path):
    status, out, err = run(
        "compare",
        "--n-utterances",
        40,
        "--folds",
        2,
        "--methods",
        "lexical",
        "--quiet",
        "--out",
        tmp_path,
        *QUICK,
    )
    assert status == 0 and err == ""
    assert out.splitlines()[1].startswith("lexical ")


def test_compare_on_a_corpus_in_the_course_layout(course_corpus, tmp_path):
    status, _, err = run(
        "compare",
        "--data",
        course_corpus,
        "--modalities",
        "acoustic",
        "lexical",
        "--methods",
        "acoustic",
        "late_fusion",
        "--folds",
        2,
        "--out",
        tmp_path,
        *QUICK,
    )
    assert status == 0, err
    results = pd.read_csv(tmp_path / "results.csv")
    assert results.method.unique().tolist() == ["acoustic", "late_fusion"]
    assert "modalities acoustic, lexical" in err


def test_leave_one_session_out(course_corpus, tmp_path):
    status, _, err = run(
        "compare",
        "--data",
        course_corpus,
        "--cv",
        "session",
        "--methods",
        "lexical",
        "--out",
        tmp_path,
        *QUICK,
    )
    assert status == 0, err
    assert pd.read_csv(tmp_path / "results.csv").fold.tolist() == [1, 2]


@pytest.fixture
def bad_csv(tmp_path):
    path = tmp_path / "dataset.csv"
    path.write_text("name,label\nSes01F_a,0\n")
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "no/such/corpus"], "--data no/such/corpus: no such file"),
        (["--data", "BAD_CSV"], "lacks the column"),
        (
            ["--modalities", "audio"],
            "unknown modality 'audio'; the corpus has visual, acoustic, lexical",
        ),
        (["--methods", "svm"], "unknown method 'svm'; choose among visual,"),
        (["--methods", "all", "lexical"], "'all' cannot be combined"),
        (["--folds", "11"], "--folds 11 is more than the 10 speakers"),
        (["--folds", "1"], "argument --folds: must be at least 2"),
        (["--cv", "session", "--folds", "3"], "--folds sets speaker folds"),
        (["--n-jobs", "0"], "argument --n-jobs: must be a positive number or -1"),
        (["--cv", "loso"], "argument --cv: invalid choice"),
        (
            ["--methods", "lexical", "late_fusion", "--reference", "early_fusion"],
            "--reference early_fusion is not among the compared methods "
            "(lexical, late_fusion)",
        ),
        (["--content-disjoint"], "--content-disjoint needs a 'content' column"),
    ],
)
def test_user_errors_get_one_line_and_status_2(args, message, bad_csv, tmp_path):
    args = [str(bad_csv) if a == "BAD_CSV" else a for a in args]
    if "--data" not in args:
        args += ["--n-utterances", "40"]
    status, out, err = run("compare", "--out", tmp_path / "out", *args, *QUICK)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mmer: error: ")
    assert message in err


@pytest.fixture(scope="module")
def one_emotion_per_session(tmp_path_factory):
    """A corpus whose two sessions hold one emotion each: it loads cleanly, but
    leaving a session out trains on a single class, which fitting rejects."""
    X, _ = small_corpus()
    y = np.where(X["session"] == X["session"].iloc[0], "anger", "sadness")
    folder = tmp_path_factory.mktemp("one_emotion_per_session")
    write_feature_table(X, y, folder)
    return folder


def test_fits_failing_during_the_run_are_recorded_and_exit_1(
    one_emotion_per_session, tmp_path
):
    args = ["compare", "--data", one_emotion_per_session, "--cv", "session"]
    args += ["--methods", "lexical"]
    status, out, err = run(*args, "--out", tmp_path, *QUICK)
    assert status == 1
    assert out.splitlines()[1].split()[:4] == ["lexical", *["failed"] * 3]
    assert "mmer: 2 of 2 fits failed" in err
    assert "mmer: warning: fold 1: class 'anger' (24 test utterances" in err
    for fold in (1, 2):
        assert (
            f"lexical (repeat/fold 1/{fold}): ValueError: MLPClassifier needs " in err
        )
    results = pd.read_csv(tmp_path / "results.csv")
    assert results[METRICS].isna().all().all()
    assert results.error.str.startswith("ValueError: ").all()


def test_traceback_shows_where_the_data_failed(one_emotion_per_session, tmp_path):
    args = ["compare", "--data", one_emotion_per_session, "--cv", "session"]
    with pytest.raises(ValueError, match="needs samples of at least 2 classes"):
        run(*args, "--methods", "lexical", "--out", tmp_path, "--traceback", *QUICK)


def test_an_error_on_the_bundled_corpus_keeps_its_traceback(monkeypatch, tmp_path):
    """There the data is ours: a ValueError is a defect, not a user's mistake."""
    import sklearn_mmer.evaluation

    def broken(*args, **kwargs):
        raise ValueError("a defect deep in a fit")

    monkeypatch.setattr(sklearn_mmer.evaluation, "compare_methods", broken)
    with pytest.raises(ValueError, match="a defect deep in a fit"):
        run("compare", "--n-utterances", 40, "--out", tmp_path, *QUICK)


def test_n_utterances_is_for_the_bundled_corpus_only(course_corpus, tmp_path):
    status, _, err = run("compare", "--data", course_corpus, "--n-utterances", 50)
    assert status == 2 and "not with --data" in err


def test_methods_lists_every_registered_method():
    status, out, _ = run("methods")
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names[:3] == ["<modality>", "early_fusion", "late_fusion"]


def test_methods_data_lists_what_runs_on_the_corpus_s_modalities(tmp_path):
    X, y = make_multimodal_emotion(
        20,
        n_speakers=4,
        n_sessions=2,
        random_state=0,
        return_X_y=True,
        modalities={"visual": 4, "acoustic": 3},
    )
    write_feature_table(X, y, tmp_path / "corpus")
    status, out, err = run("methods", "--data", tmp_path / "corpus")
    assert status == 0, err
    runs, refused = out.split("cannot run on these modalities:")
    names = [line.split()[0] for line in runs.splitlines()[1:]]
    assert names[:4] == ["visual", "acoustic", "early_fusion", "late_fusion"]
    assert "late_fusion_weighted" not in names and "lexical" not in names
    assert refused.split()[0] == "late_fusion_weighted"
    assert "needs the modality 'lexical'" in refused


def test_python_m_sklearn_mmer_runs_the_command():
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "sklearn_mmer", "compare", "--help"],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
        env={"PYTHONPATH": str(root), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    for option in [
        "--data",
        "--modalities",
        "--methods",
        "--folds",
        "--out",
        "--n-jobs",
        "--seed",
        "--quiet",
        "--cv",
        "--epochs",
        "--threads",
        "--repeats",
        "--resume",
    ]:
        assert option in done.stdout


def test_methods_all_runs_every_registered_method(tmp_path):
    from sklearn_mmer.evaluation import registered_methods

    status, out, err = run(
        "compare",
        "--methods",
        "all",
        "--n-utterances",
        60,
        "--folds",
        2,
        "--out",
        tmp_path,
        "--quiet",
        "--no-figures",
        *QUICK,
    )
    assert status == 0, err
    results = pd.read_csv(tmp_path / "results.csv")
    expected = set(DEFAULT_METHODS) | set(registered_methods())
    assert set(results.method) == expected
    assert len(results) == 2 * len(expected)
    assert results[METRICS].notna().all().all()


def test_bundled_corpus_features_do_not_depend_on_the_modalities_chosen():
    from argparse import Namespace

    from sklearn_mmer.cli._steps import bundled_corpus

    def corpus(modalities):
        args = Namespace(modalities=modalities, n_utterances=30, seed=3)
        return bundled_corpus(args)

    full, lexical = corpus(None), corpus(["lexical"])
    assert lexical.modalities == ["lexical"]
    assert "visual" not in lexical.data and "visual" in full.data
    for a, b in zip(full.data["lexical"], lexical.data["lexical"]):
        np.testing.assert_array_equal(a, b)


def scripted_lines(n):
    """Half the utterances read one of 7 script lines; the rest improvised."""
    return [f"line{i % 7}" if i % 2 else f"improvised{i}" for i in range(n)]


@pytest.fixture(scope="module")
def scripted_corpus(tmp_path_factory):
    """The small corpus in the course-feature layout, with a content column."""
    X, y = small_corpus()
    folder = tmp_path_factory.mktemp("scripted")
    write_feature_table(X, y, folder)
    table = pd.read_csv(folder / "dataset.csv")
    table["content"] = scripted_lines(len(table))
    table.to_csv(folder / "dataset.csv", index=False)
    return folder


def test_content_disjoint_drops_and_reports_training_rows(scripted_corpus, tmp_path):
    args = ["compare", "--data", scripted_corpus, "--folds", 2, "--methods", "lexical"]
    status, _, err = run(*args, "--content-disjoint", "--out", tmp_path, *QUICK)
    assert status == 0, err
    X, _ = small_corpus()
    content, speakers = np.array(scripted_lines(len(X))), X["speaker"].to_numpy()
    folds = list(SpeakerKFold(2).split(X, groups=speakers))
    dropped = [int(np.isin(content[tr], content[te]).sum()) for tr, te in folds]
    assert sum(dropped) > 0
    results = pd.read_csv(tmp_path / "results.csv")
    assert results.n_train.tolist() == [
        len(tr) - n for (tr, _), n in zip(folds, dropped)
    ]
    assert results.n_test.tolist() == [len(te) for _, te in folds]
    assert (
        f"content-disjoint ({sum(dropped)} training utterances dropped; per fold "
        f"{dropped[0]}, {dropped[1]})" in err
    )
