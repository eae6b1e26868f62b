"""The import contracts CI enforces are the ones docs/design.md describes.

``make lint`` runs ``lint-imports`` on ``[tool.importlinter]`` in pyproject.toml; this
test keeps the design page honest about them: every contract is quoted there by name,
and the page quotes no contract that is not enforced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def _contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def _checked_section() -> str:
    page = (ROOT / "docs" / "design.md").read_text()
    start = page.index("**Checked in CI.**")
    return page[start : page.index("\n\n", page.index("\n- ", start) + 1)]


def test_every_enforced_contract_is_quoted_in_the_design_page() -> None:
    names = _contract_names()
    assert len(names) >= 4
    section = " ".join(_checked_section().split())
    missing = [name for name in names if f'"{name}"' not in section]
    assert not missing, f"docs/design.md does not quote these contracts: {missing}"


def test_the_design_page_quotes_no_contract_that_is_not_enforced() -> None:
    quoted = re.findall(r'^- "([^"]+)"', _checked_section(), flags=re.MULTILINE)
    assert quoted and set(quoted) <= set(_contract_names()), quoted
