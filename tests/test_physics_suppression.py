"""Error suppression helps on ``superconducting_27q`` where physics says it should.

With slow dephasing, always-on ZZ and coherent over-rotations, Qiskit's own passes
(ALAP scheduling, ``PadDynamicalDecoupling``, ``pauli_twirl_2q_gates``) make measurable
differences, as on hardware. On the old, purely Markovian model (``markovian(spec)``)
they could not: X-X DD gained 0.105 in P(0) for one excited qubit waiting 31 µs (the
figure of issue 20), and nothing on a GHZ.
"""

from __future__ import annotations

import math

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import pauli_twirl_2q_gates
from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
from qiskit.circuit.library import XGate, YGate
from qiskit.transpiler import PassManager, Target
from qiskit.transpiler.passes import (
    ALAPScheduleAnalysis,
    BasisTranslator,
    PadDelay,
    PadDynamicalDecoupling,
)

from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.noise import markovian
from qiskit_vendor_provider.emulator.scheduling import instruction_durations
from qiskit_vendor_provider.emulator.simulation import JobRunner
from qiskit_vendor_provider.target import build_target
from tests.test_physics_slow_noise import run

SHOTS = 4000
OLD_XX_GAIN = 0.105  # X-X DD on the old model, one excited qubit waiting 31 µs
XX = [XGate(), XGate()]
XY4 = [XGate(), YGate(), XGate(), YGate()]
CHAIN = [0, 1, 4, 7, 10]  # five qubits in a row on the heavy-hex lattice


@pytest.fixture(scope="module")
def spec() -> DeviceSpec:
    return DeviceCatalog.from_directories().spec("superconducting_27q")


@pytest.fixture(scope="module")
def target(spec: DeviceSpec) -> Target:
    return build_target(spec)


@pytest.fixture(scope="module")
def runner() -> JobRunner:
    return JobRunner()


def schedule(
    circuit: QuantumCircuit,
    target: Target,
    sequence: list[XGate | YGate] | None,
    qubits: list[int] | None = None,
    *,
    then: tuple[list[XGate | YGate], list[int]] | None = None,
) -> QuantumCircuit:
    """ALAP, each gap padded with a delay or with ``sequence`` (then Y made native).

    ``then`` pads a second set of qubits with its own sequence (the first pass's delays
    on them are idle time to Qiskit's padding passes): staggered DD. The device has no
    ``y``: the pass is given its duration (an ``x``'s), and ``BasisTranslator`` writes
    it as ``rz`` and ``x`` afterwards, which keeps the timing (``rz`` is virtual).
    """
    durations = instruction_durations(target)
    assert durations is not None
    durations.update([("y", None, 160, "dt")])  # a fresh table: changed here only
    padding = (
        PadDelay(durations=durations)
        if sequence is None
        else PadDynamicalDecoupling(durations=durations, dd_sequence=sequence, qubits=qubits)
    )
    passes = [ALAPScheduleAnalysis(durations=durations), padding]
    if then is not None:
        passes += [
            ALAPScheduleAnalysis(durations=durations),
            PadDynamicalDecoupling(durations=durations, dd_sequence=then[0], qubits=then[1]),
        ]
    timed = PassManager(passes).run(circuit)
    basis = list(target.operation_names)
    return PassManager([BasisTranslator(SessionEquivalenceLibrary, basis)]).run(timed)


def p_zero(counts: dict[int, int]) -> float:
    return counts.get(0, 0) / SHOTS


def sd(p: float, q: float) -> float:
    return math.sqrt((p * (1 - p) + q * (1 - q)) / SHOTS)


def test_xy4_gains_on_a_waiting_ghz_at_least_twice_what_xx_gave_on_the_old_model(
    spec: DeviceSpec, target: Target, runner: JobRunner
) -> None:
    # GHZ-5, 15 µs wait, the GHZ undone: P(00000) is the GHZ's surviving coherence.
    logical = QuantumCircuit(5, 5)
    logical.h(0)
    for i in range(4):
        logical.cx(i, i + 1)
    logical.barrier()
    logical.delay(round(15e-6 / (spec.dt or 1.0)), range(5))
    logical.barrier()
    for i in reversed(range(4)):
        logical.cx(i, i + 1)
    logical.h(0)
    logical.measure(range(5), range(5))
    isa = transpile(logical, target=target, initial_layout=CHAIN, seed_transpiler=1)
    plain, xy4 = schedule(isa, target, None), schedule(isa, target, XY4, CHAIN)
    assert xy4.count_ops().get("x", 0) > plain.count_ops().get("x", 0)
    p_plain, p_xy4 = (p_zero(c) for c in run(runner, spec, [plain, xy4]))
    gain = p_xy4 - p_plain
    assert gain > 2 * OLD_XX_GAIN and gain > 5 * sd(p_plain, p_xy4), (p_plain, p_xy4)
    # The old model: DD cannot refocus what it does not have, X-X gains nothing here.
    old = markovian(spec)
    p_old, p_old_xx = (
        p_zero(c) for c in run(runner, old, [plain, schedule(isa, target, XX, CHAIN)])
    )
    assert gain > 2 * max(p_old_xx - p_old, 0.0)
    # With DD the rich device comes back to about what the Markovian one does.
    assert abs(p_xy4 - p_old) < 0.05


def test_xy4_beats_no_dd_on_a_pair_with_zz(
    spec: DeviceSpec, target: Target, runner: JobRunner
) -> None:
    # A Ramsey on both qubits of a coupled pair: each qubit's phase depends on the
    # other's state (ZZ) and drifts with its own slow detuning. Staggered XY4 (qubit 0
    # XY4, qubit 1 XY4 twice as fast) refocuses both; XY4 on both at once would not
    # (X on both leaves ZZ as it is), and XY4 on qubit 0 alone leaves qubit 1 half the
    # ZZ shift (ZZ is the energy of |11>: qubit 1's frequency moves while qubit 0 is
    # flipped).
    circuit = QuantumCircuit(27, 2)
    circuit.sx([0, 1])
    circuit.delay(round(20e-6 / (spec.dt or 1.0)), [0, 1])
    circuit.sx([0, 1])
    circuit.sx([0, 1])
    circuit.sx([0, 1])  # ideally back to |00>
    circuit.measure([0, 1], [0, 1])
    plain = schedule(circuit, target, None)
    xy4 = schedule(circuit, target, XY4, [0], then=(XY4 + XY4, [1]))
    assert xy4.count_ops()["x"] == 12  # 4 + 8 pulses, each y written as rz and x
    p_plain, p_xy4 = (p_zero(c) for c in run(runner, spec, [plain, xy4]))
    assert p_xy4 - p_plain > 5 * sd(p_plain, p_xy4) and p_xy4 - p_plain > 0.2, (p_plain, p_xy4)
    # Back to what the Markovian device (no ZZ, no slow noise) gives without DD.
    (p_markov,) = (p_zero(c) for c in run(runner, markovian(spec), [plain]))
    assert abs(p_xy4 - p_markov) < 5 * sd(p_xy4, p_markov)


def test_twirling_shrinks_the_error_of_a_repeated_gate_expectation_value(
    spec: DeviceSpec, target: Target, runner: JobRunner
) -> None:
    # <Z> of the target after 16 CX (ideally +1): the coherent ZX over-rotation adds
    # up as (N theta)^2 untwirled and as N theta^2 twirled.
    logical = QuantumCircuit(2, 1)
    for _ in range(16):
        logical.cx(0, 1)
    logical.measure(1, 0)
    isa = transpile(logical, target=target, initial_layout=[0, 1], optimization_level=0)
    twirls = pauli_twirl_2q_gates(isa, seed=7, num_twirls=16, target=target)
    assert isinstance(twirls, list)
    twirled = transpile(twirls, target=target, optimization_level=1, seed_transpiler=1)
    (plain,) = run(runner, spec, [isa])
    shots = SHOTS // len(twirled)
    counts = run(runner, spec, twirled, shots=shots)
    error_plain = 1 - (2 * p_zero(plain) - 1)
    p_twirled = sum(c.get(0, 0) for c in counts) / (shots * len(counts))
    error_twirled = 1 - (2 * p_twirled - 1)
    bound = 2 * 5 * sd(p_zero(plain), p_twirled)
    assert error_plain - error_twirled > bound and error_twirled < 0.7 * error_plain, (
        error_plain,
        error_twirled,
    )
