"""Twirling as rows, ZNE folding and fits, DD and IBM-shaped results (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import Operator, SparsePauliOp

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.primitives.twirling import Frame, twirl
from qiskit_vendor_provider.primitives.zne import extrapolate, fold


def chain() -> QuantumCircuit:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    for _ in range(2):
        circuit.cx(0, 1)
        circuit.cx(1, 2)
    return circuit


@pytest.mark.parametrize(
    ("operations", "basis"),
    [({"sx", "rz", "x", "ecr"}, ["sx", "rz", "x", "ecr"]), ({"u", "cx"}, ["u", "cx"])],
)
@pytest.mark.parametrize("strategy", ["active", "active-accum", "active-circuit", "all"])
def test_every_twirl_row_is_the_same_unitary(
    operations: set[str], basis: list[str], strategy: str
) -> None:
    circuit = transpile(chain(), basis_gates=basis, optimization_level=0)
    twirled = twirl(
        circuit,
        Frame.for_operations(operations),
        gates=True,
        measured=[],
        count=5,
        rng=np.random.default_rng(2),
        strategy=strategy,
        close=True,
    )
    assert twirled.values.shape[0] == 5 and len(twirled.parameters) > 0
    reference = Operator(circuit)
    for row in twirled.values:
        bound = twirled.circuit.assign_parameters(dict(zip(twirled.parameters, row, strict=True)))
        assert Operator(bound).equiv(reference)
    # Rows differ: the frames really are random.
    assert len({tuple(row) for row in twirled.values}) > 1


def test_folding_multiplies_the_two_qubit_gates_and_keeps_the_unitary() -> None:
    circuit = transpile(chain(), basis_gates=["u", "cx"], optimization_level=0)
    rng = np.random.default_rng(0)
    for factor, expected in [(1.0, 4), (3.0, 12), (5.0, 20), (2.0, 8)]:
        folded = fold(circuit, factor, "gate_folding", rng)
        assert folded.count_ops()["cx"] == expected
        assert Operator(folded).equiv(Operator(circuit))
    front = fold(circuit, 2.0, "gate_folding_front", rng)
    back = fold(circuit, 2.0, "gate_folding_back", rng)

    def pairs(folded: QuantumCircuit) -> list[tuple[int, ...]]:
        return [
            tuple(folded.find_bit(q).index for q in i.qubits)
            for i in folded.data
            if len(i.qubits) == 2
        ]

    assert pairs(front)[:3] == [(0, 1)] * 3  # the first gate folded
    assert pairs(back)[-3:] == [(1, 2)] * 3  # the last gate folded


def test_a_factor_just_above_an_odd_integer_folds_one_gate_as_ibm_does() -> None:
    # IBM's GateFoldingPass folds max(1, round(fraction * gates)) gates once more: a
    # factor of 1.05 on 4 gates is not the circuit itself (round alone gave 0 folds).
    circuit = transpile(chain(), basis_gates=["u", "cx"], optimization_level=0)
    rng = np.random.default_rng(0)
    assert fold(circuit, 1.05, "gate_folding", rng).count_ops()["cx"] == 6
    assert fold(circuit, 3.05, "gate_folding_front", rng).count_ops()["cx"] == 14


def test_extrapolators_fall_back_in_order() -> None:
    x = np.array([1.0, 3.0, 5.0])
    y = 0.8 - 0.1 * x
    sigma = np.full(3, 0.01)
    values, stds, zero, zero_std, name = extrapolate(
        ("polynomial_degree_3", "linear"), x, y, sigma, np.array([0.0, 1.0]), bound=1.0
    )
    assert name == "linear"  # degree 3 needs 4 points
    assert np.isnan(values[0]).all() and np.allclose(values[1], [0.8, 0.7])
    assert abs(float(zero[0]) - 0.8) < 1e-9 and float(zero_std[0]) > 0.0
    assert stds.shape == (2, 2)


def test_level_2_returns_ibm_zne_fields_and_twirls_as_rows() -> None:
    backend = VendorProvider().get_backend("trapped_ion_11q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    isa = transpile(circuit, backend=backend, initial_layout=[0, 1], seed_transpiler=1)
    observable = SparsePauliOp(["ZZ", "XX"]).apply_layout(isa.layout)
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 3})
    estimator.options.resilience_level = 2
    estimator.options.resilience.zne.noise_factors = (1, 3)
    estimator.options.resilience.zne.extrapolator = ["exponential", "linear"]
    estimator.options.twirling.num_randomizations = 4
    pubs = [(isa, [observable, observable])]
    result = estimator.run(pubs, precision=0.1).result()
    data = result[0].data
    assert data.evs.shape == (2,)
    assert data.evs_noise_factors.shape == (2, 2)
    assert data.evs_extrapolated.shape == (2, 2, 3)  # 2 extrapolators at (0, 1, 3)
    assert data.stds_extrapolated.shape == (2, 2, 3)
    zne = result[0].metadata["resilience"]["zne"]
    assert zne["noise_factors"] == [1.0, 3.0]
    assert result.metadata["resilience"]["zne_mitigation"] is True
    assert result.metadata["twirling"]["num_randomizations"] == 4
    assert float(data.evs[0]) > 1.2  # <ZZ> + <XX> of a Bell pair is 2
    # Per basis and noise factor one program whose rows are the randomizations.
    work = estimator._plan(
        [EstimatorPub.coerce(pubs[0], 0.1)],
        estimator._current_options(),
    )
    programs = [p for plan in work.plans for p in plan.programs]
    assert {p.num_experiments for p in programs} == {4}
    assert len(programs) == 2 * 2 + 1  # 2 bases x 2 factors + 1 TREX calibration


def test_options_not_offered_are_refused_by_name_before_any_http() -> None:
    backend = VendorProvider().get_backend("ideal_simulator")
    estimator = VendorEstimator(backend=backend)
    with pytest.raises(VendorValidationError, match=r"resilience\.pec_mitigation"):
        estimator.options.resilience.pec_mitigation = True
    with pytest.raises(VendorValidationError, match=r"amplifier.*gate_folding"):
        VendorEstimator(backend=backend, options={"resilience": {"zne": {"amplifier": "pea"}}})
    with pytest.raises(VendorValidationError, match=r"layer_noise_learning"):
        estimator.options.resilience.layer_noise_learning.num_randomizations = 4
    with pytest.raises(VendorValidationError, match=r"environment\.private"):
        estimator.options.environment.private = True
    sampler = VendorSampler(backend=backend)
    with pytest.raises(VendorValidationError, match=r"meas_type"):
        sampler.options.execution.meas_type = "kerneled"
    # ideal_simulator has no durations: DD is refused when the run is planned.
    sampler.options.dynamical_decoupling.enable = True
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    with pytest.raises(VendorValidationError, match="dynamical_decoupling"):
        sampler.run([circuit])


def test_ibm_estimator_script_runs_with_only_the_import_and_backend_changed() -> None:
    # As written for qiskit_ibm_runtime.EstimatorV2; only these two lines differ:
    from qiskit_vendor_provider.primitives import VendorEstimator as EstimatorV2

    backend = VendorProvider().get_backend("superconducting_27q")

    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    isa = transpile(circuit, backend=backend, initial_layout=[0, 1], seed_transpiler=1)
    estimator = EstimatorV2(mode=backend)
    estimator.options.default_shots = 2000
    estimator.options.resilience_level = 1
    estimator.options.dynamical_decoupling.enable = True
    estimator.options.dynamical_decoupling.sequence_type = "XY4"
    estimator.options.simulator.seed_simulator = 11
    job = estimator.run([(isa, SparsePauliOp("ZZ").apply_layout(isa.layout))])
    result = job.result()
    assert result.metadata["dynamical_decoupling"]["sequence_type"] == "XY4"
    assert result.metadata["resilience"]["measure_mitigation"] is True
    assert float(result[0].data.evs) > 0.8
