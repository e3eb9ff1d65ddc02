"""What the MLP classifiers read: pooled features, or a column of frame cells.

With ``pooling=None`` an MLP reads pooled features, a plain 2-D array. With
``pooling="mean"`` or ``"attentive"`` it reads one column of frame cells
(``(T, d)`` arrays, or ``(L, T, d)`` arrays holding every layer of an encoder)
and pools them in the network: the cells are laid out ``(T, L * d)``
(:func:`~sklearn_mmer.neural._data.flatten_layers`), read end to end by a
fitted :class:`~sklearn_mmer.preprocessing.SequencePadder`, standardised per
feature (and layer) with the training frames' statistics, and served as
:class:`~sklearn_mmer.neural._data.RaggedFrames`, padded one mini-batch at a
time.
"""

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted, validate_data

from ..preprocessing import SequencePadder
from ..utils._data import cell_columns, is_cell_column, is_cell_input
from ..utils._sklearn_compat import StrOptions
from ._data import (
    ARRAY_MODALITY,
    RaggedFrames,
    as_batch,
    flatten_layers,
    frame_statistics,
    modality_cells,
    standardise,
)
from ._modules import LayerWeights

#: the keys of the pooled module's input, as the sequence models name them
FRAMES, LENGTHS = "frames_0", "lengths_0"

#: the fitted attributes of frame input, removed when a refit reads arrays
FRAME_ATTRIBUTES = (
    "padder_",
    "frame_column_",
    "input_layers_",
    "frame_means_",
    "frame_scales_",
)


def _holds_frames(X):
    """Whether X clearly holds frame arrays (any other X is left to validation)."""
    if isinstance(X, pd.DataFrame):
        return bool(cell_columns(X, exclude=()))
    if isinstance(X, pd.Series) or (isinstance(X, np.ndarray) and X.ndim == 1):
        return is_cell_column(np.asarray(X, dtype=object))
    if isinstance(X, (list, tuple)):
        return any(isinstance(c, np.ndarray) and c.ndim >= 2 for c in X)
    return False


def reject_cells(estimator, X):
    """With ``pooling=None``: raise a ValueError when X holds frame cells."""
    if _holds_frames(X):
        raise ValueError(
            f"{type(estimator).__name__} with pooling=None reads pooled features, "
            "a 2-D numeric array, but X holds frame arrays; pass "
            "pooling='mean' or pooling='attentive' to pool them in the network, "
            "or pool them first (sklearn_mmer.preprocessing.TemporalPooling)"
        )


def frame_column(estimator, X):
    """X as a one-column DataFrame of cells (objects), or a ValueError."""
    owner = f"{type(estimator).__name__}(pooling={estimator.pooling!r})"
    if isinstance(X, pd.Series):
        name = ARRAY_MODALITY if X.name is None else X.name
        return modality_cells(X.to_frame(name=name), name)
    if isinstance(X, pd.DataFrame):
        columns = cell_columns(X)
        if len(columns) != 1:
            found = ", ".join(repr(c) for c in columns) or "none"
            raise ValueError(
                f"{owner} reads one column of frame cells, but X has {len(columns)} "
                f"columns holding arrays ({found}); select one, or join the "
                "modalities' frames into one column"
            )
        return modality_cells(X, columns[0])
    if not is_cell_input(X):
        raise ValueError(
            f"{owner} reads a column of frame cells ((T, d) or (L, T, d) arrays: "
            f"a Series, a one-column DataFrame or a list), but X is a plain "
            f"{type(X).__name__} of numbers; pass pooling=None to read pooled "
            "features"
        )
    cells = np.empty(len(X), dtype=object)
    for row, cell in enumerate(X):
        cells[row] = cell
    return pd.DataFrame({ARRAY_MODALITY: cells})


def frame_inputs(estimator, X, reset, sample_weight=None):
    """The pooled module's input ``{frames_0, lengths_0}``; fits the statistics.

    With ``reset=True`` sets ``padder_``, ``frame_column_``, ``input_layers_``,
    ``frame_means_`` and ``frame_scales_`` (each frame weighted by its
    utterance's ``sample_weight``), and ``n_features_in_`` (1: one column).
    """
    cells = frame_column(estimator, X)
    if reset:
        if isinstance(X, pd.DataFrame):
            validate_data(estimator, X, skip_check_array=True)
        else:
            estimator.n_features_in_ = 1
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        estimator.frame_column_ = cells.columns[0]
    else:
        check_is_fitted(estimator, "padder_")
        cells.columns = [estimator.frame_column_]
    expected = None if reset else estimator.input_layers_
    cells, n_layers = flatten_layers(cells, expected=expected)
    if reset:
        estimator.input_layers_ = n_layers
        estimator.padder_ = SequencePadder(dtype="float32").fit(cells)
    frames, lengths = estimator.padder_.transform_ragged(cells)[0]
    if reset:
        weights = None if sample_weight is None else np.repeat(sample_weight, lengths)
        means, scales = frame_statistics(frames, weights)
        estimator.frame_means_, estimator.frame_scales_ = means, scales
    standardise(frames, estimator.frame_means_, estimator.frame_scales_)
    return {FRAMES: RaggedFrames(frames, lengths), LENGTHS: lengths}


def forget_frames(estimator):
    """Remove the fitted attributes of frame input (a refit on arrays)."""
    for name in FRAME_ATTRIBUTES:
        if name in vars(estimator):
            delattr(estimator, name)


def frame_width(estimator):
    """Width ``d`` of one layer of the fitted frames."""
    return len(estimator.frame_means_) // estimator.input_layers_


def feature_matrix(estimator, X, reset):
    """X as the float32 matrix an MLP reads (no statistic to fit or weight)."""
    X = validate_data(estimator, X, dtype=[np.float32, np.float64], reset=reset)
    return X.astype(np.float32, copy=False)


def mlp_inputs(estimator, X, reset, sample_weight):
    """What an MLP reads: the feature matrix, or pooled frames with ``pooling``."""
    if estimator.pooling is None:
        reject_cells(estimator, X)
        if reset:
            forget_frames(estimator)
        return feature_matrix(estimator, X, reset)
    if not reset and not hasattr(estimator, "padder_"):
        raise ValueError(
            f"{type(estimator).__name__} was fit with pooling=None, on pooled "
            f"features, but pooling={estimator.pooling!r} now; set it back, or "
            "refit"
        )
    return frame_inputs(estimator, X, reset, sample_weight)


def layer_weights(estimator, mixers):
    """The learned layer weights of ``mixers``, stacked, or an AttributeError."""
    check_is_fitted(estimator)
    mixers = [m for m in mixers if isinstance(m, LayerWeights)]
    if not mixers:
        raise AttributeError(
            f"{type(estimator).__name__} has layer_weights_ only when fit on "
            "(L, T, d) cells with pooling set"
        )
    return np.stack([m.weights().detach().cpu().numpy() for m in mixers]).astype(
        np.float64
    )


#: the values of ``pooling``
POOLING = [StrOptions({"mean", "attentive"}), None]


def device_array(X, device):
    """A feature matrix as a tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(X)).to(device)


def frame_batch(X, index, device):
    """The rows ``index`` of pooled frames, padded, as the module reads them."""
    if torch.is_tensor(index):
        index = index.cpu().numpy()
    frames = as_batch(X[FRAMES][index]).to(device)
    lengths = torch.as_tensor(np.asarray(X[LENGTHS])[index]).to(device)
    return {FRAMES: frames, LENGTHS: lengths}


def parameter_owners(module):
    """Per parameter of ``module``: the member owning it alone, or None.

    Stacked parameters (a leading member axis) give None; those of a member's
    own pooling give its index.
    """
    owned = {}
    for member, pooling in enumerate(getattr(module, "poolings", [])):
        owned.update({id(p): member for p in pooling.parameters()})
    return [owned.get(id(p)) for p in module.parameters()]
