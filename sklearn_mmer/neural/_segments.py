"""Shortening frame sequences before a sequence model reads them.

A sequence model's cost per epoch grows with the frames it reads. Temporal
segment means bound it: a sequence longer than ``n_segments`` frames is cut into
``n_segments`` consecutive segments of near-equal length, and each segment is
replaced by its average frame, so the model reads at most ``n_segments`` steps
per utterance whatever the corpus's frame rate, while the order of the segments
(the course of the utterance) is kept.
"""

import numpy as np
import pandas as pd

from ..utils._data import cell_as_frames


def segment_means(frames, n_segments):
    """Average ``(T, d)`` frames over ``min(T, n_segments)`` consecutive segments.

    Segment ``j`` of a sequence of ``T > n_segments`` frames holds frames
    ``floor(j * T / n_segments)`` up to (not including)
    ``floor((j + 1) * T / n_segments)``; segment sizes differ by at most one
    frame. A sequence of at most ``n_segments`` frames is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> segment_means(np.arange(5.0)[:, None], 2).ravel()
    array([0.5, 3. ])
    """
    length = frames.shape[0]
    if length <= n_segments:
        return frames
    bounds = (np.arange(n_segments + 1) * length) // n_segments
    # a sum per segment: several times quicker than np.add.reduceat on rows,
    # and the same numbers (each sums its few rows in order)
    means = np.empty((n_segments, frames.shape[1]), dtype=np.float64)
    for j in range(n_segments):
        frames[bounds[j] : bounds[j + 1]].sum(axis=0, dtype=np.float64, out=means[j])
        means[j] /= bounds[j + 1] - bounds[j]
    return means


def reduce_cells(cells, *, max_length=None, n_segments=None):
    """Each cell cut to ``max_length`` frames and to ``n_segments`` segment means.

    Parameters
    ----------
    cells : DataFrame of one column
        One modality's cells, as :func:`~sklearn_mmer.neural._inputs.modality_cells`
        returns them.
    max_length, n_segments : int or None
        Frames read (the first ones) and the most steps kept; None for no cap.

    Returns
    -------
    reduced : DataFrame of one column
        The shortened cells, with the name and index of ``cells``. A missing
        cell stays missing; a cell holding NaN or inf is passed on unchanged,
        for the padding step to report it by row.
    means : list of ndarray or None
        Each cell's average frame over the frames read (None where missing or
        not finite): the vector :class:`~sklearn_mmer.preprocessing.TemporalPooling`
        gives with ``"mean"``.
    """
    (column,) = cells.columns
    reduced, means = [], []
    for row, cell in enumerate(cells[column]):
        frames = cell_as_frames(cell, column=column, row=row)
        if frames is None or frames.shape[0] == 0:
            reduced.append(cell)
            means.append(None)
            continue
        frames = frames[:max_length]
        mean = frames.mean(axis=0, dtype=np.float64)
        # NaN or inf in a frame leaves its column's average NaN or inf
        if not np.isfinite(mean).all():
            reduced.append(cell)
            means.append(None)
            continue
        means.append(mean)
        if n_segments is not None:
            frames = segment_means(frames, n_segments)
        reduced.append(frames)
    # filled one by one: numpy would turn equal-shaped cells into one block
    objects = np.empty(len(reduced), dtype=object)
    for row, cell in enumerate(reduced):
        objects[row] = cell
    return pd.DataFrame({column: objects}, index=cells.index), means


def mean_frames(means, width):
    """Stack the average frames of :func:`reduce_cells` into ``(n, width)`` float32.

    Returns the block and each row's presence; a missing row is all zeros.
    """
    block = np.zeros((len(means), width), dtype=np.float32)
    present = np.zeros(len(means), dtype=np.int64)
    for row, mean in enumerate(means):
        if mean is not None:
            block[row] = mean
            present[row] = 1
    return block, present
