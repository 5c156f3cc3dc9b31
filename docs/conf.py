"""Sphinx configuration of the windforce documentation site (``make docs``).

The site is built offline with warnings as errors: the Markdown pages are read by MyST,
the tutorials (MyST notebooks in tutorials/) are executed at build time by MyST-NB, and
the API reference is generated from the numpydoc docstrings by autosummary.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import version as _version

project = "windforce"
author = "windforce developers"
copyright = "windforce developers"  # noqa: A001
release = _version("windforce")
version = release

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "scripts", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"

# --- API reference: autosummary pages from the docstrings (numpydoc format)
autosummary_generate = True
autosummary_imported_members = False
templates_path = ["_templates"]
autodoc_typehints = "none"  # numpydoc lists the parameters; signatures keep the hints
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- MyST and the executed tutorials
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("WINDFORCE_DOCS_EXECUTE", "cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# --- HTML: the pydata theme, no network at build or view time
html_theme = "pydata_sphinx_theme"
html_title = "windforce"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_show_sourcelink = False


# --- Docstrings are plain text first: |x| means an absolute value, not a substitution.
_INLINE_CODE = re.compile(r"(``.*?``|`[^`]*`)")


def _escape_bars(app, what, name, obj, options, lines: list[str]) -> None:
    """Escape the bars of |x| outside literals, literal blocks, tables and math."""
    block_indent = None  # indentation of the line that opened a literal block ("::")
    for k, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if stripped.endswith("::"):
            block_indent = indent
        if (stripped.startswith("|") and stripped.endswith("|")) or stripped.startswith("+-"):
            continue  # a table row or border
        parts = _INLINE_CODE.split(line)
        lines[k] = "".join(
            p if p.startswith("`") else re.sub(r"(?<!\\)\|", r"\\|", p) for p in parts
        )


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
