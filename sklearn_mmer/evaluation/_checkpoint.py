"""A comparison's folder as it runs: every finished fold kept at once, so that a
killed run can be finished instead of started again.

The folder holds ``manifest.json`` (the run's configuration: fingerprints of
the data, of each method's parameters and of the folds, the seeds, the
metrics, and the versions of the libraries that compute the scores), a hidden
``.checkpoint`` folder with one JSON file per finished (method, repeat, fold)
(its row of results, its test rows and predictions, its confusion matrix), and
``results.csv`` with every row finished so far. Each file is written to a
temporary name and renamed into place, so a kill at any moment leaves every
file whole.
"""

import hashlib
import json
import math
import platform
import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ._files import write_atomically

MANIFEST = "manifest.json"
CHECKPOINT = ".checkpoint"
FORMAT = 1
_LIBRARIES = ("sklearn-mmer", "scikit-learn", "numpy", "torch", "skorch", "pandas")


class ConfigurationMismatchError(ValueError):
    """A run to resume is missing, or its configuration differs from this one.

    Raised by :func:`compare_methods` with ``resume=True``; the message says
    what differs (data, folds, methods or their parameters, seeds, metrics,
    library versions).
    """


def describe_run(
    *,
    X,
    y,
    groups,
    splits,
    methods_by_repeat,
    seeds,
    scoring,
    labels,
    error_score,
    threads,
):
    """The manifest of a comparison: what must be equal for a run to resume."""
    return {
        "format": FORMAT,
        "data": {
            "fingerprint": fingerprint_data(X, y, groups),
            "n_utterances": int(len(y)),
            "columns": [str(c) for c in X.columns],
        },
        "folds": {
            "fingerprint": _digest([[tr.tolist(), te.tolist()] for tr, te in splits]),
            "sizes": [[len(tr), len(te)] for tr, te in splits],
        },
        "methods": {
            name: _digest([describe_params(m[name]) for m in methods_by_repeat])
            for name in methods_by_repeat[0]
        },
        "seeds": list(seeds),
        "scoring": {name: _text(scorer) for name, scorer in scoring.items()},
        "labels": [_text(label) for label in labels],
        "error_score": _text(error_score),
        "threads": threads,
        "versions": versions(),
    }


class Checkpoint:
    """Keeps each finished (method, repeat, fold) of a run in its folder."""

    def __init__(self, folder, manifest, *, resume, columns):
        self.folder = Path(folder)
        self.parts = self.folder / CHECKPOINT
        self.columns = columns
        self.rows = {}
        self.finished = {}
        if resume:
            self._check_manifest(manifest)
            # temporary files of writes that a kill cut short
            for stale in [*self.folder.glob(".*.tmp"), *self.parts.glob(".*.tmp")]:
                stale.unlink()
            self._load()
        else:
            if self.parts.exists():
                shutil.rmtree(self.parts)
            self.parts.mkdir(parents=True)
            write_atomically(self.folder / MANIFEST, _json_writer(manifest))
            # no row yet: an earlier run's results.csv is not this run's
            self._write_results()

    def add(self, key, row, test, y_pred, matrix):
        """Keep one finished fold, then rewrite results.csv with every row."""
        record = {
            "row": _plain(row),
            "test": np.asarray(test).tolist(),
            "y_pred": None if y_pred is None else np.asarray(y_pred).tolist(),
            "matrix": np.asarray(matrix).tolist(),
        }
        name = hashlib.sha1(str(key[0]).encode()).hexdigest()[:16]
        path = self.parts / f"{name}-r{key[1] + 1}-f{key[2] + 1}.json"
        write_atomically(path, _json_writer(record))
        self.rows[key] = row
        self._write_results()

    def _write_results(self):
        order = {name: i for i, name in enumerate(self.columns["methods"])}
        keys = sorted(self.rows, key=lambda k: (order.get(k[0], len(order)), *k[1:]))
        table = pd.DataFrame([self.rows[k] for k in keys], columns=self.columns["all"])
        table["seed"] = table["seed"].astype("Int64")
        write_atomically(
            self.folder / "results.csv", lambda path: table.to_csv(path, index=False)
        )

    def _check_manifest(self, manifest):
        path = self.folder / MANIFEST
        if not path.is_file():
            raise ConfigurationMismatchError(
                f"nothing to resume in {self.folder}: it has no {MANIFEST} (run "
                "without resuming to start)"
            )
        previous = json.loads(path.read_text())
        for reason in _differences(previous, manifest):
            raise ConfigurationMismatchError(
                f"cannot resume the run in {self.folder}: {reason}; resume with the "
                "same configuration, or start a new run in another folder"
            )

    def _load(self):
        methods = set(self.columns["methods"])
        for path in sorted(self.parts.glob("*.json")) if self.parts.is_dir() else []:
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # an unreadable fold is fit again
            row = record["row"]
            if row["method"] not in methods:
                continue
            key = (row["method"], row["repeat"] - 1, row["fold"] - 1)
            for column in ("best_params", "warnings", "error"):
                row[column] = row.get(column) or ""
            self.rows[key] = row
            self.finished[key] = (
                row,
                np.asarray(record["test"], dtype=np.intp),
                None if record["y_pred"] is None else np.asarray(record["y_pred"]),
                np.asarray(record["matrix"], dtype=np.int64),
            )


def fingerprint_data(X, y, groups):
    """SHA-256 of every cell of X (shape, dtype and bytes), of y and of groups."""
    digest = hashlib.sha256()
    for column in X.columns:
        digest.update(f"column {column!s}".encode())
        for cell in X[column]:
            _update(digest, cell)
    _update(digest, np.asarray(y))
    _update(digest, None if groups is None else np.asarray(groups))
    return digest.hexdigest()


def describe_params(estimator):
    """An estimator's parameters as plain JSON values, nested estimators too."""
    if hasattr(estimator, "get_params") and not isinstance(estimator, type):
        params = estimator.get_params(deep=False)
        return {
            "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "params": {k: describe_params(v) for k, v in sorted(params.items())},
        }
    if isinstance(estimator, (list, tuple)):
        return [describe_params(item) for item in estimator]
    if isinstance(estimator, dict):
        return {str(k): describe_params(v) for k, v in sorted(estimator.items())}
    if isinstance(estimator, np.ndarray):
        return {"array": _digest(estimator.tolist()), "dtype": str(estimator.dtype)}
    if isinstance(estimator, (bool, int, str)) or estimator is None:
        return estimator
    if isinstance(estimator, float):
        return _text(estimator)
    if isinstance(estimator, type) or (
        callable(estimator) and hasattr(estimator, "__qualname__")
    ):
        return f"{estimator.__module__}.{estimator.__qualname__}"
    return _text(estimator)


def versions():
    """Versions of Python and of the libraries that compute the scores."""
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _differences(previous, manifest):
    if previous.get("format") != FORMAT:
        yield f"its {MANIFEST} has format {previous.get('format')!r}, not {FORMAT}"
        return
    if previous["data"] != manifest["data"]:
        yield "the data differ (another corpus, other modalities or labels)"
    if previous["folds"] != manifest["folds"]:
        yield "the folds differ"
    old, new = previous["methods"], manifest["methods"]
    if list(old) != list(new):
        yield f"it compared the methods {', '.join(old)}, not {', '.join(new)}"
    else:
        changed = [name for name in new if old[name] != new[name]]
        if changed:
            yield f"the parameters of {', '.join(changed)} differ (e.g. --epochs)"
    for field in ("seeds", "scoring", "labels", "error_score"):
        if previous[field] != manifest[field]:
            yield f"its {field} were {previous[field]}, now {manifest[field]}"
    if previous.get("threads") != manifest["threads"]:
        yield (
            f"it ran with {previous.get('threads')} threads per fit, now "
            f"{manifest['threads']} (the scores could differ; use --threads "
            f"{previous.get('threads')})"
        )
    for library, version in manifest["versions"].items():
        if previous["versions"].get(library) != version:
            yield (
                f"it ran with {library} {previous['versions'].get(library)}, this "
                f"is {library} {version} (the scores could differ)"
            )


def _update(digest, value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        digest.update(b"missing;")
        return
    array = np.asarray(value)
    if array.dtype == object:
        digest.update(repr(array.tolist()).encode())
    else:
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(np.ascontiguousarray(array).tobytes())


def _digest(value):
    text = json.dumps(value, sort_keys=True, default=_text)
    return hashlib.sha256(text.encode()).hexdigest()


def _text(value):
    """Stable text for a value: its repr, or its class where the repr holds a
    memory address (which differs from run to run)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return value
    text = repr(value)
    if " at 0x" in text:
        return f"{type(value).__module__}.{type(value).__qualname__}"
    return text


def _plain(row):
    plain = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        plain[key] = None if value is pd.NA else value
    return plain


def _json_writer(value):
    def write(path):
        Path(path).write_text(json.dumps(value, indent=1))

    return write
