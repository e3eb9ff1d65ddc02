"""The error a model file that cannot be saved or loaded raises."""


class ModelFileError(ValueError):
    """A model file (or a model to save) that sklearn-mmer refuses, and why.

    Raised for a file that is truncated, tampered with, from an incompatible
    format version, holding a pickle or a type outside the trusted packages,
    and for a model holding an object that a model file cannot store.
    """
