"""MLPClassifier: the study's feed-forward classifier as a scikit-learn estimator."""

from numbers import Real

import numpy as np
from sklearn.utils.validation import validate_data

from ..utils._sklearn_compat import Interval
from ._base import TRAINING_CONSTRAINTS, BaseNeuralClassifier
from ._modules import MLPModule


def check_hidden_dims(hidden_dims, name="hidden_dims"):
    """Return ``hidden_dims`` as a tuple of positive ints, or raise a ValueError."""
    dims = tuple(np.atleast_1d(np.asarray(hidden_dims, dtype=object)).tolist())
    if not all(isinstance(d, (int, np.integer)) and d > 0 for d in dims):
        raise ValueError(
            f"{name} must be a sequence of positive ints, got {hidden_dims!r}"
        )
    return tuple(int(d) for d in dims)


class MLPClassifier(BaseNeuralClassifier):
    """A feed-forward neural network classifier trained with PyTorch via skorch.

    The defaults are those of the study this toolkit grew from: hidden layers of
    128 and 64 units with ReLU, Adam (learning rate 1e-3, weight decay 1e-5),
    cross-entropy loss, batches of 32 and at most 50 epochs. The input width is
    inferred at fit.

    With ``early_stopping=True``, a ``validation_fraction`` of the *training*
    data is held out, training stops once the validation loss has not improved
    for ``patience`` epochs, and the weights of the best epoch are restored. When
    speaker ids are routed to ``fit`` as ``groups`` (scikit-learn metadata
    routing: ``set_fit_request(groups=True)``), the held-out part is made of
    whole speakers, disjoint from those trained on.

    Parameters
    ----------
    hidden_dims : sequence of int, default=(128, 64)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
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
    refit : bool, default=False
        With ``early_stopping``: once it has chosen the epoch count
        (``best_epoch_``) on the held-out split, train the network again from
        the same initial weights on all the training data, held-out part
        included, for that many epochs, and keep that network. It costs one
        more training of ``best_epoch_`` epochs, and no data is set aside for
        good. Needs ``early_stopping=True``.
    class_weight : {"balanced"}, dict or None, default=None
        Per-class weights of the loss: ``"balanced"`` weights each class
        inversely to its frequency in the training data; a dict maps labels to
        weights (1 for labels it leaves out).
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks of the skorch net, such as
        ``skorch.callbacks.LRScheduler``, ``ProgressBar`` or ``Checkpoint``,
        or ``(name, callback)`` tuples. Each fit trains with fresh copies, so
        the callbacks given here are never changed; they run alongside the
        estimator's own early stopping (named ``"early_stopping"``).
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
        Number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the input features, when X has them.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net.
    history_ : skorch.History
        Per-epoch training history (losses, durations); with ``refit``, the
        final network's.
    n_iter_ : int
        Number of epochs trained (with ``refit``, by the final network).
    best_epoch_ : int
        The epoch (1-based) whose weights are kept; with ``refit``, the number
        of epochs the final network is trained for.
    validation_indices_ : ndarray of int or None
        Rows of the training X held out for early stopping (None without it),
        so that the split can be audited.
    validation_losses_ : ndarray of shape (n_epochs,) or None
        The validation loss after each epoch of early stopping's run (None
        without it); ``best_epoch_`` is its argmin, plus one.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's own multilayer
        perceptron, trained with NumPy.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mmer.neural import MLPClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
    >>> y = np.array(["sad"] * 20 + ["happy"] * 20)
    >>> clf = MLPClassifier(hidden_dims=(8,), max_epochs=30, random_state=0)
    >>> clf.fit(X, y).predict([[-2.0, -2.0, -2.0], [2.0, 2.0, 2.0]])
    array(['sad', 'happy'], dtype='<U5')
    """

    _parameter_constraints = {
        "hidden_dims": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_dims=(128, 64),
        *,
        dropout=0.0,
        lr=1e-3,
        weight_decay=1e-5,
        batch_size=32,
        max_epochs=50,
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        refit=False,
        class_weight=None,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
    ):
        self.hidden_dims = hidden_dims
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.refit = refit
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        check_hidden_dims(self.hidden_dims)

    def _prepare(self, X, reset, sample_weight=None):
        # the network reads X as it is: no statistic to weight
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=reset)
        return X.astype(np.float32, copy=False)

    def _build_module(self):
        return MLPModule(
            self.n_features_in_,
            self.classes_.shape[0],
            hidden_dims=check_hidden_dims(self.hidden_dims),
            dropout=self.dropout,
        )
