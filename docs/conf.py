"""Sphinx configuration of the sklearn-mmer documentation.

Build it from the repository root with ``scripts/build_docs.sh`` (or
``python -m sphinx -W -b html docs docs/_build/html``). The API reference is
written at build time from each public package's ``__all__`` (see
``docs/_api.py``), so a new public name cannot be left out of it.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# the checkout's package, not whichever sklearn_mmer happens to be installed
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
)
os.environ.setdefault("MPLBACKEND", "Agg")
# one torch thread for the small networks of the examples (set before torch loads)
os.environ.setdefault("OMP_NUM_THREADS", "1")

from _api import write_api_pages  # noqa: E402

import sklearn_mmer  # noqa: E402

project = "sklearn-mmer"
author = "The sklearn-mmer developers"
copyright = "The sklearn-mmer developers"
release = sklearn_mmer.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_templates", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# API reference: one page per public name, from __all__
write_api_pages(DOCS / "api")
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# methods inherited from scikit-learn (VotingClassifier's, for one) refer to
# scikit-learn's glossary, which is not part of this site
suppress_warnings = ["ref.term"]

# numpydoc checks every documented docstring: parameters documented, none
# unknown, Returns present (tests/test_docs.py checks See Also and Examples of
# the public classes and functions). Excluded: torch modules' forward (the
# class documents it) and the scorer object, whose signature is scikit-learn's.
numpydoc_validation_checks = {"PR01", "PR02", "RT01", "GL08"}
numpydoc_validation_exclude = {
    r"\.forward$",
    r"\.__init__$",
    r"unweighted_accuracy_scorer$",
    r"\.[A-Z][A-Z_]+$",
    # a class attribute whose value is None: the #: comment above it is its doc
    r"\.BaseExtractor\.kind$",
}

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_mmer",),
    "backreferences_dir": "api/generated",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "show_memory": False,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = "sklearn-mmer"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
