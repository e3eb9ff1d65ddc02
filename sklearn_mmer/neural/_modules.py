"""Plain torch modules; the scikit-learn faces live in the estimator modules.

:class:`MLPModule` and the stacked networks of MLPEnsembleClassifier
(:class:`EnsembleMLPModule`, with the pieces of its training step), then the
modules of attention fusion and of the sequence models.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

#: floor of the variance under attentive pooling's square root (finite gradients)
POOLING_EPS = 1e-8


class MLPModule(nn.Module):
    """A feed-forward network: Linear -> ReLU (-> Dropout) per hidden layer.

    Parameters
    ----------
    n_inputs : int
        Width of the input vectors.
    n_outputs : int
        Number of classes; the module returns one logit per class.
    hidden_dims : sequence of int, default=(128, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer (0 disables it).

    See Also
    --------
    MLPClassifier : The scikit-learn classifier that builds and trains it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import MLPModule
    >>> module = MLPModule(4, 3, hidden_dims=(8,))
    >>> module(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_inputs, n_outputs, hidden_dims=(128, 64), dropout=0.0):
        super().__init__()
        layers = []
        width = n_inputs
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X)


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
        """Logits ``(n_members, n, n_outputs)`` of every member.

        ``X`` is ``(n, d)``, read by every member, or ``(n_members, n, d)``,
        one input per member.
        """
        first, bias = self.weights[0], self.biases[0]
        n_members, width = first.shape[:2]
        if X.dim() == 3:
            hidden = torch.baddbmm(bias, X, first.transpose(1, 2))
        else:
            hidden = F.linear(
                X, first.reshape(n_members * width, -1), bias.reshape(-1)
            ).view(len(X), n_members, width)
            hidden = hidden.transpose(0, 1)
        for weight, bias in zip(self.weights[1:], self.biases[1:]):
            hidden = torch.baddbmm(
                bias, self.dropout(F.relu(hidden)), weight.transpose(1, 2)
            )
        return hidden


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


def _member_losses(logits, target, weights, label_smoothing=0.0):
    """Weighted mean cross-entropy of each member, ``(n_members,)``.

    ``logits`` is ``(n_members, b, n_classes)``, ``target`` ``(b,)`` and
    ``weights`` ``(n_members, b)``. A member whose bootstrap draw left every
    row of the batch out has loss 0 for that batch.
    """
    # the smoothing is passed only when asked: the default path stays the
    # computation it always was
    smoothing = {"label_smoothing": label_smoothing} if label_smoothing else {}
    per_row = F.cross_entropy(
        logits.permute(0, 2, 1),
        target.expand(logits.shape[0], -1),
        reduction="none",
        **smoothing,
    )
    total = weights.sum(dim=1)
    return (per_row * weights).sum(dim=1) / total.clamp(min=1e-12)


def masked_softmax(scores, mask):
    """Softmax over the last axis where ``mask`` is True; exactly 0 elsewhere.

    A row whose mask is all False gets weights all 0 (not NaN).
    """
    any_present = mask.any(dim=-1, keepdim=True)
    scores = scores.masked_fill(~mask, float("-inf"))
    # an all -inf row would give NaN: score it flat, then zero it with the mask
    scores = torch.where(any_present, scores, torch.zeros_like(scores))
    return torch.softmax(scores, dim=-1) * mask


class LayerWeights(nn.Module):
    """A learned softmax-weighted sum over the layers of an encoder (SUPERB).

    Reads frames whose last axis holds the ``n_layers`` layers side by side,
    layer-major (``(..., n_layers * d)``, as a ``(L, T, d)`` cell becomes
    when its frames are laid out ``(T, L * d)``), and returns
    ``sum_l w_l x_l`` of width ``d``, with ``w = softmax(logits)``: the
    weights are positive and sum to one. They start equal (logits 0).

    Parameters
    ----------
    n_layers : int
        Number of layers ``L``.

    See Also
    --------
    SequenceClassifier : Learns these weights for ``(L, T, d)`` cells, and
        reports them as ``layer_weights_``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import LayerWeights
    >>> mix = LayerWeights(3)
    >>> mix(torch.arange(6.0).reshape(1, 6))
    tensor([[2., 3.]], grad_fn=<SumBackward1>)
    """

    def __init__(self, n_layers):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_layers))

    def weights(self):
        """The layers' weights.

        Returns
        -------
        weights : torch.Tensor
            ``(n_layers,)`` weights, positive and summing to one.
        """
        return torch.softmax(self.logits, dim=0)

    def forward(self, X):
        layers = X.unflatten(-1, (self.logits.shape[0], -1))
        return (layers * self.weights()[:, None]).sum(dim=-2)


class AttentiveStatisticsPooling(nn.Module):
    """Attention-weighted mean and standard deviation over the valid frames.

    A scoring network (``Linear -> tanh -> Linear``) gives each frame one
    score; the scores are soft-maxed over the frames marked valid (padded
    frames get weight exactly 0, so padding never changes the result), and
    the weighted mean and weighted standard deviation of the frames are
    concatenated (Okabe et al., 2018). A sequence with no valid frame pools
    to zeros.

    Parameters
    ----------
    input_dim : int
        Width ``d`` of the frames; the output has width ``2 * d``.
    attention_dim : int, default=64
        Width of the scoring network's hidden layer.

    See Also
    --------
    SequenceClassifier : Pools its encoder states so with
        ``pooling="attentive"``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import AttentiveStatisticsPooling
    >>> pool = AttentiveStatisticsPooling(3)
    >>> pool(torch.zeros(2, 4, 3), torch.ones(2, 4, dtype=torch.bool)).shape
    torch.Size([2, 6])
    """

    def __init__(self, input_dim, attention_dim=64):
        super().__init__()
        self.scorer = nn.Sequential(
            nn.Linear(input_dim, attention_dim), nn.Tanh(), nn.Linear(attention_dim, 1)
        )

    def frame_weights(self, states, valid):
        """The attention weights of the frames.

        Parameters
        ----------
        states : torch.Tensor
            ``(n, T, d)`` frames.
        valid : torch.Tensor
            ``(n, T)`` boolean mask, True at real (not padded) frames.

        Returns
        -------
        weights : torch.Tensor
            ``(n, T)`` weights summing to one per row, 0 at padded frames.
        """
        return masked_softmax(self.scorer(states).squeeze(-1), valid)

    def forward(self, states, valid):
        weights = self.frame_weights(states, valid).unsqueeze(-1)
        mean = (weights * states).sum(dim=1)
        variance = (weights * (states - mean.unsqueeze(1)) ** 2).sum(dim=1)
        std = variance.clamp(min=POOLING_EPS).sqrt()
        present = weights.sum(dim=1) > 0
        return torch.cat([mean, std * present], dim=-1)


class AttentionFusionModule(nn.Module):
    """Per-modality encoders fused by learned, per-utterance modality weights.

    Each modality's vector goes through its own ``Linear -> ReLU`` encoder to a
    shared width ``hidden_dim``; a scoring network (``Linear -> tanh ->
    Linear``, shared by the modalities) gives each encoded modality one score,
    the scores are soft-maxed over the modalities present, and the weighted sum
    of the encodings feeds a linear classifier.

    Parameters
    ----------
    widths : sequence of int
        Width of each modality's input vector, in the order of ``features``.
    n_outputs : int
        Number of classes; the module returns one logit per class.
    hidden_dim : int, default=128
        Shared width of the modality encodings.
    dropout : float, default=0.0
        Dropout on the encodings and on the fused vector (0 disables it).

    See Also
    --------
    AttentionFusionClassifier : The scikit-learn classifier that builds and
        trains it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import AttentionFusionModule
    >>> module = AttentionFusionModule([4, 2], 3, hidden_dim=8)
    >>> features = torch.zeros(2, 6)
    >>> mask = torch.tensor([[True, True], [True, False]])
    >>> module(features, mask).shape
    torch.Size([2, 3])
    >>> module.fuse(features, mask)[1][1]
    tensor([1., 0.], grad_fn=<SelectBackward0>)
    """

    def __init__(self, widths, n_outputs, hidden_dim=128, dropout=0.0):
        super().__init__()
        self.widths = [int(w) for w in widths]
        self.encoders = nn.ModuleList(
            nn.Sequential(nn.Linear(width, hidden_dim), nn.ReLU(), nn.Dropout(dropout))
            for width in self.widths
        )
        self.scorer = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.Tanh(), nn.Linear(hidden_dim, 1)
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden_dim, n_outputs))

    def fuse(self, features, mask):
        """Return the fused vectors ``(n, hidden_dim)`` and weights ``(n, M)``.

        Parameters
        ----------
        features : Tensor of shape (n, sum(widths))
            The modality vectors side by side (any value where missing).
        mask : bool Tensor of shape (n, M)
            True where the modality is present.

        Returns
        -------
        fused : Tensor of shape (n, hidden_dim)
            The weighted sum of the encoded modalities (zeros where every
            modality is missing).
        weights : Tensor of shape (n, M)
            The attention weights, 0 where a modality is missing.
        """
        parts = torch.split(features, self.widths, dim=1)
        encoded = torch.stack(
            [encoder(part) for encoder, part in zip(self.encoders, parts)], dim=1
        )
        weights = masked_softmax(self.scorer(encoded).squeeze(-1), mask)
        return (weights.unsqueeze(-1) * encoded).sum(dim=1), weights

    def forward(self, features, mask):
        fused, _ = self.fuse(features, mask)
        return self.head(fused)


def sinusoidal_positions(length, width, device=None):
    """The Transformer's fixed sine/cosine position codes, ``(length, width)``."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    rate = torch.exp(
        torch.arange(0, width, 2, device=device, dtype=torch.float32)
        * (-math.log(10000.0) / width)
    )
    codes = torch.zeros(length, width, device=device)
    codes[:, 0::2] = torch.sin(position * rate)
    codes[:, 1::2] = torch.cos(position * rate[: width // 2])
    return codes


class SequenceEncoder(nn.Module):
    """Encode padded frame sequences and mean-pool over their valid frames.

    Padding never reaches the result: the GRUs read frames in order, so their
    states at valid frames never see the padding that follows them; the
    Transformer masks padded frames out of attention
    (``src_key_padding_mask``); and the pooling averages valid frames only.
    Each batch is cut to its longest sequence first, so the work follows the
    batch's lengths, not the padded length. A sequence of length 0 (a
    missing modality) encodes to a vector of zeros.

    Parameters
    ----------
    input_dim : int
        Width ``d`` of the frames.
    hidden_dim : int, default=64
        Width of the hidden states (the Transformer's model width).
    architecture : {"gru", "residual_gru", "transformer"}, default="gru"
        The sequence model:

        - ``"gru"``: a GRU reading the frames;
        - ``"residual_gru"``: the frames projected to ``hidden_dim`` by a
          linear layer, then GRU layers each adding its states to its input
          (``x + GRU(x)``), the shape of the Transformer's encoder. The
          pooled result then holds a linear view of the average frame beside
          what the recurrence adds, and the recurrent layers have 3x fewer
          weights per input width than ``"gru"``'s;
        - ``"transformer"``: the frames projected to ``hidden_dim``, plus sine
          position codes, through Transformer encoder layers;
        - ``"none"``: no encoder, the frames themselves are pooled (a light
          head on pooled frames, as on frozen encoder features).
    n_layers : int, default=1
        Number of stacked GRU or Transformer encoder layers.
    n_heads : int, default=4
        Attention heads of the Transformer; must divide ``hidden_dim``.
    dropout : float, default=0.0
        Dropout between GRU layers, on each residual GRU layer's output, or
        inside the Transformer layers.
    pooling : {"mean", "attentive"}, default="mean"
        How the states are pooled over the valid frames: their mean (width
        ``hidden_dim``), or attentive statistics pooling
        (:class:`AttentiveStatisticsPooling`, width ``2 * hidden_dim``).

    Attributes
    ----------
    output_dim : int
        Width of the pooled encoding.
    """

    def __init__(
        self,
        input_dim,
        hidden_dim=64,
        architecture="gru",
        n_layers=1,
        n_heads=4,
        dropout=0.0,
        pooling="mean",
    ):
        super().__init__()
        self.architecture = architecture
        state_dim = input_dim if architecture == "none" else hidden_dim
        if pooling == "attentive":
            self.pool = AttentiveStatisticsPooling(state_dim)
            self.output_dim = 2 * state_dim
        elif pooling == "mean":
            self.pool = None
            self.output_dim = state_dim
        else:
            raise ValueError(f"pooling must be 'mean' or 'attentive'; got {pooling!r}")
        if architecture == "none":
            pass
        elif architecture == "gru":
            self.gru = nn.GRU(
                input_dim,
                hidden_dim,
                num_layers=n_layers,
                batch_first=True,
                # torch warns about dropout on a single layer, where it is a no-op
                dropout=dropout if n_layers > 1 else 0.0,
            )
        elif architecture == "residual_gru":
            self.project = nn.Linear(input_dim, hidden_dim)
            self.grus = nn.ModuleList(
                nn.GRU(hidden_dim, hidden_dim, batch_first=True)
                for _ in range(n_layers)
            )
            self.drop = nn.Dropout(dropout)
        elif architecture == "transformer":
            self.project = nn.Linear(input_dim, hidden_dim)
            layer = nn.TransformerEncoderLayer(
                hidden_dim,
                n_heads,
                dim_feedforward=2 * hidden_dim,
                dropout=dropout,
                batch_first=True,
            )
            # nested tensors would change results' numerics with the padding
            self.transformer = nn.TransformerEncoder(
                layer, n_layers, enable_nested_tensor=False
            )
        else:
            raise ValueError(
                "architecture must be 'gru', 'residual_gru', 'transformer' or "
                f"'none'; got {architecture!r}"
            )

    def forward(self, frames, lengths):
        length = max(int(lengths.max()), 1)
        frames = frames[:, :length]
        steps = torch.arange(length, device=frames.device)
        valid = steps[None, :] < lengths[:, None]
        if self.architecture == "none":
            states = frames
        elif self.architecture == "gru":
            # the GRU reads frames in order, so the state at a valid frame
            # never depends on the padding after it, and the pooling below
            # skips padded states: running on the padded batch gives what
            # packed sequences would. It is done so because torch's packed
            # GRU back-propagates step by step, 8-15x slower on CPU at 600
            # frames (benchmarks/bench_sequence.py --part long).
            states, _ = self.gru(frames)
        elif self.architecture == "residual_gru":
            # the same holds layer by layer: each reads the states before it
            states = self.project(frames)
            for gru in self.grus:
                states = states + self.drop(gru(states)[0])
        else:
            hidden = self.project(frames) + sinusoidal_positions(
                length, self.project.out_features, frames.device
            )
            ignored = ~valid
            # a missing sequence masks every frame, which makes attention NaN:
            # let it attend to its first (zero) frame; its pooled vector is 0
            ignored[:, 0] &= lengths > 0
            states = self.transformer(hidden, src_key_padding_mask=ignored)
        if self.pool is not None:
            return self.pool(states, valid)
        weights = valid.to(states.dtype).unsqueeze(-1)
        return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class SequenceModule(nn.Module):
    """One sequence encoder per modality, pooled, concatenated and classified.

    ``forward`` reads keyword arguments ``frames_0, lengths_0, frames_1,
    lengths_1, ...``: padded ``(n, T_i, d_i)`` frames and ``(n,)`` lengths of
    each modality.

    Parameters
    ----------
    input_dims : sequence of int
        Frame width of each modality.
    n_outputs : int
        Number of classes; the module returns one logit per class.
    hidden_dim, architecture, n_layers, n_heads, dropout
        As for :class:`SequenceEncoder`; ``dropout`` also applies to the
        concatenated encodings and after each hidden layer of the head.
    pooled : bool, default=False
        Also read ``pooled_0, pooled_1, ...``: each modality's ``(n, d_i)``
        average frame, concatenated after the encodings (a skip path around
        the encoders, holding the view that early fusion classifies).
    head_dims : sequence of int, default=()
        Hidden layers (``Linear -> ReLU -> Dropout``) of the classifier head;
        empty for a linear classifier.
    pooling : {"mean", "attentive"}, default="mean"
        How each encoder pools its states (see :class:`SequenceEncoder`).
    input_layers : sequence of int or None, default=None
        Layers ``L_i`` of each modality (1 each when None): a modality with
        ``L_i > 1`` reads frames of width ``L_i * input_dims[i]`` (its layers
        side by side) and mixes them by a :class:`LayerWeights` first (its
        average frames too, with ``pooled``).

    See Also
    --------
    SequenceClassifier : The scikit-learn classifier that builds and trains it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_mmer.neural import SequenceModule
    >>> module = SequenceModule([3], 2, hidden_dim=8)
    >>> frames = torch.zeros(2, 5, 3)
    >>> lengths = torch.tensor([5, 2])
    >>> module(frames_0=frames, lengths_0=lengths).shape
    torch.Size([2, 2])
    """

    def __init__(
        self,
        input_dims,
        n_outputs,
        hidden_dim=64,
        architecture="gru",
        n_layers=1,
        n_heads=4,
        dropout=0.0,
        pooled=False,
        head_dims=(),
        pooling="mean",
        input_layers=None,
    ):
        super().__init__()
        self.pooled = pooled
        if input_layers is None:
            input_layers = [1] * len(input_dims)
        # modules without weights where a modality has one layer, so that
        # the weights of a single-layer model are those they always were
        self.layer_mixers = nn.ModuleList(
            LayerWeights(n) if n > 1 else nn.Identity() for n in input_layers
        )
        self.encoders = nn.ModuleList(
            SequenceEncoder(
                width,
                hidden_dim,
                architecture=architecture,
                n_layers=n_layers,
                n_heads=n_heads,
                dropout=dropout,
                pooling=pooling,
            )
            for width in input_dims
        )
        width = sum(encoder.output_dim for encoder in self.encoders)
        width += sum(input_dims) if pooled else 0
        # head[0] drops out the encodings only; the rest classifies them, with
        # the average frames beside them when pooled
        layers = [nn.Dropout(dropout)]
        for hidden in head_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        layers.append(nn.Linear(width, n_outputs))
        self.head = nn.Sequential(*layers)

    def forward(self, **inputs):
        encoded = [
            encoder(mix(inputs[f"frames_{i}"]), inputs[f"lengths_{i}"])
            for i, (mix, encoder) in enumerate(zip(self.layer_mixers, self.encoders))
        ]
        parts = [self.head[0](torch.cat(encoded, dim=1))]
        if self.pooled:
            parts += [
                mix(inputs[f"pooled_{i}"]) for i, mix in enumerate(self.layer_mixers)
            ]
        return self.head[1:](torch.cat(parts, dim=1))
