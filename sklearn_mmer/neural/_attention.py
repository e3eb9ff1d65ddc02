"""AttentionFusionClassifier: fusion with learned, per-utterance modality weights."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ..preprocessing import TemporalPooling
from ..utils._data import POOLING_STATISTICS, pooling_methods
from ..utils._sklearn_compat import Interval, StrOptions
from ._base import DEPRECATED, TRAINING_CONSTRAINTS, BaseNeuralClassifier
from ._data import (
    ARRAY_MODALITY,
    check_predict_input,
    modality_cells,
    resolve_modalities,
    uses_cells,
)
from ._modules import AttentionFusionModule


class AttentionFusionClassifier(BaseNeuralClassifier):
    """Fuse modalities with learned, per-utterance weights (attention fusion).

    Each modality column of X is pooled over time
    (:class:`~sklearn_mmer.preprocessing.TemporalPooling`) and standardised
    inside the estimator, then a torch network encodes each modality to a
    shared width ``hidden_dim`` (``Linear -> ReLU``), scores each encoded
    modality, turns the scores into weights with a softmax over the modalities
    (one set of weights per utterance: *dynamic modality weighting*) and
    classifies the weighted sum of the encodings. Where early fusion gives every
    modality a fixed share of one input vector, this model can lean on
    whichever modality is informative for each utterance, and the weights say
    which one it used: :meth:`predict_modality_weights`.

    A missing modality (a ``None`` cell) is masked: its weight is exactly 0 and
    the other modalities share the weight. An utterance with every modality
    missing gets weights all 0 and a fused vector of zeros, so it is classified
    from the classifier's bias alone (the training data's most likely class,
    roughly).

    X is a DataFrame with one column per modality (cells as described in the
    data contract); other columns, such as ``speaker``, are ignored. A plain
    2-D numeric array is read as a single modality ``"x0"`` of one vector per
    row (its weight is then always 1).

    Training is that of :class:`~sklearn_mmer.neural.MLPClassifier`: Adam,
    cross-entropy, mini-batches, optional early stopping on a (speaker-disjoint
    with ``groups``) validation split of the training data, best epoch
    restored, seeded by ``random_state``.

    Parameters
    ----------
    modalities : str, list of str or None, default=None
        Columns of X to fuse, such as ``["visual", "acoustic", "lexical"]``.
        None reads every column of X whose cells are arrays.
    pooling : str or dict, default="mean"
        :class:`~sklearn_mmer.preprocessing.TemporalPooling` method for every
        modality, or a dict mapping modalities to methods (``"mean"`` for the
        others).
    hidden_dim : int, default=128
        Shared width of the modality encodings (one layer: not scikit-learn's
        ``hidden_layer_sizes``).
    dropout : float, default=0.0
        Dropout on the encodings and on the fused vector.
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
        Mixup within each training batch, as in ``MLPClassifier`` (the pooled
        vectors are mixed; a modality is present where either of the pair has
        it); 0 disables it.
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

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of columns of X seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of X, when X has them.
    modalities_ : list
        The modalities fused, in order (``["x0"]`` for a plain array).
    poolers_ : dict of TemporalPooling
        Fitted pooling step of each modality (absent for a plain array).
    scalers_ : dict of StandardScaler
        Fitted standardisation of each modality's pooled vectors.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is an
        :class:`~sklearn_mmer.neural.AttentionFusionModule`.
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
    sklearn_mmer.fusion.make_early_fusion : Concatenation of the pooled
        modalities, one classifier.
    sklearn_mmer.fusion.make_late_fusion : One classifier per modality, votes
        combined.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_mmer.neural import AttentionFusionClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.array(["sad", "happy"] * 20)
    >>> X = pd.DataFrame({
    ...     "acoustic": [rng.normal(size=(5, 3)) for _ in y],
    ...     "lexical": [rng.normal(size=4) + 3 * (label == "happy") for label in y],
    ... })
    >>> X.loc[0, "acoustic"] = None
    >>> clf = AttentionFusionClassifier(hidden_dim=8, learning_rate_init=0.01,
    ...                                 max_iter=20, random_state=0)
    >>> clf.fit(X, y).score(X, y)
    1.0
    >>> clf.predict_modality_weights(X).loc[0].tolist()
    [0.0, 1.0]
    """

    _parameter_constraints = {
        "modalities": [str, "array-like", None],
        "pooling": [StrOptions(set(POOLING_STATISTICS)), dict],
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        modalities=None,
        *,
        pooling="mean",
        hidden_dim=128,
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
    ):
        self.modalities = modalities
        self.pooling = pooling
        self.hidden_dim = hidden_dim
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

    def _prepare(self, X, reset, sample_weight=None):
        """Pooled, scaled modality vectors side by side, and the presence mask."""
        if reset:
            on_cells = uses_cells(
                X, self.modalities, owner=type(self).__name__, parameter="modalities"
            )
        else:
            on_cells = hasattr(self, "poolers_")
            check_predict_input(self, X, on_cells=on_cells, parameter="modalities")
        if not on_cells:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)
            if reset:
                self.modalities_ = [ARRAY_MODALITY]
                self.scalers_ = {
                    ARRAY_MODALITY: StandardScaler().fit(X, sample_weight=sample_weight)
                }
                if hasattr(self, "poolers_"):
                    del self.poolers_
            pooled = [X]
        elif reset:
            validate_data(self, X, skip_check_array=True)
            self.modalities_ = resolve_modalities(
                X, self.modalities, parameter="modalities"
            )
            methods = pooling_methods(self.pooling, self.modalities_)
            self.poolers_ = {
                m: TemporalPooling(methods[m]).fit(modality_cells(X, m))
                for m in self.modalities_
            }
            pooled = [
                self.poolers_[m].transform(modality_cells(X, m))
                for m in self.modalities_
            ]
            self.scalers_ = {
                m: StandardScaler().fit(p, sample_weight=sample_weight)
                for m, p in zip(self.modalities_, pooled)
            }
        else:
            pooled = [
                self.poolers_[m].transform(modality_cells(X, m))
                for m in self.modalities_
            ]
        mask = np.column_stack([~np.isnan(p).any(axis=1) for p in pooled])
        scaled = [
            self.scalers_[m].transform(p) for m, p in zip(self.modalities_, pooled)
        ]
        # a missing modality's zeros are never seen: its weight is 0
        features = np.nan_to_num(np.hstack(scaled), nan=0.0).astype(np.float32)
        return {"features": features, "mask": mask}

    def _build_module(self):
        widths = [self.scalers_[m].n_features_in_ for m in self.modalities_]
        return AttentionFusionModule(
            widths,
            self.classes_.shape[0],
            hidden_dim=self.hidden_dim,
            dropout=self.dropout,
        )

    def predict_modality_weights(self, X):
        """The weight each modality gets for each utterance.

        These are the weights behind :meth:`predict` on the same X. predict
        itself leaves the estimator unchanged, as scikit-learn requires, so the
        weights are asked for with this method.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Input in the form ``fit`` took.

        Returns
        -------
        weights : DataFrame of shape (n_samples, n_modalities)
            One column per modality (``modalities_``), indexed like X; each row
            sums to 1 over the modalities present, and is exactly 0 for a
            missing modality (all 0 when every modality is missing).
        """
        check_is_fitted(self)
        inputs = self._prepare(X, reset=False)
        module = self.net_.module_
        was_training = module.training
        module.eval()
        batches = []
        try:
            with torch.no_grad():
                for start in range(0, inputs["mask"].shape[0], 4096):
                    # the device the weights live on, which set_params or
                    # unpickling elsewhere may have made differ from self.device
                    device = next(module.parameters()).device
                    part = {
                        key: torch.as_tensor(value[start : start + 4096]).to(device)
                        for key, value in inputs.items()
                    }
                    batches.append(module.fuse(**part)[1].cpu().numpy())
        finally:
            module.train(was_training)
        weights = (
            np.concatenate(batches)
            if batches
            else np.zeros((0, len(self.modalities_)), dtype=np.float32)
        )
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(
            weights.astype(np.float64), index=index, columns=list(self.modalities_)
        )
