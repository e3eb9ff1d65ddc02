"""request_groups: routed speakers for every inner network, by default with routing on;
nested speaker cross-validation in both routing modes, as the tuning page shows it."""

from pathlib import Path

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
from sklearn_mmer.model_selection import SpeakerKFold
from sklearn_mmer.neural import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]
FITS = []


class RecordingMLP(MLPClassifier):
    """An MLPClassifier that records the speakers of each fit and its split."""

    def fit(self, X, y, groups=None, sample_weight=None):
        super().fit(X, y, groups=groups, sample_weight=sample_weight)
        FITS.append((groups, len(y), self.validation_indices_))
        return self


def _network():
    return RecordingMLP(hidden_layer_sizes=(4,), max_iter=1, early_stopping=True)


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
        grid = {"lexical__recordingmlp__hidden_layer_sizes": [(4,), (6,)]}
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


@pytest.mark.parametrize("factory", sorted(FACTORIES))
def test_factories_request_groups_by_default_when_routing_is_on(factory):
    with config_context(enable_metadata_routing=True):
        model = FACTORIES[factory](classifier=MLPClassifier())
        assert model.get_metadata_routing().consumes("fit", ["groups"])
    # built with routing off, nothing is requested, as before
    model = FACTORIES[factory](classifier=MLPClassifier())
    with config_context(enable_metadata_routing=True):
        assert not model.get_metadata_routing().consumes("fit", ["groups"])


def test_request_groups_false_leaves_requests_unset():
    with config_context(enable_metadata_routing=True):
        early = make_early_fusion(
            ["lexical"], classifier=MLPClassifier(), request_groups=False
        )
        requests = early[-1].get_metadata_routing().fit.requests
        assert requests["groups"] is None


def test_nested_speaker_cv_with_routing_on_passes_groups_once(tiny_corpus):
    X, y, speakers = tiny_corpus
    FITS.clear()
    with config_context(enable_metadata_routing=True):
        early = make_early_fusion(["acoustic", "lexical"], classifier=_network())
        grid = {"recordingmlp__hidden_layer_sizes": [(4,), (6,)]}
        search = GridSearchCV(early, grid, cv=GroupKFold(2))
        scores = cross_validate(
            search, X, y, cv=GroupKFold(3), params={"groups": speakers}
        )
    assert len(scores["test_score"]) == 3
    # per outer fold: 2 candidates x 2 inner folds, then the refit
    _assert_every_split_is_speaker_disjoint(3 * 5)


def test_nested_speaker_cv_with_routing_off_reads_the_speaker_column(tiny_corpus):
    X, y, speakers = tiny_corpus
    early = make_early_fusion(
        ["acoustic", "lexical"], classifier=LogisticRegression(max_iter=200)
    )
    grid = {"logisticregression__C": [0.1, 1.0]}
    search = GridSearchCV(early, grid, cv=SpeakerKFold(2))
    scores = cross_validate(search, X, y, groups=speakers, cv=SpeakerKFold(3))
    assert len(scores["test_score"]) == 3
    # an inner GroupKFold has no speakers without routing: scikit-learn's error
    search = GridSearchCV(early, grid, cv=GroupKFold(2), error_score="raise")
    with pytest.raises(ValueError, match="'groups' parameter should not be None"):
        cross_validate(
            search, X, y, groups=speakers, cv=SpeakerKFold(3), error_score="raise"
        )


def _python_blocks(page):
    text = (ROOT / "docs" / page).read_text()
    return [block.split("```")[0] for block in text.split("```python\n")[1:]]


def test_tuning_page_leads_with_two_nested_cv_recipes_that_run(capsys):
    text = (ROOT / "docs" / "tuning.md").read_text()
    first_section = text.split("\n## ")[1]
    assert first_section.startswith("Nested speaker cross-validation")
    recipes = _python_blocks("tuning.md")[:2]
    assert "enable_metadata_routing=True" in recipes[0]
    assert "enable_metadata_routing" not in recipes[1]
    namespace = {}
    for recipe in recipes:  # the second reuses the first one's corpus and grid
        exec(compile(recipe, "docs/tuning.md", "exec"), namespace)
        assert len(namespace["nested"]["test_score"]) == 3
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_default_request_keeps_the_callers_explicit_request():
    with config_context(enable_metadata_routing=True):
        mlp = MLPClassifier().set_fit_request(groups=False)
        early = make_early_fusion(["lexical"], classifier=mlp)
        assert early[-1].get_metadata_routing().fit.requests["groups"] is False
        forced = make_early_fusion(["lexical"], classifier=mlp, request_groups=True)
        assert forced[-1].get_metadata_routing().fit.requests["groups"] is True
