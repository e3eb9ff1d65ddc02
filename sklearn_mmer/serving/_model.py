"""The served model: loaded safely, described as JSON, and its input checked.

:class:`ServedModel` holds the estimator with what its model file's manifest
says of it (classes, modalities and their feature widths, the extraction
recipe), turns a request's JSON instances into the DataFrame the estimator
reads, refusing bad input with a :class:`BadRequest` that names the problem,
and predicts through :func:`sklearn_mmer.evaluation.prediction_table`, the
function behind ``mmer predict``, so that served answers are its answers.
"""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..evaluation import prediction_table
from ..io import load, read_manifest

#: Instances one request may hold at most.
MAX_INSTANCES = 4096


class BadRequest(Exception):
    """Input the service refuses: ``status`` (4xx) and a message naming why."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _plain(value):
    """A label or number as a JSON value."""
    return value.item() if isinstance(value, np.generic) else value


class ServedModel:
    """A fitted model with its manifest: what the service predicts with.

    Parameters
    ----------
    model : str, path-like or estimator
        A model file, read with :func:`sklearn_mmer.load`, or a fitted model.
    manifest : dict or None
        The manifest when ``model`` is an estimator.
    device, trusted
        As in :func:`sklearn_mmer.load`.
    """

    def __init__(self, model, *, manifest=None, device=None, trusted=None):
        if isinstance(model, (str, os.PathLike)):
            path = Path(model)
            manifest = read_manifest(path)
            model = load(path, device=device, trusted=trusted)
            self.source = path.name
        else:
            self.source = None
        if not hasattr(model, "classes_"):
            raise ValueError(
                f"the model ({type(model).__name__}) has no classes_: serve a "
                "fitted classifier"
            )
        self.estimator = model
        self.manifest = dict(manifest or {})
        self.classes = [_plain(c) for c in model.classes_]
        self.has_proba = hasattr(model, "predict_proba")
        widths = self.manifest.get("modalities")
        if widths:
            self.widths = {str(m): int(w) for m, w in widths.items()}
        else:
            names = getattr(model, "feature_names_in_", None)
            self.widths = {str(m): None for m in names} if names is not None else {}
        self.recipe = self.manifest.get("recipe")

    # --- what it is -------------------------------------------------------------

    def card(self):
        """The model card as JSON data."""
        manifest = self.manifest
        return {
            "model_file": self.source,
            "method": manifest.get("method"),
            "estimator": manifest.get("estimator")
            or f"{type(self.estimator).__module__}.{type(self.estimator).__qualname__}",
            "classes": self.classes,
            "probabilities": self.has_proba,
            "modalities": dict(self.widths),
            "n_samples": manifest.get("n_samples"),
            "fingerprint": manifest.get("fingerprint"),
            "threads": manifest.get("threads"),
            "format_version": manifest.get("format_version"),
            "recipe": self.recipe,
            "versions": manifest.get("versions"),
        }

    # --- its input --------------------------------------------------------------

    def instances(self, body):
        """The DataFrame of a ``/predict`` body (bytes), or a BadRequest."""
        try:
            document = json.loads(body, parse_constant=_refuse_constant)
        except _NotFinite as error:
            raise BadRequest(422, str(error)) from None
        except (ValueError, UnicodeDecodeError) as error:
            raise BadRequest(400, f"the body is not valid JSON: {error}") from None
        if not isinstance(document, dict) or "instances" not in document:
            raise BadRequest(
                422,
                'the body must be a JSON object with "instances": a list of '
                'objects such as {"'
                + '": [[...]], "'.join(self.widths)
                + '": [[...]]}',
            )
        unknown = sorted(set(document) - {"instances"})
        if unknown:
            raise BadRequest(422, f"unknown field {unknown[0]!r}: give only instances")
        instances = document["instances"]
        if not isinstance(instances, list):
            raise BadRequest(422, '"instances" must be a list of objects')
        if not instances:
            raise BadRequest(422, '"instances" is empty: give at least one instance')
        if len(instances) > MAX_INSTANCES:
            raise BadRequest(
                422,
                f'"instances" holds {len(instances)} instances, more than the '
                f"{MAX_INSTANCES} a request may hold: split them",
            )
        rows = [self._instance(k, instance) for k, instance in enumerate(instances)]
        return self.frame(rows)

    def frame(self, rows):
        """A DataFrame of the model's modalities from rows of ``{modality: cell}``."""
        return pd.DataFrame(
            {
                modality: pd.Series([row.get(modality) for row in rows], dtype=object)
                for modality in self.widths
            }
        )

    def _instance(self, k, instance):
        if not isinstance(instance, dict):
            raise BadRequest(
                422,
                f"instance {k} is a {type(instance).__name__}, not an object of "
                "modalities",
            )
        unknown = [m for m in instance if m not in self.widths]
        if unknown:
            raise BadRequest(
                422,
                f"instance {k}: unknown modality {unknown[0]!r}; the model's "
                f"modalities are {', '.join(map(repr, self.widths))}",
            )
        missing = [m for m in self.widths if m not in instance]
        if missing:
            raise BadRequest(
                422,
                f"instance {k} lacks the modality {missing[0]!r}: give its frames, "
                "or null when the utterance has none",
            )
        return {m: self._cell(k, m, value) for m, value in instance.items()}

    def _cell(self, k, modality, value):
        where = f"instance {k}, modality {modality!r}"
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise BadRequest(
                422,
                f"{where}: give a non-empty list of frames (lists of numbers), one "
                "vector, or null for a missing modality",
            )
        try:
            cell = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise BadRequest(
                422,
                f"{where}: frames must be lists of numbers, all of one width",
            ) from None
        if cell.ndim not in (1, 2) or cell.shape[-1] == 0:
            raise BadRequest(
                422, f"{where}: give frames (a 2-D list) or one vector (a 1-D list)"
            )
        width = self.widths[modality]
        if width is not None and cell.shape[-1] != width:
            raise BadRequest(
                422,
                f"{where}: frames of width {cell.shape[-1]}, but the model was "
                f"fitted on width {width}",
            )
        if not np.isfinite(cell).all():
            raise BadRequest(422, f"{where}: holds a value that is not finite")
        return cell

    # --- its answers ------------------------------------------------------------

    def predict(self, X):
        """One ``{"label", "probabilities"}`` per row of X, as mmer predict gives."""
        table = prediction_table(self.estimator, X.reset_index(drop=True))
        labels = table["predicted_label"].tolist()
        answers = []
        for row, label in enumerate(labels):
            answer = {"label": _plain(label)}
            if self.has_proba:
                answer["probabilities"] = {
                    str(c): float(table[f"proba_{c}"].iat[row]) for c in self.classes
                }
            answers.append(answer)
        return answers


class _NotFinite(ValueError):
    pass


def _refuse_constant(name):
    # json reads NaN, Infinity and -Infinity, which no frame may hold
    raise _NotFinite(f"the body holds {name}, which is not a finite number")
