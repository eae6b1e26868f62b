"""Readout-error mitigation (TREX) in VendorEstimator, measured on the noisy 27-qubit device.

"Error" here is ``|estimate - reference|``, where the reference is the same ISA circuit
run by the emulator's own noise (gate errors, idle decoherence on the device's schedule)
with every readout error set to 0: what a perfect readout would give. Gate noise is not
readout error, so no readout mitigation can or should remove it; comparing with the ideal
value would hide the readout part under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Parameter
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import VendorProvider, VendorValidationError
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.emulator import Emulator, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.simulation import PreparedDevice, detuning_binds
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from tests.helpers import ghz as helpers_ghz

DEVICE = "superconducting_27q"
SEED = 2026
# Mitigated: 16384 shots on the basis circuit and as many on the calibration.
# Unmitigated: the same 32768 shots, all on the basis circuit.
MITIGATED_PRECISION = 1 / math.sqrt(16384)
RAW_PRECISION = 1 / math.sqrt(32768)
REFERENCE_SHOTS = 400_000


@pytest.fixture(scope="module")
def provider(emulator: Emulator) -> VendorProvider:
    return VendorProvider(transport=InProcessTransport(create_app(emulator)))


@pytest.fixture(scope="module")
def device(provider: VendorProvider) -> VendorBackend:
    return provider.get_backend(DEVICE)


def ghz(num_qubits: int) -> QuantumCircuit:
    """The GHZ preparation without measurements (the Estimator measures)."""
    return helpers_ghz(num_qubits, measured=False)


def isa(
    backend: VendorBackend, circuit: QuantumCircuit, layout: Sequence[int], label: str
) -> tuple[QuantumCircuit, SparsePauliOp]:
    """The circuit on ``layout`` in native operations, and the observable moved with it."""
    manager = generate_preset_pass_manager(
        optimization_level=1, backend=backend, initial_layout=list(layout), seed_transpiler=1
    )
    transpiled = manager.run(circuit)
    return transpiled, SparsePauliOp(label).apply_layout(transpiled.layout)


def readout_free_reference(circuit: QuantumCircuit, observable: SparsePauliOp) -> float:
    """``<Z_S>`` of an ISA circuit under the emulator's noise with perfect readout.

    Sampled with many shots from the density matrix (standard error below 0.002).
    """
    spec = DeviceCatalog.from_directories().spec(DEVICE)
    assert spec.calibration is not None
    perfect = spec.model_copy(
        update={
            "calibration": spec.calibration.model_copy(
                update={
                    "qubits": [
                        qubit.model_copy(update={"readout_error": 0.0})
                        for qubit in spec.calibration.qubits
                    ]
                }
            )
        }
    )
    device = PreparedDevice.from_spec(perfect)
    (label,) = observable.paulis.to_labels()
    qubits = [q for q, letter in enumerate(reversed(label)) if letter == "Z"]
    assert set(label) <= {"I", "Z"}
    measured = circuit.copy()
    register = ClassicalRegister(len(qubits), "ref")
    measured.add_register(register)
    for clbit, qubit in enumerate(qubits):
        measured.measure(qubit, register[clbit])
    prepared = device.prepare(measured)
    model = device.noise.model()
    # The slow detuning is drawn per group of shots, as the emulator draws it.
    binds = detuning_binds(prepared, device.noise, seed=SEED)
    groups = len(next(iter(binds.values()))) if binds else 1
    result = (
        AerSimulator(method="density_matrix")
        .run(
            prepared,
            noise_model=model,
            shots=REFERENCE_SHOTS // groups,
            seed_simulator=SEED,
            **({"parameter_binds": [binds]} if binds else {}),
        )
        .result()
    )
    counts: dict[str, int] = {}
    for index in range(groups):
        for key, value in result.get_counts(index).items():
            counts[key] = counts.get(key, 0) + value
    parity = sum((-1) ** key.count("1") * count for key, count in counts.items())
    return float(observable.coeffs[0].real) * parity / REFERENCE_SHOTS


def estimate(
    backend: VendorBackend,
    circuit: QuantumCircuit,
    observable: SparsePauliOp,
    *,
    mitigation: bool,
) -> tuple[float, float, dict[str, object]]:
    estimator = VendorEstimator(
        backend=backend, options={"seed_simulator": SEED, "measure_mitigation": mitigation}
    )
    precision = MITIGATED_PRECISION if mitigation else RAW_PRECISION
    result = estimator.run([(circuit, observable)], precision=precision).result()[0]
    return float(result.data.evs), float(result.data.stds), dict(result.metadata)


@pytest.mark.parametrize(
    ("circuit", "layout", "label"),
    [
        (ghz(2), [13, 14], "ZZ"),
        # Z on four of the five GHZ qubits, 13 among them: <Z^5> of a GHZ-5 is 0 (odd
        # parity), which readout error cannot move, so it would show nothing.
        (ghz(5), [10, 12, 13, 14, 16], "ZZZZI"),
    ],
    ids=["bell-ZZ", "ghz5-Z4"],
)
def test_trex_shrinks_readout_error_five_fold_at_equal_shots(
    device: VendorBackend, circuit: QuantumCircuit, layout: list[int], label: str
) -> None:
    isa_circuit, observable = isa(device, circuit, layout, label)
    reference = readout_free_reference(isa_circuit, observable)
    raw, _, raw_meta = estimate(device, isa_circuit, observable, mitigation=False)
    mitigated, std, meta = estimate(device, isa_circuit, observable, mitigation=True)
    mitigation_meta = meta["measure_mitigation"]
    assert isinstance(mitigation_meta, dict)
    # Equal total shots: basis circuit plus calibration against the raw run's one circuit.
    total = meta["shots"] + mitigation_meta["calibration_shots"]
    # Twirl counts follow IBM's "auto" rule (shots per randomization at least 64).
    assert abs(total - raw_meta["shots"]) <= 0.01 * raw_meta["shots"], (total, raw_meta["shots"])
    raw_error, mitigated_error = abs(raw - reference), abs(mitigated - reference)
    # The mitigated estimate agrees with perfect readout within its own error bars ...
    assert mitigated_error < 4 * std + 0.005, (reference, raw, mitigated, std)
    # ... and that is at least five times closer than the raw estimate.
    assert raw_error >= 5 * mitigated_error, (reference, raw, mitigated)


def test_odd_parity_of_ghz5_stays_at_zero(device: VendorBackend) -> None:
    """``<Z^5>`` of GHZ-5 is 0; mitigation divides by a small scale and must not bias it."""
    isa_circuit, observable = isa(device, ghz(5), [10, 12, 13, 14, 16], "ZZZZZ")
    reference = readout_free_reference(isa_circuit, observable)
    mitigated, std, _ = estimate(device, isa_circuit, observable, mitigation=True)
    assert abs(mitigated - reference) < 4 * std


def test_mitigation_does_not_hurt_an_ideal_device(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    estimator = VendorEstimator(
        backend=backend, options={"seed_simulator": SEED, "measure_mitigation": True}
    )
    bell = ghz(2)
    result = estimator.run([(bell, SparsePauliOp(["ZZ", "XX", "YY", "IZ"]))]).result()[0]
    # ZZ, XX: 1; YY: -1; IZ: 0 (+-4 std). Perfect readout calibrates to a scale of exactly 1.
    assert float(result.data.evs) == pytest.approx(1.0, abs=4 * float(result.data.stds) + 1e-9)
    exact = estimator.run([(bell, SparsePauliOp(["ZZ", "XX"]))]).result()[0]
    assert float(exact.data.evs) == 2.0


def test_level_0_is_off_and_the_old_spelling_is_an_alias(device: VendorBackend) -> None:
    # IBM's default resilience level is 1 (TREX) on a noisy device; level 0 is raw, and
    # the old flat spelling measure_mitigation=False is resilience.measure_mitigation.
    bell, observable = isa(device, ghz(2), [13, 14], "ZZ")
    assert VendorEstimator(backend=device).options.measure_mitigation is True
    default = VendorEstimator(
        backend=device, options={"seed_simulator": SEED, "resilience_level": 0}
    )
    assert default.options.measure_mitigation is False
    explicit = VendorEstimator(
        backend=device,
        options={
            "seed_simulator": SEED,
            "measure_mitigation": False,
            "twirling": {"enable_measure": False},
        },
    )
    assert explicit.options.resilience.measure_mitigation is False
    first = default.run([(bell, observable)], precision=0.05).result()[0]
    second = explicit.run([(bell, observable)], precision=0.05).result()[0]
    assert float(first.data.evs) == float(second.data.evs)
    assert "measure_mitigation" not in first.metadata
    assert first.metadata["shots"] == 400


@pytest.mark.parametrize("value", ["yes", 1, "TREX"])
def test_measure_mitigation_takes_only_a_bool(device: VendorBackend, value: object) -> None:
    with pytest.raises(VendorValidationError, match="measure_mitigation"):
        VendorEstimator(backend=device, options={"measure_mitigation": value})
    estimator = VendorEstimator(backend=device)
    with pytest.raises(VendorValidationError, match="measure_mitigation"):
        estimator.options.measure_mitigation = value


def test_misspelt_option_names_the_right_one(device: VendorBackend) -> None:
    with pytest.raises(VendorValidationError, match=r"did you mean 'measure_mitigation'"):
        VendorEstimator(backend=device, options={"measure_mitigaton": True})


def test_identity_only_observable_needs_no_calibration(device: VendorBackend) -> None:
    estimator = VendorEstimator(backend=device, options={"measure_mitigation": True})
    job = estimator.run([(QuantumCircuit(2), SparsePauliOp(["II"], coeffs=[3.0]))])
    result = job.result()[0]
    assert float(result.data.evs) == 3.0
    assert float(result.data.stds) == 0.0
    assert "measure_mitigation" not in result.metadata


def test_twirls_travel_as_rows_so_mitigated_pubs_fit_one_job(device: VendorBackend) -> None:
    # Each PUB: one basis program and one calibration program, each with a row per
    # randomization (not a circuit per randomization): 20 PUBs fit one job.
    estimator = VendorEstimator(backend=device, options={"measure_mitigation": True, "max_jobs": 1})
    bell = ghz(2)
    observable = SparsePauliOp(["ZI", "IZ"])
    pubs = [(bell, observable)] * 20
    work = estimator._plan(
        [EstimatorPub.coerce(pub, 0.05) for pub in pubs], estimator._current_options()
    )
    assert len(work.plans) == 1
    programs = work.plans[0].programs
    assert len(programs) == 40
    assert {program.num_experiments for program in programs} == {
        work.sweeps[0].suppression.randomizations
    }


def test_precision_at_the_device_limit(device: VendorBackend) -> None:
    limit = 1 / math.sqrt(device.limits.max_shots)
    estimator = VendorEstimator(backend=device, options={"measure_mitigation": True, "max_jobs": 1})
    # With IBM's "auto" twirl counts (32 randomizations), each randomization has 1/32 of
    # the shots; four times the device's per-job limit per randomization needs 4 jobs.
    finer = limit / math.sqrt(32) / 2
    best = 1 / math.sqrt(device.limits.max_shots * 32)
    with pytest.raises(VendorValidationError, match="per twirl variant") as caught:
        estimator.run([(ghz(2), SparsePauliOp("ZZ"))], precision=finer)
    assert f"finest precision within 1 jobs is {best:.3g}" in str(caught.value)


def test_broadcast_sweep_is_mitigated_per_binding(device: VendorBackend) -> None:
    theta = Parameter("t")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    isa_circuit, observable = isa(device, circuit, [13, 14], "ZZ")
    angles = np.array([[0.0], [np.pi]])
    estimator = VendorEstimator(
        backend=device, options={"seed_simulator": SEED, "measure_mitigation": True}
    )
    # Observables (2, 1) broadcast against two bindings: evs[i, j] is observable i at
    # angle j.
    observables = [[observable], [-1 * observable]]
    result = estimator.run([(isa_circuit, observables, angles)], precision=0.02).result()[0]
    assert result.data.evs.shape == (2, 2)
    # Each binding against its own readout-free reference (raw, qubit 13's readout alone
    # would scale it by 0.44): the twirled counts of one binding never mix with another's.
    references = [
        readout_free_reference(isa_circuit.assign_parameters(row), observable) for row in angles
    ]
    expected = np.array([references, [-value for value in references]])
    np.testing.assert_allclose(result.data.evs, expected, atol=4 * float(result.data.stds.max()))


# ------------------------------------------------------------------ sampler


def test_sampler_quasi_dists_correct_a_bell_pair_on_qubit_13(device: VendorBackend) -> None:
    bell, observable = isa(device, ghz(2), [13, 14], "ZZ")
    reference = (1 + readout_free_reference(bell, observable)) / 2  # P(00) + P(11)
    with_measurements = ghz(2)
    with_measurements.measure_all()
    measured = generate_preset_pass_manager(
        optimization_level=1, backend=device, initial_layout=[13, 14], seed_transpiler=1
    ).run(with_measurements)
    shots = 20_000
    options = {"seed_simulator": SEED, "measure_mitigation": True}
    result = VendorSampler(backend=device, options=options).run([measured], shots=shots)
    pub = result.result()[0]
    raw_counts = pub.data.meas.get_counts()
    raw = (raw_counts.get("00", 0) + raw_counts.get("11", 0)) / shots
    quasi = pub.metadata["quasi_dists"].item().binary_probabilities(2)
    mitigated = quasi.get("00", 0.0) + quasi.get("11", 0.0)
    assert sum(quasi.values()) == pytest.approx(1.0)
    # The correction divides the parity by (1-2*0.28)(1-2*e14) ~ 0.42, so its standard
    # error is about sqrt(1/shots) / 0.42 / 2 ~ 0.009; 4 of them bound the residual.
    assert abs(mitigated - reference) < 0.036, (reference, raw, mitigated)
    assert abs(raw - reference) > 5 * abs(mitigated - reference), (reference, raw, mitigated)
    # The samples stay raw: the same seed without mitigation gives the same counts.
    plain = VendorSampler(backend=device, options={"seed_simulator": SEED})
    unmitigated = plain.run([measured], shots=shots).result()[0]
    assert unmitigated.data.meas.get_counts() == raw_counts
    assert "quasi_dists" not in unmitigated.metadata


def test_sampler_quasi_dists_follow_the_pub_shape(device: VendorBackend) -> None:
    theta = Parameter("t")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    sampler = VendorSampler(
        backend=device, options={"seed_simulator": SEED, "measure_mitigation": True}
    )
    pub = sampler.run([(circuit, [[0.0], [np.pi], [np.pi / 2]])], shots=4000).result()[0]
    dists = pub.metadata["quasi_dists"]
    assert dists.shape == (3,)
    # |0>, |1>: the correction takes the readout error back to (nearly) certainty.
    assert dists[0].get(0, 0.0) == pytest.approx(1.0, abs=0.02)
    assert dists[1].get(1, 0.0) == pytest.approx(1.0, abs=0.02)
    assert dists[2].get(0, 0.0) == pytest.approx(0.5, abs=0.05)


def test_sampler_option_is_validated(device: VendorBackend) -> None:
    with pytest.raises(VendorValidationError, match="measure_mitigation"):
        VendorSampler(backend=device, options={"measure_mitigation": "on"})
    assert VendorSampler(backend=device).options.measure_mitigation is False


def test_terms_on_qubits_measured_apart_get_their_own_calibrations(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    options = {"seed_simulator": SEED, "measure_mitigation": True, "abelian_grouping": False}
    flipped = QuantumCircuit(2)
    flipped.x(1)
    observable = SparsePauliOp(["ZI", "IZ", "ZZ", "II"], coeffs=[1.0, 2.0, 4.0, 8.0])
    result = VendorEstimator(backend=backend, options=options).run([(flipped, observable)])
    pub = result.result()[0]
    # Three bases on three qubit sets ((1,), (0,), (0, 1)): three calibrations.
    assert pub.metadata["measure_mitigation"]["calibration_circuits"] == 3
    # |10>: ZI = -1, IZ = 1, ZZ = -1; a perfect readout calibrates to exactly 1.
    assert float(pub.data.evs) == -1.0 + 2.0 - 4.0 + 8.0
