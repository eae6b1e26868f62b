"""VendorSampler twirling (issue 21): variants as rows, flips undone per row, IBM's shots.

The user's samples must be those of the untwirled circuit: exactly the same distribution
on a noiseless device (checked row by row with statevectors, and shot by shot on
``ideal_simulator``), the symmetric-readout distribution on the noisy devices, and less
coherent-error bias where gate twirling should give it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.circuit.library import ECRGate, RGate, RXXGate, RZGate, SXGate, UGate, XGate
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.quantum_info import Statevector

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.primitives.sampler_twirling import (
    SamplerTwirl,
    twirl_rows,
    twirlable_measurements,
    untwirl,
    variant_shots,
)
from qiskit_vendor_provider.primitives.suppression import Suppression
from qiskit_vendor_provider.primitives.twirling import Frame
from tests.conftest import MockedApi

DEVICES = ["ideal_simulator", "superconducting_27q", "trapped_ion_11q"]


@pytest.fixture(scope="module")
def local() -> VendorProvider:
    return VendorProvider()


def _plan(count: int, per: int, *, gates: bool = True, measure: bool = True) -> Suppression:
    return Suppression(gates, measure, False, (1.0,), count, per, "active-accum")


def _native_circuit(kind: str) -> QuantumCircuit:
    """Three qubits, non-Clifford angles and twirlable 2-qubit gates in one device's natives."""
    circuit = QuantumCircuit(3, 3)
    if kind == "sx":
        for qubit, angle in enumerate((0.3, 1.1, 2.0)):
            circuit.append(RZGate(angle), [qubit])
            circuit.append(SXGate(), [qubit])
        circuit.append(ECRGate(), [0, 1])
        circuit.append(XGate(), [2])
        circuit.append(ECRGate(), [1, 2])
        circuit.append(RZGate(0.7), [1])
        circuit.append(SXGate(), [1])
        circuit.append(ECRGate(), [0, 1])
    elif kind == "r":
        for qubit, angle in enumerate((0.3, 1.1, 2.0)):
            circuit.append(RGate(angle, 0.4), [qubit])
        circuit.append(RXXGate(math.pi / 2), [0, 1])
        circuit.append(RXXGate(0.3), [1, 2])  # not Clifford: twirled by commuting Paulis
        circuit.append(RZGate(0.9), [2])
        circuit.append(RXXGate(math.pi / 2), [0, 2])
    else:
        for qubit, angle in enumerate((0.3, 1.1, 2.0)):
            circuit.append(UGate(angle, 0.2, 0.5), [qubit])
        circuit.cx(0, 1)
        circuit.cz(1, 2)
        circuit.rzz(0.4, 0, 2)
        circuit.cx(2, 0)
    circuit.measure(range(3), range(3))
    return circuit


def _clbit_probabilities(circuit: QuantumCircuit) -> np.ndarray:
    """Outcome probabilities of a circuit whose qubit ``i`` is measured into clbit ``i``.

    Single-qubit gates on a qubit after its measurement (idle frames of a later layer)
    cannot change the recorded bit, so they are left out with the measurements.
    """
    bare = circuit.copy_empty_like()
    measured: set[object] = set()
    for instruction in circuit.data:
        if instruction.operation.name == "barrier":
            continue  # the anchors of idle frames: no operation
        if instruction.operation.name == "measure":
            measured.update(instruction.qubits)
        elif measured.intersection(instruction.qubits):
            assert len(instruction.qubits) == 1, instruction  # nothing entangles afterwards
        else:
            bare.append(instruction)
    return np.asarray(Statevector(bare.remove_final_measurements(inplace=False)).probabilities())


@pytest.mark.parametrize(
    ("kind", "operations"),
    [
        ("sx", {"sx", "rz", "x", "ecr"}),
        ("r", {"r", "rz", "rxx"}),
        ("u", {"u", "cx", "cz", "rzz"}),
    ],
)
def test_every_row_gives_exactly_the_untwirled_distribution_once_its_flips_are_undone(
    kind: str, operations: set[str]
) -> None:
    circuit = _native_circuit(kind)
    reference = _clbit_probabilities(circuit)
    bindings = np.zeros((1, 0))
    twirled, rows, book = twirl_rows(
        circuit,
        bindings,
        _plan(12, 10),
        100,
        frame=Frame.for_operations(operations),
        rng=np.random.default_rng(3),
    )
    assert rows.shape == (12, len(twirled.parameters)) and book.twirled_bits == 3
    assert len(set(book.flips)) > 1  # the measurements really are flipped, differently
    for row, flip in zip(rows, book.flips, strict=True):
        bound = twirled.assign_parameters(dict(zip(twirled.parameters, row, strict=True)))
        probabilities = _clbit_probabilities(bound)
        undone = np.empty_like(probabilities)
        undone[np.arange(8) ^ flip] = probabilities
        np.testing.assert_allclose(undone, reference, atol=1e-9)


def _deterministic(theta: Parameter, phi: Parameter) -> QuantumCircuit:
    """Bits fixed by the angles (0 or pi), with a mid-circuit measurement.

    Clbit 0 = a, clbit 2 = a (a CX copy), clbit 3 = b measured mid-circuit, clbit 1 =
    not b (measured after an X on the same qubit).
    """
    circuit = QuantumCircuit(3, 4)
    circuit.rx(theta, 0)
    circuit.rx(phi, 1)
    circuit.cx(0, 2)
    circuit.measure(1, 3)
    circuit.x(1)
    circuit.cx(1, 0)
    circuit.cx(1, 0)
    circuit.measure([0, 1, 2], [0, 1, 2])
    return circuit


def test_ideal_device_returns_the_deterministic_bits_in_every_shot_of_every_binding(
    local: VendorProvider,
) -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = _deterministic(theta, phi)
    values = np.array(
        [[[0.0, 0.0], [math.pi, 0.0], [0.0, math.pi]], [[math.pi, math.pi]] * 3]
    )  # shape (2, 3)
    sampler = VendorSampler(
        backend=local.get_backend("ideal_simulator"),
        options={
            "seed_simulator": 4,
            "twirling": {"enable_gates": True, "enable_measure": True, "num_randomizations": 7},
        },
    )
    result = sampler.run([(circuit, values)], shots=1000).result()[0]
    bits = result.data.c
    assert bits.shape == (2, 3) and bits.num_shots == 1000
    for index in np.ndindex(2, 3):
        b, a = (round(float(v) / math.pi) for v in values[index])  # columns: phi, theta
        expected = f"{b}{a}{1 - b}{a}"  # clbit 3 first
        assert bits.get_counts(index) == {expected: 1000}, index
    # 1000 shots over 7 randomizations: 143 each (7 x 143 = 1001 run), 1000 returned.
    assert result.metadata["num_randomizations"] == 7
    assert result.metadata["shots_per_randomization"] == 143


def test_only_terminal_measurements_outside_control_flow_are_twirled() -> None:
    circuit = QuantumCircuit(4, 6)
    circuit.measure(0, 0)  # mid-circuit: qubit 0 is used again
    circuit.x(0)
    circuit.measure(0, 1)  # terminal
    circuit.measure(1, 2)  # read by the condition below
    with circuit.if_test((circuit.clbits[2], 1)):
        circuit.x(3)
    circuit.measure(2, 3)  # written twice: the last one counts
    circuit.measure(2, 3)
    circuit.measure(3, 4)  # terminal, followed by a barrier only
    circuit.barrier()
    assert twirlable_measurements(circuit) == [circuit.clbits[1], circuit.clbits[4]]


@pytest.mark.parametrize("device", ["ideal_simulator", "superconducting_27q"])
def test_a_dynamic_circuit_keeps_its_feed_forward_under_measurement_twirling(
    local: VendorProvider, device: str
) -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    backend = local.get_backend(device)
    sampler = VendorSampler(
        backend=backend,
        options={"seed_simulator": 2, "twirling": {"enable_gates": True, "enable_measure": True}},
    )
    counts = sampler.run([circuit], shots=2000).result()[0].data.c.get_counts()
    if device == "ideal_simulator":
        assert counts == {"11": 2000}
    else:
        assert counts.get("11", 0) / 2000 > 0.9, counts


def _symmetric_readout_p1(p_ideal: float, error: float) -> float:
    """P(read 1) when the readout flips either outcome with probability ``error``."""
    return error + p_ideal * (1 - 2 * error)


@pytest.mark.parametrize(("device", "qubit"), [("superconducting_27q", 0), ("trapped_ion_11q", 1)])
@pytest.mark.parametrize("seed", [1, 2])
def test_noisy_devices_give_the_symmetric_readout_distribution_with_measure_twirling(
    local: VendorProvider, device: str, qubit: int, seed: int
) -> None:
    backend = local.get_backend(device)
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1)
    circuit.rx(theta, 0)
    circuit.measure(0, 0)
    isa = transpile(circuit, backend=backend, initial_layout=[qubit])
    sampler = VendorSampler(
        backend=backend, options={"seed_simulator": seed, "twirling": {"enable_measure": True}}
    )
    shots = 12_000
    angles = [0.0, math.pi / 2, math.pi]
    result = sampler.run([(isa, [[a] for a in angles])], shots=shots).result()[0]
    readout = backend.target["measure"][(qubit,)].error
    gate = max(
        backend.target[name][(qubit,)].error
        for name in ("sx", "x", "r")
        if name in backend.target.operation_names
    )
    for index, angle in enumerate(angles):
        expected = _symmetric_readout_p1(math.sin(angle / 2) ** 2, readout)
        p1 = result.data.c.get_counts(index).get("1", 0) / shots
        sd = math.sqrt(expected * (1 - expected) / shots)
        # Shot noise, plus what the (at most four) 1-qubit gates before the readout can flip.
        assert abs(p1 - expected) < 5 * sd + 4 * gate, (angle, p1, expected)


def test_gate_twirling_shrinks_the_coherent_error_bias_of_a_repeated_gate(
    local: VendorProvider,
) -> None:
    # <Z> of the target after 16 CX (ideally +1): the coherent ZX over-rotation adds up
    # as (N theta)^2 untwirled and as N theta^2 twirled.
    backend = local.get_backend("superconducting_27q")
    logical = QuantumCircuit(2, 1)
    for _ in range(16):
        logical.cx(0, 1)
    logical.measure(1, 0)
    isa = transpile(logical, backend=backend, initial_layout=[0, 1], optimization_level=0)
    shots = 4096

    def error(options: dict[str, object]) -> tuple[float, float]:
        sampler = VendorSampler(backend=backend, options={"seed_simulator": 1, **options})
        counts = sampler.run([isa], shots=shots).result()[0].data.c.get_counts()
        p1 = counts.get("1", 0) / shots
        return 2 * p1, 2 * math.sqrt(p1 * (1 - p1) / shots)  # 1 - <Z> and its sd

    plain, plain_sd = error({})
    twirled, twirled_sd = error({"twirling": {"enable_gates": True}})
    assert plain - twirled > 5 * math.hypot(plain_sd, twirled_sd), (plain, twirled)
    assert twirled < 0.75 * plain, (plain, twirled)


@pytest.mark.parametrize("device", DEVICES)
def test_variants_travel_as_rows_of_one_program_and_estimate_counts_them(
    local: VendorProvider, device: str
) -> None:
    backend = local.get_backend(device)
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, 2)
    circuit.rx(theta, 0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    isa = transpile(circuit, backend=backend, initial_layout=[0, 1], seed_transpiler=1)
    pub = (isa, [[0.1], [0.2], [0.3]])
    sampler = VendorSampler(
        backend=backend,
        options={
            "seed_simulator": 1,
            "twirling": {"enable_gates": True, "enable_measure": True, "num_randomizations": 8},
        },
    )
    work = sampler._plan([SamplerPub.coerce(pub, 800)], sampler._current_options())
    programs = [program for plan in work.plans for program in plan.programs]
    assert len(programs) == 1 and programs[0].num_experiments == 3 * 8
    assert [plan.shots for plan in work.plans] == [100]
    estimate = sampler.estimate([pub], shots=800)
    assert [(p.rows, p.shots) for p in estimate.per_program] == [(24, 100)]
    plain = VendorSampler(backend=backend).estimate([pub], shots=800)
    assert [(p.rows, p.shots) for p in plain.per_program] == [(3, 800)]
    result = sampler.run([pub], shots=800).result()
    assert result[0].data.c.shape == (3,) and result[0].data.c.num_shots == 800
    assert result.metadata["twirling"] == {
        "enable_gates": True,
        "enable_measure": True,
        "num_randomizations": 8,
        "shots_per_randomization": 100,
        "strategy": "active-accum",
    }


def test_shots_follow_ibm_precedence(local: VendorProvider) -> None:
    backend = local.get_backend("ideal_simulator")
    circuit = QuantumCircuit(1, 1)
    circuit.x(0)
    circuit.measure(0, 0)
    twirling = {"enable_measure": True, "num_randomizations": 5, "shots_per_randomization": 30}
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 1, "twirling": twirling})
    # No shots given: the product of the two counts wins over default_shots.
    assert sampler.run([circuit]).result()[0].data.c.get_counts() == {"1": 150}
    # Shots given (to run, or in the PUB) are obeyed: 5 x 30 = 150 run, 100 returned.
    assert sampler.run([circuit], shots=100).result()[0].data.c.get_counts() == {"1": 100}
    assert sampler.run([(circuit, None, 120)]).result()[0].data.c.num_shots == 120
    # With "auto", as IBM: 1000 shots are 16 randomizations of 64 (1024 run).
    sampler.options.twirling.num_randomizations = "auto"
    sampler.options.twirling.shots_per_randomization = "auto"
    result = sampler.run([circuit], shots=1000).result()
    assert result[0].data.c.num_shots == 1000
    assert result.metadata["twirling"]["num_randomizations"] == 16
    assert result.metadata["twirling"]["shots_per_randomization"] == 64


def test_seeded_twirled_runs_repeat(local: VendorProvider) -> None:
    backend = local.get_backend("trapped_ion_11q")
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    options = {"seed_simulator": 9, "twirling": {"enable_gates": True, "enable_measure": True}}
    first, second = (
        VendorSampler(backend=backend, options=options).run([circuit], shots=300).result()
        for _ in range(2)
    )
    assert np.array_equal(first[0].data.c.array, second[0].data.c.array)


def test_twirling_and_decoupling_together_on_superconducting(local: VendorProvider) -> None:
    backend = local.get_backend("superconducting_27q")
    circuit = QuantumCircuit(2, 2)
    circuit.x(0)
    circuit.cx(0, 1)
    circuit.delay(2000, 1, unit="ns")
    circuit.measure([0, 1], [0, 1])
    isa = transpile(circuit, backend=backend, initial_layout=[0, 1], seed_transpiler=1)
    sampler = VendorSampler(
        backend=backend,
        options={
            "seed_simulator": 3,
            "twirling": {"enable_gates": True, "enable_measure": True},
            "dynamical_decoupling": {"enable": True, "sequence_type": "XpXm"},
        },
    )
    result = sampler.run([isa], shots=2000).result()
    assert result[0].data.c.get_counts().get("11", 0) / 2000 > 0.9
    assert result.metadata["dynamical_decoupling"]["sequence_type"] == "XpXm"


def test_untwirl_trims_each_variant_evenly_and_flips_each_variant_with_its_own_mask() -> None:
    assert variant_shots(10, 4) == [3, 3, 2, 2]
    book = SamplerTwirl(count=2, shots_per_variant=3, shots=5, flips=(0b01, 0b10), twirled_bits=2)
    memory = [["0x0", "0x1", "0x3"], ["0x0", "0x2", "0x3"], ["0x1"] * 3, None]
    # Variant 0 (3 samples) flips bit 0, variant 1 (2 samples) bit 1; a missing row: None.
    assert untwirl(memory, book) == [["0x1", "0x0", "0x2", "0x2", "0x0"], None]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("num_randomizations", 0),
        ("num_randomizations", "many"),
        ("shots_per_randomization", -4),
        ("shots_per_randomization", 2.5),
        ("strategy", "everything"),
        ("enable_gates", "yes"),
        ("enable_measure", 1),
    ],
)
def test_bad_twirling_values_are_refused_by_name(
    provider: VendorProvider, api: MockedApi, path: str, value: object
) -> None:
    backend = provider.get_backend("ideal_simulator")
    sampler = VendorSampler(backend=backend)
    with pytest.raises(VendorValidationError, match=rf"twirling\.{path}"):
        setattr(sampler.options.twirling, path, value)
    with pytest.raises(VendorValidationError, match=rf"twirling\.{path}"):
        VendorSampler(backend=backend, options={"twirling": {path: value}})
    assert not api.calls("POST", "/v1/jobs")


def test_too_few_twirled_shots_for_the_pub_are_refused_before_any_http(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend: VendorBackend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    sampler = VendorSampler(
        backend=backend,
        options={
            "twirling": {
                "enable_measure": True,
                "num_randomizations": 4,
                "shots_per_randomization": 10,
            }
        },
    )
    with pytest.raises(
        VendorValidationError,
        match=r"twirling\.num_randomizations=4 x twirling\.shots_per_randomization=10 = 40 "
        r"shots, fewer than the PUB's 100",
    ):
        sampler.run([circuit], shots=100)
    with pytest.raises(VendorValidationError, match="fewer than the PUB's 100"):
        sampler.estimate([circuit], shots=100)
    assert not api.calls("POST", "/v1/jobs")
