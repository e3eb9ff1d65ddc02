"""Collecting a comparison's fit outcomes, in whatever order they finish, into
its results: rows, confusion matrices, predictions and fitted estimators."""

import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import FitFailedWarning
from sklearn.utils import Bunch

from ._schema import (
    ID_COLUMN,
    IN_CORPUS,
    PROBA_PREFIX,
    RESULT_DTYPES,
    ROW_COLUMN,
    TEST_CORPUS,
    cross_prediction_columns,
    prediction_columns,
    result_columns,
)
from ._sharing import assemble_vote
from ._tasks import FitOutcome, evaluate, evaluate_cross, fail


class OutcomeCollector:
    """Turns fit outcomes, in whatever order they finish, into the results."""

    def __init__(
        self,
        plan,
        splits,
        y,
        *,
        methods_by_repeat,
        seeds,
        notes,
        scoring,
        labels,
        error_score,
        progress,
        return_estimator,
        checkpoint,
        cross=None,
        cross_notes=None,
        ids=None,
    ):
        self.plan, self.splits, self.y = plan, splits, y
        # test corpus -> its rows of the stacked corpus, and what its rows say
        self.cross, self.cross_notes = dict(cross or {}), dict(cross_notes or {})
        self.cross_rows, self.cross_matrices, self.cross_predictions = {}, {}, {}
        self.methods_by_repeat = methods_by_repeat
        self.methods = list(methods_by_repeat[0])
        self.seeds, self.notes = seeds, notes
        self.scoring, self.labels = scoring, labels
        self.error_score, self.progress = error_score, progress
        self.return_estimator, self.estimators = return_estimator, {}
        self.checkpoint = checkpoint
        self.rows, self.matrices, self.predictions = {}, {}, {}
        # the utterances' ids (X's index) and each fold's class probabilities
        self.ids = None if ids is None else np.asarray(ids).astype(str)
        self.probas = dict(checkpoint.probas) if checkpoint is not None else {}
        self.members = {}  # (fold, fit index) -> outcome, until its votes are done
        self.n_total = len(self.methods) * len(seeds) * len(splits)
        for key, (row, test, y_pred, matrix) in (
            checkpoint.finished.items() if checkpoint is not None else ()
        ):
            self.rows[key], self.matrices[key] = row, matrix
            if y_pred is not None:
                self.predictions[key] = (test, y_pred)
        for key, by_corpus in (
            checkpoint.cross_finished.items() if checkpoint is not None else ()
        ):
            for corpus, (row, y_pred, matrix, proba) in by_corpus.items():
                self.cross_rows[(*key, corpus)] = row
                self.cross_matrices[(*key, corpus)] = matrix
                if y_pred is not None:
                    self.cross_predictions[(*key, corpus)] = (
                        self.cross[corpus],
                        y_pred,
                        proba,
                    )

    def add(self, outcome):
        """Record the methods scored from ``outcome``, and the votes it completes."""
        fit = self.plan.fits[outcome.fit_index]
        for name in fit.scored_as:
            self._record(name, outcome)
        if not fit.vote_member:
            return
        self.members[outcome.fold, outcome.fit_index] = outcome
        votes = [v for v in self.plan.votes if v.repeat == outcome.repeat]
        for vote in votes:
            key = (vote.method, vote.repeat, outcome.fold)
            if key in self.rows or outcome.fit_index not in vote.members:
                continue
            members = [self.members.get((outcome.fold, m)) for m in vote.members]
            if all(member is not None for member in members):
                self._record(vote.method, self._assemble(vote, outcome.fold, members))
        # a fold's members are dropped once every vote of theirs is scored
        if all((v.method, v.repeat, outcome.fold) in self.rows for v in votes):
            for fold, index in list(self.members):
                fit = self.plan.fits[index]
                if fold == outcome.fold and fit.repeat == outcome.repeat:
                    del self.members[fold, index]

    def _assemble(self, vote, fold, members):
        """The outcome of a vote built from its members' fits on ``fold``."""
        seconds = sum(member.fit_seconds for member in members)
        outcome = FitOutcome(vote.repeat, fold, -1, seconds)
        failed = [(n, m) for n, m in zip(vote.member_names, members) if m.error]
        train, test = self.splits[fold]
        view = self.plan.views[vote.view]
        try:
            if failed:
                name, member = failed[0]
                raise _MemberFailed(f"member {name!r} failed: {member.error}")
            estimator = assemble_vote(
                self.methods_by_repeat[vote.repeat][vote.method],
                [member.estimator for member in members],
                view.take(train),
                self.y[train],
            )
            evaluate(
                outcome,
                estimator,
                view.take(test),
                self.y[test],
                scoring=self.scoring,
                labels=self.labels,
            )
            evaluate_cross(
                outcome,
                estimator,
                view,
                self.y,
                self.cross,
                scoring=self.scoring,
                labels=self.labels,
            )
            outcome.estimator = estimator
        except Exception as error:
            if isinstance(self.error_score, str):
                raise
            fail(outcome, error, scoring=self.scoring, error_score=self.error_score)
            if isinstance(error, _MemberFailed):
                outcome.error = str(error)
        return outcome

    def _record(self, name, outcome):
        repeat, fold = outcome.repeat, outcome.fold
        train, test = self.splits[fold]
        row = {
            "method": name,
            "repeat": repeat + 1,
            "fold": fold + 1,
            TEST_CORPUS: IN_CORPUS,
            "seed": self.seeds[repeat],
            "n_train": len(train),
            "n_test": len(test),
            **outcome.scores,
            "fit_seconds": outcome.fit_seconds,
            "best_params": outcome.best_params,
            "warnings": self.notes[fold],
            "error": outcome.error,
        }
        key = (name, repeat, fold)
        if key in self.rows:
            return  # finished in the run being resumed
        self.rows[key] = row
        n_labels = len(self.labels)
        self.matrices[key] = (
            np.zeros((n_labels, n_labels), dtype=np.int64)
            if outcome.matrix is None
            else outcome.matrix
        )
        if outcome.y_pred is not None:
            self.predictions[key] = (test, outcome.y_pred)
        if outcome.proba is not None:
            self.probas[key] = outcome.proba
        if self.return_estimator:
            self.estimators[key] = outcome.estimator
        for corpus in self.cross:
            self._record_cross(key, row, corpus, outcome)
        if self.checkpoint is not None:
            self.checkpoint.add(
                key,
                row,
                test,
                outcome.y_pred,
                self.matrices[key],
                proba=outcome.proba,
                cross=self._kept_cross(key, outcome),
            )
        if self.progress is not None:
            self.progress(
                {
                    **row,
                    "n_folds": len(self.splits),
                    "n_repeats": len(self.seeds),
                    "n_finished": len(self.rows),
                    "n_total": self.n_total,
                }
            )

    def _record_cross(self, key, row, corpus, outcome):
        """The row, matrix and predictions of ``key``'s fit on a test corpus."""
        rows = self.cross[corpus]
        scored = outcome.cross.get(corpus)
        notes = [n for n in (self.cross_notes.get(corpus, ""),) if n]
        self.cross_rows[(*key, corpus)] = {
            **row,
            TEST_CORPUS: corpus,
            "n_test": len(rows),
            **(
                scored.scores
                if scored is not None
                else dict.fromkeys(self.scoring, float(self.error_score))
            ),
            "warnings": "; ".join(notes),
        }
        n_labels = len(self.labels)
        self.cross_matrices[(*key, corpus)] = (
            np.zeros((n_labels, n_labels), dtype=np.int64)
            if scored is None
            else scored.matrix
        )
        if scored is not None:
            self.cross_predictions[(*key, corpus)] = (rows, scored.y_pred, scored.proba)

    def _kept_cross(self, key, outcome):
        """What a checkpoint keeps of ``key``'s fit on each test corpus."""
        kept = {}
        for corpus in self.cross:
            scored = outcome.cross.get(corpus)
            kept[corpus] = {
                "row": self.cross_rows[(*key, corpus)],
                "y_pred": None if scored is None else scored.y_pred,
                "matrix": self.cross_matrices[(*key, corpus)],
                "proba": None if scored is None else scored.proba,
            }
        return kept

    def warn_failures(self):
        failed = [row for row in self.rows.values() if row["error"]]
        if failed:
            first = failed[0]
            warnings.warn(
                f"{len(failed)} of {len(self.rows)} fits failed and were scored "
                f"{self.error_score}; see the 'error' column of results. First: "
                f"{first['method']!r}, repeat {first['repeat']}, fold "
                f"{first['fold']}: {first['error']}",
                FitFailedWarning,
                stacklevel=3,
            )

    def comparison(self):
        keys = [
            (name, repeat, fold)
            for name in self.methods
            for repeat in range(len(self.seeds))
            for fold in range(len(self.splits))
        ]
        cross_keys = [(*key, corpus) for corpus in self.cross for key in keys]
        results = pd.DataFrame(
            [self.rows[key] for key in keys]
            + [self.cross_rows[key] for key in cross_keys],
            columns=result_columns(self.scoring),
        ).astype(RESULT_DTYPES)
        comparison = Bunch(
            results=results,
            confusion_matrices={
                name: np.stack([self.matrices[k] for k in keys if k[0] == name])
                for name in self.methods
            },
            predictions=self._predictions(keys),
            labels=self.labels,
            splits=self.splits,
        )
        if self.cross:
            comparison.cross_confusion_matrices = {
                corpus: {
                    name: np.stack(
                        [
                            self.cross_matrices[(*k, corpus)]
                            for k in keys
                            if k[0] == name
                        ]
                    )
                    for name in self.methods
                }
                for corpus in self.cross
            }
            comparison.cross_predictions = self._cross_predictions(cross_keys)
        if self.return_estimator:
            comparison.estimators = {
                (name, repeat + 1, fold + 1): self.estimators.get((name, repeat, fold))
                for name, repeat, fold in keys
            }
        return comparison

    def _predictions(self, keys):
        names = [f"{PROBA_PREFIX}{label}" for label in self.labels]
        frames = [
            pd.DataFrame(
                {
                    "method": key[0],
                    "repeat": key[1] + 1,
                    "fold": key[2] + 1,
                    ROW_COLUMN: test,
                    "y_true": self.y[test],
                    "y_pred": y_pred,
                    ID_COLUMN: test if self.ids is None else self.ids[test],
                    **dict(zip(names, self._proba(key, len(test)).T)),
                }
            )
            for key in keys
            if key in self.predictions
            for test, y_pred in [self.predictions[key]]
        ]
        columns = prediction_columns(self.labels)
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def _cross_predictions(self, cross_keys):
        """Predictions on the test corpora; ``row`` is the position in the test
        corpus's own X, ``utterance_id`` its index there."""
        names = [f"{PROBA_PREFIX}{label}" for label in self.labels]
        frames = [
            pd.DataFrame(
                {
                    "method": key[0],
                    "repeat": key[1] + 1,
                    "fold": key[2] + 1,
                    TEST_CORPUS: key[3],
                    ROW_COLUMN: rows - self.cross[key[3]][0],
                    "y_true": self.y[rows],
                    "y_pred": y_pred,
                    ID_COLUMN: rows if self.ids is None else self.ids[rows],
                    **dict(zip(names, self._as_proba(proba, len(rows)).T)),
                }
            )
            for key in cross_keys
            if key in self.cross_predictions
            for rows, y_pred, proba in [self.cross_predictions[key]]
        ]
        columns = cross_prediction_columns(self.labels)
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    def _proba(self, key, n_test):
        """The fold's class probabilities; NaN where the method has none."""
        return self._as_proba(self.probas.get(key), n_test)

    def _as_proba(self, proba, n_rows):
        if proba is not None:
            return np.asarray(proba, dtype=np.float64)
        return np.full((n_rows, len(self.labels)), np.nan)


class _MemberFailed(Exception):
    """A late fusion's member failed, so the vote cannot be assembled."""
