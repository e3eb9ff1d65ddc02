"""The types a model file may hold, and the check skops loads with.

skops loads only the types it is told to trust. The list is computed from the
file itself (``skops.io.get_untrusted_types``) and checked here: a type is
trusted when it comes from sklearn-mmer, scikit-learn, NumPy or SciPy; any
other (``builtins.eval``, ``os.system``, a user's own class) refuses the file
with an error naming it.
"""

import skops.io

from ._errors import ModelFileError

#: top-level packages whose types a model file may name
TRUSTED_PACKAGES = ("sklearn_mmer", "sklearn", "numpy", "scipy")


def is_trusted(type_name):
    """Whether a fully qualified type name belongs to a trusted package.

    Parameters
    ----------
    type_name : str
        Such as ``"sklearn.pipeline.Pipeline"``.

    Returns
    -------
    trusted : bool
    """
    root = type_name.split(".", 1)[0]
    return root in TRUSTED_PACKAGES and "." in type_name


def trusted_types(skops_bytes, *, member="skeleton.skops"):
    """The types to trust when loading ``skops_bytes``; refuses any other.

    Parameters
    ----------
    skops_bytes : bytes
        A skops payload.
    member : str, default="skeleton.skops"
        The member's name, for the error message.

    Returns
    -------
    trusted : list of str
        Every type the payload names beyond skops's own defaults, each from a
        trusted package.

    Raises
    ------
    ModelFileError
        When the payload names a type from any other package.
    """
    try:
        names = skops.io.get_untrusted_types(data=skops_bytes)
    except Exception as error:  # skops raises many kinds on a damaged payload
        raise ModelFileError(
            f"{member} is not a readable skops payload ({error})"
        ) from None
    refused = sorted(name for name in names if not is_trusted(name))
    if refused:
        raise ModelFileError(
            f"{member} names the type {refused[0]!r}, which is not from "
            f"{', '.join(TRUSTED_PACKAGES)}; a model file may hold only their "
            "types, so it is refused"
            + (f" (also refused: {', '.join(refused[1:])})" if refused[1:] else "")
        )
    return sorted(names)
