"""Timing matters on the emulator as on hardware: waits relax, ALAP beats ASAP, DD helps.

The emulator's only idle noise is Markovian thermal relaxation (T1, T2). In that model
an X-X dynamical-decoupling sequence cannot refocus dephasing (there is no slow noise
to refocus), but it does keep an excited qubit in ``|0>`` half of the wait, which halves
its energy relaxation: that is what the DD test checks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Delay, Parameter
from qiskit.circuit.library import XGate
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import (
    ALAPScheduleAnalysis,
    ASAPScheduleAnalysis,
    PadDelay,
    PadDynamicalDecoupling,
)

from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.simulation import JobRunner
from qiskit_vendor_provider.serialization import circuit_to_wire
from qiskit_vendor_provider.target import build_target

SHOTS = 4000
SC = "superconducting_27q"
# Qubit A waits (excited) while qubits B and C, its neighbours, run a long ECR sequence.
A, B, C = 0, 1, 2
ECR_PAIRS = 25  # 50 ECRs of ~0.5 µs: A waits about 25 µs


@pytest.fixture(scope="module")
def spec() -> DeviceSpec:
    return DeviceCatalog.from_directories().spec(SC)


@pytest.fixture(scope="module")
def runner() -> JobRunner:
    return JobRunner()


def run(
    runner: JobRunner,
    spec: DeviceSpec,
    circuits: Sequence[QuantumCircuit],
    parameter_values: Sequence[Sequence[float]] | None = None,
    seed: int = 3,
) -> list[list[dict[int, int]]]:
    """Counts (keyed by clbit value) per program and parameter row."""
    programs = [
        circuit_to_wire(c, parameter_values=parameter_values if c.parameters else None)
        for c in circuits
    ]
    submission = JobSubmission(
        device=spec.name, programs=programs, shots=SHOTS, seed_simulator=seed
    )
    results, _ = runner.run(submission, spec)
    assert all(r.success for r in results), [r.status for r in results]
    return [[{int(k, 16): v for k, v in d.counts.items()} for d in r.data] for r in results]


def p_of(counts: dict[int, int], value: int) -> float:
    return counts.get(value, 0) / SHOTS


def sd(p: float, q: float) -> float:
    return math.sqrt((p * (1 - p) + q * (1 - q)) / SHOTS)


def busy_neighbours(num_qubits: int) -> QuantumCircuit:
    """A excited and later measured; B and C busy with an identity made of ECRs."""
    circuit = QuantumCircuit(num_qubits, 1)
    circuit.x(A)
    for _ in range(ECR_PAIRS):
        circuit.ecr(B, C)
        circuit.ecr(B, C)
    circuit.barrier(A, B, C)
    circuit.measure(A, 0)
    return circuit


def test_asap_and_alap_differ_as_energy_relaxation_says(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    target = build_target(spec)
    circuit = busy_neighbours(spec.num_qubits)
    asap = PassManager([ASAPScheduleAnalysis(target=target), PadDelay(target=target)]).run(circuit)
    alap = PassManager([ALAPScheduleAnalysis(target=target), PadDelay(target=target)]).run(circuit)
    (c_asap,), (c_alap,), (c_plain,) = run(runner, spec, [asap, alap, circuit])
    p_asap, p_alap, p_plain = p_of(c_asap, 1), p_of(c_alap, 1), p_of(c_plain, 1)
    # ASAP excites A at once, so it decays for the whole ECR sequence; ALAP excites it
    # just before the barrier. Expected gap: 1 - exp(-25 µs / 148 µs), about 0.15.
    assert p_alap - p_asap > 5 * sd(p_alap, p_asap)
    assert p_alap - p_asap > 0.08
    # An unscheduled program is run ALAP, as IBM devices do.
    assert abs(p_plain - p_alap) < 5 * sd(p_plain, p_alap)


def test_dynamical_decoupling_halves_the_decay_of_a_waiting_excited_qubit(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    target = build_target(spec)
    circuit = QuantumCircuit(spec.num_qubits, 1)
    circuit.x(A)
    circuit.barrier(A, B, C)
    for _ in range(ECR_PAIRS):
        circuit.ecr(B, C)
        circuit.ecr(B, C)
    circuit.barrier(A, B, C)
    circuit.x(A)
    circuit.measure(A, 0)
    plain = PassManager([ALAPScheduleAnalysis(target=target), PadDelay(target=target)]).run(circuit)
    dd = PassManager(
        [
            ALAPScheduleAnalysis(target=target),
            PadDynamicalDecoupling(target=target, dd_sequence=[XGate(), XGate()], qubits=[A]),
        ]
    ).run(circuit)
    assert dd.count_ops().get("x", 0) > circuit.count_ops()["x"]
    (c_plain,), (c_dd,) = run(runner, spec, [plain, dd])
    f_plain, f_dd = p_of(c_plain, 0), p_of(c_dd, 0)
    assert f_dd - f_plain > 5 * sd(f_dd, f_plain)


def test_delay_units_and_zero_delays(spec: DeviceSpec, runner: JobRunner) -> None:
    dt = spec.dt or 0.0
    circuits = []
    for duration, unit in [(150, "us"), (0.15, "ms"), (150_000, "ns"), (150e-6, "s")]:
        circuit = QuantumCircuit(1, 1)
        circuit.x(0)
        circuit.delay(duration, 0, unit=unit)
        circuit.measure(0, 0)
        circuits.append(circuit)
    in_dt = QuantumCircuit(1, 1)
    in_dt.x(0)
    in_dt.delay(round(150e-6 / dt), 0)  # unit dt
    in_dt.measure(0, 0)
    zero = QuantumCircuit(1, 1)
    zero.x(0)
    zero.delay(0, 0)
    zero.delay(0, 0, unit="us")
    zero.measure(0, 0)
    counts = [c for (c,) in run(runner, spec, [*circuits, in_dt, zero])]
    ps = [p_of(c, 1) for c in counts]
    for p in ps[1:5]:
        assert abs(p - ps[0]) < 5 * sd(p, ps[0])
    assert 0.25 < ps[0] < 0.5  # about e^-1 of T1 = 148 µs
    assert ps[5] > 0.95  # a zero delay is no wait


def test_an_angle_sweep_beside_delays_of_several_lengths(
    spec: DeviceSpec, runner: JobRunner
) -> None:
    theta = Parameter("theta")
    programs = []
    for microseconds in (0.0, 100.0, 300.0):
        circuit = QuantumCircuit(2, 2)
        circuit.x(0)
        circuit.append(Delay(microseconds, unit="us"), [0])
        circuit.sx(1)
        circuit.rz(theta, 1)
        circuit.sx(1)
        circuit.measure([0, 1], [0, 1])
        programs.append(circuit)
    rows = [[0.0], [math.pi], [math.pi / 2]]
    results = run(runner, spec, programs, parameter_values=rows)
    # Qubit 0 decays more with each longer delay (whatever the angle row).
    p_decayed = [sum(v for k, v in r[0].items() if k & 1) / SHOTS for r in results]
    assert p_decayed[0] > p_decayed[1] > p_decayed[2]
    # sx rz(θ) sx on qubit 1: P(1) = cos²(θ/2), row by row.
    p_second = [sum(v for k, v in c.items() if k & 2) / SHOTS for c in results[0]]
    assert p_second[0] > 0.9 and p_second[1] < 0.1 and 0.4 < p_second[2] < 0.6


def test_reset_mid_circuit_measure_and_barriers(spec: DeviceSpec, runner: JobRunner) -> None:
    circuit = QuantumCircuit(3, 3)
    circuit.x(0)
    circuit.barrier()
    circuit.measure(0, 0)
    circuit.reset(0)
    circuit.x(2)
    circuit.barrier(0, 2)
    circuit.measure(0, 1)
    circuit.measure(2, 2)
    ((counts,),) = run(runner, spec, [circuit])
    assert p_of(counts, 0b101) > 0.9  # 1 then 0 after the reset, and qubit 2 excited
