"""Safe model files: save a fitted model, load it back, read its manifest.

A model file never needs unpickling: the scikit-learn parts go through skops
with a computed and checked list of trusted types, the network weights through
safetensors, parameters and history as JSON, all in one zip with a manifest of
versions, classes, modalities, feature widths and checksums.
"""

from ._io import (
    FORMAT_VERSION,
    TRUSTED_PACKAGES,
    ModelFileError,
    check_input,
    load,
    read_manifest,
    save,
)

__all__ = [
    "FORMAT_VERSION",
    "TRUSTED_PACKAGES",
    "ModelFileError",
    "check_input",
    "load",
    "read_manifest",
    "save",
]
