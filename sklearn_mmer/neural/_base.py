"""The template every skorch-backed classifier of the toolkit shares.

Each public classifier is a thin scikit-learn estimator. :meth:`fit` is written
once, here: check the parameters, prepare the input, encode the labels, carve
the validation split for early stopping out of the *training* data, build the
torch module and its skorch net, train. A subclass writes only

- ``_prepare(X, reset, sample_weight=None)``: what its torch module reads (an
  array, or a dict of arrays), fitting its own preprocessing (weighted by
  ``sample_weight``) when ``reset`` is True;
- ``_build_module()``: the ``nn.Module`` mapping that input to class logits,
  built from parameters and fitted attributes alone;
- optionally ``_check_params()``: checks that the declared constraints cannot
  express.

Because ``_build_module`` reads only fitted attributes, a fitted classifier's
network can be rebuilt without training (see
:meth:`BaseNeuralClassifier._initialize_net`), which is how a model file is
loaded.

A classifier whose networks are not trained through skorch (the seed ensemble,
whose members each keep their own best epoch) still fits through this
template: it overrides ``_train_networks`` (which receives the prepared input,
the encoded labels, the weights, the seed and early stopping's split) and
``_initialize_net`` and ``predict_proba``, and ``_partial_train`` for
:meth:`~BaseNeuralClassifier.partial_fit`.

The training parameters carry scikit-learn's names
(``sklearn.neural_network.MLPClassifier``'s: ``learning_rate_init``,
``alpha``, ``max_iter``, ``n_iter_no_change``, ``hidden_layer_sizes``); the
toolkit's earlier names stay, deprecated, as parameters defaulting to the
string ``"deprecated"`` (:data:`RENAMED` lists them, :meth:`_check_renamed`
warns, :meth:`_param` reads whichever is set).

The skorch net they train (:class:`WeightedNeuralNetClassifier`) weights
samples: skorch's ``NeuralNetClassifier`` averages the loss over a batch, so
the weights travel with the input, as one more entry of a dict
(``{"X": array, "sample_weight": w}`` or the module's own dict of arrays plus
``"sample_weight"``), so that they follow every sample through the shuffling,
the batching and early stopping's validation split. The net strips them off
before the module's forward pass and weights the per-sample losses with them.
"""

import copy
import inspect
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset, unpack_data
from skorch.helper import predefined_split
from skorch.utils import to_tensor

from ..utils._data import check_groups, speaker_holdout, speakers_of
from ..utils._runtime import ctrl_c_stops_fit
from ..utils._sklearn_compat import Hidden, Interval, StrOptions, fit_context
from ._data import TensorBatchIterator

#: the default of a deprecated parameter: "not set, read the new name"
DEPRECATED = "deprecated"
#: the release that gave the training parameters scikit-learn's names
RENAMED_IN = "0.1"
#: the release that removes the earlier names
REMOVED_IN = "0.2"
#: the toolkit's earlier parameter names and the names that replace them
#: (scikit-learn's, as ``sklearn.neural_network.MLPClassifier`` spells them)
RENAMED = {
    "lr": "learning_rate_init",
    "weight_decay": "alpha",
    "max_epochs": "max_iter",
    "patience": "n_iter_no_change",
    "hidden_dims": "hidden_layer_sizes",
}


def deprecated(constraints):
    """The constraints of a deprecated name: the old ones, or the sentinel."""
    return [*constraints, Hidden(StrOptions({DEPRECATED}))]


def is_unset(value):
    """Whether a deprecated parameter holds its sentinel (was not given)."""
    return isinstance(value, str) and value == DEPRECATED


def _same(a, b):
    """Whether two parameter values are equal (``(8,)`` and ``[8]`` are)."""
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return a == b


def _upgrade_curves(state):
    """Give the state of a classifier fitted before 0.1 its training curves.

    Those classifiers recorded ``history_`` (skorch's) or an array
    ``loss_curve_`` (the seed ensemble) only; the curves are read from them.
    A history restored later (a model file keeps it apart) is read by
    :meth:`BaseNeuralClassifier._restore_history`.
    """
    if isinstance(state.get("loss_curve_"), np.ndarray):
        state["loss_curve_"] = [float(v) for v in state["loss_curve_"]]
    state.setdefault("validation_scores_", None)
    state.setdefault("best_validation_score_", None)
    if "best_loss_" not in state and state.get("loss_curve_"):
        early = state.get("validation_loss_curve_") is not None
        state["best_loss_"] = None if early else min(state["loss_curve_"])
    state.setdefault("best_loss_", None)
    history = state.get("history_")
    if "loss_curve_" not in state and history is not None:
        curves_from_history(state, history)


def curves_from_history(state, history):
    """Set the curves in ``state`` (a dict) from a skorch history."""
    state["loss_curve_"] = [float(v) for v in history[:, "train_loss"]]
    state["n_iter_"] = len(state["loss_curve_"])
    state["best_loss_"] = min(state["loss_curve_"], default=None)
    if state.get("validation_losses_") is None:
        return
    state["best_loss_"] = None
    if "valid_acc" in history[-1]:
        scores = [float(v) for v in history[:, "valid_acc"]]
        state["validation_scores_"] = scores
        state["best_validation_score_"] = scores[state["best_epoch_"] - 1]


def continue_optimizer(optimizer, previous):
    """Give ``optimizer`` the state of ``previous.optimizer_`` (when it has one).

    The learning rate and weight decay stay the new optimiser's, so that
    ``set_params`` between two ``partial_fit`` calls takes effect.
    """
    old = getattr(previous, "optimizer_", None)
    if old is None:
        return
    settings = [
        {key: group[key] for key in ("lr", "weight_decay")}
        for group in optimizer.param_groups
    ]
    optimizer.load_state_dict(old.state_dict())
    for group, kept in zip(optimizer.param_groups, settings):
        group.update(kept)


_LEARNING_RATE = [Interval(Real, 0, None, closed="neither")]
_ALPHA = [Interval(Real, 0, None, closed="left")]
_MAX_ITER = [Interval(Integral, 1, None, closed="left")]
_NO_CHANGE = [Interval(Integral, 1, None, closed="left")]
_TOL = [Interval(Real, 0, None, closed="left"), None]

TRAINING_CONSTRAINTS = {
    "learning_rate_init": _LEARNING_RATE,
    "alpha": _ALPHA,
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": _MAX_ITER,
    "early_stopping": ["boolean"],
    "refit": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": _NO_CHANGE,
    "tol": _TOL,
    "warm_start": ["boolean"],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "mixup_alpha": [Interval(Real, 0, None, closed="left")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "callbacks": [list, None],
    "device": [str],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "lr": deprecated(_LEARNING_RATE),
    "weight_decay": deprecated(_ALPHA),
    "max_epochs": deprecated(_MAX_ITER),
    "patience": deprecated(_NO_CHANGE),
}

#: name of the early-stopping callback the estimator adds itself
EARLY_STOPPING = "early_stopping"
#: key of the sample weights in the dict fed to the net
SAMPLE_WEIGHT = "sample_weight"
#: key of a plain array input when weights travel with it
ARRAY_INPUT = "X"


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


@contextmanager
def seeded_rng(seed, device):
    """Inside, torch draws from its generators seeded with ``seed``: the CPU's,
    and every CUDA device's for a ``device`` on CUDA; outside, the caller's
    own states are back.

    Only those generators are touched. ``torch.manual_seed`` also queues the
    seed for CUDA, XPU and MTIA devices that are not initialised yet, which
    no restore undoes (a fit on the CPU would set the seed a later CUDA run
    of the caller starts from), and it formats the call stack to queue it:
    milliseconds of every fit, deep inside a search or a cross-validation.
    """
    on_cuda = str(device).startswith("cuda")
    with torch.random.fork_rng(devices=None if on_cuda else []):
        torch.default_generator.manual_seed(int(seed))
        if on_cuda:
            torch.cuda.manual_seed_all(int(seed))
        yield


def validation_split(y, groups, fraction, seed):
    """Indices ``(train, valid)`` for early stopping, carved from the training data.

    With ``groups`` (speakers) the validation speakers are disjoint from the
    training speakers; otherwise the split is stratified when every class has
    enough samples, and plain random when not.
    """
    n_samples = len(y)
    placeholder = np.zeros(n_samples)
    if groups is not None:
        return speaker_holdout(
            check_groups(groups, n_samples),
            fraction,
            seed,
            needed_by="early_stopping's speaker-disjoint validation split",
            fix="Set early_stopping=False, or train on more speakers",
        )
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


def encode_targets(estimator, y):
    """``y`` as class indices (int64); sets ``estimator.classes_``.

    Raises a ValueError naming the estimator when y holds fewer than 2 classes.
    """
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    estimator.classes_ = encoder.classes_
    check_two_classes(estimator)
    return encoder.transform(y).astype(np.int64)


def check_two_classes(estimator):
    """Raise a ValueError naming the estimator unless ``classes_`` has 2 or more."""
    if estimator.classes_.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; got "
            f"1 class ({estimator.classes_[0]!r})"
        )


def encode_known_targets(estimator, y, *, same_classes):
    """``y`` as indices into the fitted ``classes_`` (int64).

    With ``same_classes`` (a warm-started fit) y must hold exactly the
    fitted classes; otherwise (partial_fit) any of them. Raises a ValueError
    naming both sets when not, as scikit-learn's ``MLPClassifier`` does.
    """
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    seen = unique_labels(y)
    classes = estimator.classes_
    if same_classes and not np.array_equal(seen, classes):
        raise ValueError(
            "warm_start can only be used where `y` has the same classes as in "
            f"the previous call to fit. Previously got {classes}, `y` has {seen}; "
            "set warm_start=False to train afresh on these classes"
        )
    unknown = np.setdiff1d(seen, classes)
    if unknown.size:
        raise ValueError(
            f"`y` has classes not in `self.classes_`. `self.classes_` has "
            f"{classes}. 'y' has {seen}; partial_fit only trains on the classes "
            "given to its first call"
        )
    return np.searchsorted(classes, y).astype(np.int64)


class BaseNeuralClassifier(ClassifierMixin, BaseEstimator):
    """Label handling, seeding, early stopping and prediction for neural classifiers.

    Subclasses implement ``_prepare(X, reset, sample_weight=None)``, returning
    what the torch module reads (an array or a dict of arrays) and, with
    ``reset=True``, fitting their preprocessing (weighted by ``sample_weight``
    when given), and ``_build_module()``, returning an
    ``nn.Module`` that maps it to class logits; it reads only parameters and
    fitted attributes (``classes_`` and what ``_prepare`` set with
    ``reset=True``).
    """

    #: rows per forward pass at prediction (and validation) time
    _predict_batch_size = 1024

    #: how training batches are drawn (sequence models group them by length)
    _iterator_train = TensorBatchIterator

    #: deprecated parameter -> (the name that replaces it, the release it goes)
    _deprecated_names = {old: (new, REMOVED_IN) for old, new in RENAMED.items()}

    def _check_params(self):
        """Checks the declared ``_parameter_constraints`` cannot express."""

    def _param(self, name):
        """Parameter ``name``, or the value of its deprecated alias when set."""
        for old, (new, _) in self._deprecated_names.items():
            if new == name and not is_unset(getattr(self, old, DEPRECATED)):
                return getattr(self, old)
        return getattr(self, name)

    def _check_renamed(self):
        """Warn for each deprecated name that is set; refuse a contradiction.

        A deprecated name set beside its replacement at a value other than
        the replacement's default and its own is a ValueError naming both.
        """
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        owner = type(self).__name__
        for old, (new, removed_in) in self._deprecated_names.items():
            value = getattr(self, old, DEPRECATED)
            if old not in defaults or is_unset(value):
                continue
            current = getattr(self, new)
            if not _same(current, defaults[new]) and not _same(current, value):
                raise ValueError(
                    f"{old}={value!r} and {new}={current!r} were both given; "
                    f"{old} is the deprecated name of {new}, pass {new} only"
                )
            warnings.warn(
                f"{owner}'s parameter `{old}` was renamed `{new}` in {RENAMED_IN} "
                f"and will be removed in {removed_in}; use "
                f"{owner}({new}={value!r})",
                FutureWarning,
                stacklevel=3,
            )

    def __setstate__(self, state):
        # an object saved before the renaming holds its parameters under the
        # old names, and none under the new ones: read them as the new ones
        state = dict(state)
        for old, (new, _) in self._deprecated_names.items():
            if old in state and new not in state:
                state[new] = state.pop(old)
                state[old] = DEPRECATED
        if "net_" in state:
            _upgrade_curves(state)
        # a parameter added since (warm_start) takes its default
        for name, parameter in inspect.signature(
            type(self).__init__
        ).parameters.items():
            if name != "self" and name not in state:
                state[name] = parameter.default
        super().__setstate__(state)

    def _restore_history(self, history):
        """Read the training curves from a history a model file restored.

        Files written before 0.1 have no ``loss_curve_``; skorch's history
        has every epoch's training (and validation) record.
        """
        if "loss_curve_" not in vars(self):
            state = dict(vars(self))
            curves_from_history(state, history)
            vars(self).update(state)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None, sample_weight=None):
        """Prepare the input, then train the network.

        With ``warm_start=True`` and a fitted classifier, the network trains
        on from its current weights (for up to ``max_iter`` more epochs, with
        a fresh optimiser, as scikit-learn's) and the classifier's fitted
        preprocessing (standardisation, padding) is kept; ``y`` must then hold
        the classes of the first fit, and X the same input widths.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training input, in the form the classifier reads (see the class
            docstring).
        y : array-like of shape (n_samples,)
            Class labels (strings or ints).
        groups : array-like of shape (n_samples,), default=None
            Speaker ids; with ``early_stopping`` they make the validation split
            speaker-disjoint. Routed here by metadata routing when requested with
            ``set_fit_request(groups=True)``. When None and X is a DataFrame
            with a ``speaker`` column (the data contract), that column is used;
            when both are given they must agree.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample: in the loss, for training and for early
            stopping's validation loss alike, and in the statistics the
            classifier standardises its input with. An integer weight counts a
            sample that many times; a zero weight ignores it. Equal weights
            when None. Class weights (``class_weight``) multiply them.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._check_renamed()
        self._check_params()
        sample_weight = self._check_targets_and_weights(X, y, sample_weight)
        warm = bool(self.warm_start) and hasattr(self, "net_")
        inputs = self._prepare(X, reset=not warm, sample_weight=sample_weight)
        check_consistent_length(first_array(inputs), y)
        if warm:
            y = encode_known_targets(self, y, same_classes=True)
        else:
            y = encode_targets(self, y)
            self._reset_curves()
        check_weighted_classes(sample_weight, y, self.classes_)
        # the data contract puts the speakers in X: early stopping then
        # validates on whole held-out speakers, as the test fold will be
        groups = speakers_of(X, groups)
        return self._fit_net(inputs, y, groups, sample_weight, warm=warm)

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, groups=None, sample_weight=None):
        """Train the network for one epoch on ``(X, y)``, from where it is.

        The first call (on a classifier not fitted yet) needs ``classes``,
        every class that ``y`` of any call may hold, and fits the
        classifier's preprocessing (standardisation, padding) on its ``X``;
        later calls keep it, and continue the network and its optimiser's
        state (Adam's moments). Early stopping is not applied in partial_fit
        (``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
        ``refit`` and ``max_iter`` are ignored): it is one pass over the data
        given. ``class_weight="balanced"`` is refused, as one batch does not
        tell the classes' frequencies.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Training input, in the form ``fit`` takes.
        y : array-like of shape (n_samples,)
            Class labels, each one of ``classes_``.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, and when given later
            it must be the same.
        groups : array-like of shape (n_samples,), default=None
            Accepted for the signature ``fit`` has; unused, as there is no
            validation split to make speaker-disjoint.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss (and, on the first call, in the
            standardisation's statistics), as in ``fit``.

        Returns
        -------
        self : object
            The classifier, trained one more epoch.
        """
        self._check_renamed()
        self._check_params()
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one batch at a time; pass class_weight as a dict (such as "
                "sklearn.utils.class_weight.compute_class_weight('balanced', ...) "
                "gives for the whole data) or use fit"
            )
        first = not hasattr(self, "net_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if not first and classes is not None:
            if not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on the first call "
                    f"to partial_fit, was: {self.classes_!r}"
                )
        sample_weight = self._check_targets_and_weights(X, y, sample_weight)
        inputs = self._prepare(X, reset=first, sample_weight=sample_weight)
        check_consistent_length(first_array(inputs), y)
        if first:
            self.classes_ = unique_labels(classes)
            check_two_classes(self)
            self._reset_curves()
            self.validation_indices_ = None
        y = encode_known_targets(self, y, same_classes=False)
        if sample_weight is not None and not sample_weight.any():
            raise ValueError("sample_weight is zero for every sample of this batch")
        rng = check_random_state(self.random_state)
        # a fixed random_state draws the same seed at every call: offset it
        # by the epochs run so far, so that each call shuffles its own way
        seed = int(rng.randint(np.iinfo(np.int32).max)) + len(self.loss_curve_)
        check_device(self.device)
        self._partial_train(inputs, y, sample_weight, seed % np.iinfo(np.int32).max)
        return self

    def _check_targets_and_weights(self, X, y, sample_weight):
        """Refuse a missing ``y``; return ``sample_weight`` checked (or None).

        The weights are matched to the rows before any statistic reads them.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None"
            )
        if sample_weight is None:
            return None
        check_consistent_length(X, y)
        return check_sample_weight(sample_weight, len(np.asarray(y)))

    def _reset_curves(self):
        """Empty the training curves (a fresh fit, or partial_fit's first call)."""
        self.loss_curve_ = []
        self.validation_scores_ = None
        self.best_validation_score_ = None
        self.best_loss_ = None

    def _record_curves(self, losses, scores, best_score):
        """Extend ``loss_curve_`` (and ``validation_scores_``) by one run's.

        ``scores`` is None for a run without early stopping; ``best_score``
        the validation score of the epoch kept.
        """
        self.loss_curve_ = [*self.loss_curve_, *(float(v) for v in losses)]
        self.n_iter_ = len(self.loss_curve_)
        if scores is None:
            self.best_loss_ = min(self.loss_curve_)
            return
        self.validation_scores_ = [
            *(self.validation_scores_ or []),
            *(float(v) for v in scores),
        ]
        self.best_validation_score_ = float(best_score)
        self.best_loss_ = None

    def _fit_net(self, inputs, y, groups, sample_weight, *, warm=False):
        """Seed the fit, carve early stopping's split, then train the network.

        The seed is drawn once from ``random_state``; it seeds the validation
        split and the training (see :meth:`_train_networks`). With ``warm``
        the training starts from the current network's weights.
        """
        check_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        self.validation_indices_ = split = None
        if self.early_stopping:
            split = validation_split(y, groups, self.validation_fraction, seed)
            valid = split[1]
            if sample_weight is not None and not sample_weight[valid].any():
                raise ValueError(
                    "sample_weight is zero for every sample of early stopping's "
                    "validation split, so its loss is undefined; give some of "
                    "them weight, or set early_stopping=False"
                )
            self.validation_indices_ = valid
        previous = self.net_ if warm else None
        self._train_networks(inputs, y, sample_weight, seed, split, previous=previous)
        return self

    def _train_networks(self, inputs, y, sample_weight, seed, split, previous=None):
        """Train a skorch net; sets ``net_``, its training record and curves.

        Parameters
        ----------
        inputs : ndarray or dict of ndarray
            What ``_prepare`` returned for the training data.
        y : ndarray of shape (n_samples,)
            Class indices.
        sample_weight : ndarray of shape (n_samples,) or None
            Checked sample weights.
        seed : int
            Seeds the initial weights and the shuffling.
        split : tuple of ndarray or None
            Rows ``(train, valid)`` of early stopping, or None without it.
        previous : net or None, default=None
            A fitted net whose weights training starts from (``warm_start``);
            None starts from weights drawn from ``seed``.
        """
        if self.refit and not self.early_stopping:
            raise ValueError(
                "refit=True trains again for the number of epochs early stopping "
                "chooses, so it needs early_stopping=True; set it, or set "
                "refit=False"
            )
        callbacks = user_callbacks(self.callbacks, reserved=EARLY_STOPPING)
        self.validation_losses_ = None
        if split is None:
            if self.tol is not None:
                callbacks.insert(0, (EARLY_STOPPING, self._convergence()))
            net = self._train(
                inputs, y, sample_weight, seed, callbacks, previous=previous
            )
            self.best_epoch_ = len(net.history)
            self._record_curves(net.history[:, "train_loss"], None, None)
            self._warn_unconverged(self._stopped(net))
            return
        train, valid = split
        valid_inputs = pack_weights(
            take_rows(inputs, valid), take_rows(sample_weight, valid)
        )
        callbacks.insert(0, (EARLY_STOPPING, self._early_stopping()))
        net = self._train(
            take_rows(inputs, train),
            y[train],
            take_rows(sample_weight, train),
            seed,
            callbacks,
            train_split=predefined_split(Dataset(valid_inputs, y[valid])),
            previous=previous,
        )
        self.validation_losses_ = np.asarray(net.history[:, "valid_loss"], dtype=float)
        # the epoch early stopping restored: the argmin of the validation
        # loss when tol is None, else the last to improve on the best by tol
        self.best_epoch_ = int(dict(net.callbacks_)[EARLY_STOPPING].best_epoch_)
        scores = net.history[:, "valid_acc"]
        losses = net.history[:, "train_loss"]
        if self.refit:
            # the epoch count was chosen on held-out speakers; the final
            # network learns from them too, starting from the same weights
            net = self._train(
                inputs,
                y,
                sample_weight,
                seed,
                user_callbacks(self.callbacks, reserved=EARLY_STOPPING),
                max_epochs=self.best_epoch_,
                previous=previous,
            )
            losses = net.history[:, "train_loss"]
        self._record_curves(losses, scores, scores[self.best_epoch_ - 1])

    def _partial_train(self, inputs, y, sample_weight, seed):
        """One epoch of :meth:`partial_fit`, from ``net_`` when there is one."""
        previous = getattr(self, "net_", None)
        net = self._train(
            inputs,
            y,
            sample_weight,
            seed,
            user_callbacks(self.callbacks, reserved=EARLY_STOPPING),
            max_epochs=1,
            previous=previous,
            keep_optimizer=True,
        )
        self.best_epoch_ = len(net.history)
        self.validation_losses_ = None
        self._record_curves(net.history[:, "train_loss"], None, None)

    def _train(
        self,
        inputs,
        y,
        sample_weight,
        seed,
        callbacks,
        *,
        train_split=None,
        max_epochs=None,
        previous=None,
        keep_optimizer=False,
    ):
        """Initialise a network from ``seed`` and train it; sets ``net_``.

        With ``previous`` (a fitted net), the network starts from its weights
        instead, and with ``keep_optimizer`` from its optimiser's state too.
        """
        # seed a private copy of torch's RNG, leaving the caller's global state be
        with seeded_rng(seed, self.device):
            net = self._initialize_net(
                train_split=train_split,
                callbacks=callbacks,
                criterion_weight=self._criterion_weight(y),
            )
            if previous is not None:
                net.module_.load_state_dict(previous.module_.state_dict())
                if keep_optimizer:
                    continue_optimizer(net.optimizer_, previous)
            if max_epochs is not None:
                net.max_epochs = max_epochs
            # skorch catches Ctrl-C and keeps the half-trained network; an
            # estimator stops, as scikit-learn's do, so that no search or
            # cross-validation scores what the user meant to stop
            with ctrl_c_stops_fit():
                net.partial_fit(pack_weights(inputs, sample_weight), y)
        # the validation split holds a copy of (or a view into) the training
        # data, which the fitted model does not need: pickles would carry it
        net.train_split = None
        self.history_ = net.history
        return net

    def _early_stopping(self):
        return EarlyStopping(
            monitor="valid_loss",
            patience=self._param("n_iter_no_change"),
            load_best=True,
            # with tol None any decrease counts, so the restored epoch is the
            # argmin of the validation loss
            threshold=0.0 if self.tol is None else float(self.tol),
            threshold_mode="abs",
            sink=print if self.verbose else _silent,
        )

    def _convergence(self):
        """Stop once the training loss has stopped improving by ``tol``.

        The weights of the last epoch are kept, as scikit-learn's are.
        """
        return EarlyStopping(
            monitor="train_loss",
            patience=self._param("n_iter_no_change"),
            load_best=False,
            threshold=float(self.tol),
            threshold_mode="abs",
            sink=print if self.verbose else _silent,
        )

    def _stopped(self, net):
        """Whether ``net``'s run ended before ``max_iter`` epochs.

        The estimator's own stopping may end it on the last epoch; a user's
        callback may end it earlier.
        """
        stopping = dict(net.callbacks_).get(EARLY_STOPPING)
        if stopping is not None and stopping.misses_ >= stopping.patience:
            return True
        return len(net.history) < self._param("max_iter")

    def _warn_unconverged(self, converged):
        """Warn as scikit-learn does when ``tol`` is set and was never met.

        ``converged`` tells whether the run stopped on ``tol``; a run
        without ``tol`` never warns.
        """
        if self.tol is None or converged:
            return
        warnings.warn(
            f"{type(self).__name__} trained all max_iter="
            f"{self._param('max_iter')} epochs and the training loss had not "
            f"converged (it still improved by more than tol={self.tol} within "
            f"{self._param('n_iter_no_change')} epochs); raise max_iter or tol",
            ConvergenceWarning,
        )

    def _criterion_weight(self, y):
        """The loss's per-class weights from ``class_weight``, or None."""
        weights = loss_class_weights(self.class_weight, self.classes_, y)
        if weights is None:
            return None
        return torch.as_tensor(weights, dtype=torch.float32)

    def _initialize_net(
        self,
        *,
        train_split=None,
        callbacks=(),
        criterion_weight=None,
        for_training=True,
    ):
        """Build the torch module and its skorch net, untrained; set ``net_``.

        Reads only parameters and fitted attributes (``classes_`` and those
        ``_prepare(X, reset=True)`` sets), never training data, so it also
        rebuilds the network of a fitted classifier restored from a model
        file: construct the classifier with its parameters, set its fitted
        attributes, call ``_initialize_net()``, then
        ``net_.module_.load_state_dict(state_dict)``.

        The initial weights are drawn from torch's global RNG (``fit`` seeds a
        private copy of it first); a loader that overwrites them may wrap the
        call in ``torch.random.fork_rng()`` to leave the caller's RNG be.

        Parameters
        ----------
        train_split : callable or None, default=None
            skorch's ``train_split`` (the validation data of early stopping).
        callbacks : sequence of skorch callbacks or (name, callback), default=()
            Callbacks of the net, beyond skorch's defaults.
        criterion_weight : tensor of shape (n_classes,) or None, default=None
            Per-class weights of the training loss (prediction ignores them).
        for_training : bool, default=True
            Build the optimiser too. A net rebuilt only to predict (a model
            file's) goes without: torch's optimisers import its compiler on
            first use, seconds of a model's load for nothing. A later
            ``partial_fit`` builds a net of its own, with a fresh optimiser.

        Returns
        -------
        net : skorch.NeuralNetClassifier
            The initialised net, also stored as ``net_``; ``net_.module_`` is
            the torch module, on ``device``.
        """
        check_device(self.device)
        n_classes = self.classes_.shape[0]
        net = WeightedNeuralNetClassifier(
            module=self._build_module(),
            criterion=torch.nn.CrossEntropyLoss,
            criterion__weight=criterion_weight,
            criterion__label_smoothing=float(self.label_smoothing),
            mixup_alpha=float(self.mixup_alpha),
            **(self._optimizer() if for_training else {"optimizer": None}),
            lr=self._param("learning_rate_init"),
            batch_size=self.batch_size,
            max_epochs=self._param("max_iter"),
            train_split=train_split,
            callbacks=list(callbacks),
            iterator_train=self._iterator_train,
            iterator_valid=TensorBatchIterator,
            # prediction has no gradient to average: larger batches mean fewer
            # parallel regions, which matters on small, busy machines
            iterator_valid__batch_size=max(self.batch_size, self._predict_batch_size),
            iterator_train__shuffle=True,
            classes=np.arange(n_classes),
            device=self.device,
            verbose=self.verbose,
            # PrintLog tabulates every epoch even when it prints nothing
            **({} if self.verbose else {"callbacks__print_log": None}),
        )
        net.initialize()
        self.net_ = net
        return net

    def _optimizer(self):
        """The skorch net's optimiser and its parameters, but the learning rate."""
        return {
            "optimizer": torch.optim.Adam,
            # alpha is Adam's weight decay: it adds alpha * w to each
            # gradient (scikit-learn adds alpha / n_samples * w, from the
            # penalty alpha / (2 n) * ||w||^2 of its loss)
            "optimizer__weight_decay": self._param("alpha"),
            # one fused update over all parameters: fewer op dispatches per step
            "optimizer__foreach": True,
        }

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


def loss_class_weights(class_weight, classes, y):
    """Per-class loss weights, in the order of ``classes``, or None.

    ``class_weight`` is "balanced" (see :func:`_balanced_weights`), a dict of
    label to weight (missing labels weigh 1; a label not in ``classes`` is an
    error) or None; ``y`` holds the training labels' codes.
    """
    if class_weight == "balanced":
        return _balanced_weights(y, classes.shape[0])
    if isinstance(class_weight, dict):
        unknown = sorted(set(class_weight) - set(classes), key=str)
        if unknown:
            raise ValueError(
                f"class_weight names labels {unknown} that are not in y; "
                f"the classes are {list(classes)}"
            )
        return np.array([class_weight.get(label, 1.0) for label in classes])
    return None


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


def take_rows(X, indices):
    """Rows of an array, or of every array in a dict of arrays (None stays None)."""
    if X is None:
        return None
    if isinstance(X, dict):
        return {key: value[indices] for key, value in X.items()}
    return X[indices]


class WeightedNeuralNetClassifier(NeuralNetClassifier):
    """skorch's classifier, with a loss that can weight each sample.

    When a batch is a dict holding ``"sample_weight"``, the loss is
    ``sum(w_i * c_i * l_i) / sum(w_i * c_i)`` over the batch, with ``l_i`` the
    cross-entropy of sample ``i``, ``w_i`` its weight and ``c_i`` its class's
    weight (1 without ``criterion__weight``): the mean skorch takes otherwise,
    with an integer weight counting a sample that many times. Without weights
    the net is skorch's own.

    With ``mixup_alpha > 0`` each training batch is mixed with a shuffled
    copy of itself (mixup, Zhang et al., 2018): one ``lam ~ Beta(alpha,
    alpha)`` per batch, drawn from torch's RNG, mixes every float input
    (``lam * x + (1 - lam) * x[perm]``; sequence lengths take the longer of
    the pair, sample weights are mixed alike), and the loss is ``lam *
    loss(y) + (1 - lam) * loss(y[perm])``. Validation and prediction are
    never mixed.
    """

    def __init__(self, module, *args, mixup_alpha=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.mixup_alpha = mixup_alpha

    def initialize_optimizer(self, triggered_directly=None):
        # optimizer=None: a net that only predicts, with no optimiser to build
        if self.optimizer is None:
            return self
        return super().initialize_optimizer(triggered_directly)

    def train_step_single(self, batch, **fit_params):
        if not self.mixup_alpha:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        beta = torch.distributions.Beta(self.mixup_alpha, self.mixup_alpha)
        lam = float(beta.sample())
        perm = torch.randperm(len(yi))
        Xi = mix_batch(Xi, perm, lam)
        y_pred = self.infer(Xi, **fit_params)
        loss = lam * self.get_loss(y_pred, yi, X=Xi, training=True) + (
            1 - lam
        ) * self.get_loss(y_pred, yi[perm], X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping) and SAMPLE_WEIGHT in x:
            x = {key: value for key, value in x.items() if key != SAMPLE_WEIGHT}
            if set(x) == {ARRAY_INPUT}:
                x = x[ARRAY_INPUT]
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not (isinstance(X, Mapping) and SAMPLE_WEIGHT in X):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        y_true = to_tensor(y_true, device=self.device)
        weight = to_tensor(X[SAMPLE_WEIGHT], device=self.device).to(y_pred.dtype)
        class_weight = self.criterion_.weight
        # per-sample losses, already multiplied by their class's weight
        losses = torch.nn.functional.cross_entropy(
            y_pred,
            y_true,
            weight=class_weight,
            reduction="none",
            label_smoothing=self.criterion_.label_smoothing,
        )
        norm = weight if class_weight is None else weight * class_weight[y_true]
        # a batch of zero weights contributes a loss (and a gradient) of 0
        total = norm.sum().clamp_min(torch.finfo(norm.dtype).tiny)
        return (weight * losses).sum() / total


def mix_batch(X, perm, lam):
    """A batch mixed with its rows ``perm``: ``lam * x + (1 - lam) * x[perm]``.

    Applies to an array or to every entry of a dict; integer entries (the
    ``lengths_*`` of sequences) take the larger of the pair instead.
    """
    if isinstance(X, Mapping):
        return {key: mix_batch(value, perm, lam) for key, value in X.items()}
    X = torch.as_tensor(X)
    if not torch.is_floating_point(X):
        return torch.maximum(X, X[perm])
    return lam * X + (1 - lam) * X[perm]


def pack_weights(inputs, sample_weight):
    """The net's input: ``inputs`` alone, or with the weights travelling along."""
    if sample_weight is None:
        return inputs
    weight = np.asarray(sample_weight, dtype=np.float32)
    if isinstance(inputs, dict):
        return {**inputs, SAMPLE_WEIGHT: weight}
    return {ARRAY_INPUT: inputs, SAMPLE_WEIGHT: weight}


def first_array(inputs):
    """The first array of the module's input (an array or a dict of arrays)."""
    return next(iter(inputs.values())) if isinstance(inputs, dict) else inputs


def check_sample_weight(sample_weight, n_samples):
    """``sample_weight`` as a new float array of shape ``(n_samples,)``.

    A scalar weighs every sample alike. Raises a ValueError for a wrong
    shape, a weight that is negative or not finite, and all weights zero.
    """
    if isinstance(sample_weight, Real):
        return np.full(n_samples, float(sample_weight))
    weight = np.array(sample_weight, dtype=np.float64)
    if weight.ndim != 1 or weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per "
            f"sample of X; got shape {weight.shape}"
        )
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        raise ValueError(
            "sample_weight must be finite and non-negative; got "
            f"{weight[bad][0]} for sample {np.flatnonzero(bad)[0]}"
        )
    if not weight.any():
        raise ValueError(
            "sample_weight is zero for every sample; at least one weight must "
            "be positive"
        )
    return weight


def check_weighted_classes(sample_weight, y, classes):
    """Raise a ValueError unless 2 classes or more have positive weight.

    ``y`` holds the encoded labels of ``classes``.
    """
    if sample_weight is None:
        return
    weighted = np.unique(y[sample_weight > 0])
    if weighted.shape[0] < 2:
        raise ValueError(
            "sample_weight must be positive on samples of at least 2 classes; "
            f"only class {classes[weighted[0]].item()!r} has positive weight"
        )


def user_callbacks(callbacks, *, reserved):
    """Fresh copies of the user's skorch callbacks, as ``(name, callback)``.

    Copied at every fit, so that the estimator's parameter is never changed
    by training and a clone starts from the same callbacks.
    """
    if callbacks is None:
        return []
    named = []
    for callback in callbacks:
        if isinstance(callback, tuple) and len(callback) == 2:
            name, callback = callback
        else:
            name = type(callback).__name__
        if not hasattr(callback, "on_epoch_end"):
            raise ValueError(
                f"callbacks must hold skorch callbacks (or (name, callback) "
                f"tuples); got {callback!r}"
            )
        if name == reserved:
            raise ValueError(
                f"the callback name {reserved!r} is the estimator's own early "
                "stopping; give your callback another name"
            )
        named.append((name, copy.deepcopy(callback)))
    return named
