"""Idle noise around and inside the blocks of dynamic circuits (issue 20, item 7).

A control-flow operation takes as long as its longest block; qubits outside it, and
qubits of a shorter branch, wait meanwhile and relax. Each check compares a dynamic
circuit with a static one whose waits are the same (or with ``exp(-t/T1)``), within
five standard deviations of the shots.
"""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.simulation import JobRunner, PreparedDevice
from qiskit_vendor_provider.serialization import circuit_to_wire

SHOTS = 4000
WAIT_US = 100


@pytest.fixture(scope="module")
def spec() -> DeviceSpec:
    return DeviceCatalog.from_directories().spec("superconducting_27q")


@pytest.fixture(scope="module")
def runner() -> JobRunner:
    return JobRunner()


def p_ones(
    runner: JobRunner, spec: DeviceSpec, circuits: list[QuantumCircuit], clbit: int
) -> list[float]:
    """P(clbit reads 1) of each circuit."""
    submission = JobSubmission(
        device=spec.name,
        programs=[circuit_to_wire(c) for c in circuits],
        shots=SHOTS,
        seed_simulator=17,
    )
    results, _ = runner.run(submission, spec)
    assert all(r.success for r in results), [r.status for r in results]
    return [
        sum(v for k, v in r.data[0].counts.items() if int(k, 16) >> clbit & 1) / SHOTS
        for r in results
    ]


def bound(p: float) -> float:
    """Five standard deviations of the difference of two frequencies near ``p``."""
    return 5 * math.sqrt(max(2 * p * (1 - p), 1e-4) / SHOTS)


def decayed(spec: DeviceSpec, qubit: int, wait_us: float) -> float:
    """P(1) of an excited qubit read after ``wait_us`` (relaxation and readout error)."""
    assert spec.calibration is not None
    q = spec.calibration.qubits[qubit]
    assert q.t1 is not None
    stay = math.exp(-wait_us * 1e-6 / q.t1)
    return stay * (1 - q.readout_error) + (1 - stay) * q.readout_error


def test_an_if_test_elsewhere_keeps_the_idle_noise_of_a_delay(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    """The reported case: one if_test used to give P(1) 0.991 instead of 0.511."""
    static = QuantumCircuit(27, 2)
    static.x(0)
    static.delay(WAIT_US, 0, unit="us")
    static.measure(0, 0)
    dynamic = static.copy()
    dynamic.measure(1, 1)
    with dynamic.if_test((dynamic.clbits[1], 1)):
        dynamic.x(1)
    p_static, p_dynamic = p_ones(runner, spec, [static, dynamic], 0)
    assert abs(p_static - decayed(spec, 0, WAIT_US)) < bound(p_static)
    assert abs(p_dynamic - p_static) < bound(p_static), (p_dynamic, p_static)


def test_a_qubit_waits_inside_a_block_and_in_the_shorter_branch(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    """Qubit 1 is excited, then an if/else on qubit 0's reading: the taken branch waits
    100 us explicitly (true) or is padded to the other's length (false). Both decay."""
    circuits = []
    for condition_qubit_excited in (True, False):
        circuit = QuantumCircuit(27, 2)
        if condition_qubit_excited:
            circuit.x(0)
        circuit.x(1)
        circuit.measure(0, 0)
        with circuit.if_test((circuit.clbits[0], 1)) as otherwise:
            circuit.delay(WAIT_US, 1, unit="us")
        with otherwise:
            circuit.rz(0.0, 1)
        circuit.measure(1, 1)
        circuits.append(circuit)
    static = QuantumCircuit(27, 2)
    static.x(1)
    static.delay(WAIT_US, 1, unit="us")
    static.measure(1, 1)
    taken, padded, reference = p_ones(runner, spec, [*circuits, static], 1)
    # The static one also waits for qubit 0's readout in the dynamic ones: bound it.
    assert spec.calibration is not None
    readout_us = (spec.calibration.qubits[0].readout_duration or 0.0) * 1e6
    low, high = decayed(spec, 1, WAIT_US + readout_us), decayed(spec, 1, WAIT_US)
    for p in (taken, padded):
        assert low - bound(p) < p < high + bound(p), (p, low, high)
    assert reference < 0.8  # and the wait matters: far from no decay (~0.98)


def test_a_for_loop_waits_its_body_times_its_iterations(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    loop = QuantumCircuit(27, 1)
    loop.x(2)
    with loop.for_loop(range(5)):
        loop.delay(WAIT_US // 5, 2, unit="us")
    loop.measure(2, 0)
    (p,) = p_ones(runner, spec, [loop], 0)
    assert abs(p - decayed(spec, 2, WAIT_US)) < bound(p), (p, decayed(spec, 2, WAIT_US))


def test_qubits_outside_a_block_wait_as_long_as_its_longest_branch(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    """Qubit 2, excited, waits while qubit 1 is read and its block (100 us) runs."""
    circuit = QuantumCircuit(27, 2)
    circuit.x(1)
    circuit.x(2)
    circuit.barrier(1, 2)  # qubit 2 is excited before the block, not just before its read
    circuit.measure(1, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.delay(WAIT_US, 1, unit="us")
    circuit.barrier(1, 2)
    circuit.measure(2, 1)
    (p,) = p_ones(runner, spec, [circuit], 1)
    assert spec.calibration is not None
    readout_us = (spec.calibration.qubits[1].readout_duration or 0.0) * 1e6
    expected = decayed(spec, 2, WAIT_US + readout_us)
    assert abs(p - expected) < bound(p), (p, expected)


def test_a_while_loop_still_runs_without_idle_noise(spec: DeviceSpec) -> None:
    """Its length is the shot's: it gets gate and readout noise only (documented)."""
    device = PreparedDevice.from_spec(spec)
    circuit = QuantumCircuit(27, 1)
    circuit.x(0)
    circuit.delay(WAIT_US, 0, unit="us")
    circuit.measure(0, 0)
    with circuit.while_loop((circuit.clbits[0], 0)):
        circuit.x(0)
        circuit.measure(0, 0)
    prepared = device.prepare(circuit)
    assert "qerror_loc" not in {item.name for item in prepared.data}
