"""Safe model files: save a fitted model, load it back, read its manifest.

A model file never needs unpickling, and loading one runs none of its code:
the scikit-learn parts go through skops, after a walk of the payload that
accepts only the exact types sklearn-mmer's own models hold
(:data:`TRUSTED_TYPES`, plus what the caller passes as ``trusted``); the
network weights go through safetensors, parameters and history as JSON, all in
one zip with a manifest of versions, classes, modalities, feature widths and
checksums. Every member's size, expansion and nesting is checked before it is
read.
"""

import warnings

from ._io import (
    DEFAULT_MAX_MEMBER_BYTES,
    DEFAULT_MAX_TOTAL_BYTES,
    FORMAT_VERSION,
    TRUSTED_TYPES,
    ModelFileError,
    check_input,
    load,
    read_manifest,
    save,
)

__all__ = [
    "DEFAULT_MAX_MEMBER_BYTES",
    "DEFAULT_MAX_TOTAL_BYTES",
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "ModelFileError",
    "check_input",
    "load",
    "read_manifest",
    "save",
]


def __getattr__(name):
    # TRUSTED_PACKAGES (whole packages whose types a file could name) gave way
    # to TRUSTED_TYPES, exact names; kept for one release
    if name == "TRUSTED_PACKAGES":
        warnings.warn(
            "sklearn_mmer.io.TRUSTED_PACKAGES is deprecated and no longer used: "
            "model files now trust the exact names in "
            "sklearn_mmer.io.TRUSTED_TYPES; it will be removed in a later release",
            FutureWarning,
            stacklevel=2,
        )
        return ("sklearn_mmer", "sklearn", "numpy", "scipy")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
