import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, cross_val_score

from sklearn_mmer.neural import AttentionFusionClassifier, AttentionFusionModule

MODALITIES = ["visual", "acoustic", "lexical"]


def fast(**params):
    params = {
        "hidden_dim": 16,
        "learning_rate_init": 0.01,
        "max_iter": 15,
        "random_state": 0,
        **params,
    }
    return AttentionFusionClassifier(MODALITIES, **params)


def test_attention_scores_well_above_chance_on_speaker_folds(tiny_corpus):
    X, y, speakers = tiny_corpus
    scores = cross_val_score(fast(), X, y, groups=speakers, cv=GroupKFold(3))
    # four classes: chance is 0.25; only lexical carries the label
    assert scores.min() > 0.8


def test_attention_weights_favour_the_informative_modality(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast().fit(X, y)
    weights = clf.predict_modality_weights(X)
    assert list(weights.columns) == MODALITIES
    assert_array_equal(weights.index, X.index)
    assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    assert weights["lexical"].mean() > 0.6
    assert (
        weights["lexical"] > weights[["visual", "acoustic"]].max(axis=1)
    ).mean() > 0.9


def test_attention_missing_modality_gets_weight_exactly_zero(tiny_corpus):
    X, y, _ = tiny_corpus
    X = X.copy()
    X.loc[[0, 5], "lexical"] = None
    X.loc[7, "visual"] = None
    clf = fast().fit(X, y)
    weights = clf.predict_modality_weights(X)
    assert (weights.loc[[0, 5], "lexical"] == 0.0).all()
    assert weights.loc[7, "visual"] == 0.0
    assert_allclose(weights.loc[[0, 5, 7]].sum(axis=1), 1.0, rtol=1e-6)
    assert (weights.drop(index=[0, 5, 7]) > 0).all().all()


def test_attention_row_with_every_modality_missing_is_still_classified(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast().fit(X, y)
    X_missing = X.iloc[:2].copy()
    X_missing.loc[0, MODALITIES] = None
    weights = clf.predict_modality_weights(X_missing)
    assert (weights.loc[0] == 0.0).all()
    proba = clf.predict_proba(X_missing)
    assert np.isfinite(proba).all()
    # no modality: the fused vector is 0, so only the classifier's bias speaks
    with torch.no_grad():
        bias = torch.softmax(clf.net_.module_.head[-1].bias, dim=0).numpy()
    assert_allclose(proba[0], bias, rtol=1e-5)


def test_attention_predicts_a_batch_that_lacks_a_modality(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast(max_iter=2).fit(X, y)
    one = X.iloc[[3]].copy()
    one["visual"] = np.nan  # pandas stores a column of only NaN as floats
    weights = clf.predict_modality_weights(one)
    assert weights.loc[3, "visual"] == 0.0
    assert clf.predict(one).shape == (1,)


def test_attention_predict_reads_only_the_named_columns(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast().fit(X, y)
    reordered = X[["lexical", "acoustic", "visual"]].assign(extra=1)
    assert_array_equal(clf.predict_proba(reordered), clf.predict_proba(X))


def test_attention_default_reads_every_column_of_arrays(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = AttentionFusionClassifier(hidden_dim=4, max_iter=1).fit(X, y)
    assert clf.modalities_ == MODALITIES
    assert clf.n_features_in_ == 4
    assert list(clf.feature_names_in_) == MODALITIES + ["speaker"]


def test_attention_pooling_per_modality(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast(pooling={"acoustic": "stats"}, max_iter=1).fit(X, y)
    assert clf.poolers_["acoustic"].method == "stats"
    assert clf.poolers_["visual"].method == "mean"
    assert clf.net_.module_.widths == [12, 12, 8]


def test_attention_plain_array_is_one_modality():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = AttentionFusionClassifier(hidden_dim=8, max_iter=2).fit(X, y)
    assert clf.modalities_ == ["x0"]
    assert not hasattr(clf, "poolers_")
    assert_array_equal(clf.predict_modality_weights(X)["x0"], 1.0)


def test_attention_same_random_state_gives_identical_predictions(tiny_corpus):
    X, y, _ = tiny_corpus
    first = fast(max_iter=3).fit(X, y).predict_proba(X)
    second = fast(max_iter=3).fit(X, y).predict_proba(X)
    other = fast(max_iter=3).set_params(random_state=1).fit(X, y).predict_proba(X)
    assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_attention_pickle_and_clone_round_trip(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast(max_iter=3).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(
        restored.predict_modality_weights(X), clf.predict_modality_weights(X)
    )
    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == clf.get_params()


def test_attention_early_stopping_holds_out_whole_speakers(tiny_corpus):
    X, y, speakers = tiny_corpus
    clf = fast(max_iter=3, early_stopping=True, validation_fraction=0.34)
    clf.fit(X, y, groups=speakers)
    valid = np.zeros(len(y), bool)
    valid[clf.validation_indices_] = True
    assert set(speakers[valid]).isdisjoint(speakers[~valid])
    assert clf.best_epoch_ == np.argmin(clf.history_[:, "valid_loss"]) + 1


def test_attention_module_masks_before_the_softmax():
    module = AttentionFusionModule([2, 3], 4, hidden_dim=5)
    features = torch.randn(3, 5)
    mask = torch.tensor([[True, True], [False, True], [False, False]])
    _, weights = module.fuse(features, mask)
    assert weights[1].tolist() == [0.0, 1.0]
    assert weights[2].tolist() == [0.0, 0.0]
    changed = features.clone()
    changed[1, :2] = 1e3  # what a masked modality holds cannot matter
    assert torch.equal(module(changed, mask)[1], module(features, mask)[1])


@pytest.mark.parametrize(
    "modalities, match",
    [
        (["visual", "audio"], "column 'audio' not in X; X has 'visual', 'acoustic'"),
        (["lexical", "speaker"], "column 'speaker' does not hold frame arrays"),
        ([], "modalities must name at least one column"),
        (["lexical", "lexical"], "modalities must be distinct"),
    ],
)
def test_attention_rejects_bad_modalities(tiny_corpus, modalities, match):
    X, y, _ = tiny_corpus
    with pytest.raises(ValueError, match=match):
        AttentionFusionClassifier(modalities, max_iter=1).fit(X, y)


def test_attention_rejects_input_unlike_fit(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = fast(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="column 'visual' not in X"):
        clf.predict(X.drop(columns="visual"))
    with pytest.raises(ValueError, match="fit on a DataFrame of modalities"):
        clf.predict(np.ones((3, 4)))
    with pytest.raises(ValueError, match="modalities=\\['visual'\\] names columns"):
        AttentionFusionClassifier(["visual"]).fit(np.ones((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="pooling names modalities \\['audio'\\]"):
        fast(pooling={"audio": "max"}).fit(X, y)
    with pytest.raises(ValueError, match="X is a Series of cells"):
        AttentionFusionClassifier().fit(X["lexical"], y)


def test_attention_plain_array_fit_rejects_cells(tiny_corpus):
    X, y, _ = tiny_corpus
    clf = AttentionFusionClassifier(hidden_dim=4, max_iter=1)
    clf.fit(np.ones((len(y), 3)), y)
    with pytest.raises(ValueError, match="fit on a plain numeric array"):
        clf.predict(X)


def test_attention_needs_y(tiny_corpus):
    X, _, _ = tiny_corpus
    with pytest.raises(ValueError, match="requires y to be passed"):
        AttentionFusionClassifier().fit(X, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AttentionFusionClassifier().fit(X, np.zeros(3))


def test_attention_weights_are_indexed_like_X(tiny_corpus):
    X, y, _ = tiny_corpus
    X = X.set_index(pd.Index([f"utt{i}" for i in range(len(X))]))
    clf = fast(max_iter=1).fit(X, y)
    assert list(clf.predict_modality_weights(X.iloc[3:5]).index) == ["utt3", "utt4"]
