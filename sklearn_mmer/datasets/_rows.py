"""The rows of dataset.csv as the loader checks and reads them, and their faults."""

import warnings
from collections import Counter

import numpy as np
import pandas as pd

from ._base import ISSUE_COLUMNS, CorpusIssuesWarning, empty_issues
from ._sources import CSV_NAME, Fault

ID_COLUMN, SPEAKER_COLUMN, LABEL_COLUMN = "file_name_list", "speakers", "emotion_labels"
FEATURE_SUFFIX = "_features"
_N_NAMED = 3  # faults named in the summary warning


def _parse_label(text, target_names):
    if target_names is None and text.strip():
        return text.strip()  # labels taken as written
    if target_names is None:
        raise Fault("unknown label", "an empty label")
    if text in target_names:
        return text
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and 0 <= number < len(target_names):
        return target_names[int(number)]
    raise Fault(
        "unknown label",
        f"{text!r}; expected one of {list(target_names)} or an int "
        f"0..{len(target_names) - 1}",
    )


def _summary(rows, kept):
    faults = rows.faults
    kinds = Counter(kind for _, _, kind, _, _ in faults)
    detail = ", ".join(f"{n} {kind}" for kind, n in kinds.most_common())
    dropped = rows.n - kept
    if rows.errors == "keep":
        head = (
            f"kept {kept} of {rows.n} utterances, {len(faults)} faults ({detail}); "
            f"faulty files are None, and {dropped} rows with a faulty id, speaker "
            "or label were skipped"
        )
    else:
        head = f"skipped {dropped} of {rows.n} utterances ({detail})"
    first = [
        f"{rows.ids[row] or f'line {row + 2}'} ({f'{m}: ' if m else ''}{kind})"
        for row, m, kind, _, _ in faults[:_N_NAMED]
    ]
    more = f" and {len(faults) - _N_NAMED} more" if len(faults) > _N_NAMED else ""
    return f"load_feature_table: {head}; first {', '.join(first)}{more}"


class Rows:
    """The rows of dataset.csv as they are checked and read; the faults found."""

    def __init__(self, table, modalities, errors):
        self.ids = [v.strip() for v in table[ID_COLUMN]]
        self.speakers = [v.strip() for v in table[SPEAKER_COLUMN]]
        # None when the CSV has no labels (new utterances to predict)
        self.labels = None
        if LABEL_COLUMN in table:
            self.labels = [v.strip() for v in table[LABEL_COLUMN]]
        self.paths = {m: list(table[m + FEATURE_SUFFIX]) for m in modalities}
        self.n = len(table)
        self.errors = errors
        self.faults = []  # (row, modality or None, kind, reason, file or None)
        self.names = [None] * self.n
        self.ok = np.ones(self.n, dtype=bool)
        self.cells = {m: [None] * self.n for m in modalities}
        self.shared = {}  # a file read -> the (id, modality) naming it

    def record(self, row, modality, fault, where):
        if self.errors == "raise":
            raise ValueError(f"{where}: {fault.reason}")
        cell = self.paths[modality][row].strip() if modality else None
        self.faults.append((row, modality, fault.kind, fault.reason, cell or None))
        if modality is None or self.errors == "skip":
            self.ok[row] = False

    def _check_row(self, row, first_row_of, target_names):
        if not self.ids[row]:
            raise Fault(f"empty {ID_COLUMN}")
        if not self.speakers[row]:
            raise Fault(f"empty {SPEAKER_COLUMN}")
        if self.ids[row] in first_row_of:
            raise Fault(
                "duplicate id",
                f"first at {CSV_NAME} line {first_row_of[self.ids[row]] + 2}",
            )
        if self.labels is None:
            return None
        return _parse_label(self.labels[row], target_names)

    def read(self, source, target_names):
        first_row_of = {}
        for row in range(self.n):
            try:
                self.names[row] = self._check_row(row, first_row_of, target_names)
            except Fault as fault:
                line = f"{CSV_NAME} line {row + 2} (id {self.ids[row]!r})"
                self.record(row, None, fault, line)
                continue
            first_row_of[self.ids[row]] = row
            for modality, column in self.paths.items():
                try:
                    location = source.locate(column[row])
                    self.shared.setdefault(location, []).append((row, modality))
                    self.cells[modality][row] = source.load(location)
                except Fault as fault:
                    where = column[row].strip() or f"{CSV_NAME} line {row + 2}"
                    self.record(row, modality, fault, where)

    def check_widths(self, modality):
        """Flag the files whose width is not the one most of the modality's have."""
        column = self.cells[modality]
        widths = Counter(a.shape[-1] for a in column if a is not None)
        if not widths:
            return
        expected, n_expected = widths.most_common(1)[0]
        n_files = sum(widths.values())
        if 2 * n_expected <= n_files:
            self._no_majority(modality, widths)
        for row, array in enumerate(column):
            if array is not None and array.shape[-1] != expected:
                column[row] = None
                cell = self.paths[modality][row].strip()
                fault = Fault(
                    "wrong feature width",
                    f"{array.shape[-1]}, but most {modality} files have {expected} "
                    f"({n_expected} of {n_files}; the majority decides the "
                    f"expected width): {cell}",
                )
                self.record(row, modality, fault, cell)

    def _no_majority(self, modality, widths):
        example = {}
        for row, array in enumerate(self.cells[modality]):
            if array is not None:
                example.setdefault(array.shape[-1], self.paths[modality][row].strip())
        detail = ", ".join(
            f"{n} of width {w} (e.g. {example[w]})" for w, n in widths.most_common()
        )
        raise ValueError(
            f"the {modality} files disagree on the feature width and none holds a "
            f"clear majority (more than half of the {sum(widths.values())} files "
            f"read): {detail}; make the widths agree, or leave {modality} out "
            "with modalities="
        )

    def warn_shared_files(self):
        shared = [(f, users) for f, users in self.shared.items() if len(users) > 1]
        if not shared:
            return
        location, users = shared[0]
        named = " and ".join(f"{self.ids[r]} ({m})" for r, m in users[:2])
        warnings.warn(
            f"load_feature_table: {len(shared)} feature file(s) named by more than "
            f"one utterance, e.g. {getattr(location, 'filename', location)} by "
            f"{named}; they get the same frames, usually a mistake in {CSV_NAME}",
            UserWarning,
            stacklevel=5,
        )

    def issues(self, n_kept):
        """The issues table; warns with a summary when there are faults."""
        if not self.faults:
            return empty_issues()
        self.faults.sort(key=lambda f: f[0])
        issues = pd.DataFrame(
            [
                (self.ids[row], row + 2, m, cell, reason)
                for row, m, _, reason, cell in self.faults
            ],
            columns=ISSUE_COLUMNS,
            dtype=object,
        ).astype({"line": "int64"})
        warnings.warn(
            CorpusIssuesWarning(_summary(self, n_kept)),
            # the caller's line: past issues, _load, load_feature_table, validate_params
            stacklevel=5,
        )
        return issues
