"""The stacked networks of MLPEnsembleClassifier, and its training step."""

import math

import torch
from torch import nn
from torch.nn import functional as F


class EnsembleMLPModule(nn.Module):
    """``n_members`` MLPs with stacked weights, evaluated together.

    Layer ``k`` holds one weight tensor of shape ``(n_members, fan_out,
    fan_in)`` (:class:`torch.nn.Linear`'s layout, one per member), so that a
    forward pass of every member is one matrix product per layer instead of
    ``n_members`` small ones. The first layer, by far the widest on pooled
    features, reads the same input for every member: it runs as one
    ``(n, fan_in) x (fan_in, n_members * fan_out)`` product, whose backward
    pass is a plain matrix product too (a broadcast batched product costs a
    fifth more there). Each member is initialised independently, as
    :class:`torch.nn.Linear` would be (uniform in ``+-1/sqrt(fan_in)``), and
    dropout draws its own mask per member.

    Parameters
    ----------
    n_inputs : int
        Width of the input vectors.
    n_outputs : int
        Number of classes.
    n_members : int
        Number of networks.
    hidden_dims : sequence of int, default=(128, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    """

    def __init__(
        self, n_inputs, n_outputs, n_members, hidden_dims=(128, 64), dropout=0.0
    ):
        super().__init__()
        widths = [n_inputs, *hidden_dims, n_outputs]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[:-1], widths[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            # drawn as (fan_in, fan_out) per member, then laid out as
            # (fan_out, fan_in): the same initial networks as drawn before
            weight = torch.empty(n_members, fan_in, fan_out).uniform_(-bound, bound)
            weight = weight.transpose(1, 2).contiguous()
            bias = torch.empty(n_members, 1, fan_out).uniform_(-bound, bound)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, X):
        """Logits ``(n_members, n, n_outputs)`` of every member for ``X (n, d)``."""
        first, bias = self.weights[0], self.biases[0]
        n_members, width = first.shape[:2]
        hidden = F.linear(
            X, first.reshape(n_members * width, -1), bias.reshape(-1)
        ).view(len(X), n_members, width)
        hidden = hidden.transpose(0, 1)
        for weight, bias in zip(self.weights[1:], self.biases[1:]):
            hidden = torch.baddbmm(
                bias, self.dropout(F.relu(hidden)), weight.transpose(1, 2)
            )
        return hidden


class EnsembleNet:
    """Holds a fitted ensemble's torch module, as a skorch net holds its own.

    The toolkit's neural estimators keep their network in ``net_``, whose
    ``module_`` is the torch module; model files store and rebuild networks
    through that protocol (see :meth:`MLPEnsembleClassifier._initialize_net`).

    Parameters
    ----------
    module : EnsembleMLPModule
        The members' stacked networks.
    """

    def __init__(self, module):
        self.module_ = module


def _take(values, rows):
    """``values[rows]``, or None for None."""
    return None if values is None else values[rows]


def _adam(module, lr, weight_decay, device):
    """Adam over the stacked weights, fused into one kernel where torch can.

    The members' weights are ``n_members`` times one network's, and the
    step, not the matrix products, dominated a batched epoch when it ran as
    separate ``foreach`` passes over every parameter (one pass per term of
    the update, weight decay included). The fused kernel reads and writes
    each weight once per step; its arithmetic is Adam's.
    """
    fused = torch.device(device).type in ("cpu", "cuda")
    return torch.optim.Adam(
        module.parameters(),
        lr=lr,
        weight_decay=weight_decay,
        **({"fused": True} if fused else {"foreach": True}),
    )


def _member_losses(logits, target, weights):
    """Weighted mean cross-entropy of each member, ``(n_members,)``.

    ``logits`` is ``(n_members, b, n_classes)``, ``target`` ``(b,)`` and
    ``weights`` ``(n_members, b)``. A member whose bootstrap draw left every
    row of the batch out has loss 0 for that batch.
    """
    per_row = F.cross_entropy(
        logits.permute(0, 2, 1),
        target.expand(logits.shape[0], -1),
        reduction="none",
    )
    total = weights.sum(dim=1)
    return (per_row * weights).sum(dim=1) / total.clamp(min=1e-12)
