"""The documentation's API reference covers every public name.

The reference (``docs/api/index.rst``) is written at build time by
``docs/_api.py`` from the packages' ``__all__``; these tests check that the
writer finds every public package and lists every exported name, and that the
docstrings of public classes and functions carry the sections the reference
shows (See Also, Examples).
"""

import importlib
import importlib.util
import inspect
from pathlib import Path

import pytest

import sklearn_mmer

ROOT = Path(__file__).resolve().parents[1]

# Public names whose docstring still lacks a See Also or an Examples section.
# The list may only shrink: a test fails when a listed name has gained both.
# Names of changes still under way may be listed before they exist.
KNOWN_GAPS = {
    "sklearn_mmer.evaluation.ConfigurationMismatchError",
    "sklearn_mmer.evaluation.FoldWarning",
    "sklearn_mmer.evaluation.confusion_table",
    "sklearn_mmer.evaluation.format_table",
    "sklearn_mmer.evaluation.holm_adjust",
    "sklearn_mmer.evaluation.per_class_recall",
    "sklearn_mmer.evaluation.per_speaker_scores",
    "sklearn_mmer.evaluation.save_comparison",
    "sklearn_mmer.evaluation.save_figures",
    "sklearn_mmer.evaluation.score_columns",
    "sklearn_mmer.evaluation.summarize",
    "sklearn_mmer.evaluation.unweighted_accuracy",
    "sklearn_mmer.neural.EnsembleMLPModule",
}


def _api_writer():
    spec = importlib.util.spec_from_file_location("_api", ROOT / "docs" / "_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public_packages():
    """Public subpackages found on disk, independently of docs/_api.py."""
    folder = Path(sklearn_mmer.__file__).parent
    return sorted(
        f"sklearn_mmer.{path.parent.name}"
        for path in folder.glob("*/__init__.py")
        if not path.parent.name.startswith("_")
        and path.parent.name not in ("utils", "cli")
    )


def _public_names():
    names = [f"sklearn_mmer.{n}" for n in getattr(sklearn_mmer, "__all__", [])]
    for package in _public_packages():
        module = importlib.import_module(package)
        names += [f"{package}.{name}" for name in module.__all__]
    return names


def test_api_reference_lists_every_public_package():
    listed = [name for name, _ in _api_writer().public_modules()]
    assert set(_public_packages()) <= set(listed)


def test_api_reference_lists_every_public_name():
    page = _api_writer().api_page()
    sections = page.split(".. currentmodule:: ")[1:]
    listed = set()
    for section in sections:
        module, _, body = section.partition("\n")
        listed |= {
            f"{module}.{line.strip()}"
            for line in body.splitlines()
            if line.startswith("   ") and not line.strip().startswith(":")
        }
    missing = sorted(set(_public_names()) - listed)
    assert not missing, f"public names missing from the API reference: {missing}"


def _object(full_name):
    module, _, name = full_name.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _sectioned_names():
    """Public classes and functions: the objects whose docstrings the reference
    shows in sections (constants and scorer objects have none to check)."""
    return [
        name
        for name in _public_names()
        if inspect.isclass(_object(name)) or inspect.isfunction(_object(name))
    ]


def _documented(full_name):
    doc = inspect.getdoc(_object(full_name)) or ""
    return "See Also\n--------" in doc and "Examples\n--------" in doc


@pytest.mark.parametrize("full_name", _sectioned_names())
def test_public_docstring_has_see_also_and_examples(full_name):
    documented = _documented(full_name)
    if full_name in KNOWN_GAPS:
        assert not documented, f"{full_name} is documented now: drop it from KNOWN_GAPS"
    else:
        assert documented, (
            f"{full_name}'s docstring lacks a See Also or an Examples section: "
            "add them (house style), or list the name in KNOWN_GAPS here"
        )


def test_known_gaps_name_public_packages():
    packages = {"sklearn_mmer", *_public_packages()}
    assert {name.rpartition(".")[0] for name in KNOWN_GAPS} <= packages


# Drawing calls whose figure a gallery page shows only when drawn on pyplot's axes
_FIGURE_CALLS = ("Display.from_", "plot_method_comparison(", "plot_per_")


@pytest.mark.parametrize(
    "example", sorted(p.name for p in (ROOT / "examples").glob("plot_*.py"))
)
def test_gallery_example_draws_its_figures_with_pyplot(example):
    # sphinx-gallery captures pyplot's figures only: a plain matplotlib Figure
    # (what the plot_* functions return) never reaches the page
    source = (ROOT / "examples" / example).read_text()
    if any(call in source for call in _FIGURE_CALLS):
        assert "plt.subplots(" in source or "plt.figure(" in source, (
            f"{example} draws figures but none on pyplot's axes: pass ax= from "
            "plt.subplots() to a display"
        )
