"""A checkpoint's records: one JSON file per finished (method, repeat, fold),
tied to its run and checked whole before a resumed run trusts it.

A record holds ``format``, ``run`` (the run id of its folder's
``manifest.json``), ``row`` (its row of results), ``test`` (the fold's test
rows), ``y_pred`` (their predictions, null for a failed fit), ``matrix`` (the
confusion matrix), optionally ``proba`` (the class probabilities of the test
rows, one list per row in the run's label order; absent for a method without
them and in the records of earlier versions, which resume without them),
``cross`` in a run with test corpora (by test corpus, the fold's model's
``row``, ``y_pred``, ``matrix`` and ``proba`` on every utterance of it, as
above) and ``sha256``: the SHA-256 of the other fields written as
canonical JSON (keys sorted, no spaces, ``json.dumps(..., sort_keys=True,
separators=(",", ":"))``). The checksum finds a damaged or edited record; the
checks on its content (its fold's test rows, the run's labels, a confusion
matrix that matches its predictions) find one whose checksum was written again.
"""

import hashlib
import json
import numbers
import re

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

#: The names of record files: ``<16 hex digits of the method>-r<R>-f<F>.json``.
RECORD_NAME = re.compile(r"[0-9a-f]{16}-r[0-9]+-f[0-9]+\.json")
#: The temporary files of a record being written (see ``write_atomically``).
RECORD_TEMPORARY = re.compile(r"\.[0-9a-f]{16}-r[0-9]+-f[0-9]+\.json\.\w+\.tmp")
_FIELDS = ("format", "run", "row", "test", "y_pred", "matrix", "sha256")
_TEXT_COLUMNS = ("test_corpus", "best_params", "warnings", "error")
_CROSS_FIELDS = ("row", "y_pred", "matrix", "proba")


class InvalidRecordError(ValueError):
    """A record that is not what its run wrote; the message says why."""


def record_name(key):
    """The file name of the record of ``key`` = (method, repeat, fold), 0-based."""
    method = hashlib.sha1(str(key[0]).encode()).hexdigest()[:16]
    return f"{method}-r{key[1] + 1}-f{key[2] + 1}.json"


def make_record(run, row, test, y_pred, matrix, *, file_format, proba=None, cross=None):
    """The record of one finished fold, with its checksum."""
    record = {
        "format": file_format,
        "run": run,
        "row": _plain(row),
        "test": np.asarray(test).tolist(),
        "y_pred": None if y_pred is None else np.asarray(y_pred).tolist(),
        "matrix": np.asarray(matrix).tolist(),
    }
    if proba is not None:
        record["proba"] = np.asarray(proba, dtype=np.float64).tolist()
    if cross:
        record["cross"] = {
            corpus: {
                "row": _plain(part["row"]),
                "y_pred": None
                if part["y_pred"] is None
                else np.asarray(part["y_pred"]).tolist(),
                "matrix": np.asarray(part["matrix"]).tolist(),
                "proba": None
                if part["proba"] is None
                else np.asarray(part["proba"], dtype=np.float64).tolist(),
            }
            for corpus, part in cross.items()
        }
    record["sha256"] = checksum(record)
    return record


def checksum(record):
    """SHA-256 of a record's fields but ``sha256``, as canonical JSON."""
    content = {k: v for k, v in record.items() if k != "sha256"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class RecordRules:
    """What a record of this run must hold.

    Parameters are the run's: its id and format, the result columns, the
    methods, seeds (one per repeat), folds, labels, targets and the rows of
    each test corpus in them (``cross``, empty without test corpora).
    """

    def __init__(
        self, *, run, file_format, columns, methods, seeds, splits, labels, y, cross
    ):
        self.run, self.format, self.columns = run, file_format, list(columns)
        self.methods, self.seeds, self.splits = list(methods), list(seeds), splits
        self.labels, self.y, self.cross = labels, y, dict(cross)
        self.label_set = {_hashable(label) for label in np.asarray(labels).tolist()}

    def check(self, record, name):
        """The record's ``(key, row, test, y_pred, matrix, proba, cross)``,
        ``proba`` None when it has none, ``cross`` mapping each test corpus to
        ``(row, y_pred, matrix, proba)``; raises :class:`InvalidRecordError`
        saying what is wrong."""
        if not isinstance(record, dict):
            raise InvalidRecordError(f"it holds a JSON {_kind(record)}, not an object")
        missing = [field for field in _FIELDS if field not in record]
        if missing:
            raise InvalidRecordError(f"it lacks {', '.join(missing)}")
        if record["format"] != self.format:
            raise InvalidRecordError(
                f"it has format {record['format']!r}, not {self.format}"
            )
        if record["sha256"] != checksum(record):
            raise InvalidRecordError(
                "its content does not match its checksum (it was edited or damaged)"
            )
        if record["run"] != self.run:
            raise InvalidRecordError(
                f"it belongs to another run (run {record['run']!r}, not this "
                f"folder's {self.run!r}); it was copied in"
            )
        row, key = self._row(record["row"])
        if name != record_name(key):
            raise InvalidRecordError(
                f"its name does not match its method, repeat and fold "
                f"({row['method']}, {row['repeat']}, {row['fold']})"
            )
        test = self._test(record["test"], key)
        y_pred = self._predictions(record["y_pred"], test)
        matrix = self._matrix(record["matrix"], test, y_pred)
        if row["n_test"] != len(test) or row["n_train"] != len(self.splits[key[2]][0]):
            raise InvalidRecordError("its n_train or n_test is not its fold's")
        proba = self._proba(record.get("proba"), test)
        return key, row, test, y_pred, matrix, proba, self._cross(record, key)

    def _cross(self, record, key):
        """The fold's model on each test corpus, checked as the fold itself."""
        cross = record.get("cross") or {}
        if not isinstance(cross, dict) or list(cross) != list(self.cross):
            names = ", ".join(self.cross) or "none"
            raise InvalidRecordError(
                f"its scores on test corpora are not on this run's ({names})"
            )
        checked = {}
        for corpus, part in cross.items():
            if not isinstance(part, dict) or sorted(part) != sorted(_CROSS_FIELDS):
                raise InvalidRecordError(
                    f"its part on test corpus {corpus!r} does not hold "
                    f"{', '.join(_CROSS_FIELDS)}"
                )
            row, row_key = self._row(part["row"])
            rows = self.cross[corpus]
            if row_key != key or row["test_corpus"] != corpus:
                raise InvalidRecordError(
                    f"its row on test corpus {corpus!r} is another fold's or corpus's"
                )
            if row["n_test"] != len(rows):
                raise InvalidRecordError(
                    f"its n_test on test corpus {corpus!r} is not that corpus's size"
                )
            y_pred = self._predictions(part["y_pred"], rows)
            matrix = self._matrix(part["matrix"], rows, y_pred)
            checked[corpus] = (row, y_pred, matrix, self._proba(part["proba"], rows))
        return checked

    def _row(self, row):
        if not isinstance(row, dict) or sorted(row) != sorted(self.columns):
            raise InvalidRecordError(
                f"its row does not have the columns {', '.join(self.columns)}"
            )
        if row["method"] not in self.methods:
            raise InvalidRecordError(
                f"its method {row['method']!r} is not one of this run's"
            )
        for field, count in (("repeat", len(self.seeds)), ("fold", len(self.splits))):
            value = row[field]
            if not _integer(value) or not 1 <= value <= count:
                raise InvalidRecordError(
                    f"its {field} {value!r} is not one of 1..{count}"
                )
        if row["seed"] != self.seeds[row["repeat"] - 1]:
            raise InvalidRecordError(
                f"its seed {row['seed']!r} is not repeat {row['repeat']}'s"
            )
        for column in self.columns:
            value = row[column]
            if column in _TEXT_COLUMNS:
                ok = value is None or isinstance(value, str)
            elif column in ("method", "repeat", "fold", "seed"):
                ok = True  # checked above
            else:
                ok = value is None or _number(value)
            if not ok:
                raise InvalidRecordError(f"its {column} is {value!r}")
        row = dict(row)
        for column in _TEXT_COLUMNS:
            row[column] = row[column] or ""
        return row, (row["method"], row["repeat"] - 1, row["fold"] - 1)

    def _test(self, test, key):
        expected = self.splits[key[2]][1]
        if not isinstance(test, list) or test != expected.tolist():
            raise InvalidRecordError(
                f"its test rows are not the test rows of fold {key[2] + 1}"
            )
        return np.asarray(expected, dtype=np.intp)

    def _predictions(self, y_pred, test):
        if y_pred is None:
            return None
        if not isinstance(y_pred, list) or len(y_pred) != len(test):
            raise InvalidRecordError("its predictions are not one per test row")
        for value in y_pred:
            if _hashable(value) not in self.label_set:
                raise InvalidRecordError(
                    f"it predicts {value!r}, which is not one of the run's labels"
                )
        return np.asarray(y_pred)

    def _proba(self, proba, test):
        if proba is None:
            return None
        shape = (len(test), len(self.labels))
        try:
            values = np.asarray(proba, dtype=np.float64)
        except (TypeError, ValueError):
            values = None
        if (
            values is None
            or values.shape != shape
            or not np.all((values >= 0) & (values <= 1))
        ):
            raise InvalidRecordError(
                "its probabilities are not one row of numbers in [0, 1] per test "
                "row and one column per label"
            )
        return values

    def _matrix(self, matrix, test, y_pred):
        n = len(self.labels)
        if y_pred is None:
            expected = np.zeros((n, n), dtype=np.int64)
        else:
            expected = confusion_matrix(self.y[test], y_pred, labels=self.labels)
        if not isinstance(matrix, list) or matrix != expected.tolist():
            raise InvalidRecordError(
                "its confusion matrix does not match its predictions"
            )
        return expected.astype(np.int64)


def _hashable(value):
    """A label as a set member; a value no set holds for what no label can be
    (a list, an object, null)."""
    return value if isinstance(value, (str, numbers.Number)) else _NOT_A_LABEL


_NOT_A_LABEL = object()


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value):
    names = {list: "array", str: "string", type(None): "null", bool: "boolean"}
    return names.get(type(value), "number")


def _plain(row):
    plain = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        plain[key] = None if value is pd.NA else value
    return plain
