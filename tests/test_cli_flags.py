"""Every flag of ``mmer`` means one thing in every command: ``--cv`` is
speaker or session and ``--folds`` the number of folds, in ``compare`` as in
``fit``; ``--out`` is a folder; ``--quiet`` silences stderr but for errors and
leaves the results."""

import pandas as pd
import pytest

from sklearn_mmer._testing import run
from sklearn_mmer.cli import build_parser

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
    model, predictions = tmp_path / "m.mmer", tmp_path / "p"
    fit = ["fit", "--method", "lexical", "--model", model, *BUNDLED]
    assert run(*fit, "--quiet") == (0, "", "")
    predict = ["predict", "--model", model, "--n-utterances", "40"]
    # the bundled corpus is labelled: its scores are results, printed as
    # compare's table is
    status, out, err = run(*predict, "--out", predictions, "--quiet")
    assert status == 0 and err == ""
    assert out.startswith("scores on 40 labelled utterances")
    assert len(pd.read_csv(predictions / "predictions.csv")) == 40
    compare = ["compare", "--methods", "lexical", "--folds", "2", "--n-jobs", "1"]
    status, out, err = run(*compare, *BUNDLED, "--out", tmp_path, "--quiet")
    assert status == 0 and err == ""
    assert out.splitlines()[1].startswith("lexical ")
    # without --quiet, the same commands say what they do on stderr
    assert run(*predict, "--out", predictions)[2].startswith("mmer predict:")


def _options_of(command):
    commands = next(a for a in build_parser()._actions if a.choices)
    return {o: a for a in commands.choices[command]._actions for o in a.option_strings}


def test_out_is_a_folder_in_every_command_that_takes_it():
    outs = [_options_of(c).get("--out") for c in ("compare", "fit", "predict")]
    taken = [action for action in outs if action is not None]
    assert len(taken) == 2
    assert {action.metavar for action in taken} == {"DIR"}
    assert len({action.type for action in taken}) == 1
    assert all("folder" in action.help for action in taken)


def test_predict_writes_predictions_csv_in_its_out_folder(tmp_path):
    model, folder = tmp_path / "m.mmer", tmp_path / "new" / "folder"
    fit = ["fit", "--method", "lexical", "--model", model, *BUNDLED, "--quiet"]
    assert run(*fit) == (0, "", "")
    predict = ["predict", "--model", model, "--n-utterances", "40", "--quiet"]
    status, out, err = run(*predict, "--out", folder)
    assert status == 0 and err == "" and out.startswith("scores on 40 labelled")
    assert [p.name for p in folder.iterdir()] == ["predictions.csv"]
    status, out, err = run(*predict, "--out", folder / "p.csv")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert f"--out {folder / 'p.csv'}: --out names a folder, not a file" in err
    assert f"give --out {folder}" in err
