"""The import contracts CI enforces are the ones docs/design.md describes.

``make lint`` runs ``lint-imports`` on ``[tool.importlinter]`` in pyproject.toml; this
test keeps the design page honest about them: every contract is quoted there by name,
and the page quotes no contract that is not enforced.
"""

from __future__ import annotations

import ast
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


PRIMITIVES = ROOT / "qiskit_vendor_provider" / "primitives"


def _own_private_names(tree: ast.AST) -> set[str]:
    """Private names a module defines: functions, classes, class fields, ``self._x``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.add(target.id)
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in ("self", "cls")
            ):
                names.add(target.attr)
    return {name for name in names if name.startswith("_")}


def _private_reaches(source: str, own: set[str] | None = None) -> list[str]:
    """Private names a module reads off objects of the rest of the package.

    An attribute counts when its name starts with one underscore and is not one the
    primitives define themselves (``own``); so do private names imported from modules
    outside the primitives.
    """
    tree = ast.parse(source)
    own = _own_private_names(tree) if own is None else own
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and node.attr not in own
        ):
            found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and not (node.module or "").startswith(
            "qiskit_vendor_provider.primitives"
        ):
            found += [
                f"line {node.lineno}: import {alias.name} from {node.module}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    return found


def test_the_primitives_use_only_public_names_of_the_rest_of_the_package() -> None:
    """import-linter sees imports, not attribute access: this reads the sources.

    Private Qiskit names are the business of qiskit_internals (tests/test_qiskit_internals.py).
    """
    sources = {path.name: path.read_text() for path in sorted(PRIMITIVES.glob("*.py"))}
    own = set().union(*(_own_private_names(ast.parse(text)) for text in sources.values()))
    reaches = {
        name: found for name, text in sources.items() if (found := _private_reaches(text, own))
    }
    assert not reaches, reaches


def test_the_private_reach_check_can_fail() -> None:
    assert _private_reaches("backend._run_programs(x)") == ["line 1: ._run_programs"]
    assert _private_reaches("from qiskit_vendor_provider.job import _restore_job") == [
        "line 1: import _restore_job from qiskit_vendor_provider.job"
    ]
    assert _private_reaches("self._cache = 1\nother._cache\nx.__class__") == []
