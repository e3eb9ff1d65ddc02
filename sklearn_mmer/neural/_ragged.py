"""Frame sequences stored end to end, padded one mini-batch at a time.

A padded ``(n, T_max, d)`` block holds ``n * T_max * d`` values, most of them
padding when a few sequences are much longer than the rest. The sequence model
keeps only the frames, one modality's ``(total, d)`` array with each
utterance's length, and pads a mini-batch to its own longest sequence when the
batch is served.
"""

import numpy as np
import torch

#: float64 values per chunk when summing frames (8 MiB)
CHUNK_VALUES = 2**20


class RaggedFrames:
    """The frames of ``n`` sequences end to end, padded a mini-batch at a time.

    Indexing with a slice or an array of row indices gives those rows, sharing
    the frames (nothing is copied); :meth:`padded` builds their
    ``(b, T_b, d)`` block, zero after each sequence's last frame, with ``T_b``
    the longest of them (at least 1). ``len()`` is the number of sequences.

    Parameters
    ----------
    frames : ndarray or Tensor of shape (total, d)
        Sequence 0's frames, then sequence 1's, and so on.
    lengths : ndarray of shape (n,)
        Frames per sequence (0 for a missing one).
    starts : ndarray of shape (n,) or None, default=None
        Row of ``frames`` where each sequence starts; None when the sequences
        follow one another in order.

    Examples
    --------
    >>> import numpy as np
    >>> ragged = RaggedFrames(np.arange(5, dtype=np.float32)[:, None], [2, 0, 3])
    >>> ragged[[2, 0]].padded()[..., 0]
    tensor([[2., 3., 4.],
            [0., 1., 0.]])
    """

    def __init__(self, frames, lengths, starts=None):
        if not torch.is_tensor(frames):
            frames = torch.from_numpy(np.ascontiguousarray(frames))
        self.frames = frames
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if starts is None:
            starts = _first_rows(self.lengths)
        self.starts = np.asarray(starts, dtype=np.int64)

    def __len__(self):
        return len(self.lengths)

    def __getitem__(self, index):
        if torch.is_tensor(index):
            index = index.numpy()
        if not isinstance(index, slice):
            index = np.atleast_1d(index)
        return RaggedFrames(self.frames, self.lengths[index], self.starts[index])

    def padded(self):
        """The ``(b, T_b, d)`` block of these sequences, as a Tensor."""
        n, width = len(self.lengths), self.frames.shape[1]
        length = max(int(self.lengths.max(initial=0)), 1)
        block = self.frames.new_zeros((n, length, width))
        total = int(self.lengths.sum())
        if total:
            rows = np.repeat(np.arange(n), self.lengths)
            firsts = np.repeat(_first_rows(self.lengths), self.lengths)
            steps = np.arange(total) - firsts
            source = np.repeat(self.starts, self.lengths) + steps
            block[torch.from_numpy(rows), torch.from_numpy(steps)] = self.frames[
                torch.from_numpy(source)
            ]
        return block


def _first_rows(lengths):
    """Where each sequence starts when sequences of ``lengths`` follow one another."""
    return np.cumsum(lengths) - lengths


def as_batch(value):
    """A mini-batch's value as the module takes it: ragged frames get padded."""
    return value.padded() if isinstance(value, RaggedFrames) else value


def frame_statistics(frames, weights=None):
    """Per-feature mean and standard deviation of ``(total, d)`` frames.

    ``weights`` (one per frame, or None) weigh each frame. Frames are summed in
    float64 chunks, so no float64 copy of the whole array is made. Constant
    features get a scale of 1, as in StandardScaler.
    """
    count = len(frames) if weights is None else float(np.sum(weights))
    count = count if count > 0 else 1
    mean = _column_sums(frames, weights, lambda part: part) / count
    squares = _column_sums(frames, weights, lambda part: (part - mean) ** 2)
    scale = np.sqrt(squares / count)
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return mean, scale


def _column_sums(frames, weights, term):
    """Per-feature (weighted) sum of ``term`` of the frames, in float64 chunks."""
    chunk = max(1, CHUNK_VALUES // max(frames.shape[1], 1))
    total = np.zeros(frames.shape[1])
    for start in range(0, len(frames), chunk):
        part = term(frames[start : start + chunk].astype(np.float64))
        if weights is None:
            total += part.sum(axis=0)
        else:
            total += weights[start : start + chunk] @ part
    return total


def standardise(frames, mean, scale):
    """Standardise ``(total, d)`` frames in place with the given statistics."""
    frames -= mean.astype(frames.dtype)
    frames /= scale.astype(frames.dtype)
    return frames
