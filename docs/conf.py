"""Sphinx configuration: Markdown pages (MyST) plus an API reference from the docstrings.

Built with warnings as errors by `make docs` (part of `make test`).
"""

# Imported here, before autodoc: autodoc's own import of FastAPI's pydantic models fails
# in this Sphinx version, while a plain import works. (The app module itself: the
# emulator package imports its names only on first use.)
import qiskit_vendor_provider.emulator.app  # noqa: F401
from qiskit_vendor_provider import __version__

project = "qiskit-vendor-provider"
author = "Vendor Quantum SDK team"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_pydantic_model_show_json = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"qiskit-vendor-provider {version}"
