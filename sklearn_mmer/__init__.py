"""sklearn-mmer: multimodal emotion recognition as scikit-learn estimators."""

__version__ = "0.1.0.dev0"

__all__ = ["load", "save"]


def __getattr__(name):
    # save/load import torch and skops: only when asked for, so that
    # ``import sklearn_mmer`` (and ``mmer --help``) stays quick
    if name in ("save", "load"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module 'sklearn_mmer' has no attribute {name!r}")
