"""request_groups: one call asks for routed speakers in every inner network."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from sklearn_mmer.fusion import (
    make_early_fusion,
    make_late_fusion,
    make_modality_pipeline,
    make_stacking_fusion,
)
from sklearn_mmer.neural import MLPClassifier

FITS = []


class RecordingMLP(MLPClassifier):
    """An MLPClassifier that records the speakers of each fit and its split."""

    def fit(self, X, y, groups=None, sample_weight=None):
        super().fit(X, y, groups=groups, sample_weight=sample_weight)
        FITS.append((groups, len(y), self.validation_indices_))
        return self


def _network():
    return RecordingMLP(hidden_dims=(4,), max_epochs=1, early_stopping=True)


FACTORIES = {
    "modality": lambda **kw: make_modality_pipeline("lexical", **kw),
    "early": lambda **kw: make_early_fusion(["acoustic", "lexical"], **kw),
    "late": lambda **kw: make_late_fusion(["acoustic", "lexical"], **kw),
    "stacking": lambda **kw: make_stacking_fusion(["acoustic", "lexical"], cv=2, **kw),
}
# network fits per outer fold: stacking fits each member on 2 inner folds, then
# on all the training data
FITS_PER_FOLD = {"modality": 1, "early": 1, "late": 2, "stacking": 6}


def _assert_every_split_is_speaker_disjoint(n_fits):
    assert len(FITS) == n_fits
    for groups, n_samples, valid in FITS:
        assert groups is not None and len(groups) == n_samples
        held_out = np.zeros(n_samples, dtype=bool)
        held_out[valid] = True
        assert set(groups[held_out]).isdisjoint(groups[~held_out])


@pytest.mark.parametrize("factory", sorted(FACTORIES))
def test_every_inner_network_gets_speaker_disjoint_validation(tiny_corpus, factory):
    X, y, speakers = tiny_corpus
    FITS.clear()
    with config_context(enable_metadata_routing=True):
        model = FACTORIES[factory](classifier=_network(), request_groups=True)
        cross_validate(model, X, y, cv=GroupKFold(3), params={"groups": speakers})
    _assert_every_split_is_speaker_disjoint(3 * FITS_PER_FOLD[factory])


def test_grid_search_routes_groups_to_every_network(tiny_corpus):
    X, y, speakers = tiny_corpus
    FITS.clear()
    with config_context(enable_metadata_routing=True):
        late = make_late_fusion(
            ["acoustic", "lexical"], classifier=_network(), request_groups=True
        )
        grid = {"lexical__recordingmlp__hidden_dims": [(4,), (6,)]}
        GridSearchCV(late, grid, cv=GroupKFold(2)).fit(X, y, groups=speakers)
    # 2 candidates x 2 folds x 2 members, then the refit's 2 members
    _assert_every_split_is_speaker_disjoint(10)


def test_request_groups_leaves_the_callers_classifier_alone():
    with config_context(enable_metadata_routing=True):
        mlp = MLPClassifier()
        late = make_late_fusion(["acoustic"], classifier=mlp, request_groups=True)
        inner = late.estimators[0][1][-1]
        assert inner.get_metadata_routing().fit.requests["groups"] is True
        assert mlp.get_metadata_routing().fit.requests["groups"] is None


def test_request_groups_needs_metadata_routing():
    with pytest.raises(ValueError, match="routing is off; enable it first"):
        make_early_fusion(["lexical"], request_groups=True)
    # without the request, the factories build as before
    assert make_early_fusion(["lexical"], classifier=LogisticRegression())
