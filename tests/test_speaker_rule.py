"""The one speaker rule: ``groups`` when given, else X's ``speaker`` column.

Every place that reads speaker ids (the neural classifiers' early stopping,
stacking's inner folds, the speaker splitters, compare_methods' checks) goes
through :func:`sklearn_mmer.utils._data.speakers_of`; the tests here pin the
rule, then check each place follows it.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression

from sklearn_mmer.fusion import StackingFusionClassifier
from sklearn_mmer.methods._stronger import SpeakerColumnGroupKFold
from sklearn_mmer.model_selection import LeaveOneSessionOut, SpeakerKFold
from sklearn_mmer.neural import SequenceClassifier
from sklearn_mmer.utils._data import speakers_of

SPEAKERS = np.array(["s1", "s1", "s2", "s3", "s3", "s4"])


def _frame(speakers=SPEAKERS):
    return pd.DataFrame({"x": np.arange(len(speakers)), "speaker": speakers})


def test_speakers_of_takes_groups_when_both_agree():
    groups = pd.Series(SPEAKERS)
    assert_array_equal(speakers_of(_frame(), groups), SPEAKERS)


def test_speakers_of_agreement_is_by_string():
    # loaders may hold ids as ints in one place and strings in the other
    X = _frame(np.array(["1", "1", "2"]))
    assert_array_equal(speakers_of(X, [1, 1, 2]), [1, 1, 2])


def test_speakers_of_names_both_when_they_differ():
    groups = SPEAKERS.copy()
    groups[2] = "s9"
    with pytest.raises(
        ValueError,
        match=r"groups and X\['speaker'\] disagree on 1 rows \(first: row 2, "
        r"'s9' vs 's2'\)",
    ):
        speakers_of(_frame(), groups)


@pytest.mark.parametrize("source", ["groups", "column"])
def test_speakers_of_takes_the_one_source_given(source):
    if source == "groups":
        speakers = speakers_of(np.zeros((6, 2)), SPEAKERS)
    else:
        speakers = speakers_of(_frame())
    assert_array_equal(speakers, SPEAKERS)


def test_speakers_of_reads_the_named_column():
    X = _frame().rename(columns={"speaker": "talker"})
    assert speakers_of(X) is None
    assert_array_equal(speakers_of(X, column="talker"), SPEAKERS)


def test_speakers_of_gives_none_or_one_error_without_speakers():
    X = np.zeros((6, 2))
    assert speakers_of(X) is None
    with pytest.raises(
        ValueError,
        match="SpeakerKFold needs the speaker of each sample, but got no groups "
        "and X has no 'speaker' column; pass groups=speakers",
    ):
        speakers_of(X, needed_by="SpeakerKFold")


def test_speakers_of_checks_the_length_of_groups():
    with pytest.raises(ValueError, match="one speaker per sample; got shape"):
        speakers_of(_frame(), SPEAKERS[:-1])


@pytest.mark.parametrize(
    "splitter", [SpeakerKFold(2), LeaveOneSessionOut(), SpeakerColumnGroupKFold(2)]
)
def test_speaker_splitters_read_the_speaker_column_without_groups(splitter):
    X = _frame(np.array(["Ses01F", "Ses01M", "Ses02F", "Ses02M"] * 2))
    from_column = list(splitter.split(X))
    from_groups = list(splitter.split(X.drop(columns="speaker"), groups=X.speaker))
    assert len(from_column) == len(from_groups) == 2
    for (train, test), (train2, test2) in zip(from_column, from_groups):
        assert_array_equal(train, train2)
        assert_array_equal(test, test2)


@pytest.mark.parametrize(
    "splitter", [SpeakerKFold(2), LeaveOneSessionOut(), SpeakerColumnGroupKFold(2)]
)
def test_speaker_splitters_refuse_groups_that_contradict_the_column(splitter):
    with pytest.raises(ValueError, match=r"groups and X\['speaker'\] disagree"):
        next(splitter.split(_frame(), groups=SPEAKERS[::-1]))


def test_stacking_refuses_groups_that_contradict_the_column(tiny_corpus):
    X, y, speakers = tiny_corpus
    stack = StackingFusionClassifier([("lr", LogisticRegression())], cv=2)
    with pytest.raises(ValueError, match=r"groups and X\['speaker'\] disagree"):
        stack.fit(X, y, groups=np.roll(speakers, 1))


def test_neural_fit_refuses_groups_that_contradict_the_column(tiny_corpus):
    X, y, speakers = tiny_corpus
    clf = SequenceClassifier("acoustic", max_iter=1, early_stopping=True)
    with pytest.raises(ValueError, match=r"groups and X\['speaker'\] disagree"):
        clf.fit(X, y, groups=np.roll(speakers, 1))
