import tracemalloc

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from sklearn_mmer.preprocessing import TemporalPooling

FRAMES = np.array([[1.0, -2.0], [3.0, 0.0], [5.0, 8.0]])

EXPECTED = {
    "mean": [3.0, 2.0],
    "max": [5.0, 8.0],
    "min": [1.0, -2.0],
    "std": list(FRAMES.std(axis=0)),
    "first": [1.0, -2.0],
    "last": [5.0, 8.0],
    "stats": [3.0, 2.0, *FRAMES.std(axis=0)],
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_pooling_methods_reduce_over_time(method):
    pooled = TemporalPooling(method).fit_transform([FRAMES])
    assert_allclose(pooled, [EXPECTED[method]])


@pytest.mark.parametrize(
    "make_input",
    [
        lambda cells: pd.DataFrame({"visual": cells}),
        lambda cells: pd.Series(cells, name="visual"),
        lambda cells: cells,
        lambda cells: np.array(cells + [None], dtype=object)[:-1],
    ],
    ids=["dataframe", "series", "list", "object-array"],
)
def test_pooling_accepts_every_cell_container(make_input):
    cells = [FRAMES, FRAMES[:1], np.array([7.0, 9.0])]
    pooled = TemporalPooling("mean").fit_transform(make_input(cells))
    assert_allclose(pooled, [[3.0, 2.0], [1.0, -2.0], [7.0, 9.0]])


def test_pooling_passes_vectors_of_a_2d_array_through():
    X = np.arange(6.0).reshape(3, 2)
    assert_allclose(TemporalPooling("max").fit_transform(X), X)
    assert_allclose(
        TemporalPooling("stats").fit_transform(X), np.c_[X, np.zeros_like(X)]
    )


@pytest.mark.parametrize("missing", [None, np.zeros((0, 2)), np.array([]), np.nan])
def test_pooling_turns_missing_cells_into_nan_rows(missing):
    X = pd.DataFrame({"acoustic": [FRAMES, missing, FRAMES]})
    pooled = TemporalPooling("stats").fit_transform(X)
    assert np.isnan(pooled[1]).all()
    assert np.isfinite(pooled[[0, 2]]).all()


def test_pooling_missing_rows_can_be_imputed():
    X = pd.DataFrame({"acoustic": [FRAMES, None, FRAMES * 3]})
    pipe = make_pipeline(TemporalPooling(), SimpleImputer())
    assert_allclose(pipe.fit_transform(X)[1], [6.0, 4.0])


def test_pooling_rejects_inconsistent_widths():
    with pytest.raises(ValueError, match="row 1 has feature width 3 but row 0 has 2"):
        TemporalPooling().fit(pd.DataFrame({"visual": [FRAMES, np.ones((2, 3))]}))


def test_pooling_rejects_a_width_different_from_fit():
    pooling = TemporalPooling().fit(pd.DataFrame({"visual": [FRAMES]}))
    with pytest.raises(
        ValueError, match="width 3 differs from the width 2 seen in fit"
    ):
        pooling.transform(pd.DataFrame({"visual": [np.ones((4, 3))]}))


def test_pooling_rejects_a_column_of_only_missing_cells():
    with pytest.raises(ValueError, match="every cell is missing"):
        TemporalPooling().fit(pd.DataFrame({"visual": [None, None]}))


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_pooling_rejects_non_finite_frames(bad):
    frames = FRAMES.copy()
    frames[1, 0] = bad
    with pytest.raises(ValueError, match="row 0: the frames contain NaN or inf"):
        TemporalPooling().fit_transform([frames])


REDUCTIONS = {
    "mean": lambda f: f.mean(axis=0),
    "max": lambda f: f.max(axis=0),
    "min": lambda f: f.min(axis=0),
    "std": lambda f: f.std(axis=0),
    "first": lambda f: f[0],
    "last": lambda f: f[-1],
    "stats": lambda f: np.r_[f.mean(axis=0), f.std(axis=0)],
}


@pytest.mark.parametrize("method", sorted(REDUCTIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_pooling_matches_numpy_for_every_length_dtype_and_layout(method, dtype, layout):
    rng = np.random.RandomState(0)
    # 1 to 9 frames: every remainder of the kernels' four-frame steps
    cells = [(rng.normal(size=(t, 7)) * 10).astype(dtype) for t in range(1, 10)]
    if layout == "F":
        cells = [np.asfortranarray(c) for c in cells]
    elif layout == "strided":
        cells = [np.repeat(c, 2, axis=1)[:, ::2] for c in cells]
    pooled = TemporalPooling(method).fit_transform(cells)
    assert pooled.dtype == (np.float32 if dtype == np.float32 else np.float64)
    expected = [REDUCTIONS[method](c.astype(np.float64)) for c in cells]
    assert_allclose(pooled, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["mean", "max", "min", "std", "stats"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("row", [0, 4, 8])
def test_pooling_reports_non_finite_frames_for_methods_reading_all(method, bad, row):
    frames = np.random.RandomState(0).normal(size=(9, 3))
    frames[row, 1] = bad
    with pytest.raises(ValueError, match="row 1: the frames contain NaN or inf"):
        TemporalPooling(method).fit_transform([FRAMES[:, :1].repeat(3, 1), frames])


def test_pooling_rejects_cells_of_three_dimensions():
    # a 3-D cell is read as (L, T, d) layers: without layer= it says to choose
    with pytest.raises(ValueError, match=r"got an array of shape \(1, 2, 2\)"):
        TemporalPooling().fit_transform([np.ones((1, 2, 2))])
    with pytest.raises(ValueError, match="choose the layers"):
        TemporalPooling().fit_transform([np.ones((1, 2, 2))])
    with pytest.raises(ValueError, match=r"got an array of shape \(1, 1, 2, 2\)"):
        TemporalPooling().fit_transform([np.ones((1, 1, 2, 2))])


def test_pooling_feature_names_name_modality_statistic_and_index():
    X = pd.DataFrame({"visual": [FRAMES], "lexical": [np.ones(3)]})
    pooling = TemporalPooling("stats").fit(X)
    names = pooling.get_feature_names_out()
    assert list(names[:4]) == [
        "visual_mean_0",
        "visual_mean_1",
        "visual_std_0",
        "visual_std_1",
    ]
    assert names[-1] == "lexical_std_2"
    assert len(names) == pooling.transform(X).shape[1] == 10


def test_pooling_set_output_pandas_uses_feature_names():
    X = pd.DataFrame({"visual": [FRAMES, FRAMES]})
    out = TemporalPooling("mean").set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["visual_mean_0", "visual_mean_1"]


def test_pooling_keeps_float32_frames_in_float32():
    cells = [FRAMES.astype(np.float32), None]
    assert TemporalPooling().fit_transform(cells).dtype == np.float32


def test_pooling_never_builds_a_padded_tensor():
    """Each sequence is reduced on its own: peak memory stays far below the frames."""
    rng = np.random.RandomState(0)
    cells = [
        rng.normal(size=(t, 256)).astype(np.float32) for t in rng.randint(20, 200, 300)
    ]
    frame_bytes = sum(c.nbytes for c in cells)
    tracemalloc.start()
    pooled = TemporalPooling("stats").fit_transform(cells)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # against float64 means: float32 results agree to float32 precision
    expected = [c.astype(np.float64).mean(axis=0) for c in cells]
    assert_allclose(pooled[:, :256], expected, rtol=1e-5, atol=1e-6)
    assert peak < frame_bytes / 10, (peak, frame_bytes)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_pooling_std_is_accurate_in_float32_even_far_from_zero(offset):
    rng = np.random.RandomState(0)
    cells = [
        (offset + rng.normal(scale=0.5, size=(t, 64))).astype(np.float32)
        for t in (2, 30, 400)
    ]
    pooled = TemporalPooling("std").fit_transform(cells)
    expected = [c.astype(np.float64).std(axis=0) for c in cells]
    assert_allclose(pooled, expected, rtol=2e-3)


@pytest.mark.parametrize("n_frames", [9, 400])
def test_pooling_std_is_accurate_when_the_first_frame_is_an_outlier(n_frames):
    """The one-pass moments shift by the first frame; far from the rest, the
    shift would cancel digits, and the row is redone in two passes."""
    rng = np.random.RandomState(0)
    frames = rng.normal(scale=1e-2, size=(n_frames, 64))
    frames[0] += 50.0
    frames = frames.astype(np.float32)
    pooled = TemporalPooling("stats").fit_transform([frames, frames[::-1]])
    expected = [
        np.r_[f.astype(np.float64).mean(axis=0), f.astype(np.float64).std(axis=0)]
        for f in (frames, frames[::-1])
    ]
    assert_allclose(pooled, expected, rtol=1e-5)


def test_compile_kernels_compiles_every_signature_pooling_uses():
    from sklearn_mmer.preprocessing._kernels import pool_sequence
    from sklearn_mmer.preprocessing._pooling import compile_kernels

    compile_kernels()
    compiled = list(pool_sequence.signatures)
    assert {(s[0].dtype.name, s[0].mutable) for s in compiled} == {
        ("float32", True),
        ("float32", False),
        ("float64", True),
        ("float64", False),
    }
    rng = np.random.RandomState(0)
    for dtype in [np.float32, np.float64, np.int64, np.int32]:
        cells = [(rng.normal(size=(t, 3)) * 10).astype(dtype) for t in (1, 5)]
        read_only = [c.copy() for c in cells]
        for cell in read_only:
            cell.flags.writeable = False
        for layout in [cells, read_only, [np.asfortranarray(c) for c in cells]]:
            for method in ["mean", "std", "stats", "max", "min", "first", "last"]:
                TemporalPooling(method).fit_transform(layout)
    # the setup scripts' call leaves nothing for a run to compile
    assert list(pool_sequence.signatures) == compiled
