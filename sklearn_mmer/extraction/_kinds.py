"""The kinds of extractor by name: ``make_extractor("mfcc")`` and the list."""

from ._audio import PIP
from ._spectral import LogMelExtractor, MFCCExtractor

#: kind -> (input kind, extras, needs a model folder, description)
KINDS = {
    "egemaps": (
        "audio",
        "audio,opensmile",
        False,
        "openSMILE eGeMAPSv02: 25 low-level descriptors per 10 ms frame "
        "(openSMILE's licence: research and non-commercial use only)",
    ),
    "compare": (
        "audio",
        "audio,opensmile",
        False,
        "openSMILE ComParE_2016: 65 low-level descriptors per 10 ms frame "
        "(openSMILE's licence: research and non-commercial use only)",
    ),
    "mfcc": ("audio", "audio", False, "13 MFCCs per 10 ms frame (librosa)"),
    "logmel": ("audio", "audio", False, "40 log-mel energies per 10 ms frame"),
    "encoder": (
        "audio",
        "audio,encoders",
        True,
        "frames of a transformers speech encoder (wav2vec 2.0, HuBERT, WavLM, "
        "data2vec-audio, Whisper's encoder) from a local folder",
    ),
    "text": (
        "text",
        "encoders",
        True,
        "token vectors of a transformers text encoder from a local folder",
    ),
}


def _classes():
    from ._encoders import SpeechEncoderExtractor, TextEncoderExtractor
    from ._opensmile import OpenSmileExtractor

    return OpenSmileExtractor, SpeechEncoderExtractor, TextEncoderExtractor


def list_kinds():
    """The kinds :func:`make_extractor` builds, and what each needs.

    Returns
    -------
    kinds : list of dict
        One per kind, with ``kind``, ``input`` (``"audio"`` or ``"text"``:
        the column it reads), ``install`` (the pip command of its extras),
        ``model_folder`` (whether the spec names a folder: ``KIND:PATH``) and
        ``description``.

    See Also
    --------
    make_extractor : Build an extractor of one of these kinds.

    Examples
    --------
    >>> from sklearn_mmer.extraction import list_kinds
    >>> [kind["kind"] for kind in list_kinds()]
    ['egemaps', 'compare', 'mfcc', 'logmel', 'encoder', 'text']
    >>> list_kinds()[2]["install"]
    'pip install "sklearn-mmer[audio]"'
    """
    return [
        {
            "kind": kind,
            "input": input_kind,
            "install": PIP.format(extras),
            "model_folder": folder,
            "description": description,
        }
        for kind, (input_kind, extras, folder, description) in KINDS.items()
    ]


def make_extractor(spec, **params):
    """An extractor from a spec: ``"mfcc"``, ``"egemaps"``, ``"encoder:PATH"``...

    Parameters
    ----------
    spec : str
        ``KIND`` or, for the kinds that read a model folder, ``KIND:PATH``:
        ``egemaps``, ``compare``, ``mfcc``, ``logmel``, ``encoder:PATH`` (a
        speech encoder's folder), ``text:PATH`` (a text encoder's folder).
    **params
        Parameters of the extractor (``cache``, ``root``, ``name``,
        ``device``, or the kind's own, such as ``n_mfcc`` or ``layer``).

    Returns
    -------
    extractor : BaseExtractor
        An unfitted extractor.

    Raises
    ------
    ValueError
        For an unknown kind (the message lists the kinds), a kind that needs
        a folder given none, or a folder given to a kind that takes none.

    See Also
    --------
    list_kinds : The kinds, and what each needs.

    Examples
    --------
    >>> from sklearn_mmer.extraction import make_extractor
    >>> make_extractor("mfcc", n_mfcc=20)
    MFCCExtractor(n_mfcc=20)
    >>> make_extractor("encoder:/models/wavlm-base-plus", layer=6)
    SpeechEncoderExtractor(layer=6, path='/models/wavlm-base-plus')
    """
    if not isinstance(spec, str):
        raise ValueError(f"spec must be a string such as 'mfcc'; got {spec!r}")
    kind, colon, path = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(
            f"unknown extractor kind {kind!r} in {spec!r}; the kinds are "
            f"{', '.join(KINDS)} (encoder and text as KIND:PATH)"
        )
    needs_folder = KINDS[kind][2]
    if needs_folder and not path:
        raise ValueError(
            f"the {kind!r} extractor reads a model folder: write {kind}:PATH, "
            f"for example {kind}:/models/"
            + ("wavlm-base-plus" if kind == "encoder" else "all-MiniLM-L6-v2")
        )
    if not needs_folder and colon:
        raise ValueError(f"the {kind!r} extractor takes no folder; got {spec!r}")
    if kind == "mfcc":
        return MFCCExtractor(**params)
    if kind == "logmel":
        return LogMelExtractor(**params)
    opensmile, speech, text = _classes()
    if kind in ("egemaps", "compare"):
        feature_set = "eGeMAPSv02" if kind == "egemaps" else "ComParE_2016"
        if params.setdefault("feature_set", feature_set) != feature_set:
            raise ValueError(
                f"the {kind!r} extractor is openSMILE's {feature_set}; got "
                f"feature_set={params['feature_set']!r}"
            )
        return opensmile(**params)
    if kind == "encoder":
        return speech(path, **params)
    return text(path, **params)
