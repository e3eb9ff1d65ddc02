"""Extraction recipes: which extractors made a corpus's features, as plain JSON.

A recipe lists, per modality, its name, the spec (``mfcc``,
``encoder:/models/wavlm-base``), the parameters given and the extractor's
``recipe()`` (kind, parameters that change the output, library versions, model
folder fingerprint). :func:`extract_corpus` keeps it beside ``dataset.csv``, a
model file keeps it in its manifest, and :func:`extractors_of` rebuilds the
extractors from it, refusing a model folder whose files changed.
"""

import inspect
import json
import os
import re
from pathlib import Path

from ..utils._data import METADATA_COLUMNS
from ._base import BaseExtractor
from ._kinds import make_extractor

#: The file beside ``dataset.csv`` that holds the extraction recipe.
RECIPE_FILE = "extraction.json"
_FORMAT = "sklearn-mmer extraction recipe"
_FORMAT_VERSION = 1
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Parameters of every extractor that do not change its output.
_RUNTIME = ("column", "name", "root", "cache", "device", "path")


def parse_features(features):
    """The ``(name, extractor)`` pairs of ``features``, and their recipe entries.

    ``features`` is a list of ``[NAME=]KIND[:PATH]`` strings, or a dict of
    names to specs or extractors. A recipe entry is plain JSON: ``name``,
    ``spec`` (folders made absolute), ``params`` (those set away from their
    defaults) and the extractor's ``recipe()``.
    """
    if isinstance(features, (str, BaseExtractor)):
        features = [features]
    if isinstance(features, dict):
        pairs = list(features.items())
    else:
        pairs = []
        for feature in features:
            if isinstance(feature, BaseExtractor):
                pairs.append((feature.name or feature.kind, feature))
                continue
            name, equals, spec = str(feature).partition("=")
            if not equals:
                name, spec = "", name
            spec = spec.strip()
            pairs.append((name.strip() or spec.partition(":")[0].lower(), spec))
    if not pairs:
        raise ValueError("features is empty: name at least one, such as 'mfcc'")
    names = [name for name, _ in pairs]
    for name in names:
        if not _NAME.match(name) or name in METADATA_COLUMNS:
            raise ValueError(
                f"feature name {name!r} cannot name a modality: use a letter, "
                "then letters, digits and '_' (not speaker, session or content); "
                "write NAME=KIND, such as acoustic=mfcc"
            )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"features name the modality {repeated[0]!r} twice; give each its "
            "own name with NAME=KIND, such as mfcc plain=logmel"
        )
    entries, extractors = [], []
    for name, spec in pairs:
        if isinstance(spec, BaseExtractor):
            defaults = {
                key: parameter.default
                for key, parameter in inspect.signature(type(spec)).parameters.items()
            }
            params = {
                key: value
                for key, value in spec.get_params(deep=False).items()
                if key not in _RUNTIME
                and key != "feature_set"  # the kind says it
                and not (key in defaults and _same(defaults[key], value))
            }
            spec = spec.kind + (f":{spec.path}" if hasattr(spec, "path") else "")
        else:
            params = {}
        spec = _absolute(spec)
        extractor = make_extractor(spec, **params)
        entries.append(
            {
                "name": name,
                "spec": spec,
                "params": _plain(params),
                "recipe": _plain(extractor.recipe()),
            }
        )
        extractors.append((name, extractor))
    return extractors, entries


def _same(default, value):
    try:
        return bool(default == value)
    except (TypeError, ValueError):
        return False


def _absolute(spec):
    kind, colon, path = spec.partition(":")
    if not colon or not os.path.isdir(path):
        return spec
    return f"{kind}:{os.path.abspath(path)}"


def _plain(value):
    """``value`` as plain JSON data (a round trip through json)."""
    return json.loads(json.dumps(value, default=str))


def make_recipe(entries):
    """The recipe a corpus and a model file keep: plain JSON data."""
    return {"format": _FORMAT, "version": _FORMAT_VERSION, "features": entries}


def read_recipe(corpus):
    """The extraction recipe of a corpus ``mmer extract`` wrote, or None.

    Parameters
    ----------
    corpus : str or path-like
        The corpus folder, or its ``dataset.csv``.

    Returns
    -------
    recipe : dict or None
        The contents of ``extraction.json`` beside ``dataset.csv`` (``format``,
        ``version`` and ``features``: per modality its ``name``, ``spec``,
        ``params`` and the extractor's ``recipe()``), or None when there is
        none (features made elsewhere).

    Raises
    ------
    ValueError
        When the file is there but is not a recipe.

    See Also
    --------
    extract_corpus : Writes the corpus and its recipe.
    extract_table : Extracts a recipe's features again, from new recordings.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd, soundfile
    >>> from sklearn_mmer.extraction import extract_corpus, read_recipe
    >>> folder = tempfile.mkdtemp()
    >>> soundfile.write(os.path.join(folder, "a.wav"),
    ...                 0.1 * np.random.default_rng(0).standard_normal(8000), 16000)
    >>> table = pd.DataFrame({"file": ["a.wav"], "speaker": ["s1"]})
    >>> _ = extract_corpus(table.assign(file=os.path.join(folder, "a.wav")),
    ...                    os.path.join(folder, "corpus"), ["acoustic=mfcc"])
    >>> entry = read_recipe(os.path.join(folder, "corpus"))["features"][0]
    >>> entry["name"], entry["spec"], entry["recipe"]["parameters"]["n_mfcc"]
    ('acoustic', 'mfcc', 13)
    """
    folder = Path(corpus)
    if not folder.is_dir():
        folder = folder.parent
    path = folder / RECIPE_FILE
    if not path.is_file():
        return None
    try:
        recipe = json.loads(path.read_text("utf-8"))
    except (ValueError, OSError) as error:
        raise ValueError(f"{path}: not a readable recipe ({error})") from None
    return check_recipe(recipe, where=str(path))


def check_recipe(recipe, *, where="the recipe"):
    """``recipe`` with its format checked: ``format``, ``version``, ``features``."""
    if (
        not isinstance(recipe, dict)
        or recipe.get("format") != _FORMAT
        or not isinstance(recipe.get("features"), list)
        or not all(
            isinstance(e, dict) and {"name", "spec", "params", "recipe"} <= set(e)
            for e in recipe["features"]
        )
    ):
        raise ValueError(f"{where}: not an sklearn-mmer extraction recipe")
    if recipe.get("version") != _FORMAT_VERSION:
        raise ValueError(
            f"{where}: recipe version {recipe.get('version')!r}; this sklearn-mmer "
            f"reads version {_FORMAT_VERSION}"
        )
    return {
        "format": _FORMAT,
        "version": _FORMAT_VERSION,
        "features": recipe["features"],
    }


def extractors_of(recipe, *, device="cpu", cache=None):
    """The extractors of a recipe, rebuilt, after checking that they still give
    the features it records: a model folder whose fingerprint changed, or a
    parameter whose meaning changed, is refused (ValueError naming both)."""
    extractors = []
    for entry in check_recipe(recipe)["features"]:
        extractor = make_extractor(
            entry["spec"], **entry["params"], device=device, cache=cache
        )
        now, then = extractor.recipe(), entry["recipe"]
        if now.get("model_fingerprint") != then.get("model_fingerprint"):
            raise ValueError(
                f"the features {entry['name']!r} were extracted with the model "
                f"folder {entry['spec'].partition(':')[2]} of fingerprint "
                f"{then.get('model_fingerprint')}, but that folder now has "
                f"fingerprint {now.get('model_fingerprint')}: its files changed, "
                "and a model fit on the old features would read other ones; "
                "restore the folder, or extract again and refit"
            )
        if _plain(now["parameters"]) != then.get("parameters"):
            raise ValueError(
                f"the features {entry['name']!r} were extracted with parameters "
                f"{then.get('parameters')}, but {entry['spec']} now gives "
                f"{now['parameters']}; extract again and refit"
            )
        extractors.append((entry["name"], extractor))
    return extractors
