"""sklearn-mmer: multimodal emotion recognition as scikit-learn estimators."""

from .utils._runtime import __version__ as __version__  # re-exported

__all__ = ["load", "save"]


def __getattr__(name):
    # save/load import torch and skops: only when asked for, so that
    # ``import sklearn_mmer`` (and ``mmer --help``) stays quick
    if name in ("save", "load"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module 'sklearn_mmer' has no attribute {name!r}")
