"""Every operation a device lists runs on the emulator, noisy, under every Aer method.

A noise channel that checks out as CPTP in Python once made Aer's statevector method
fail ("heevx call within eigensystem_hermitian") or crash; and a device once listed
operations (``ch``, ``iswap``) that Aer does not know. Each device's operations are run
in one batch per simulation method, through the emulator's own preparation (lowering,
scheduling, idle noise) and noise model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Delay

import qiskit_vendor_provider
from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission
from qiskit_vendor_provider.emulator.catalog import CatalogError, DeviceCatalog, builtin_device_dir
from qiskit_vendor_provider.emulator.lowering import aer_operations, lower_circuit
from qiskit_vendor_provider.emulator.simulation import PreparedDevice, simulate
from qiskit_vendor_provider.serialization import circuit_to_wire
from qiskit_vendor_provider.target import operation_qargs, qiskit_operation

DEVICES = ["ideal_simulator", "superconducting_27q", "trapped_ion_11q"]
METHODS = ["statevector", "density_matrix", "automatic"]
SHOTS = 64
# Qubits per packed circuit: a density matrix of this many qubits is still small.
MAX_WIDTH = 6


def _excite(circuit: QuantumCircuit, natives: set[str], qubit: int) -> None:
    """A native operation that leaves ``|0>``, so that errors of what follows show."""
    if "sx" in natives:
        circuit.sx(qubit)
    elif "r" in natives:
        circuit.r(1.1, 0.4, qubit)
    else:
        circuit.h(qubit)


def _cases(spec: DeviceSpec) -> list[tuple[str, tuple[int, ...]]]:
    """Every operation on every qubit tuple (a few tuples on uncalibrated devices)."""
    cases = []
    for native in spec.native_operations:
        qargs_list = operation_qargs(native, spec.num_qubits)
        if spec.calibration is None:
            qargs_list = qargs_list[:3]
        cases.extend((native.name, qargs) for qargs in qargs_list)
    return cases


def _circuits(spec: DeviceSpec) -> list[QuantumCircuit]:
    """The cases packed into few narrow circuits, each holding cases on disjoint qubits.

    Fewer, wider circuits keep the batch fast: Aer's cost is mostly per circuit.
    """
    natives = {op.name for op in spec.native_operations}
    circuits: list[QuantumCircuit] = []
    used: list[set[int]] = []
    for name, qargs in _cases(spec):
        slot = next(
            (
                i
                for i, qubits in enumerate(used)
                if not qubits & set(qargs) and len(qubits) + len(qargs) <= MAX_WIDTH
            ),
            None,
        )
        if slot is None:
            circuits.append(QuantumCircuit(spec.num_qubits, spec.num_qubits, name="ops"))
            used.append(set())
            slot = len(circuits) - 1
        circuit = circuits[slot]
        used[slot].update(qargs)
        circuit.metadata.setdefault("cases", []).append(f"{name}{qargs}")
        for qubit in qargs:
            _excite(circuit, natives, qubit)
        if name == "delay":
            circuit.append(Delay(2, unit="us"), qargs)
        elif name != "measure":
            operation = qiskit_operation(name)
            if operation.params:
                operation = operation.to_mutable()
                operation.params = [0.3 + 0.2 * i for i in range(len(operation.params))]
            circuit.append(operation, qargs)
    for circuit, qubits in zip(circuits, used, strict=True):
        circuit.measure(sorted(qubits), sorted(qubits))
    return circuits


@pytest.fixture(scope="module")
def catalog() -> DeviceCatalog:
    return DeviceCatalog.from_directories()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("device", DEVICES)
def test_every_operation_runs_noisy_under_every_method(
    catalog: DeviceCatalog, device: str, method: str
) -> None:
    from qiskit_aer import AerSimulator

    spec = catalog.spec(device)
    prepared = PreparedDevice.from_spec(spec)
    circuits = _circuits(spec)
    covered = {case for circuit in circuits for case in circuit.metadata["cases"]}
    assert len(covered) == len(_cases(spec))
    if spec.calibration is not None:  # every calibrated gate is among them
        assert all(f"{g.name}{tuple(g.qubits)}" in covered for g in spec.calibration.gates)
    submission = JobSubmission(
        device=device,
        programs=[circuit_to_wire(c) for c in circuits],
        shots=SHOTS,
        seed_simulator=11,
    )
    results, _ = simulate(
        AerSimulator(method=method), submission, circuits, prepared.noise, prepared.prepare
    )
    failed = [(r.header.name, r.status) for r in results if not r.success]
    assert not failed
    for circuit, result in zip(circuits, results, strict=True):
        (data,) = result.data
        assert sum(data.counts.values()) == SHOTS
        assert all(int(key, 16) < 2**circuit.num_clbits for key in data.counts)


def test_lowering_leaves_only_what_aer_runs_and_keeps_the_operator() -> None:
    from qiskit.quantum_info import Operator

    circuit = QuantumCircuit(3)
    circuit.ch(0, 1)
    circuit.iswap(1, 2)
    circuit.cswap(2, 0, 1)
    circuit.crx(0.3, 1, 0)
    lowered = lower_circuit(circuit)
    assert {item.operation.name for item in lowered.data} <= aer_operations()
    assert Operator(lowered).equiv(Operator(circuit))
    plain = QuantumCircuit(1)
    plain.x(0)
    assert lower_circuit(plain) is plain


def test_a_device_calibrating_an_operation_aer_cannot_run_is_refused(tmp_path: Path) -> None:
    spec = json.loads((builtin_device_dir() / "superconducting_27q.json").read_text())
    spec["native_operations"].append({"name": "iswap", "num_qubits": 2, "qubits": [[0, 1]]})
    spec["calibration"]["gates"].append(
        {"name": "iswap", "qubits": [0, 1], "error": 0.01, "duration": 4e-7}
    )
    (tmp_path / "superconducting_27q.json").write_text(json.dumps(spec))
    with pytest.raises(CatalogError, match=r"superconducting_27q\.json.*'iswap'"):
        DeviceCatalog.from_directories(tmp_path)


def test_an_uncalibrated_operation_aer_lacks_is_run_by_decomposition(
    catalog: DeviceCatalog,
) -> None:
    ideal = catalog.spec("ideal_simulator")
    lacking = {op.name for op in ideal.native_operations} - aer_operations()
    assert {"ch", "iswap"} <= lacking  # still advertised: the emulator decomposes them


REPRODUCTION = """
from qiskit import QuantumCircuit, transpile
from qiskit_vendor_provider import VendorProvider
b = VendorProvider().get_backend("superconducting_27q")
qc = QuantumCircuit(7); qc.h(0)
for i in range(6): qc.cx(i, i + 1)
qc.measure_all()
isa = transpile(qc, b, initial_layout=[0, 1, 2, 3, 5, 8, 9], seed_transpiler=1)
counts = b.run(isa, shots=100, seed_simulator=3).result().get_counts()
print(sum(counts.values()))
"""


def test_the_reported_reproduction_runs_in_a_fresh_process(tmp_path: Path) -> None:
    # In a subprocess: what it guards against was a segfault.
    root = Path(qiskit_vendor_provider.__file__).parents[1]
    env = {
        **os.environ,
        "QISKIT_VENDOR_EMULATOR_DB": str(tmp_path / "jobs.sqlite3"),
        "PYTHONPATH": str(root),
    }
    done = subprocess.run(
        [sys.executable, "-c", REPRODUCTION],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "100"
