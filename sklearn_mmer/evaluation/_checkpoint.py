"""A comparison's folder as it runs: every finished fold kept at once, so that a
killed run can be finished instead of started again.

The folder holds ``manifest.json`` (the run's configuration: fingerprints of
the data, of each method's parameters and of the folds, the seeds, the
metrics, and the versions of the libraries that compute the scores), a hidden
``.checkpoint`` folder with one JSON file per finished (method, repeat, fold)
(its row of results, its test rows and predictions, its confusion matrix, and
the same on each test corpus of a cross-corpus comparison), and
``results.csv`` with every row finished so far. Each file is written to a
temporary name and renamed into place, so a kill at any moment leaves every
file whole.

The runs cannot mix. A fresh run writes a new run id into ``manifest.json``
and every record carries it, with a checksum of its content (see
:mod:`._records`); a resumed run refuses, naming the file, a record of another
run, an edited or damaged one, and a ``manifest.json`` it cannot read. While a
run writes to its folder it holds the folder's lock (``.mmer.lock``), so that a
second run is refused instead of overwriting the first's files. A fresh run
removes only files named as its own records are, never the folder or anything
else a user put there.
"""

import hashlib
import json
import re
import uuid
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._data import fingerprint_data
from ..utils._files import RunLock
from ..utils._runtime import versions
from ._cross import differences_in_test_corpora
from ._files import UnreadableFileError, read_json, write_atomically
from ._records import (
    RECORD_NAME,
    RECORD_TEMPORARY,
    InvalidRecordError,
    RecordRules,
    make_record,
    record_name,
)
from ._schema import CHECKPOINT_FOLDER, MANIFEST_FILE, result_columns

MANIFEST = MANIFEST_FILE
CHECKPOINT = CHECKPOINT_FOLDER
# 2: a run id in the manifest, a run id and a checksum in every record
# 3: rows hold test_corpus, so a run of format 2 is refused rather than resumed
FORMAT = 3
# the temporary files of the folder's own files that a kill may leave
_TEMPORARY = re.compile(r"\.(manifest\.json|results\.csv)\.\w+\.tmp")
# the libraries that compute the scores: a run resumes only with the same versions
_LIBRARIES = ("sklearn-mmer", "scikit-learn", "numpy", "torch", "skorch", "pandas")


class ConfigurationMismatchError(ValueError):
    """A run to resume is missing, or its configuration differs from this one.

    Raised by :func:`compare_methods` with ``resume=True``; the message says
    what differs (data, folds, methods or their parameters, seeds, metrics,
    library versions).
    """


class CheckpointError(ConfigurationMismatchError):
    """A file of a run's folder that a resumed run cannot trust.

    Raised by :func:`compare_methods` with ``resume=True`` when
    ``manifest.json`` or a record of ``.checkpoint`` cannot be read, does not
    hold what a run writes, was edited (its checksum no longer matches, or its
    predictions, test rows or confusion matrix are not its fold's), or belongs
    to another run. The message names the file. Nothing is refit in its place:
    remove the file to have that fold fit again, or start a new run.

    See Also
    --------
    ConfigurationMismatchError : The run to resume was configured otherwise.
    compare_methods : Resumes a run kept in ``checkpoint``.

    Examples
    --------
    >>> from sklearn_mmer.evaluation import CheckpointError
    >>> from sklearn_mmer.evaluation import ConfigurationMismatchError
    >>> issubclass(CheckpointError, ConfigurationMismatchError)
    True
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
    test_corpora=None,
):
    """The manifest of a comparison: what must be equal for a run to resume.

    ``test_corpora`` is what :func:`~._cross.describe_test_sets` says of the
    test corpora, None without any.
    """
    manifest = {
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
        "versions": versions(_LIBRARIES),
    }
    if test_corpora is not None and test_corpora["corpora"]:
        manifest["test_corpora"] = test_corpora
    return manifest


class Checkpoint:
    """Keeps each finished (method, repeat, fold) of a run in its folder.

    Holds the folder's lock from its creation to :meth:`close`. ``expected``
    holds what a record of this run must match: ``splits``, ``labels``, ``y``
    and ``seeds``.
    """

    def __init__(self, folder, manifest, *, resume, columns, expected, note=None):
        self.folder = Path(folder)
        self.parts = self.folder / CHECKPOINT
        self.columns = columns
        self.rows = {}
        self.finished = {}
        self.probas = {}  # (method, repeat, fold) -> class probabilities
        # (method, repeat, fold) -> {test corpus: (row, y_pred, matrix, proba)}
        self.cross_finished = {}
        self.cross_rows = {}  # (method, repeat, fold, test corpus) -> row
        if resume and not (self.folder / MANIFEST).is_file():
            raise ConfigurationMismatchError(
                f"nothing to resume in {self.folder}: it has no {MANIFEST} (run "
                "without resuming to start)"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lock = RunLock(self.folder, note=note).acquire()
        try:
            self._check_parts_folder()
            if resume:
                self.run = self._check_manifest(manifest)
                self._load(expected)
                self._sweep(self.folder, _TEMPORARY)
                self._sweep(self.parts, RECORD_TEMPORARY)
            else:
                self._start(manifest)
        except BaseException:
            self.lock.release()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Release the folder's lock."""
        self.lock.release()

    def add(self, key, row, test, y_pred, matrix, *, proba=None, cross=None):
        """Keep one finished fold, then rewrite results.csv with every row.

        ``cross`` maps each test corpus to the fold's ``row``, ``y_pred``,
        ``matrix`` and ``proba`` on it.
        """
        record = make_record(
            self.run,
            row,
            test,
            y_pred,
            matrix,
            file_format=FORMAT,
            proba=proba,
            cross=cross,
        )
        path = self.parts / record_name(key)
        write_atomically(path, _json_writer(record))
        self.rows[key] = row
        for corpus, part in (cross or {}).items():
            self.cross_rows[(*key, corpus)] = part["row"]
        self._write_results()

    def _start(self, manifest):
        # an earlier run's records go, and only they: the folder, and any
        # file a user put in it, stay
        self.parts.mkdir(exist_ok=True)
        self._sweep(self.parts, RECORD_NAME)
        self._sweep(self.parts, RECORD_TEMPORARY)
        self._sweep(self.folder, _TEMPORARY)
        self.run = uuid.uuid4().hex
        write_atomically(
            self.folder / MANIFEST, _json_writer({**manifest, "run": self.run})
        )
        # no row yet: an earlier run's results.csv is not this run's
        self._write_results()

    def _write_results(self):
        order = {name: i for i, name in enumerate(self.columns["methods"])}
        keys = sorted(self.rows, key=lambda k: (order.get(k[0], len(order)), *k[1:]))
        # the test corpora's rows after the in-corpus ones, corpus by corpus
        corpora = {name: i for i, name in enumerate(self.columns["corpora"])}
        cross = sorted(
            self.cross_rows,
            key=lambda k: (corpora[k[3]], order.get(k[0], len(order)), *k[1:3]),
        )
        table = pd.DataFrame(
            [self.rows[k] for k in keys] + [self.cross_rows[k] for k in cross],
            columns=self.columns["all"],
        )
        table["seed"] = table["seed"].astype("Int64")
        write_atomically(
            self.folder / "results.csv", lambda path: table.to_csv(path, index=False)
        )

    def _check_parts_folder(self):
        if self.parts.is_symlink() or (self.parts.exists() and not self.parts.is_dir()):
            raise CheckpointError(
                f"{self.parts} is not a folder of the run's own (a file or a "
                "link); remove it, or use another folder"
            )

    def _check_manifest(self, manifest):
        """The run id of the folder's manifest, once it matches ``manifest``."""
        path = self.folder / MANIFEST
        try:
            previous = read_json(path)
        except UnreadableFileError as error:
            raise _corrupt(path, error) from None
        problem = _manifest_problem(previous)
        if problem:
            raise _corrupt(path, problem)
        for reason in _differences(previous, manifest):
            raise ConfigurationMismatchError(
                f"cannot resume the run in {self.folder}: {reason}; resume with the "
                "same configuration, or start a new run in another folder"
            )
        return previous["run"]

    def _load(self, expected):
        rules = RecordRules(
            run=self.run,
            file_format=FORMAT,
            columns=self.columns["all"],
            methods=self.columns["methods"],
            **expected,
        )
        paths = sorted(self.parts.iterdir()) if self.parts.is_dir() else []
        for path in paths:
            if not RECORD_NAME.fullmatch(path.name):
                continue  # not a record: a user's file, left alone
            try:
                key, *kept, proba, cross = rules.check(read_json(path), path.name)
            except (UnreadableFileError, InvalidRecordError) as error:
                raise CheckpointError(
                    f"cannot resume the run in {self.folder}: the record {path} "
                    f"is refused: {error}; remove it to fit its fold again, or "
                    "start a new run in another folder"
                ) from None
            self.rows[key] = kept[0]
            self.finished[key] = tuple(kept)
            if proba is not None:
                self.probas[key] = proba
            if cross:
                self.cross_finished[key] = cross
                for corpus, (row, *_) in cross.items():
                    self.cross_rows[(*key, corpus)] = row

    @staticmethod
    def _sweep(folder, pattern):
        """Remove the files of ``folder`` whose names match ``pattern``."""
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            if pattern.fullmatch(path.name) and path.is_file():
                path.unlink()


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


_MANIFEST_FIELDS = {
    "run": str,
    "data": dict,
    "folds": dict,
    "methods": dict,
    "seeds": list,
    "scoring": dict,
    "labels": list,
    "error_score": str,
    "versions": dict,
}


def _manifest_problem(previous):
    """What makes a manifest unlike any a run writes, or None."""
    if not isinstance(previous, dict):
        return "it holds no JSON object"
    if previous.get("format") != FORMAT:
        return None  # an older format: _differences says so
    for field, kind in _MANIFEST_FIELDS.items():
        if not isinstance(previous.get(field), kind):
            return f"its {field!r} is missing or not a JSON {kind.__name__}"
    return None


def _corrupt(path, reason):
    return CheckpointError(
        f"cannot resume the run in {path.parent}: {path} is not a run's "
        f"manifest: {reason}; start a new run (without resuming) or in another "
        "folder"
    )


def _differences(previous, manifest):
    if previous.get("format") != FORMAT:
        yield (
            f"its {MANIFEST} has format {previous.get('format')!r}, not {FORMAT} "
            "(it was written by another version of sklearn-mmer)"
        )
        return
    # before the data and methods: a seed changes the bundled corpus and every
    # network's random_state, and the seed is what the user changed
    if previous["seeds"] != manifest["seeds"]:
        yield (
            f"it ran with the seeds {previous['seeds']}, this run has "
            f"{manifest['seeds']} (--seed and --repeats; random_state and "
            "n_repeats in Python)"
        )
    yield from differences_in_test_corpora(
        previous.get("test_corpora"), manifest.get("test_corpora")
    )
    if previous["data"] != manifest["data"]:
        yield (
            "the data differ (another corpus, other modalities or labels: --data, "
            "--modalities or --n-utterances)"
        )
    if previous["folds"] != manifest["folds"]:
        yield "the folds differ"
    old, new = previous["methods"], manifest["methods"]
    if list(old) != list(new):
        yield f"it compared the methods {', '.join(old)}, not {', '.join(new)}"
    else:
        changed = [name for name in new if old[name] != new[name]]
        if changed:
            yield f"the parameters of {', '.join(changed)} differ (e.g. --epochs)"
    for field in ("scoring", "labels", "error_score"):
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


def _json_writer(value):
    def write(path):
        Path(path).write_text(json.dumps(value, indent=1))

    return write


def open_checkpoint(folder, resume, *, cross=None, y_all=None, **run):
    """The run's :class:`Checkpoint` in ``folder`` (a null context when None).

    ``run`` describes the compared corpus; ``cross`` maps each test corpus to
    its rows of the stacked labels ``y_all`` (which are ``run["y"]`` without
    test corpora).
    """
    if folder is None:
        if resume:
            raise ValueError("resume=True needs the checkpoint folder of the run")
        return nullcontext()
    cross = dict(cross or {})
    columns = result_columns(run["scoring"])
    return Checkpoint(
        folder,
        describe_run(**run),
        resume=resume,
        columns={
            "methods": list(run["methods_by_repeat"][0]),
            "corpora": list(cross),
            "all": columns,
        },
        expected={
            "splits": run["splits"],
            "labels": run["labels"],
            "y": run["y"] if y_all is None else y_all,
            "seeds": run["seeds"],
            "cross": cross,
        },
    )
