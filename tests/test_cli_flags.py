"""Every flag of ``mmer`` means one thing in every command: ``--cv`` is
speaker or session and ``--folds`` the number of folds, in ``compare`` as in
``fit``; ``--quiet`` silences stderr but for errors and leaves the results."""

import pandas as pd
import pytest

from sklearn_mmer._testing import run

BUNDLED = ["--n-utterances", "40", "--epochs", "1"]


@pytest.mark.parametrize("command", ["compare", "fit"])
def test_cv_with_a_number_of_folds_points_at_folds(command, tmp_path):
    args = (
        ["--method", "lexical", "--model", tmp_path / "m"] if command == "fit" else []
    )
    status, out, err = run(command, "--cv", "5", *args)
    assert status == 2 and out == ""
    assert err == (
        "mmer: error: --cv takes speaker or session; the number of folds is --folds 5\n"
    )


@pytest.mark.parametrize(
    "options, scores",
    [
        ([], "## Cross-validated scores\n\nNot measured."),
        (["--folds", "2"], "## Cross-validated scores (2 speaker folds)\n"),
        (["--cv", "speaker"], "## Cross-validated scores (5 speaker folds)\n"),
        (
            ["--cv", "session"],
            "## Cross-validated scores (leave-one-session-out (5 folds))\n",
        ),
    ],
)
def test_fit_cross_validates_as_compare_does(options, scores, tmp_path):
    model = tmp_path / "lexical.mmer"
    fit = ["fit", "--method", "lexical", "--model", model, "--n-jobs", "1"]
    status, out, err = run(*fit, *options, *BUNDLED, "--quiet")
    assert (status, out, err) == (0, "", "")
    assert scores in model.with_suffix(".card.md").read_text()


@pytest.mark.parametrize(
    "options, message",
    [
        (["--folds", "11"], "--folds 11 is more than the 10 speakers of the corpus"),
        (["--cv", "session", "--folds", "3"], "--folds sets speaker folds"),
    ],
)
def test_fit_refuses_folds_as_compare_does(options, message, tmp_path):
    model = tmp_path / "lexical.mmer"
    for command in (
        ["fit", "--method", "lexical", "--model", model],
        ["compare", "--methods", "lexical", "--out", tmp_path / "out"],
    ):
        status, out, err = run(*command, *options, *BUNDLED)
        assert status == 2 and out == "" and err.count("\n") == 1
        assert err.startswith("mmer: error: ") and message in err
    assert not model.exists()


def test_quiet_leaves_the_results_in_every_command(tmp_path):
    model, predictions = tmp_path / "m.mmer", tmp_path / "p.csv"
    fit = ["fit", "--method", "lexical", "--model", model, *BUNDLED]
    assert run(*fit, "--quiet") == (0, "", "")
    predict = ["predict", "--model", model, "--n-utterances", "40"]
    assert run(*predict, "--out", predictions, "--quiet") == (0, "", "")
    assert len(pd.read_csv(predictions)) == 40
    compare = ["compare", "--methods", "lexical", "--folds", "2", "--n-jobs", "1"]
    status, out, err = run(*compare, *BUNDLED, "--out", tmp_path, "--quiet")
    assert status == 0 and err == ""
    assert out.splitlines()[1].startswith("lexical ")
    # without --quiet, the same commands say what they do on stderr
    assert run(*predict, "--out", predictions)[2].startswith("mmer predict:")
