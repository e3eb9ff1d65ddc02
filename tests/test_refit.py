"""``refit=True``: early stopping chooses the epoch count on held-out speakers,
then a fresh network learns from every training row for that many epochs."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_mmer._testing import lexical_matrix
from sklearn_mmer.neural import (
    AttentionFusionClassifier,
    MLPClassifier,
    SequenceClassifier,
)

MODALITIES = ["visual", "acoustic", "lexical"]

CLASSIFIERS = {
    "mlp": lambda **p: MLPClassifier(hidden_layer_sizes=(16,), random_state=0, **p),
    "attention": lambda **p: AttentionFusionClassifier(
        MODALITIES, hidden_dim=8, random_state=0, **p
    ),
    "residual_gru": lambda **p: SequenceClassifier(
        MODALITIES,
        architecture="residual_gru",
        hidden_dim=8,
        n_segments=3,
        pooled_skip=True,
        random_state=0,
        **p,
    ),
}

STOPPING = {"early_stopping": True, "validation_fraction": 0.3, "n_iter_no_change": 2}


def _data(kind, corpus):
    X, y, speakers = corpus
    if kind == "mlp":
        X = lexical_matrix(X)
    return X, y, speakers


def _rows_in_first_epoch(clf):
    batches = clf.history_[0, "batches"]
    return sum(b["train_batch_size"] for b in batches if "train_batch_size" in b)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_refit_needs_early_stopping(tiny_corpus, kind):
    X, y, _ = _data(kind, tiny_corpus)
    with pytest.raises(ValueError, match="needs early_stopping=True"):
        CLASSIFIERS[kind](refit=True, max_iter=2).fit(X, y)


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_refit_trains_on_every_row_for_the_chosen_epochs(tiny_corpus, kind):
    X, y, speakers = _data(kind, tiny_corpus)
    stopped = CLASSIFIERS[kind](max_iter=12, **STOPPING).fit(X, y, groups=speakers)
    refitted = CLASSIFIERS[kind](max_iter=12, refit=True, **STOPPING)
    refitted.fit(X, y, groups=speakers)

    # the same split and the same stopping run choose the same epoch count
    assert_array_equal(refitted.validation_indices_, stopped.validation_indices_)
    assert_array_equal(refitted.validation_losses_, stopped.validation_losses_)
    assert stopped.n_iter_ == len(stopped.validation_losses_)
    assert refitted.best_epoch_ == np.argmin(refitted.validation_losses_) + 1
    # then the final network reads every row, held-out speakers included
    n_held_out = len(stopped.validation_indices_)
    assert 0 < n_held_out < len(y)
    assert _rows_in_first_epoch(stopped) == len(y) - n_held_out
    assert _rows_in_first_epoch(refitted) == len(y)
    assert refitted.n_iter_ == len(refitted.history_) == refitted.best_epoch_
    assert "valid_loss" not in refitted.history_[-1]
    assert refitted.net_.train_split is None


@pytest.mark.parametrize("kind", sorted(CLASSIFIERS))
def test_refit_is_training_on_all_rows_for_best_epoch(tiny_corpus, kind):
    # the final network is exactly the one a plain fit of best_epoch_ epochs
    # trains: the same seed, the same initial weights, the same batches
    X, y, speakers = _data(kind, tiny_corpus)
    refitted = CLASSIFIERS[kind](max_iter=12, refit=True, **STOPPING)
    refitted.fit(X, y, groups=speakers)
    plain = CLASSIFIERS[kind](max_iter=refitted.best_epoch_).fit(X, y)
    assert_array_equal(refitted.predict_proba(X), plain.predict_proba(X))
    assert plain.validation_losses_ is None and plain.validation_indices_ is None


def test_refit_weighs_samples_as_repeated_rows(tiny_corpus):
    # integer weights count a row that many times, in the final network too
    X, y, speakers = _data("mlp", tiny_corpus)
    weights = np.random.RandomState(0).randint(1, 3, size=len(y))
    rows = np.repeat(np.arange(len(y)), weights)
    params = {"max_iter": 8, "refit": True, "batch_size": 10_000, **STOPPING}
    weighted = CLASSIFIERS["mlp"](**params).fit(
        X, y, groups=speakers, sample_weight=weights
    )
    repeated = CLASSIFIERS["mlp"](**params).fit(X[rows], y[rows], groups=speakers[rows])
    assert weighted.best_epoch_ == repeated.best_epoch_
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5
    )
