"""SequenceClassifier: a GRU or Transformer over the frame sequences.

Its training flushes subnormal floats to zero (:func:`flush_denormals`):
back-propagating through a few hundred GRU steps shrinks the gradients of the
early steps geometrically, down to float32's subnormal ("denormal") range below
1.2e-38 (9% of the input gradients of a GRU read from its last state after 600
frames, in one measurement). Many x86 CPUs compute on subnormal numbers in
microcode, tens of times slower than on normal ones; the report that led here
measured a GRU over 600 frames at 68 s, 57 s of it in the backward pass, and
2.3 s with subnormals flushed. Other CPUs take no such penalty (on the
project's 2-core CI machine flushing changes nothing measurable:
``benchmarks/bench_sequence.py --part long``). Values that small change no
weight update in float32, so flushing them to zero loses nothing the optimiser
would use, wherever it runs.
"""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted, validate_data

from ..preprocessing import SequencePadder
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import DEPRECATED, TRAINING_CONSTRAINTS, BaseNeuralClassifier, is_unset
from ._data import (
    ARRAY_MODALITY,
    LengthBucketIterator,
    RaggedFrames,
    check_predict_input,
    flatten_layers,
    frame_statistics,
    mean_frames,
    modality_cells,
    reduce_cells,
    resolve_modalities,
    standardise,
    uses_cells,
)
from ._mlp import check_layer_sizes
from ._modules import LayerWeights, SequenceModule

#: past this many frames in a training sequence, fit warns unless max_length is set
LONG_SEQUENCE = 1000


class SequenceClassifier(BaseNeuralClassifier):
    """Classify frame sequences with a GRU or a small Transformer encoder.

    Where pooling reduces an utterance to its average frame before any model
    sees it, this model reads the frames in order: a recurrent (GRU) or
    self-attention (Transformer) encoder runs over each sequence, its outputs
    are averaged over the utterance's frames and a linear layer (or an MLP,
    ``head_dims``) classifies the result. It can pick up how features change
    within an utterance, which pooling discards. ``n_segments`` bounds the
    cost by averaging long sequences into that many segments first, and
    ``pooled_skip`` gives the head each modality's average frame beside the
    encodings, so that the model holds early fusion's view: the registered
    ``gru`` and ``transformer`` methods use ``n_segments=8,
    pooled_skip=True, head_dims=(128, 64)``.

    Each modality column is read with a
    :class:`~sklearn_mmer.preprocessing.SequencePadder` fitted on the training
    data (so ``T_max`` is the longest training sequence, capped at
    ``max_length``; longer sequences are truncated to their first frames) and
    its frames are standardised with the per-feature mean and standard
    deviation of the training frames. The frames are held end to end, without
    padding (``sum of lengths * d`` float32 per modality), and each mini-batch
    is padded to its own longest sequence when it is served. Padding never
    changes the result: the GRU reads frames in order, so its states at an
    utterance's frames never see the padding after them, the Transformer masks
    padded frames out of attention, and the average runs over valid frames
    only. Training batches group utterances of similar length (shuffled pools
    sorted by length, the batches served in random order), so the computation
    follows the real lengths. Subnormal numbers are flushed
    to zero while training and predicting (back-propagating through long
    sequences makes them, and many x86 CPUs compute on them many times
    slower); the caller's setting is restored after.

    When X has a ``speaker`` column and no ``groups`` are given, early stopping
    holds out whole speakers read from that column.

    With several modalities (fusion), each has its own encoder; the pooled
    encodings are concatenated and classified together. A ``(d,)`` vector
    (such as ``lexical``) is a sequence of one frame. A missing cell (``None``)
    is a sequence of length 0: its encoding is a vector of zeros, so the other
    modalities decide; an utterance missing every modality read is classified
    from the classifier's bias alone.

    A cell may hold every layer of an encoder, ``(L, T, d)`` (as
    ``make_extractor("encoder:PATH", layer="all")`` returns): the model then
    learns one softmax-weighted sum of the ``L`` layers per modality, applied
    to every frame before the encoder (and to the average frame with
    ``pooled_skip``), the SUPERB protocol; ``layer_weights_`` holds the learned
    weights. The frames are standardised per layer and feature.

    X is a DataFrame with one column per modality; other columns, such as
    ``speaker``, are ignored. A plain 2-D numeric array is read as a single
    modality ``"x0"`` whose rows are sequences of one frame.

    Parameters
    ----------
    modalities : str, list of str or None, default=None
        The column of X to read, such as ``"acoustic"``, or a list of columns
        to fuse, such as ``["visual", "acoustic", "lexical"]``. None reads
        every column of X whose cells are arrays.
    architecture : {"gru", "residual_gru", "transformer"}, default="gru"
        The sequence encoder: a GRU on the frames; the frames projected to
        ``hidden_dim`` then GRU layers that each add their states to their
        input (``x + GRU(x)``, the Transformer encoder's shape: the encoding
        keeps a linear view of the average frame, and the recurrent layers
        have fewer weights); a Transformer encoder; or ``"none"``, no encoder:
        the (layer-mixed) frames themselves are pooled and classified by the
        head, the light head of the SUPERB protocol.
    hidden_dim : int, default=64
        Width of the hidden states (the Transformer's model width); not
        scikit-learn's ``hidden_layer_sizes``, which ``head_dims`` is closer to.
    n_layers : int, default=1
        Number of stacked GRU or Transformer encoder layers.
    n_heads : int, default=4
        Attention heads of the Transformer; must divide ``hidden_dim``.
    max_length : int or None, default=None
        Cap on the number of frames read per utterance (the first ones); None
        reads up to the longest training sequence, and ``fit`` warns when that
        is longer than 1,000 frames (time grows with the length; a
        Transformer's with its square).
    n_segments : int or None, default=None
        Cap on the steps the encoder reads per utterance: a sequence longer
        than this is cut into ``n_segments`` consecutive segments of
        near-equal length, each replaced by its average frame (after
        ``max_length`` has cut it). The cost of an epoch is then bounded by
        ``n * n_segments`` steps whatever the frame rate, and the order of the
        segments is kept. None reads every frame.
    pooled_skip : bool, default=False
        Also give the head each modality's average frame over the frames read
        (standardised over the training utterances; zeros where the modality
        is missing, the training average): the view early fusion classifies.
        The encoders then only have to add what averaging loses.
    head_dims : sequence of int, default=()
        Hidden layers (``Linear -> ReLU -> Dropout``) of the classifier head
        on the concatenated encodings (and average frames); empty for a linear
        classifier.
    pooling : {"mean", "attentive"}, default="mean"
        How each modality's encoder states are pooled over the valid frames:
        their mean, or attentive statistics pooling (a learned score per
        frame, soft-maxed over the valid frames; the attention-weighted mean
        and standard deviation side by side, twice the width). Padded frames
        get no weight in either.
    dropout : float, default=0.0
        Dropout between GRU layers, on each residual GRU layer's output or
        inside the Transformer layers, on the
        encodings before the head, and after each hidden layer of the head.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    alpha : float, default=1e-5
        L2 penalty, applied as Adam's weight decay (``alpha * w`` added to
        every parameter's gradient), as in ``MLPClassifier``; not scikit-learn's
        ``alpha / (2 * n_samples)`` penalty on the loss.
    batch_size : int, default=32
        Mini-batch size.
    max_iter : int, default=50
        Number of epochs (the most, with early stopping).
    early_stopping : bool, default=False
        Whether to stop on a validation split of the training data and restore
        the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training samples (or speakers, with groups) held out
        for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement of the validation loss before stopping
        (of the training loss, with ``tol`` and no early stopping).
    tol : float or None, default=None
        Tolerance of convergence, as scikit-learn's ``tol``. An epoch counts
        as an improvement when its loss is lower than ``best - tol``, ``best``
        being the loss of the last epoch that counted. Without early
        stopping, training stops after ``n_iter_no_change`` epochs in a row
        that do not count on the training loss, keeping the last
        epoch's weights; with early stopping, ``tol`` is the same threshold
        on the validation loss (None: any decrease counts). None
        trains all ``max_iter`` epochs unless early stopping stops it:
        unlike scikit-learn's default 1e-4, as the defaults were chosen on
        real data training every epoch. A run with ``tol`` that trains all
        ``max_iter`` epochs without converging warns
        (:class:`~sklearn.exceptions.ConvergenceWarning`).
    warm_start : bool, default=False
        When True, a second ``fit`` trains on from the fitted network's
        weights, keeping the fitted preprocessing, as in ``MLPClassifier``.
    refit : bool, default=False
        With ``early_stopping``: once it has chosen the epoch count
        (``best_epoch_``) on the held-out split, train the network again from
        the same initial weights on all the training data, held-out part
        included, for that many epochs, and keep that network. It costs one
        more training of ``best_epoch_`` epochs, and no data is set aside for
        good. Needs ``early_stopping=True``.
    class_weight : {"balanced"}, dict or None, default=None
        Per-class weights of the loss, as in ``MLPClassifier``.
    mixup_alpha : float, default=0.0
        Mixup within each training batch, as in ``MLPClassifier`` (the padded
        frames, the average frames and the weights are mixed; a mixed pair
        reads as many frames as the longer of the two); 0 disables it.
    label_smoothing : float, default=0.0
        Label smoothing of the loss, as in ``MLPClassifier``; 0 disables it.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks of the skorch net (``LRScheduler``, ``ProgressBar``,
        ``Checkpoint``, ...), copied afresh at every fit, as in
        ``MLPClassifier``.
    device : str, default="cpu"
        Torch device, such as ``"cpu"`` or ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.
    lr : deprecated
        Deprecated, use ``learning_rate_init``.

        .. deprecated:: 0.1
           Renamed ``learning_rate_init`` (scikit-learn's name); removed in 0.2.
    weight_decay : deprecated
        Deprecated, use ``alpha``.

        .. deprecated:: 0.1
           Renamed ``alpha`` (scikit-learn's name); removed in 0.2.
    max_epochs : deprecated
        Deprecated, use ``max_iter``.

        .. deprecated:: 0.1
           Renamed ``max_iter`` (scikit-learn's name); removed in 0.2.
    patience : deprecated
        Deprecated, use ``n_iter_no_change``.

        .. deprecated:: 0.1
           Renamed ``n_iter_no_change`` (scikit-learn's name); removed in 0.2.
    modality : str, list of str or None
        Deprecated alias of ``modalities``.

        .. deprecated:: 0.1
           ``modality`` was renamed ``modalities`` (it takes a list) and will
           be removed in 0.3.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns of X seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of X, when X has them.
    modalities_ : list
        The modalities read, in order (``["x0"]`` for a plain array).
    padders_ : dict of SequencePadder
        Fitted padding step of each modality (absent for a plain array).
    input_layers_ : dict of int
        Layers ``L`` of each modality's cells (1 for ``(T, d)`` cells).
    layer_weights_ : dict of ndarray
        The learned weights of the layers of each modality read as
        ``(L, T, d)`` cells, shape ``(L,)``, positive and summing to one
        (read from the trained network; empty when no modality has layers).
    frame_means_ : dict of ndarray
        Per-feature mean of each modality's training frames (of the segment
        means, with ``n_segments``).
    frame_scales_ : dict of ndarray
        Per-feature standard deviation of the same.
    pooled_means_ : dict of ndarray
        Per-feature mean of each modality's average frames over the training
        utterances that have it; only with ``pooled_skip=True``.
    pooled_scales_ : dict of ndarray
        Their standard deviation; only with ``pooled_skip=True``.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is a
        :class:`~sklearn_mmer.neural.SequenceModule`.
    history_ : skorch.History
        Per-epoch training history (with ``refit``, the final network's).
    n_iter_ : int
        Number of epochs trained (with ``refit``, by the final network),
        counting earlier warm-started fits and ``partial_fit`` calls.
    loss_curve_ : list of float
        The training loss at each epoch, as in ``MLPClassifier``.
    validation_scores_ : list of float or None
        The validation accuracy at each epoch of early stopping (None
        without it).
    best_validation_score_ : float or None
        The validation accuracy of the epoch kept (None without early
        stopping).
    best_loss_ : float or None
        The lowest training loss (None when the last fit used early
        stopping).
    best_epoch_ : int
        The epoch (1-based) whose weights are kept; with ``refit``, the number
        of epochs the final network is trained for.
    validation_indices_ : ndarray of int or None
        Rows of the training X held out for early stopping (None without it).
    validation_losses_ : ndarray of shape (n_epochs,) or None
        The validation loss after each epoch of early stopping's run (None
        without it); ``best_epoch_`` is its argmin, plus one (with ``tol``,
        the last epoch that lowered it by more than ``tol``).

    See Also
    --------
    sklearn_mmer.preprocessing.SequencePadder : The padding step.
    sklearn_mmer.neural.AttentionFusionClassifier : Fusion of pooled
        modalities with per-utterance weights.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_mmer.neural import SequenceClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.array(["sad", "happy"] * 20)
    >>> X = pd.DataFrame({"acoustic": [
    ...     rng.normal(size=(rng.randint(3, 8), 2)) + 3 * (label == "happy")
    ...     for label in y]})
    >>> clf = SequenceClassifier(["acoustic"], hidden_dim=8, learning_rate_init=0.02,
    ...                          max_iter=10, random_state=0)
    >>> clf.fit(X, y).score(X, y)
    1.0
    """

    _iterator_train = LengthBucketIterator

    _deprecated_names = {
        **BaseNeuralClassifier._deprecated_names,
        "modality": ("modalities", "0.3"),
    }

    _parameter_constraints = {
        "modalities": [str, "array-like", None],
        "architecture": [StrOptions({"gru", "residual_gru", "transformer", "none"})],
        "pooling": [StrOptions({"mean", "attentive"})],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_segments": [Interval(Integral, 1, None, closed="left"), None],
        "pooled_skip": ["boolean"],
        "head_dims": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
        "modality": [str, "array-like", None],
    }

    def __init__(
        self,
        modalities=None,
        *,
        architecture="gru",
        hidden_dim=64,
        n_layers=1,
        n_heads=4,
        max_length=None,
        n_segments=None,
        pooled_skip=False,
        head_dims=(),
        pooling="mean",
        dropout=0.0,
        learning_rate_init=1e-3,
        alpha=1e-5,
        batch_size=32,
        max_iter=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=None,
        warm_start=False,
        refit=False,
        class_weight=None,
        mixup_alpha=0.0,
        label_smoothing=0.0,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        lr=DEPRECATED,
        weight_decay=DEPRECATED,
        max_epochs=DEPRECATED,
        patience=DEPRECATED,
        modality=DEPRECATED,
    ):
        self.modalities = modalities
        self.architecture = architecture
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.max_length = max_length
        self.n_segments = n_segments
        self.pooled_skip = pooled_skip
        self.head_dims = head_dims
        self.pooling = pooling
        self.dropout = dropout
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.refit = refit
        self.class_weight = class_weight
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.modality = modality

    def _fit_net(self, inputs, y, groups, sample_weight, **kwargs):
        # back-propagating through long sequences makes subnormal numbers,
        # which x86 CPUs compute on many times slower (see flush_denormals)
        with flush_denormals():
            return super()._fit_net(inputs, y, groups, sample_weight, **kwargs)

    def _partial_train(self, inputs, y, sample_weight, seed):
        with flush_denormals():
            return super()._partial_train(inputs, y, sample_weight, seed)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : DataFrame or array-like
            Input in the form ``fit`` took.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        with flush_denormals():
            return super().predict_proba(X)

    def _requested_modalities(self):
        """``(columns, parameter)``: what the user asked for, and by which name."""
        if is_unset(self.modality):
            return self.modalities, "modalities"
        return self.modality, "modality"

    def _check_params(self):
        check_layer_sizes(self.head_dims, name="head_dims")
        if self.architecture == "transformer" and self.hidden_dim % self.n_heads:
            raise ValueError(
                f"hidden_dim={self.hidden_dim} must be divisible by "
                f"n_heads={self.n_heads} for architecture='transformer'; change "
                "one of them"
            )

    def _sequences(self, X, reset):
        """``[(frames, lengths, pooled), ...]`` per modality, not yet scaled.

        ``frames`` holds every utterance's frames end to end, ``(lengths.sum(),
        d)``; ``pooled`` is ``(average frames, presence)`` with
        ``pooled_skip``, else None.
        """
        columns, parameter = self._requested_modalities()
        if reset:
            on_cells = uses_cells(
                X, columns, owner=type(self).__name__, parameter=parameter
            )
        else:
            on_cells = hasattr(self, "padders_")
            check_predict_input(self, X, on_cells=on_cells, parameter=parameter)
        if not on_cells:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
            if reset:
                self.modalities_ = [ARRAY_MODALITY]
                self.input_layers_ = {ARRAY_MODALITY: 1}
                if hasattr(self, "padders_"):
                    del self.padders_
            frames = X.astype(np.float32)
            lengths = np.ones(X.shape[0], dtype=np.int64)
            pooled = (frames.copy(), lengths) if self.pooled_skip else None
            return [(frames, lengths, pooled)]
        if reset:
            validate_data(self, X, skip_check_array=True)
            self.modalities_ = resolve_modalities(X, columns, parameter=parameter)
            self.input_layers_ = {}
        cells = {m: self._cells(X, m, reset) for m in self.modalities_}
        if reset:
            self.padders_ = {
                m: SequencePadder(self.max_length, dtype="float32").fit(cells[m][0])
                for m in self.modalities_
            }
            self._warn_long_sequences()
        sequences = []
        for m in self.modalities_:
            frames, lengths = self.padders_[m].transform_ragged(cells[m][0])[0]
            means = cells[m][1]
            pooled = None if means is None else mean_frames(means, frames.shape[1])
            sequences.append((frames, lengths, pooled))
        return sequences

    def _cells(self, X, modality, reset):
        """A modality's cells as the encoder reads them, and their average frames.

        ``(L, T, d)`` cells are laid out as ``(T, L * d)`` frames first. The
        average frames (None without ``pooled_skip``) are over the frames
        read, before ``n_segments`` shortens them.
        """
        expected = None if reset else self.input_layers_[modality]
        cells, n_layers = flatten_layers(modality_cells(X, modality), expected=expected)
        if reset:
            self.input_layers_[modality] = n_layers
        if self.n_segments is None and not self.pooled_skip:
            return cells, None
        cells, means = reduce_cells(
            cells, max_length=self.max_length, n_segments=self.n_segments
        )
        return cells, means if self.pooled_skip else None

    def _warn_long_sequences(self):
        longest = {m: max(p.max_lengths_) for m, p in self.padders_.items()}
        name = max(longest, key=longest.get)
        if self.max_length is None and longest[name] > LONG_SEQUENCE:
            warnings.warn(
                f"the longest training sequence of {name!r} has {longest[name]} "
                f"frames; training time grows with the length (a Transformer's "
                "with its square), and so does a mini-batch's padded block. Set "
                "max_length (e.g. max_length="
                f"{LONG_SEQUENCE}) to read only the first frames, or n_segments "
                "(e.g. n_segments=8) to average them into that many steps",
                UserWarning,
            )

    def _prepare(self, X, reset, sample_weight=None):
        sequences = self._sequences(X, reset)
        if reset:
            self._fit_statistics(sequences, sample_weight)
        inputs = {}
        for i, (m, (frames, lengths, pooled)) in enumerate(
            zip(self.modalities_, sequences)
        ):
            standardise(frames, self.frame_means_[m], self.frame_scales_[m])
            inputs[f"frames_{i}"] = RaggedFrames(frames, lengths)
            inputs[f"lengths_{i}"] = lengths
            if self.pooled_skip:
                block, present = pooled
                standardise(block, self.pooled_means_[m], self.pooled_scales_[m])
                block[present == 0] = 0.0
                inputs[f"pooled_{i}"] = block
        return inputs

    def _fit_statistics(self, sequences, sample_weight):
        """Per-feature mean and scale of the frames, and of the average frames."""
        weights = sample_weight
        # each frame weighs as much as its utterance
        self.frame_means_, self.frame_scales_ = self._statistics(
            [
                (frames, None if weights is None else np.repeat(weights, lengths))
                for frames, lengths, _ in sequences
            ]
        )
        for name in ("pooled_means_", "pooled_scales_"):
            if hasattr(self, name):
                delattr(self, name)
        if self.pooled_skip:
            present = [pooled[1] > 0 for _, _, pooled in sequences]
            self.pooled_means_, self.pooled_scales_ = self._statistics(
                [
                    (block[rows], None if weights is None else weights[rows])
                    for (_, _, (block, _)), rows in zip(sequences, present)
                ]
            )

    def _statistics(self, blocks):
        """``({modality: mean}, {modality: scale})`` of ``(frames, weights)``."""
        statistics = [frame_statistics(frames, weights) for frames, weights in blocks]
        means = {m: stats[0] for m, stats in zip(self.modalities_, statistics)}
        scales = {m: stats[1] for m, stats in zip(self.modalities_, statistics)}
        return means, scales

    def _build_module(self):
        layers = [self.input_layers_[m] for m in self.modalities_]
        return SequenceModule(
            [
                len(self.frame_means_[m]) // n_layers
                for m, n_layers in zip(self.modalities_, layers)
            ],
            self.classes_.shape[0],
            hidden_dim=self.hidden_dim,
            architecture=self.architecture,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            dropout=self.dropout,
            pooled=self.pooled_skip,
            head_dims=check_layer_sizes(self.head_dims, name="head_dims"),
            pooling=self.pooling,
            input_layers=layers,
        )

    @property
    def layer_weights_(self):
        """The learned layer weights of each modality read with layers."""
        check_is_fitted(self)
        mixers = self.net_.module_.layer_mixers
        return {
            m: mixer.weights().detach().cpu().numpy().astype(np.float64)
            for m, mixer in zip(self.modalities_, mixers)
            if isinstance(mixer, LayerWeights)
        }


def denormals_flushed():
    """Whether this thread's CPU flushes subnormal float32 numbers to zero now."""
    subnormal = torch.tensor([1e-39], dtype=torch.float32)
    return bool((subnormal * 1.0).item() == 0.0)


@contextmanager
def flush_denormals():
    """Flush subnormal numbers to zero inside the block, then restore the setting.

    Does nothing where the CPU cannot flush them (``torch.set_flush_denormal``
    returns False there) or where they are flushed already; afterwards the
    caller's setting is back as it was.

    Examples
    --------
    >>> from sklearn_mmer.neural._sequence import denormals_flushed, flush_denormals
    >>> before = denormals_flushed()
    >>> with flush_denormals():
    ...     pass
    >>> denormals_flushed() == before
    True
    """
    if denormals_flushed() or not torch.set_flush_denormal(True):
        yield
        return
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
