"""Device files with qubits and couplers out of service, made from a shipped device.

The shipped devices stay as they are; a test writes a variant of one into its own
directory and starts an emulator on it beside the shipped ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qiskit_vendor_provider.emulator.catalog import builtin_device_dir

FAULTY = "superconducting_27q_faulty"
FAULTY_QUBIT = 7
"""Out of service in the variant; a GHZ-5 on the shipped device is laid out through it."""
FAULTY_COUPLERS = ((0, 1), (1, 4))
"""ECR couplers out of service in the variant; the same GHZ-5 uses both."""


def faulty_spec(
    *,
    name: str = FAULTY,
    base: str = "superconducting_27q",
    qubits: Iterable[int] = (FAULTY_QUBIT,),
    couplers: Iterable[tuple[int, int]] = FAULTY_COUPLERS,
) -> dict[str, Any]:
    """The JSON of ``base`` renamed, with ``qubits`` and the ECR gates on ``couplers``
    marked ``operational: false``."""
    spec: dict[str, Any] = json.loads((builtin_device_dir() / f"{base}.json").read_text())
    spec["name"] = name
    for qubit in qubits:
        spec["calibration"]["qubits"][qubit]["operational"] = False
    pairs = {tuple(pair) for pair in couplers}
    for gate in spec["calibration"]["gates"]:
        if len(gate["qubits"]) == 2 and tuple(gate["qubits"]) in pairs:
            gate["operational"] = False
    return spec


def write_faulty_device(directory: Path, **changes: Any) -> Path:
    """Write :func:`faulty_spec` (with ``changes``) to ``directory``; returns the file."""
    spec = faulty_spec(**changes)
    path = directory / f"{spec['name']}.json"
    path.write_text(json.dumps(spec))
    return path
