"""The method catalogue: every method declared, nothing inferred from a name."""

import ast
import pathlib

import pytest
from sklearn.model_selection import GroupKFold, cross_val_score

import sklearn_mmer
from sklearn_mmer import methods
from sklearn_mmer._testing import make_tiny_corpus
from sklearn_mmer.fusion import make_early_fusion
from sklearn_mmer.methods._catalogue import CATALOGUE

PACKAGE = pathlib.Path(sklearn_mmer.__file__).parent
MODALITIES = ["visual", "acoustic", "lexical"]


def _plain(modalities, random_state):
    return make_early_fusion(modalities)


@pytest.fixture
def registered():
    """Names registered by a test, unregistered after it."""
    names = []
    yield names
    for name in names:
        methods.unregister_method(name)


def test_catalogue_is_what_is_registered():
    assert list(methods.registered_methods().values()) == list(CATALOGUE)


def test_catalogue_declares_which_methods_are_transductive():
    transductive = {m.name for m in CATALOGUE if m.transductive}
    assert transductive == {"early_fusion_speaker_norm", "late_fusion_speaker_norm"}


@pytest.mark.parametrize("name", ["x_speaker_norm", "x_late_fusion", "x_early_fusion"])
def test_register_method_infers_nothing_from_the_name(registered, name):
    method = methods.register_method(name, _plain, description="plain")
    registered.append(name)
    assert (method.kind, method.transductive, method.default) == ("other", False, False)
    assert method.modalities is None


def test_register_method_keeps_declared_modalities(registered):
    method = methods.register_method(
        "lexical_only", _plain, description="words", modalities=["lexical"]
    )
    registered.append("lexical_only")
    assert method.modalities == ("lexical",)


def test_register_method_refuses_a_string_as_modalities():
    with pytest.raises(ValueError, match="modalities of method 'x' must be a list"):
        methods.register_method("x", _plain, description="x", modalities="lexical")


def _imported_modules(folder):
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                yield path, "." * node.level + (node.module or "")


def test_catalogue_sits_below_evaluation_and_above_the_estimators():
    for path, module in _imported_modules(PACKAGE / "methods"):
        assert "evaluation" not in module and "cli" not in module, (path, module)
    for package in ("fusion", "neural", "utils", "model_selection"):
        for path, module in _imported_modules(PACKAGE / package):
            assert "methods" not in module.split("."), (path, module)


def test_late_fusion_weighted_needs_the_lexical_modality():
    without = ["visual", "acoustic"]
    assert (
        "needs the modality 'lexical'"
        in methods.method_availability(without)["late_fusion_weighted"]
    )
    assert "late_fusion_weighted" not in methods.method_names(without, ["all"])
    with pytest.raises(ValueError, match="cannot run on the modalities visual"):
        methods.make_methods(without, ["late_fusion_weighted"])
    factory = methods.registered_methods()["late_fusion_weighted"].factory
    with pytest.raises(ValueError, match="would equal late_fusion_soft"):
        factory(without, 0)
    weighted = methods.make_methods(["acoustic", "lexical"], ["late_fusion_weighted"])
    assert weighted["late_fusion_weighted"].weights == [1.0, 2.0]


def test_register_method_keeps_required_modalities(registered):
    method = methods.register_method(
        "needs_text", _plain, description="text", requires=["lexical"]
    )
    registered.append("needs_text")
    assert method.requires == ("lexical",)
    assert methods.method_availability(["lexical"])["needs_text"] is None
    assert "needs_text" not in methods.method_names(["acoustic"], ["all"])


CLASSICAL = ("logistic_regression", "svm_rbf")


def test_classical_baselines_are_declared_classical():
    registered = methods.registered_methods()
    classical = {name for name, m in registered.items() if m.kind == "classical"}
    assert classical == set(CLASSICAL)
    for name in CLASSICAL:
        method = registered[name]
        assert not method.transductive and method.modalities is None
        assert "pooled" in method.description


def test_the_default_comparison_runs_a_classical_baseline():
    names = methods.method_names(["acoustic", "lexical"])
    kinds = {methods.method_kind(name, ["acoustic", "lexical"]) for name in names}
    assert "classical" in kinds
    assert "logistic_regression" in names


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_baselines_learn_under_speaker_grouped_cv(name):
    X, y, speakers = make_tiny_corpus(n_utterances=120, n_speakers=4)
    model = methods.make_methods(MODALITIES, [name], random_state=0)[name]
    scores = cross_val_score(
        model, X, y, groups=speakers, cv=GroupKFold(4), scoring="f1_micro"
    )
    # the lexical modality separates the 4 classes: far above chance (0.25)
    assert scores.mean() > 0.6, scores


@pytest.mark.parametrize("name", CLASSICAL)
def test_classical_baselines_predict_with_a_missing_modality(name):
    X, y, _ = make_tiny_corpus(n_utterances=80, n_speakers=4)
    model = methods.make_methods(MODALITIES, [name], random_state=0)[name].fit(X, y)
    X_missing = X.copy()
    X_missing["visual"] = None
    assert len(model.predict(X_missing)) == len(X)
