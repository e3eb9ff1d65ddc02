import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklearn_mmer.preprocessing import SequencePadder


@pytest.fixture
def cells():
    """Three utterances of 2-wide frames: 3 frames, 1 vector, and a missing one."""
    return pd.DataFrame(
        {
            "acoustic": [
                np.arange(6.0).reshape(3, 2),
                np.array([7.0, 8.0]),
                None,
            ],
            "lexical": [np.ones(3), np.zeros(3), 2 * np.ones(3)],
        }
    )


def test_padder_flattens_frames_with_nan_after_the_last(cells):
    padder = SequencePadder().fit(cells)
    assert padder.frame_widths_ == [2, 3]
    assert padder.max_lengths_ == [3, 1]
    out = padder.transform(cells)
    assert out.shape == (3, 3 * 2 + 1 * 3)
    assert out.dtype == np.float32
    assert_array_equal(out[0, :6], np.arange(6.0))
    assert_array_equal(out[1, :6], [7.0, 8.0] + [np.nan] * 4)
    assert np.isnan(out[2, :6]).all()
    assert_array_equal(out[:, 6:], [[1, 1, 1], [0, 0, 0], [2, 2, 2]])
    # lengths survive the flattening: count the frames that are not NaN
    frames = out[:, :6].reshape(3, 3, 2)
    assert_array_equal((~np.isnan(frames).any(axis=2)).sum(axis=1), [3, 1, 0])


def test_padder_sequences_are_zero_padded_with_lengths(cells):
    padder = SequencePadder().fit(cells)
    (frames, lengths), (vectors, ones) = padder.transform_sequences(cells)
    assert frames.shape == (3, 3, 2)
    assert_array_equal(lengths, [3, 1, 0])
    assert_array_equal(frames[1], [[7.0, 8.0], [0.0, 0.0], [0.0, 0.0]])
    assert_array_equal(frames[2], 0.0)
    assert vectors.shape == (3, 1, 3)
    assert_array_equal(ones, [1, 1, 1])


def test_padder_truncates_to_max_length_and_to_the_fitted_length(cells):
    padder = SequencePadder(max_length=2).fit(cells)
    assert padder.max_lengths_ == [2, 1]
    (frames, lengths), _ = padder.transform_sequences(cells)
    assert_array_equal(frames[0], [[0.0, 1.0], [2.0, 3.0]])
    assert_array_equal(lengths, [2, 1, 0])
    longer = cells.copy()
    longer.loc[1, "acoustic"] = np.arange(10.0).reshape(5, 2)
    fitted_on_three = SequencePadder().fit(cells)
    (frames, lengths), _ = fitted_on_three.transform_sequences(longer)
    assert frames.shape[1] == 3
    assert lengths[1] == 3
    assert_array_equal(frames[1, -1], [4.0, 5.0])


def test_padder_feature_names_and_pandas_output(cells):
    padder = SequencePadder().set_output(transform="pandas").fit(cells[["acoustic"]])
    out = padder.transform(cells[["acoustic"]])
    assert list(out.columns) == [f"acoustic_t{t}_{j}" for t in range(3) for j in (0, 1)]
    assert out.loc[1, "acoustic_t0_1"] == 8.0


@pytest.mark.parametrize(
    "dtype, expected", [("float64", np.float64), (None, np.float64)]
)
def test_padder_dtype(cells, dtype, expected):
    out = SequencePadder(dtype=dtype).fit_transform(cells)
    assert out.dtype == expected
    # column by column: DataFrame.map is newer than the oldest supported pandas
    as_float32 = cells.apply(
        lambda column: column.map(lambda c: None if c is None else c.astype(np.float32))
    )
    kept = SequencePadder(dtype=None).fit_transform(as_float32)
    assert kept.dtype == np.float32


def test_padder_plain_array_passes_through_as_one_frame_sequences():
    X = np.arange(6.0).reshape(3, 2)
    padder = SequencePadder(dtype="float64").fit(X)
    assert_array_equal(padder.transform(X), X)
    ((frames, lengths),) = padder.transform_sequences(X)
    assert frames.shape == (3, 1, 2)
    assert_array_equal(lengths, 1)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X: X.assign(acoustic=[np.ones((2, 5)), None, None]), "feature width 5"),
        (
            lambda X: X.assign(acoustic=[np.full((2, 2), np.nan), None, None]),
            "row 0: the frames contain NaN",
        ),
        (lambda X: X[["lexical", "acoustic"]], "fit on columns"),
        (lambda X: X[["acoustic"]], "X has 1 columns of cells"),
        (lambda X: np.ones((3, 2)), "fit on cells holding frame arrays"),
    ],
)
def test_padder_rejects_input_unlike_fit(cells, change, match):
    padder = SequencePadder().fit(cells)
    with pytest.raises(ValueError, match=match):
        padder.transform(change(cells))


@pytest.mark.parametrize("max_length", [None, 2])
def test_padder_ragged_holds_the_padded_frames_without_the_padding(cells, max_length):
    padder = SequencePadder(max_length).fit(cells)
    padded = padder.transform_sequences(cells)
    ragged = padder.transform_ragged(cells)
    for (block, lengths), (frames, same_lengths) in zip(padded, ragged):
        assert_array_equal(same_lengths, lengths)
        valid = np.arange(block.shape[1])[None, :] < lengths[:, None]
        assert_array_equal(frames, block[valid])
        assert frames.dtype == block.dtype
    (frames, lengths), _ = padder.transform_ragged(cells.iloc[[2]])
    assert frames.shape == (0, 2)
    assert_array_equal(lengths, [0])
    ((frames, lengths),) = (
        SequencePadder().fit(np.ones((3, 2))).transform_ragged(np.ones((3, 2)))
    )
    assert frames.shape == (3, 2)
    assert_array_equal(lengths, 1)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda X: X.assign(acoustic=[np.ones((2, 5)), None, None]), "feature width 5"),
        (
            lambda X: X.assign(acoustic=[np.full((2, 2), np.inf), None, None]),
            "row 0: the frames contain NaN or inf",
        ),
        (lambda X: X[["acoustic"]], "X has 1 columns of cells"),
    ],
)
def test_padder_ragged_rejects_input_unlike_fit(cells, change, match):
    padder = SequencePadder().fit(cells)
    with pytest.raises(ValueError, match=match):
        padder.transform_ragged(change(cells))


def test_padder_fit_on_array_rejects_cells(cells):
    padder = SequencePadder().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="fit on a plain 2-D array"):
        padder.transform(cells)


def test_padder_rejects_a_column_of_only_missing_cells():
    with pytest.raises(ValueError, match="column 'visual': every cell is missing"):
        SequencePadder().fit(pd.DataFrame({"visual": [None, None]}))
