"""Checking a list of modality (column) names."""


def check_modalities(modalities, *, parameter="modalities"):
    """Return ``modalities`` as a list of distinct names, at least one.

    A single string names one modality. Raises a ValueError naming
    ``parameter`` when the list is empty or repeats a name.
    """
    names = [modalities] if isinstance(modalities, str) else list(modalities)
    if not names:
        raise ValueError(f"{parameter} must name at least one column of X; got none")
    if len(set(names)) != len(names):
        raise ValueError(f"{parameter} must be distinct; got {names}")
    return names
