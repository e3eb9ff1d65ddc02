"""The skorch net the neural classifiers train, and what it is fed.

skorch's ``NeuralNetClassifier`` averages the loss over a batch. To weight
samples, the weights travel with the input, as one more entry of a dict
(``{"X": array, "sample_weight": w}`` or the module's own dict of arrays plus
``"sample_weight"``), so that they follow every sample through the shuffling,
the batching and early stopping's validation split. The net strips them off
before the module's forward pass and weights the per-sample losses with them.
"""

import copy
from collections.abc import Mapping
from numbers import Real

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.utils import to_tensor

#: key of the sample weights in the dict fed to the net
SAMPLE_WEIGHT = "sample_weight"
#: key of a plain array input when weights travel with it
ARRAY_INPUT = "X"


class WeightedNeuralNetClassifier(NeuralNetClassifier):
    """skorch's classifier, with a loss that can weight each sample.

    When a batch is a dict holding ``"sample_weight"``, the loss is
    ``sum(w_i * c_i * l_i) / sum(w_i * c_i)`` over the batch, with ``l_i`` the
    cross-entropy of sample ``i``, ``w_i`` its weight and ``c_i`` its class's
    weight (1 without ``criterion__weight``): the mean skorch takes otherwise,
    with an integer weight counting a sample that many times. Without weights
    the net is skorch's own.
    """

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
            y_pred, y_true, weight=class_weight, reduction="none"
        )
        norm = weight if class_weight is None else weight * class_weight[y_true]
        # a batch of zero weights contributes a loss (and a gradient) of 0
        total = norm.sum().clamp_min(torch.finfo(norm.dtype).tiny)
        return (weight * losses).sum() / total


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
