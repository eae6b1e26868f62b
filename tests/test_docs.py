"""Generated documentation stays in step with what it documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.device_table import device_table

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_device_table_is_generated_from_the_catalog() -> None:
    expected = device_table(DeviceCatalog.from_directories())
    assert (DOCS / "devices.md").read_text(encoding="utf-8") == expected, (
        "docs/devices.md is stale: run "
        "`python -m qiskit_vendor_provider.emulator.device_table > docs/devices.md`"
    )


def test_adding_a_device_example_is_a_valid_spec() -> None:
    page = (DOCS / "adding-a-device.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", page, re.DOTALL).group(1))  # type: ignore[union-attr]
    calibration = example["calibration"]
    # The page shortens the calibration to one qubit; complete it as the page says.
    calibration["qubits"] = calibration["qubits"] * example["num_qubits"]
    spec = DeviceSpec.model_validate(example)
    assert spec.name == "linear_5q"
    assert {op.name for op in spec.native_operations} >= {"cz", "measure"}


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


PAGES = sorted(DOCS.glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_python_in_the_docs_runs(page: Path) -> None:
    """Every Python block runs, in order, on the embedded emulator ("# not run" opts out)."""
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for block in python_blocks(page):
        if block.startswith("# not run"):
            continue
        exec(compile(block, str(page), "exec"), namespace)


def test_the_job_pages_have_snippets() -> None:
    assert len(python_blocks(DOCS / "managing-jobs.md")) >= 5


def test_openapi_document_is_generated_from_the_app() -> None:
    from qiskit_vendor_provider.emulator.openapi import openapi_document

    committed = json.loads((DOCS / "_static" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_document(), (
        "docs/_static/openapi.json is stale: run "
        "`python -m qiskit_vendor_provider.emulator.openapi > docs/_static/openapi.json`"
    )
    assert "/v1/jobs" in committed["paths"]
