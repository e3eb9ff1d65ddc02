"""Plain torch modules that pool frame sequences into the MLP heads.

:class:`FramePooling` mixes the layers of ``(L, T, d)`` cells
(:class:`~sklearn_mmer.neural.LayerWeights`) and pools the valid frames of
each padded sequence (their mean, or
:class:`~sklearn_mmer.neural.AttentiveStatisticsPooling`);
:class:`PooledMLPModule` puts an :class:`~sklearn_mmer.neural.MLPModule` after
it, and :class:`PooledEnsembleMLPModule` gives each member of an
:class:`~sklearn_mmer.neural.EnsembleMLPModule` its own pooling, so that the
members still share no parameter.
"""

import torch
from torch import nn

from ._modules import (
    AttentiveStatisticsPooling,
    EnsembleMLPModule,
    LayerWeights,
    MLPModule,
)


def valid_frames(lengths, length, device):
    """The ``(n, length)`` mask of the frames before each sequence's end."""
    steps = torch.arange(length, device=device)
    return steps[None, :] < lengths.to(device)[:, None]


class FramePooling(nn.Module):
    """Mix the layers of each frame, then pool the valid frames of each sequence.

    Parameters
    ----------
    input_dim : int
        Width ``d`` of a frame (of one layer).
    n_layers : int, default=1
        Layers ``L`` side by side in each frame (``L * d`` values, layer-major);
        with more than one, a :class:`LayerWeights` mixes them first.
    pooling : {"mean", "attentive"}, default="mean"
        The mean of the valid frames (width ``d``), or attentive statistics
        pooling (:class:`AttentiveStatisticsPooling`, width ``2 * d``).

    Attributes
    ----------
    output_dim : int
        Width of the pooled vector.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural._pooling import FramePooling
    >>> pool = FramePooling(2)
    >>> frames = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [0.0, 0.0]]])
    >>> pool(frames, torch.tensor([2, 1]))
    tensor([[2., 3.],
            [5., 6.]])
    """

    def __init__(self, input_dim, n_layers=1, pooling="mean"):
        super().__init__()
        # no weights where there is one layer: the mean pooling then has none
        self.mix = LayerWeights(n_layers) if n_layers > 1 else nn.Identity()
        if pooling == "attentive":
            self.pool = AttentiveStatisticsPooling(input_dim)
            self.output_dim = 2 * input_dim
        elif pooling == "mean":
            self.pool = None
            self.output_dim = input_dim
        else:
            raise ValueError(f"pooling must be 'mean' or 'attentive'; got {pooling!r}")

    def forward(self, frames, lengths):
        frames = self.mix(frames)
        valid = valid_frames(lengths, frames.shape[1], frames.device)
        if self.pool is not None:
            return self.pool(frames, valid)
        weights = valid.to(frames.dtype).unsqueeze(-1)
        return (frames * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class PooledMLPModule(nn.Module):
    """Frames pooled by :class:`FramePooling`, then classified by an MLP.

    ``forward`` reads padded frames ``frames_0`` of shape ``(n, T, L * d)``
    and their lengths ``lengths_0`` of shape ``(n,)``.

    Parameters
    ----------
    input_dim : int
        Width ``d`` of a frame (of one layer).
    n_outputs : int
        Number of classes.
    n_layers : int, default=1
        Layers ``L`` of each frame.
    pooling : {"mean", "attentive"}, default="mean"
        How the frames are pooled (see :class:`FramePooling`).
    hidden_dims : sequence of int, default=(128, 64)
        Hidden layers of the MLP.
    dropout : float, default=0.0
        Dropout after each hidden layer.

    See Also
    --------
    MLPClassifier : Builds and trains it with ``pooling`` set.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural._pooling import PooledMLPModule
    >>> module = PooledMLPModule(3, 2, pooling="attentive", hidden_dims=(8,))
    >>> frames, lengths = torch.zeros(4, 5, 3), torch.tensor([5, 1, 2, 3])
    >>> module(frames_0=frames, lengths_0=lengths).shape
    torch.Size([4, 2])
    """

    def __init__(
        self,
        input_dim,
        n_outputs,
        n_layers=1,
        pooling="mean",
        hidden_dims=(128, 64),
        dropout=0.0,
    ):
        super().__init__()
        self.pooling = FramePooling(input_dim, n_layers, pooling)
        self.mlp = MLPModule(
            self.pooling.output_dim, n_outputs, hidden_dims=hidden_dims, dropout=dropout
        )

    def forward(self, frames_0, lengths_0):
        return self.mlp(self.pooling(frames_0, lengths_0))


class PooledEnsembleMLPModule(nn.Module):
    """``n_members`` poolings, each feeding its own member of a stacked MLP.

    Each member has its own :class:`FramePooling` (its own layer weights and
    attention), so the members share no parameter and the sum of their losses
    trains each on its own. Where the pooling has no weight (the mean of
    frames with one layer) the frames are pooled once for all members.

    Parameters
    ----------
    input_dim : int
        Width ``d`` of a frame (of one layer).
    n_outputs : int
        Number of classes.
    n_members : int
        Number of networks.
    n_layers : int, default=1
        Layers ``L`` of each frame.
    pooling : {"mean", "attentive"}, default="mean"
        How the frames are pooled (see :class:`FramePooling`).
    hidden_dims : sequence of int, default=(128, 64)
        Hidden layers of every member.
    dropout : float, default=0.0
        Dropout after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural._pooling import PooledEnsembleMLPModule
    >>> module = PooledEnsembleMLPModule(3, 2, 4, pooling="attentive", hidden_dims=(8,))
    >>> frames, lengths = torch.zeros(5, 6, 3), torch.tensor([6, 1, 2, 3, 4])
    >>> module(frames_0=frames, lengths_0=lengths).shape
    torch.Size([4, 5, 2])
    """

    def __init__(
        self,
        input_dim,
        n_outputs,
        n_members,
        n_layers=1,
        pooling="mean",
        hidden_dims=(128, 64),
        dropout=0.0,
    ):
        super().__init__()
        self.poolings = nn.ModuleList(
            FramePooling(input_dim, n_layers, pooling) for _ in range(n_members)
        )
        self.shared = pooling == "mean" and n_layers == 1
        self.members = EnsembleMLPModule(
            self.poolings[0].output_dim,
            n_outputs,
            n_members,
            hidden_dims=hidden_dims,
            dropout=dropout,
        )

    def forward(self, frames_0, lengths_0):
        if self.shared:
            pooled = self.poolings[0](frames_0, lengths_0)
        else:
            pooled = torch.stack([pool(frames_0, lengths_0) for pool in self.poolings])
        return self.members(pooled)
