"""Twirl frames cost few gates, every row is the same ideal circuit, ZNE fits per term.

A frame is multiplied into the 1-qubit run beside it, so a twirled ISA circuit has
about as many ``sx`` as the untwirled one (before: two more per frame, 8 per twirled
ECR on the Ising circuit below). ZNE is fitted per Pauli term with IBM's choice of
extrapolator, and its result fields have IBM's shapes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.quantum_info import Operator, SparsePauliOp, Statevector
from qiskit.transpiler import CouplingMap

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives import VendorEstimator
from qiskit_vendor_provider.primitives.twirling import Frame, twirl
from qiskit_vendor_provider.primitives.zne import extrapolate

PULSES = {"sx", "x", "r", "u"}  # the 1-qubit gates that take a pulse (rz is a frame change)


def pulses(circuit: QuantumCircuit) -> int:
    return sum(count for name, count in circuit.count_ops().items() if name in PULSES)


def ising(qubits: int, steps: int) -> QuantumCircuit:
    circuit = QuantumCircuit(qubits)
    for _ in range(steps):
        for start in (0, 1):
            for a in range(start, qubits - 1, 2):
                circuit.rzz(0.5, a, a + 1)
        circuit.rx(0.3, range(qubits))
    return circuit


def isa(basis: list[str], qubits: int = 3, steps: int = 2) -> QuantumCircuit:
    """An ISA-like circuit on a line of ``qubits`` (small enough for ``Operator``)."""
    return transpile(
        ising(qubits, steps),
        basis_gates=basis,
        coupling_map=CouplingMap.from_line(qubits),
        optimization_level=1,
        seed_transpiler=1,
    )


def rows(twirled_circuit: QuantumCircuit, parameters: tuple, values: np.ndarray) -> list:
    return [
        twirled_circuit.assign_parameters(dict(zip(parameters, row, strict=True))) for row in values
    ]


BASES = {
    "sx": ["sx", "rz", "x", "ecr"],
    "r": ["r", "rz", "rxx"],
    "u": ["u", "cx"],
}


@pytest.mark.parametrize("kind", sorted(BASES))
@pytest.mark.parametrize("strategy", ["active", "active-accum", "all"])
def test_every_merged_row_is_the_same_unitary(kind: str, strategy: str) -> None:
    circuit = isa(BASES[kind])
    frame = Frame.for_operations(BASES[kind])
    assert frame.kind == kind
    twirled = twirl(
        circuit,
        frame,
        gates=True,
        measured=[],
        count=6,
        rng=np.random.default_rng(5),
        strategy=strategy,
        close=True,
    )
    reference = Operator(circuit)
    for bound in rows(twirled.circuit, twirled.parameters, twirled.values):
        assert Operator(bound).equiv(reference)
    assert len({tuple(np.round(row, 9)) for row in twirled.values}) > 1  # really random


def test_measured_rows_give_the_untwirled_distribution_once_flips_are_undone() -> None:
    circuit = isa(BASES["sx"])
    circuit.measure_all()
    twirled = twirl(
        circuit,
        Frame.for_operations(BASES["sx"]),
        gates=True,
        measured=list(circuit.clbits),
        count=6,
        rng=np.random.default_rng(8),
    )
    ideal = Statevector(circuit.remove_final_measurements(inplace=False)).probabilities_dict()
    assert twirled.flips.any()  # some rows flip some bits
    for bound, flip in zip(
        rows(twirled.circuit, twirled.parameters, twirled.values), twirled.flips, strict=True
    ):
        got = Statevector(bound.remove_final_measurements(inplace=False)).probabilities_dict()
        undone = {format(int(key, 2) ^ int(flip), "03b"): p for key, p in got.items()}
        for key in set(ideal) | set(undone):
            assert abs(ideal.get(key, 0.0) - undone.get(key, 0.0)) < 1e-9, key


def test_a_twirled_isa_circuit_costs_about_one_pulse_per_twirled_gate() -> None:
    backend = VendorProvider().get_backend("superconducting_27q")
    circuit = transpile(
        ising(6, 2), backend=backend, initial_layout=[0, 1, 4, 7, 10, 12], seed_transpiler=1
    )
    ecrs = circuit.count_ops()["ecr"]
    frame = Frame.for_operations(backend.target.operation_names)
    extra: dict[str, float] = {}
    for strategy in ("active", "active-accum"):
        twirled = twirl(
            circuit,
            frame,
            gates=True,
            measured=[],
            count=32,
            rng=np.random.default_rng(1),
            strategy=strategy,
        )
        assert twirled.circuit.count_ops()["ecr"] == ecrs
        extra[strategy] = (pulses(twirled.circuit) - pulses(circuit)) / ecrs
    # Written apart, each frame was two sx: 8.0 ("active") and 10 ("active-accum") per ECR.
    assert extra["active"] <= 1.5, extra
    # Idle qubits' frames are real gates, held around their layer by barriers.
    assert extra["active"] < extra["active-accum"] <= 4.0, extra


def test_a_frame_beside_one_sx_costs_no_pulse_and_constant_angles_are_numbers() -> None:
    circuit = QuantumCircuit(2, 2)
    circuit.sx([0, 1])
    circuit.cx(0, 1)
    circuit.sx([0, 1])
    circuit.measure([0, 1], [0, 1])
    twirled = twirl(
        circuit,
        Frame.for_operations({"sx", "rz", "cx"}),
        gates=True,
        measured=circuit.clbits,
        count=8,
        rng=np.random.default_rng(3),
    )
    assert twirled.circuit.count_ops()["sx"] == 4
    # Every parameter varies between rows; what does not vary is written as a number.
    assert all(np.ptp(column) > 0 for column in twirled.values.T)
    assert len(twirled.circuit.parameters) == twirled.values.shape[1]


def test_gates_with_parameters_and_idle_gates_are_left_as_they_are() -> None:
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.rz(theta, 0)
    circuit.id(1)
    circuit.cx(0, 1)
    twirled = twirl(
        circuit,
        Frame.for_operations({"sx", "rz", "cx", "id"}),
        gates=True,
        measured=[],
        count=4,
        rng=np.random.default_rng(0),
        close=True,
    )
    assert theta in twirled.circuit.parameters
    assert twirled.circuit.count_ops()["id"] == 1
    for row in twirled.values:
        values = dict(zip(twirled.parameters, row, strict=True))
        bound = twirled.circuit.assign_parameters({**values, theta: 0.7})
        assert Operator(bound).equiv(Operator(circuit.assign_parameters({theta: 0.7})))


def test_all_means_the_qubits_the_circuit_uses_not_the_whole_device() -> None:
    backend = VendorProvider().get_backend("superconducting_27q")
    circuit = transpile(ising(3, 1), backend=backend, initial_layout=[0, 1, 4])
    twirled = twirl(
        circuit,
        Frame.for_operations(backend.target.operation_names),
        gates=True,
        measured=[],
        count=4,
        rng=np.random.default_rng(0),
        strategy="all",
    )
    touched = {
        twirled.circuit.find_bit(q).index
        for item in twirled.circuit.data
        if item.operation.name != "barrier"
        for q in item.qubits
    }
    assert touched == {0, 1, 4}


# --- ZNE per term, IBM's shapes and choice ----------------------------------------------


def test_each_term_chooses_its_own_extrapolator_as_ibm_does() -> None:
    x = np.array([1.0, 3.0, 5.0])
    sigma = np.full(3, 0.01)
    at = np.array([0.0, 1.0])
    names = ("exponential", "linear")
    # A decaying term: the exponential fits and is accepted.
    *_, name = extrapolate(names, x, 0.9 * np.exp(-0.1 * x), sigma, at)
    assert name == "exponential"
    # A term crossing zero: no exponential through it, linear is next.
    _, _, zero, _, name = extrapolate(names, x, np.array([0.2, 0.0, -0.2]), sigma, at)
    assert name == "linear" and abs(float(zero[0]) - 0.3) < 1e-9
    # Out of IBM's range (|v| + s > 2 for a Pauli term): the next is taken.
    steep = np.array([0.5, -0.4, -1.3])
    _, _, zero, _, name = extrapolate(("polynomial_degree_2", "fallback"), x, steep, sigma, at)
    assert name == "polynomial_degree_2" and abs(float(zero[0]) - 0.95) < 1e-9
    wild = np.array([0.9, -0.5, 0.9])
    _, _, zero, _, name = extrapolate(("polynomial_degree_2", "fallback"), x, wild, sigma, at)
    assert name == "fallback" and float(zero[0]) == 0.9


@pytest.fixture(scope="module")
def ion() -> object:
    return VendorProvider().get_backend("trapped_ion_11q")


def _bell(backend: object) -> QuantumCircuit:
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    return transpile(circuit, backend=backend, initial_layout=[0, 1], seed_transpiler=1)


def test_zne_sums_per_term_fits_in_ibm_shapes(ion: object) -> None:
    circuit = _bell(ion)
    # Two observables, one of two terms that decay differently (ZZ and XX of a Bell pair).
    observables = [
        SparsePauliOp.from_list([("ZZ", 0.5), ("XX", 0.5)]),
        SparsePauliOp.from_list([("ZZ", 1.0), ("II", 0.25)]),
    ]
    moved = [o.apply_layout(circuit.layout) for o in observables]
    estimator = VendorEstimator(backend=ion, options={"seed_simulator": 4})
    estimator.options.resilience_level = 2
    estimator.options.resilience.zne.extrapolator = ("linear", "exponential", "fallback")
    estimator.options.twirling.num_randomizations = 4
    pub = estimator.run([(circuit, moved)], precision=0.05).result()[0]
    data = pub.data
    assert data.evs.shape == (2,)
    assert data.evs_noise_factors.shape == data.stds_noise_factors.shape == (2, 3)
    assert data.evs_extrapolated.shape == data.stds_extrapolated.shape == (2, 3, 4)
    zne = pub.metadata["resilience"]["zne"]
    assert zne["extrapolators"].shape == (2,)
    assert zne["extrapolated_noise_factors"] == [0.0, 1.0, 3.0, 5.0]
    # One Pauli term (plus the identity, exact at every point): its linear row is the
    # weighted linear fit of the observable's values.
    x = np.array([1.0, 3.0, 5.0])
    line = np.polyfit(x, data.evs_noise_factors[1], 1, w=1 / data.stds_noise_factors[1])
    assert abs(data.evs_extrapolated[1, 0, 0] - np.polyval(line, 0.0)) < 1e-6
    # "fallback" is each term's value at the lowest factor, so the observable's, everywhere.
    for index in range(2):
        assert np.allclose(data.evs_extrapolated[index, 2], data.evs_noise_factors[index, 0])
    # Both terms of a Bell pair decay alike: one extrapolator, IBM's name for it.
    assert set(zne["extrapolators"].tolist()) <= {"linear", "exponential", "multiple"}
    chosen = zne["extrapolators"][1]
    row = ("linear", "exponential").index(chosen)
    assert abs(data.evs[1] - data.evs_extrapolated[1, row, 0]) < 1e-9


def test_an_extrapolator_the_noise_factors_cannot_fit_is_refused_before_any_request(
    ion: object,
) -> None:
    estimator = VendorEstimator(backend=ion, options={"resilience_level": 2})
    estimator.options.resilience.zne.extrapolator = ("polynomial_degree_3", "linear")
    circuit = _bell(ion)
    pub = (circuit, SparsePauliOp("ZZ").apply_layout(circuit.layout))
    with pytest.raises(VendorValidationError, match=r"resilience\.zne\.extrapolator.*4 noise"):
        estimator.run([pub])
    estimator.options.resilience.zne.noise_factors = (1, 2, 3, 4)
    estimate: Callable[..., object] = estimator.estimate
    assert estimate([pub]) is not None  # four factors fit a cubic


@pytest.mark.parametrize("strategy", ["active", "active-accum", "active-circuit", "all"])
def test_gates_that_run_side_by_side_stay_in_one_twirled_layer(strategy: str) -> None:
    """The idle qubits' frames and barriers do not serialize a layer of 2-qubit gates.

    The transpiler staggers the 1-qubit gates around the ECRs, so Qiskit's DAG layers put
    ECRs that run side by side in layers of their own; twirled per DAG layer, the
    barriers of ``active-accum`` ran them one after another (ECR depth 16 instead of 8;
    on ``superconducting_27q`` the Ising circuit of docs/mitigation.md lasted 10.3 us
    instead of 7.6 and had 119 ``sx`` instead of 91).
    """
    circuit = transpile(
        ising(6, 2),
        basis_gates=BASES["sx"],
        coupling_map=CouplingMap.from_line(6),
        optimization_level=1,
        seed_transpiler=1,
    )
    ecr_depth = circuit.depth(lambda item: item.operation.name == "ecr")
    twirled = twirl(
        circuit,
        Frame.for_operations(BASES["sx"]),
        gates=True,
        measured=[],
        count=4,
        rng=np.random.default_rng(2),
        strategy=strategy,
        close=True,
    )
    assert twirled.circuit.depth(lambda item: item.operation.name == "ecr") == ecr_depth
    # One pair of barriers per layer with idle qubits: at most one per ECR layer.
    assert twirled.circuit.count_ops().get("barrier", 0) <= 2 * ecr_depth
    for bound in rows(twirled.circuit, twirled.parameters, twirled.values):
        assert Operator(bound).equiv(Operator(circuit))
