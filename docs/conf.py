"""Sphinx configuration of the skbackprop documentation.

Build offline with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Cross-links to numpy / scipy / scikit-learn / matplotlib (intersphinx) need the
network, so they are off unless ``SKBACKPROP_INTERSPHINX=1``.
"""

import os
import re
import sys
import warnings

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import skbackprop  # noqa: E402

INTERSPHINX = os.environ.get("SKBACKPROP_INTERSPHINX") == "1"

project = "skbackprop"
author = "skbackprop developers"
copyright = "skbackprop developers"
release = skbackprop.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # a copy of MathJax in the built site, so formulas render without network
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "sg_execution_times.rst"]
root_doc = "index"

# -- API pages -----------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# ``X : {array-like, sparse matrix}`` and friends are descriptions, not objects
numpydoc_xref_param_type = False


# Docstrings inherited from scikit-learn (score, get_params, set_*_request, ...)
# point at labels and glossary terms of scikit-learn's own site. Without
# intersphinx those cannot resolve, so they are shown as plain text.
_SKLEARN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`]*>)?`")


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    if INTERSPHINX:
        return
    if getattr(obj, "__module__", "") and obj.__module__.startswith("sklearn"):
        lines[:] = [_SKLEARN_ROLE.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)


# -- intersphinx: needs the network ------------------------------------------------
intersphinx_mapping = {}
if INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# -- gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skbackprop",),
    "reference_url": {"skbackprop": None},
    "within_subsection_order": "FileNameSortKey",
    # an example that raises fails the build
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}
# examples run non-interactively
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML --------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skbackprop {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "header_links_before_dropdown": 5,
}
# pages without sub-pages get no (empty) section navigation
html_sidebars = {"index": [], "getting_started": []}
# "fit()" rather than "MLPBackprop.fit()" in a class page's table of contents
toc_object_entries_show_parents = "hide"
html_show_sourcelink = False
