"""Training machinery shared by the skorch-backed classifiers.

Each public classifier is a thin scikit-learn estimator: it validates its input,
builds a plain torch module, and hands both to :func:`fit_net`, which wraps them
in a skorch ``NeuralNetClassifier`` with the toolkit's conventions (seeded,
early stopping on a split carved from the *training* data, best epoch restored).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import (
    GroupShuffleSplit,
    ShuffleSplit,
    StratifiedShuffleSplit,
)
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ..utils._groups import check_groups
from ..utils._sklearn_compat import Interval, StrOptions
from ._loader import TensorBatchIterator

TRAINING_CONSTRAINTS = {
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def _silent(*args, **kwargs):
    """A sink that prints nothing (picklable, unlike a lambda)."""


def check_device(device):
    """Fail early, in the user's terms, on a device torch cannot train on here."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:N'"
        ) from error
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but torch finds no CUDA GPU here; "
                "use device='cpu' or install a CUDA build of torch"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but torch sees only "
                f"{torch.cuda.device_count()} CUDA GPU(s), numbered from 0"
            )
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} but MPS is not available here")


def validation_split(y, groups, fraction, seed):
    """Indices ``(train, valid)`` for early stopping, carved from the training data.

    With ``groups`` (speakers) the validation speakers are disjoint from the
    training speakers; otherwise the split is stratified when every class has
    enough samples, and plain random when not.
    """
    n_samples = len(y)
    placeholder = np.zeros(n_samples)
    if groups is not None:
        groups = check_groups(groups, n_samples)
        if np.unique(groups).size < 2:
            raise ValueError(
                "early_stopping with groups needs at least 2 distinct speakers in "
                "the training data to hold one out for validation"
            )
        splitter = GroupShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(placeholder, y, groups))
    if n_samples < 2:
        raise ValueError(
            "early_stopping needs at least 2 training samples to carve out a "
            f"validation split; got n_samples = {n_samples}"
        )
    try:
        splitter = StratifiedShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(placeholder, y))
    except ValueError:
        splitter = ShuffleSplit(1, test_size=fraction, random_state=seed)
        return next(splitter.split(placeholder, y))


class BaseNeuralClassifier(ClassifierMixin, BaseEstimator):
    """Label handling, seeding, early stopping and prediction for neural classifiers.

    Subclasses implement ``_prepare(X, reset)``, returning what the torch module
    reads (an array or a dict of arrays), and ``_build_module(X_prepared,
    n_classes)``, returning an ``nn.Module`` that maps it to class logits.
    """

    #: rows per forward pass at prediction (and validation) time
    _predict_batch_size = 1024

    def _encode_targets(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; got "
                f"1 class ({self.classes_[0]!r})"
            )
        return encoder.transform(y).astype(np.int64)

    def _fit_net(self, X, y, groups=None):
        """Build the module and train it with skorch; sets ``net_`` and friends."""
        check_device(self.device)
        n_classes = self.classes_.shape[0]
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        callbacks = []
        train_split = None
        if self.early_stopping:
            train, valid = validation_split(y, groups, self.validation_fraction, seed)
            train_split = predefined_split(Dataset(_take(X, valid), y[valid]))
            X, y = _take(X, train), y[train]
            self.validation_indices_ = valid
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.patience,
                        load_best=True,
                        # any decrease counts, so the restored epoch is the
                        # argmin of the validation loss reported as best_epoch_
                        threshold=0.0,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        criterion_weight = None
        if self.class_weight == "balanced":
            criterion_weight = torch.as_tensor(
                _balanced_weights(y, n_classes), dtype=torch.float32
            )
        elif isinstance(self.class_weight, dict):
            unknown = sorted(set(self.class_weight) - set(self.classes_), key=str)
            if unknown:
                raise ValueError(
                    f"class_weight names labels {unknown} that are not in y; "
                    f"the classes are {list(self.classes_)}"
                )
            criterion_weight = torch.as_tensor(
                [self.class_weight.get(label, 1.0) for label in self.classes_],
                dtype=torch.float32,
            )
        # seed a private copy of torch's RNG, leaving the caller's global state be
        on_cuda = str(self.device).startswith("cuda")
        with torch.random.fork_rng(devices=None if on_cuda else []):
            torch.manual_seed(seed)
            module = self._build_module(X, n_classes)
            net = NeuralNetClassifier(
                module=module,
                criterion=torch.nn.CrossEntropyLoss,
                criterion__weight=criterion_weight,
                optimizer=torch.optim.Adam,
                optimizer__weight_decay=self.weight_decay,
                # one fused update over all parameters: fewer op dispatches per step
                optimizer__foreach=True,
                lr=self.lr,
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                train_split=train_split,
                callbacks=callbacks,
                iterator_train=TensorBatchIterator,
                iterator_valid=TensorBatchIterator,
                # prediction has no gradient to average: larger batches mean
                # fewer parallel regions, which matters on small, busy machines
                iterator_valid__batch_size=max(
                    self.batch_size, self._predict_batch_size
                ),
                iterator_train__shuffle=True,
                classes=np.arange(n_classes),
                device=self.device,
                verbose=self.verbose,
                # PrintLog tabulates every epoch even when it prints nothing
                **({} if self.verbose else {"callbacks__print_log": None}),
            )
            net.fit(X, y)
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        if not self.early_stopping:
            self.validation_indices_ = None
        if self.early_stopping:
            valid_losses = net.history[:, "valid_loss"]
            self.best_epoch_ = int(np.argmin(valid_losses)) + 1
        else:
            self.best_epoch_ = self.n_iter_
        return self

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like
            Input in the form ``fit`` took.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        X = self._prepare(X, reset=False)
        proba = np.asarray(self.net_.predict_proba(X), dtype=np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like
            Input in the form ``fit`` took.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


def _balanced_weights(y, n_classes):
    """``n_samples / (n_present_classes * count)`` per class; 1 for absent ones.

    This is scikit-learn's "balanced" rule, kept defined when early stopping's
    split leaves a rare class out of the training part.
    """
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = np.ones(n_classes)
    present = counts > 0
    weights[present] = len(y) / (present.sum() * counts[present])
    return weights


def _take(X, indices):
    """Rows of an array, or of every array in a dict of arrays."""
    if isinstance(X, dict):
        return {key: value[indices] for key, value in X.items()}
    return X[indices]
