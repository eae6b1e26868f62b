"""VendorEstimator: server-side sweeps and the same answers as the references."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, ParameterVector, QuantumRegister
from qiskit.primitives import BackendEstimatorV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator
from tests.conftest import MockedApi

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


def tolerance(observable: SparsePauliOp, precision: float) -> float:
    """Five standard errors of BackendEstimatorV2's estimate, at its worst."""
    return 5 * float(np.abs(observable.coeffs).sum()) * precision


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
    for mine, reference, observable in zip(
        ours.result(), exact, [HAMILTONIAN, SparsePauliOp(["IXX"])], strict=True
    ):
        assert mine.data.evs.shape == reference.data.evs.shape
        assert np.all(
            np.abs(mine.data.evs - reference.data.evs) <= tolerance(observable, precision)
        )


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
    ours = VendorEstimator(backend=backend, options=options).run(pubs).result()
    theirs = BackendEstimatorV2(backend=backend, options=options).run(pubs).result()
    assert ours.metadata == theirs.metadata
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.metadata == reference.metadata
        assert list(mine.data.keys()) == list(reference.data.keys()) == ["evs", "stds"]
        for name in ("evs", "stds"):
            assert mine.data[name].shape == reference.data[name].shape
            assert mine.data[name].dtype == reference.data[name].dtype == np.float64
        precision = mine.metadata["target_precision"]
        assert np.all(
            np.abs(mine.data.evs - reference.data.evs)
            <= math.sqrt(2) * tolerance(layout_hamiltonian, precision)
        )
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
