"""SequenceClassifier: a GRU or Transformer over the frame sequences."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils.validation import check_consistent_length, validate_data

from ..preprocessing import SequencePadder
from ..utils._sklearn_compat import Interval, StrOptions, fit_context
from ._base import TRAINING_CONSTRAINTS, BaseNeuralClassifier
from ._inputs import (
    ARRAY_MODALITY,
    check_predict_input,
    modality_cells,
    resolve_modalities,
    uses_cells,
)
from ._modules_fusion import SequenceModule


def _frame_statistics(frames, lengths, chunk=1024):
    """Per-feature mean and std over the valid frames of a padded block.

    Rows are read in chunks so that no float64 copy of the whole block is made.
    """
    count = max(int(lengths.sum()), 1)
    steps = np.arange(frames.shape[1])
    total = np.zeros(frames.shape[2])
    for start in range(0, len(frames), chunk):
        valid = steps[None, :] < lengths[start : start + chunk, None]
        total += frames[start : start + chunk][valid].sum(axis=0, dtype=np.float64)
    mean = total / count
    squares = np.zeros(frames.shape[2])
    for start in range(0, len(frames), chunk):
        valid = steps[None, :] < lengths[start : start + chunk, None]
        squares += ((frames[start : start + chunk][valid] - mean) ** 2).sum(axis=0)
    scale = np.sqrt(squares / count)
    # constant features stay as they are, as in StandardScaler
    scale[scale < 10 * np.finfo(np.float64).eps] = 1.0
    return mean, scale


def _standardise(frames, lengths, mean, scale):
    valid = (np.arange(frames.shape[1])[None, :] < lengths[:, None])[..., None]
    frames -= mean.astype(frames.dtype)
    frames /= scale.astype(frames.dtype)
    frames *= valid
    return frames


class SequenceClassifier(BaseNeuralClassifier):
    """Classify frame sequences with a GRU or a small Transformer encoder.

    Where pooling reduces an utterance to its average frame before any model
    sees it, this model reads the frames in order: a recurrent (GRU) or
    self-attention (Transformer) encoder runs over each sequence, its outputs
    are averaged over the utterance's frames and a linear layer classifies the
    result. It can pick up how features change within an utterance, which
    pooling discards.

    Each modality column is padded with a
    :class:`~sklearn_mmer.preprocessing.SequencePadder` fitted on the training
    data (so ``T_max`` is the longest training sequence, capped at
    ``max_length``; longer sequences are truncated to their first frames) and
    its frames are standardised with the per-feature mean and standard
    deviation of the training frames. Padding never changes the result: the
    GRU runs on packed sequences that stop at each utterance's length, the
    Transformer masks padded frames out of attention, and the average runs over
    valid frames only. Each mini-batch is cut to its longest sequence, so the
    computation follows the real lengths; the padded block of the whole data
    is held in memory, though (``n * T_max * d`` float32 per modality), hence
    ``max_length``.

    With several modalities (fusion), each has its own encoder; the pooled
    encodings are concatenated and classified together. A ``(d,)`` vector
    (such as ``lexical``) is a sequence of one frame. A missing cell (``None``)
    is a sequence of length 0: its encoding is a vector of zeros, so the other
    modalities decide; an utterance missing every modality read is classified
    from the classifier's bias alone.

    X is a DataFrame with one column per modality; other columns, such as
    ``speaker``, are ignored. A plain 2-D numeric array is read as a single
    modality ``"x0"`` whose rows are sequences of one frame.

    Parameters
    ----------
    modality : str, list of str or None, default=None
        The column of X to read, such as ``"acoustic"``, or a list of columns
        to fuse. None reads every column of X whose cells are arrays.
    architecture : {"gru", "transformer"}, default="gru"
        The sequence encoder.
    hidden_dim : int, default=64
        Width of the hidden states (the Transformer's model width).
    n_layers : int, default=1
        Number of stacked GRU or Transformer encoder layers.
    n_heads : int, default=4
        Attention heads of the Transformer; must divide ``hidden_dim``.
    max_length : int or None, default=None
        Cap on the number of frames read per utterance (the first ones); None
        reads up to the longest training sequence.
    dropout : float, default=0.0
        Dropout between GRU layers or inside the Transformer layers, and before
        the classifier.
    lr : float, default=1e-3
        Adam's learning rate.
    weight_decay : float, default=1e-5
        Adam's L2 penalty.
    batch_size : int, default=32
        Mini-batch size.
    max_epochs : int, default=50
        Number of epochs (the most, with early stopping).
    early_stopping : bool, default=False
        Whether to stop on a validation split of the training data and restore
        the best epoch.
    validation_fraction : float, default=0.1
        Fraction of the training samples (or speakers, with groups) held out
        for early stopping.
    patience : int, default=5
        Epochs without improvement of the validation loss before stopping.
    class_weight : {"balanced"}, dict or None, default=None
        Per-class weights of the loss, as in ``MLPClassifier``.
    device : str, default="cpu"
        Torch device, such as ``"cpu"`` or ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the validation split.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.

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
    frame_means_ : dict of ndarray
        Per-feature mean of each modality's training frames.
    frame_scales_ : dict of ndarray
        Per-feature standard deviation of each modality's training frames.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is a
        :class:`~sklearn_mmer.neural.SequenceModule`.
    history_ : skorch.History
        Per-epoch training history.
    n_iter_ : int
        Number of epochs trained.
    best_epoch_ : int
        The epoch (1-based) whose weights are kept.
    validation_indices_ : ndarray of int or None
        Rows of the training X held out for early stopping (None without it).

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
    >>> clf = SequenceClassifier("acoustic", hidden_dim=8, lr=0.02, max_epochs=10,
    ...                          random_state=0)
    >>> clf.fit(X, y).score(X, y)
    1.0
    """

    _parameter_constraints = {
        "modality": [str, "array-like", None],
        "architecture": [StrOptions({"gru", "transformer"})],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "max_length": [Interval(Integral, 1, None, closed="left"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        modality=None,
        *,
        architecture="gru",
        hidden_dim=64,
        n_layers=1,
        n_heads=4,
        max_length=None,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-5,
        batch_size=32,
        max_epochs=50,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        class_weight=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.modality = modality
        self.architecture = architecture
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.max_length = max_length
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None):
        """Pad and standardise the sequences, then train the network.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            One column per modality (see the class docstring), or a plain
            numeric array read as sequences of one frame.
        y : array-like of shape (n_samples,)
            Class labels (strings or ints).
        groups : array-like of shape (n_samples,), default=None
            Speaker ids; with ``early_stopping`` they make the validation split
            speaker-disjoint. Routed here by metadata routing when requested with
            ``set_fit_request(groups=True)``.

        Returns
        -------
        self : SequenceClassifier
            The fitted classifier.
        """
        if self.architecture == "transformer" and self.hidden_dim % self.n_heads:
            raise ValueError(
                f"hidden_dim={self.hidden_dim} must be divisible by "
                f"n_heads={self.n_heads} for architecture='transformer'; change "
                "one of them"
            )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None"
            )
        inputs = self._prepare(X, reset=True)
        check_consistent_length(inputs["lengths_0"], y)
        y = self._encode_targets(y)
        return self._fit_net(inputs, y, groups)

    def _sequences(self, X, reset):
        """``[(frames, lengths), ...]`` per modality, padded, not yet scaled."""
        if reset:
            on_cells = uses_cells(
                X, self.modality, owner=type(self).__name__, parameter="modality"
            )
        else:
            on_cells = hasattr(self, "padders_")
            check_predict_input(self, X, on_cells=on_cells, parameter="modality")
        if not on_cells:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
            if reset:
                self.modalities_ = [ARRAY_MODALITY]
                if hasattr(self, "padders_"):
                    del self.padders_
            frames = X.astype(np.float32)[:, np.newaxis, :]
            return [(frames, np.ones(X.shape[0], dtype=np.int64))]
        if reset:
            validate_data(self, X, skip_check_array=True)
            self.modalities_ = resolve_modalities(
                X, self.modality, parameter="modality"
            )
            self.padders_ = {
                m: SequencePadder(self.max_length, dtype="float32").fit(
                    modality_cells(X, m)
                )
                for m in self.modalities_
            }
        return [
            self.padders_[m].transform_sequences(modality_cells(X, m))[0]
            for m in self.modalities_
        ]

    def _prepare(self, X, reset):
        sequences = self._sequences(X, reset)
        if reset:
            statistics = [_frame_statistics(f, n) for f, n in sequences]
            self.frame_means_ = {m: s[0] for m, s in zip(self.modalities_, statistics)}
            self.frame_scales_ = {m: s[1] for m, s in zip(self.modalities_, statistics)}
        inputs = {}
        for i, (m, (frames, lengths)) in enumerate(zip(self.modalities_, sequences)):
            inputs[f"frames_{i}"] = _standardise(
                frames, lengths, self.frame_means_[m], self.frame_scales_[m]
            )
            inputs[f"lengths_{i}"] = lengths
        return inputs

    def _build_module(self, inputs, n_classes):
        return SequenceModule(
            [len(self.frame_means_[m]) for m in self.modalities_],
            n_classes,
            hidden_dim=self.hidden_dim,
            architecture=self.architecture,
            n_layers=self.n_layers,
            n_heads=self.n_heads,
            dropout=self.dropout,
        )
