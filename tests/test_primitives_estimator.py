"""VendorEstimator: server-side sweeps and the same answers as the references."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, ParameterVector, QuantumRegister
from qiskit.circuit.random import random_circuit
from qiskit.primitives import BackendEstimatorV2, StatevectorEstimator
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.quantum_info import Pauli, PauliList, SparsePauliOp, Statevector, random_pauli_list
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator
from qiskit_vendor_provider.primitives.pauli_measurement import (
    basis_change_circuit,
    combine,
    measurement_bases,
    pauli_expectations,
)
from tests.conftest import MockedApi
from tests.helpers import assert_metadata_extends
from tests.tolerances import standard_errors, within

HAMILTONIAN = SparsePauliOp(
    ["ZZI", "IZZ", "XXI", "IYY", "XIX", "ZII", "IXI", "YZX"],
    coeffs=[0.5, -0.7, 0.3, 0.25, -0.4, 0.9, 0.2, -0.15],
)


def ansatz(num_qubits: int = 3) -> QuantumCircuit:
    angles = ParameterVector("a", 2 * num_qubits)
    circuit = QuantumCircuit(num_qubits, name="ansatz")
    for qubit in range(num_qubits):
        circuit.ry(angles[qubit], qubit)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    for qubit in range(num_qubits):
        circuit.rz(angles[num_qubits + qubit], qubit)
        circuit.rx(angles[qubit] * 0.5 + 0.1, qubit)
    return circuit


def test_a_sweep_sends_each_basis_circuit_once_with_the_table(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = ansatz()
    values = np.random.default_rng(1).uniform(0, 2 * math.pi, (50, circuit.num_parameters))
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 3})
    result = estimator.run([(circuit, HAMILTONIAN, values)], precision=0.05).result()[0]
    (call,) = api.calls("POST", "/v1/jobs")
    body = json.loads(call.request.body)
    groups = HAMILTONIAN.paulis.group_commuting(qubit_wise=True)
    assert len(body["programs"]) == len(groups)
    assert all(len(program["parameter_values"]) == 50 for program in body["programs"])
    assert body["shots"] == 400
    assert body.get("memory", False) is False  # counts are all an estimator needs
    assert result.data.evs.shape == (50,)


def test_expectation_values_agree_with_aer_estimator(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = ansatz()
    values = np.random.default_rng(7).uniform(0, 2 * math.pi, (6, circuit.num_parameters))
    precision = 0.02
    pubs = [(circuit, HAMILTONIAN, values), (circuit, [["ZII"], ["IXX"]], values[:3])]
    ours = VendorEstimator(backend=backend, options={"seed_simulator": 13}).run(
        pubs, precision=precision
    )
    exact = AerEstimatorV2().run(pubs, precision=0).result()
    for mine, reference, pub in zip(ours.result(), exact, pubs, strict=True):
        assert mine.data.evs.shape == reference.data.evs.shape
        assert within(mine.data.evs, reference.data.evs, standard_errors(pub, precision))


@pytest.mark.parametrize("device", ["ideal_simulator", "superconducting_27q"])
def test_results_match_backend_estimator_v2_on_the_same_backend(
    provider: VendorProvider, device: str
) -> None:
    backend = provider.get_backend(device)
    to_isa = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=2)
    circuit = to_isa.run(ansatz())
    circuit.metadata = {"experiment": "same-shapes"}
    layout_hamiltonian = HAMILTONIAN.apply_layout(circuit.layout)
    values = np.random.default_rng(2).uniform(0, 2 * math.pi, (3, 1, circuit.num_parameters))
    observables = [
        [layout_hamiltonian, SparsePauliOp("ZII").apply_layout(circuit.layout)],
    ]
    pubs = [(circuit, observables, values), (circuit, layout_hamiltonian, values[0, 0], 0.05)]
    options = {"seed_simulator": 4, "default_precision": 0.03}
    ours = (
        VendorEstimator(backend=backend, options={**options, "resilience_level": 0})
        .run(pubs)
        .result()
    )
    theirs = BackendEstimatorV2(backend=backend, options=options).run(pubs).result()
    assert_metadata_extends(ours.metadata, theirs.metadata)
    for mine, reference, pub in zip(ours, theirs, pubs, strict=True):
        assert_metadata_extends(mine.metadata, reference.metadata)
        assert list(mine.data.keys()) == list(reference.data.keys()) == ["evs", "stds"]
        for name in ("evs", "stds"):
            assert mine.data[name].shape == reference.data[name].shape
            assert mine.data[name].dtype == reference.data[name].dtype == np.float64
        # Two independent estimates; on a noisy device each basis's variance is bounded
        # by its coefficients (its state is not computed here).
        sigma = standard_errors(pub, mine.metadata["target_precision"], exact=False)
        assert within(mine.data.evs, reference.data.evs, math.sqrt(2) * sigma)
    assert ours[0].data.evs.shape == (3, 2)
    assert ours[1].metadata["shots"] == 400
    assert ours[0].metadata["circuit_metadata"] == {"experiment": "same-shapes"}


def test_circuits_that_are_not_isa_are_transpiled_and_observables_follow_the_layout(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(3)
    circuit.x(2)
    circuit.h(0)
    circuit.cx(0, 1)
    estimator = VendorEstimator(
        backend=backend, options={"seed_simulator": 6, "transpile_options": {"seed_transpiler": 6}}
    )
    evs = estimator.run([(circuit, ["ZII", "IIZ", "IZZ", "IXX"])], precision=0.03).result()
    # Noisy device: signs and rough magnitudes, never exact values.
    z2, z0, zz, xx = evs[0].data.evs
    assert z2 < -0.8
    assert abs(z0) < 0.2
    assert zz > 0.8
    assert xx > 0.7


def test_pub_circuits_with_their_own_clbits_give_the_right_values(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    # A loose clbit before a register: the key of a result cannot be split by register,
    # so the basis measurement must be read from the bits above the PUB's own.
    circuit = QuantumCircuit(QuantumRegister(2, "q"), [Clbit()], ClassicalRegister(2, "c"))
    circuit.x(0)
    circuit.measure(0, 0)
    circuit.h(1)
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 2})
    evs = estimator.run([(circuit, ["IZ", "XI", "ZI"])], precision=0.02).result()[0].data.evs
    assert evs[0] == -1.0
    assert evs[1] == 1.0
    assert abs(evs[2]) <= 5 * 0.02


def test_non_affine_angles_fall_back_and_still_give_the_right_values(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    theta = ParameterVector("t", 1)[0]
    circuit = QuantumCircuit(1)
    circuit.ry(theta * theta, 0)
    roots = np.sqrt([[0.0], [math.pi], [math.pi / 2]])
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 5})
    evs = estimator.run([(circuit, "Z", roots)], precision=0.02).result()[0].data.evs
    (call,) = api.calls("POST", "/v1/jobs")
    assert len(json.loads(call.request.body)["programs"]) == 3
    assert evs[0] == 1.0
    assert evs[1] == -1.0
    assert abs(evs[2]) <= 5 * 0.02


def test_precision_that_is_not_positive_is_refused_like_backend_estimator(
    provider: VendorProvider, api: MockedApi
) -> None:
    estimator = VendorEstimator(backend=provider.get_backend("ideal_simulator"))
    circuit = QuantumCircuit(1)
    before = len(api.calls())
    with pytest.raises(ValueError, match="precision"):
        estimator.run([(circuit, "Z")], precision=0.0)
    assert len(api.calls()) == before


# --- the owned Pauli measurement: exact arithmetic, grouping, and attacks ---------------


@pytest.mark.parametrize("seed", range(6))
def test_grouping_commutes_qubitwise_covers_every_term_and_is_as_small_as_qiskits(
    seed: int,
) -> None:
    labels = [*random_pauli_list(5, 25, seed=seed, phase=False).to_labels(), "IIIII"]
    bases = measurement_bases(labels)
    measured = [term for basis in bases for term in basis.terms]
    non_identity = sorted({label for label in labels if set(label) != {"I"}})
    assert sorted(measured) == non_identity  # every term once, identities none
    for basis in bases:
        for term in basis.terms:
            for letter, wanted in zip(term, basis.label, strict=True):
                assert letter in ("I", wanted)
    qiskit_groups = PauliList(non_identity).group_commuting(qubit_wise=True)
    assert len(bases) <= len(qiskit_groups)
    assert measurement_bases(reversed(labels)) == bases  # order of the input is irrelevant


@pytest.mark.parametrize("seed", range(4))
def test_expectations_from_exact_outcome_weights_match_statevector(seed: int) -> None:
    circuit = random_circuit(4, 4, seed=seed)
    state = Statevector(circuit)
    rng = np.random.default_rng(seed)
    labels = [*random_pauli_list(4, 10, seed=seed, phase=False).to_labels(), "IIII"]
    coefficients = dict(zip(labels, rng.normal(size=len(labels)).tolist(), strict=True))
    values: dict[str, tuple[float, float]] = {}
    for basis in measurement_bases(labels):
        rotated = state.evolve(
            basis_change_circuit(4, basis).remove_final_measurements(inplace=False)
        )
        # Exact probabilities as integer weights (2**40 per unit): the arithmetic is then
        # exact up to 1e-12, so any disagreement is a wrong mask or sign.
        weights = {
            int(key, 2): round(p * 2**40)
            for key, p in rotated.probabilities_dict(qargs=list(basis.qubits)).items()
        }
        expectations, variances = pauli_expectations(weights, basis.masks)
        for term, expectation, variance in zip(basis.terms, expectations, variances, strict=True):
            exact = state.expectation_value(Pauli(term)).real
            assert abs(expectation - exact) <= 1e-9
            assert abs(variance - (1 - exact**2)) <= 1e-9
            values[term] = (float(expectation), float(variance))
    estimate, _ = combine(coefficients, values, shots=1)
    observable = SparsePauliOp(list(coefficients), list(coefficients.values()))
    assert abs(estimate - state.expectation_value(observable).real) <= 1e-9


def test_identity_only_observables_are_exact_and_need_no_job(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    observables = [SparsePauliOp(["II", "II"], [0.5, 1.5]), SparsePauliOp("II", -3.0)]
    before = len(api.calls("POST", "/v1/jobs"))
    result = VendorEstimator(backend=backend).run([(circuit, observables)]).result()[0]
    assert len(api.calls("POST", "/v1/jobs")) == before
    reference = BackendEstimatorV2(backend=backend).run([(circuit, observables)]).result()[0]
    assert result.data.evs.tolist() == reference.data.evs.tolist() == [2.0, -3.0]
    assert result.data.stds.tolist() == reference.data.stds.tolist() == [0.0, 0.0]
    assert_metadata_extends(result.metadata, reference.metadata)


def test_complex_coefficients_are_refused_like_the_references(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(1)
    circuit.h(0)
    hermitian_in_complex_dtype = SparsePauliOp(["X", "Z"], [1 + 0j, 0.5 + 0j])
    evs = (
        VendorEstimator(backend=backend, options={"seed_simulator": 1})
        .run([(circuit, hermitian_in_complex_dtype)], precision=0.02)
        .result()[0]
        .data.evs
    )
    sigma = standard_errors((circuit, SparsePauliOp(["X", "Z"], [1.0, 0.5])), 0.02)
    assert within(evs, 1.0, sigma)
    before = len(api.calls())
    not_hermitian = SparsePauliOp(["X", "Z"], [1j, 1])
    for estimator in (VendorEstimator(backend=backend), StatevectorEstimator()):
        with pytest.raises(ValueError, match="Hermitian"):
            estimator.run([(circuit, not_hermitian)])
    assert len(api.calls()) == before


def test_a_single_qubit_observable_on_a_wide_circuit(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(backend.num_qubits)
    circuit.x(30)
    circuit.h(3)
    label = "".join("Z" if q == 30 else "X" if q == 3 else "I" for q in reversed(range(32)))
    single = ["I" * (31 - q) + letter + "I" * q for q, letter in [(30, "Z"), (3, "X"), (0, "Z")]]
    result = (
        VendorEstimator(backend=backend, options={"seed_simulator": 1})
        .run([(circuit, [*single, label])], precision=0.05)
        .result()[0]
    )
    assert result.data.evs.tolist() == [-1.0, 1.0, 1.0, -1.0]
    assert result.data.stds.tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("values_shape", "observables", "weight"),
    [
        ((), SparsePauliOp(["ZI", "XX"], [0.5, -1.0]), 1.5),
        ((3,), SparsePauliOp(["ZI", "XX"], [0.5, -1.0]), 1.5),
        ((3,), [["ZZ"]], 1.0),
        ((2, 3), [["ZZ"], ["XY"]], 1.0),
        ((2, 1), ["ZZ", "XI", "IY"], 1.0),
    ],
    ids=["scalar", "vector", "vector-by-one", "matrix-by-column", "column-by-row"],
)
def test_broadcast_shapes_agree_with_the_statevector_estimator(
    provider: VendorProvider, values_shape: tuple[int, ...], observables: Any, weight: float
) -> None:
    """``weight``: the largest sum of |coefficients| among the observables."""
    backend = provider.get_backend("ideal_simulator")
    angles = ParameterVector("p", 2)
    circuit = QuantumCircuit(2)
    circuit.ry(angles[0], 0)
    circuit.cx(0, 1)
    circuit.rx(angles[1], 1)
    values = np.random.default_rng(11).uniform(0, 2 * math.pi, (*values_shape, 2))
    precision = 0.03
    pub = (circuit, observables, values)
    ours = VendorEstimator(backend=backend, options={"seed_simulator": 9})
    mine = ours.run([pub], precision=precision).result()[0]
    exact = StatevectorEstimator().run([pub]).result()[0]
    assert mine.data.evs.shape == exact.data.evs.shape == mine.data.stds.shape
    sigma = standard_errors(pub, precision)
    assert within(mine.data.evs, exact.data.evs, sigma)
    # A term's variance is at most 1, so a std is at most weight / sqrt(shots).
    assert np.all((mine.data.stds >= 0) & (mine.data.stds <= weight * precision))
    reference = BackendEstimatorV2(backend=backend, options={"seed_simulator": 9})
    theirs = reference.run([pub], precision=precision).result()[0]
    assert theirs.data.evs.shape == mine.data.evs.shape
    assert_metadata_extends(mine.metadata, theirs.metadata)
    assert within(mine.data.evs, theirs.data.evs, math.sqrt(2) * sigma)


def test_the_tolerances_reject_an_estimate_missing_a_quarter_term(
    provider: VendorProvider,
) -> None:
    """A wrong reference (HAMILTONIAN without its 0.25 IYY term) fails the check.

    On a Bell pair (qubits 0, 1) beside |0>, <YY> = -1: dropping the term moves the value
    by exactly 0.25. The old rule, 5 * sum|c| * precision = 0.34 here, let that pass.
    """
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    precision = 0.02
    pub = (circuit, HAMILTONIAN)
    estimator = VendorEstimator(
        backend=provider.get_backend("ideal_simulator"), options={"seed_simulator": 5}
    )
    mine = estimator.run([pub], precision=precision).result()[0].data.evs
    kept = [label != "IYY" for label in HAMILTONIAN.paulis.to_labels()]
    dropped = SparsePauliOp(HAMILTONIAN.paulis[kept], HAMILTONIAN.coeffs[kept])
    exact = Statevector(circuit).expectation_value(HAMILTONIAN).real
    wrong = Statevector(circuit).expectation_value(dropped).real
    assert abs(exact - wrong) == pytest.approx(0.25)
    sigma = standard_errors(pub, precision)
    # By hand, per basis (a = X0 = X1 and Z1 are fair coins on the pair, qubit 2 is |0>):
    # YZX 0.15**2; {IYY, ZII} 0 (both certain); {IZZ, ZZI} 0.5**2 (Z1 * Z2 is a coin);
    # {IXI, XIX, XXI} = a * (0.2 - 0.1 * X2): 0.2**2 + 0.1**2. Over 2,500 shots.
    assert float(sigma) == pytest.approx(math.sqrt((0.0225 + 0.25 + 0.05) / 2500))
    assert within(mine, exact, sigma)
    assert not within(mine, wrong, sigma)
    old_rule = 5 * float(np.abs(HAMILTONIAN.coeffs).sum()) * precision
    assert abs(mine - wrong) <= old_rule  # what the old tolerance let through


def test_precision_at_the_device_limit_takes_one_full_job(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("trapped_ion_11q")
    estimator = VendorEstimator(
        backend=backend, options={"seed_simulator": 3, "resilience_level": 0}
    )
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.s(0)  # |+i>: <Y> = 1, and the basis change runs in the device's own gates
    # The finest precision one job can give: 1/sqrt(max_shots), nudged up one ulp.
    limit = float(np.nextafter(1 / math.sqrt(backend.limits.max_shots), 1.0))
    assert math.ceil(1 / limit**2) == backend.limits.max_shots
    before = len(api.calls("POST", "/v1/jobs"))
    result = estimator.run([(circuit, ["Y", "X"])], precision=limit).result()[0]
    (call,) = api.calls("POST", "/v1/jobs")[before:]
    assert json.loads(call.request.body)["shots"] == backend.limits.max_shots
    assert result.metadata["shots"] == backend.limits.max_shots
    y, x = result.data.evs
    assert y > 0.8  # a noisy device: the sign and rough size, not the exact value
    assert abs(x) <= 0.2
    # One ulp finer needs one shot more than a job holds: two jobs, and the shots
    # counted as BackendEstimatorV2 counts them.
    finer = float(np.nextafter(float(np.nextafter(limit, 0.0)), 0.0))
    shots = math.ceil(1 / finer**2)
    assert shots > backend.limits.max_shots
    result = estimator.run([(circuit, "Y")], precision=finer).result()[0]
    assert result.metadata["shots"] == shots
    bodies = [json.loads(call.request.body) for call in api.calls("POST", "/v1/jobs")[before:]]
    most = backend.limits.max_shots
    assert [body["shots"] for body in bodies[1:]] == [most, shots - most]
    assert float(result.data.evs) > 0.8


def test_grouping_off_gives_one_circuit_per_term_and_the_same_values(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(2)
    circuit.x(0)
    observable = SparsePauliOp(["IZ", "ZI", "ZZ"], [1.0, 2.0, 3.0])
    grouped = VendorEstimator(backend=backend, options={"seed_simulator": 4, "resilience_level": 0})
    apart = VendorEstimator(
        backend=backend,
        options={"seed_simulator": 4, "abelian_grouping": False, "resilience_level": 0},
    )
    before = len(api.calls("POST", "/v1/jobs"))
    one = grouped.run([(circuit, observable)], precision=0.03).result()[0]
    three = apart.run([(circuit, observable)], precision=0.03).result()[0]
    calls = api.calls("POST", "/v1/jobs")[before:]
    assert [len(json.loads(call.request.body)["programs"]) for call in calls] == [1, 3]
    # Exact value -1 + 2 - 3 = -2 on a noisy device: within the noise, both ways.
    assert abs(float(one.data.evs) - float(three.data.evs)) <= 0.5
    assert float(one.data.evs) < -1.5


def test_own_registers_even_one_named_like_ours_match_backend_estimator_v2(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(
        QuantumRegister(3, "q"), ClassicalRegister(2, "meas_basis"), ClassicalRegister(1, "c")
    )
    circuit.x(0)
    circuit.measure(0, 0)
    circuit.h(1)
    circuit.measure(2, 2)
    observables = ["IIZ", "IXI", "ZII", "IXZ"]
    options = {"seed_simulator": 3}
    precision = 0.03
    ours = VendorEstimator(backend=backend, options=options).run(
        [(circuit, observables)], precision=precision
    )
    theirs = BackendEstimatorV2(backend=backend, options=options).run(
        [(circuit, observables)], precision=precision
    )
    mine, reference = ours.result()[0], theirs.result()[0]
    assert mine.data.evs.tolist() == reference.data.evs.tolist() == [-1.0, 1.0, 1.0, -1.0]
    assert mine.data.stds.tolist() == reference.data.stds.tolist()
    assert_metadata_extends(mine.metadata, reference.metadata)


@pytest.mark.parametrize(
    ("binding_shape", "observable_shape", "experiments"),
    # ZZ and ZI share a basis; XX needs its own. Each binding runs the bases its
    # observables need: (3,) x (): 3 x ZZ; (3,) x (3,): one each; (2, 1) x (3,): 2 x 2.
    [((3,), (), 3), ((3,), (3,), 3), ((2, 1), (3,), 4)],
)
def test_a_parameter_free_circuit_broadcast_over_bindings_matches_backend_estimator_v2(
    provider: VendorProvider,
    api: MockedApi,
    binding_shape: tuple[int, ...],
    observable_shape: tuple[int, ...],
    experiments: int,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    labels = ["ZZ", "XX", "ZI"] if observable_shape else ["ZZ"]
    observables = [SparsePauliOp(label) for label in labels] if observable_shape else "ZZ"
    pubs = [(circuit, observables, BindingsArray(shape=binding_shape))]
    options = {"seed_simulator": 6, "default_precision": 0.05}
    mine = VendorEstimator(backend=backend, options=options).run(pubs).result()[0]
    reference = BackendEstimatorV2(backend=AerSimulator(), options=options).run(pubs).result()[0]
    assert mine.data.evs.shape == reference.data.evs.shape
    assert mine.data.stds.shape == reference.data.stds.shape
    assert_metadata_extends(mine.metadata, reference.metadata)
    # The Bell state: <ZZ> = <XX> = 1 exactly, <ZI> = 0 within five standard errors.
    exact = np.array([{"ZZ": 1.0, "XX": 1.0, "ZI": 0.0}[label] for label in labels])
    expected = np.broadcast_to(exact if observable_shape else exact[0], mine.data.evs.shape)
    assert np.all(np.abs(mine.data.evs - expected) <= 5 * 0.05)
    # Every binding is an experiment on the wire: a row of a program's table, or a
    # program of its own when it is alone.
    sent = [
        max(1, len(program.get("parameter_values", [])))
        for call in api.calls("POST", "/v1/jobs")
        for program in json.loads(call.request.body)["programs"]
    ]
    assert sum(sent) == experiments
