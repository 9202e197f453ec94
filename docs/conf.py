"""Sphinx configuration: MyST pages, the tutorial notebook executed by MyST-NB, the pydata theme,
and two local extensions (docs/_ext) that write the API reference from ``bptt.__all__`` and the
CLI reference from ``bptt.cli.build_parser()``.

Build: pip install -e ".[docs]" && python -m sphinx -n -W --keep-going -b html docs docs/_build/html
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import bptt  # noqa: E402  (installed with `pip install -e .`)

project = "bptt"
author = "the bptt authors"
copyright = "the bptt authors, MIT licence"
release = version = bptt.__version__

extensions = [
    "myst_nb",                 # Markdown pages (MyST) and docs/tutorial.ipynb
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",     # the docstrings' "Args:" sections
    "bptt_api",                # .. bptt-api:: the reference of every name in bptt.__all__
    "bptt_cli",                # .. bptt-cli:: every command and option of the bptt command
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
# tutorial.md is the notebook's Markdown export (tests/check/test_tutorial.py keeps it in sync): the
# site renders the notebook itself.
exclude_patterns = ["_build", "tutorial.md", "Thumbs.db", ".DS_Store"]
root_doc = "index"

nitpicky = True
# No network at build time, so no intersphinx: names outside bptt (numpy.ndarray, pathlib.Path)
# stay unlinked. Names inside bptt must resolve (bptt_api redirects internal paths to the public
# ones and leaves documented-on-purpose-private ones unlinked).
nitpick_ignore_regex = [(r"py:.*", r"(?!bptt\b)[\w.]*\.[\w.]+"), (r"py:.*", r"np|numpy|torch")]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
highlight_language = "none"      # a fence without a language is a shell command or output

# The notebook is stored with its outputs stripped; running it takes a few seconds.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_in_temp = True

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "pydata_sphinx_theme"
html_title = f"bptt {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path = []
