"""Circuits and process helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit

ROOT = Path(__file__).resolve().parent.parent


def queued_job(
    job_id: str, *, account: str = "a", device: str = "dev", session_id: str | None = None
) -> Any:
    """A one-shot QUEUED ``JobRecord`` of the emulator's store, as submitted now."""
    from qiskit_vendor_provider.emulator.store import JobRecord

    return JobRecord(
        job_id=job_id,
        account=account,
        device=device,
        status="QUEUED",
        shots=1,
        num_programs=1,
        submission="{}",
        created_at=time.time(),
        session_id=session_id,
    )


def bell(name: str = "bell") -> QuantumCircuit:
    """H on qubit 0, CX onto qubit 1, both measured into clbits 0 and 1."""
    circuit = QuantumCircuit(2, 2, name=name)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


def ghz(num_qubits: int, *, measured: bool = True) -> QuantumCircuit:
    """H then a CX chain; every qubit measured (``measure_all``) unless ``measured=False``."""
    circuit = QuantumCircuit(num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    if measured:
        circuit.measure_all()
    return circuit


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment without its vendor settings, with its own files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QISKIT_VENDOR_")}
    env["QISKIT_VENDOR_EMULATOR_DB"] = str(tmp_path / "emulator.sqlite3")
    env["QISKIT_VENDOR_JOURNAL"] = str(tmp_path / "journal.sqlite3")
    env["QISKIT_VENDOR_CONFIG"] = str(tmp_path / "config" / "accounts.json")
    env.update(extra)
    return env


def run_python(
    args: list[str], env: dict[str, str], cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with ``args``, capturing text output; never raises on failure."""
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def sent_operation_names(program: dict[str, object]) -> list[str]:
    """The operation names of a program as a request carried it, in either form."""
    from qiskit_vendor_provider.api.models import WireProgram

    parsed = WireProgram.model_validate(program)
    if parsed.ops is not None:
        return [name for name, *_ in parsed.ops.operations()]
    return [inst.name for inst in parsed.instructions]


VENDOR_METADATA = frozenset(
    {
        "job_ids",
        "quasi_dists",
        "measure_mitigation",
        "num_randomizations",
        "resilience",
        "twirling",
        "dynamical_decoupling",
    }
)
"""Keys the vendor primitives add to Qiskit's result metadata."""


def assert_metadata_extends(mine: Mapping[str, Any], reference: Mapping[str, Any]) -> None:
    """``mine`` holds every key of ``reference`` with its value, and only vendor keys besides."""
    assert {key: mine.get(key) for key in reference} == dict(reference)
    assert set(mine) - set(reference) <= VENDOR_METADATA, set(mine) - set(reference)
