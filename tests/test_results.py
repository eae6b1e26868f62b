"""Results are right to the bit: distributions, registers, memory, counts summing to shots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import VendorProvider
from tests.tolerances import standard_errors, within

SHOTS = 4000


def sigma(p: float, shots: int) -> float:
    """Standard deviation of an observed frequency with true probability ``p``."""
    return math.sqrt(max(p * (1 - p), 1 / shots) / shots)


def assert_close_distributions(
    observed: dict[str, int], expected: dict[str, float], shots: int, *, both_sampled: bool
) -> None:
    """Each outcome's frequency within 5 standard deviations of the expected probability."""
    factor = math.sqrt(2) if both_sampled else 1.0
    for key in set(observed) | set(expected):
        p = expected.get(key, 0.0)
        frequency = observed.get(key, 0) / shots
        assert abs(frequency - p) <= 5 * factor * sigma(p, shots) + 1e-12, (key, frequency, p)


def test_bell_distribution(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    counts = backend.run(circuit, shots=SHOTS, seed_simulator=11).result().get_counts()
    assert sum(counts.values()) == SHOTS
    assert set(counts) == {"00", "11"}
    assert_close_distributions(counts, {"00": 0.5, "11": 0.5}, SHOTS, both_sampled=False)


@pytest.mark.parametrize("num_qubits", [3, 5])
def test_ghz_distribution_on_sparse_noisy_device(provider: VendorProvider, num_qubits: int) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(num_qubits)
    circuit.h(0)
    for q in range(num_qubits - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    pass_manager = generate_preset_pass_manager(
        backend=backend, optimization_level=1, seed_transpiler=3
    )
    result = backend.run(pass_manager.run(circuit), shots=SHOTS, seed_simulator=5).result()
    counts = result.get_counts()
    assert sum(counts.values()) == SHOTS
    assert all(len(key) == num_qubits for key in counts)
    ghz = counts.get("0" * num_qubits, 0) + counts.get("1" * num_qubits, 0)
    # Noisy device: most, but not all, shots land on the two GHZ outcomes.
    assert 0.75 * SHOTS < ghz < SHOTS
    assert abs(counts["0" * num_qubits] - counts["1" * num_qubits]) < 0.15 * SHOTS


def _two_register_circuit() -> QuantumCircuit:
    """Two classical registers, partial measurement, out-of-order and non-contiguous clbits."""
    qreg = QuantumRegister(4, "q")
    alpha = ClassicalRegister(3, "alpha")
    beta = ClassicalRegister(2, "beta")
    circuit = QuantumCircuit(qreg, alpha, beta, name="two-registers")
    circuit.x(0)
    circuit.h(1)
    circuit.cx(1, 2)
    circuit.ry(1.1, 3)
    circuit.measure(0, beta[1])  # always 1
    circuit.measure(1, alpha[0])
    circuit.measure(2, alpha[2])  # alpha[1] is never measured: always 0
    circuit.measure(3, beta[0])
    return circuit


def test_two_registers_partial_measurement_match_aer(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = _two_register_circuit()
    ours = backend.run(circuit, shots=SHOTS, seed_simulator=21).result().get_counts()
    reference = AerSimulator().run(circuit, shots=SHOTS, seed_simulator=99).result().get_counts()
    assert set(ours) <= {
        "00 000",
        "01 000",
        "10 000",
        "11 000",
        "00 101",
        "01 101",
        "10 101",
        "11 101",
    } | set(reference)
    for key in ours:
        beta, alpha = key.split(" ")
        assert beta[0] == "1", key  # beta[1], the leftmost bit of beta, is qubit 0: always 1
        assert alpha[1] == "0", key  # alpha[1] is never measured
        assert alpha[0] == alpha[2], key  # qubits 1 and 2 are entangled
    expected = {key: value / SHOTS for key, value in reference.items()}
    assert_close_distributions(ours, expected, SHOTS, both_sampled=True)
    assert sum(ours.values()) == SHOTS


def test_memory_per_shot_is_consistent_with_counts(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = _two_register_circuit()
    shots = 500
    result = backend.run(circuit, shots=shots, memory=True, seed_simulator=4).result()
    memory = result.get_memory()
    assert len(memory) == shots
    assert all(len(item) == len("00 000") for item in memory)
    counts = result.get_counts()
    assert {key: memory.count(key) for key in set(memory)} == counts
    raw = result.results[0].data.memory
    assert all(item.startswith("0x") for item in raw)  # hex, as BackendSamplerV2 decodes it


def test_memory_off_by_default(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    result = backend.run(circuit, shots=10).result()
    assert result.get_counts() == {"0": 10}
    with pytest.raises(Exception, match="No memory"):
        result.get_memory()


def test_several_circuits_in_one_job_keep_order_names_and_metadata(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuits = []
    for n in range(4):
        circuit = QuantumCircuit(3, 3, name=f"x{n}", metadata={"n": n, "arr": np.arange(2)})
        for q in range(3):
            if n >> q & 1:
                circuit.x(q)
        circuit.measure(range(3), range(3))
        circuits.append(circuit)
    job = backend.run(circuits, shots=50)
    result = job.result()
    for n, circuit in enumerate(circuits):
        assert result.get_counts(n) == {format(n, "03b"): 50}
        assert result.get_counts(circuit.name) == {format(n, "03b"): 50}
        metadata = result.results[n].header["metadata"]
        assert metadata["n"] == n
        assert isinstance(metadata["arr"], np.ndarray)  # the original object, not a JSON copy
    assert job.job_id() == result.job_id


def test_circuit_without_measurements_counts_all_shots(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2, 1)
    circuit.h(0)
    result = backend.run(circuit, shots=64).result()
    assert result.get_counts() == {"0": 64}


def test_seed_makes_runs_reproducible(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(3, 3)
    circuit.h(range(3))
    circuit.measure(range(3), range(3))
    first = backend.run(circuit, shots=300, seed_simulator=77).result().get_counts()
    second = backend.run(circuit, shots=300, seed_simulator=77).result().get_counts()
    assert first == second


def test_backend_sampler_v2_gives_register_bitarrays(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = _two_register_circuit()
    sampler = BackendSamplerV2(backend=backend, options={"seed_simulator": 8})
    data = sampler.run([circuit], shots=SHOTS).result()[0].data
    alpha = data.alpha.get_counts()
    beta = data.beta.get_counts()
    assert sum(alpha.values()) == sum(beta.values()) == SHOTS
    assert set(alpha) == {"000", "101"}
    assert set(beta) == {"10", "11"}
    p_one = math.sin(1.1 / 2) ** 2
    assert abs(beta["11"] / SHOTS - p_one) <= 5 * sigma(p_one, SHOTS)


def test_backend_estimator_v2_expectation_values(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.ry(0.4, 0)
    observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX"), SparsePauliOp("IZ")]
    estimator = BackendEstimatorV2(backend=backend, options={"seed_simulator": 2})
    precision = 0.01
    evs = estimator.run([(circuit, observables)], precision=precision).result()[0].data.evs
    from qiskit.quantum_info import Statevector

    exact = [Statevector(circuit).expectation_value(o).real for o in observables]
    assert within(evs, exact, standard_errors((circuit, observables), precision))


def test_preset_pass_manager_output_runs_on_every_device(provider: VendorProvider) -> None:
    circuit = QuantumCircuit(3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.cp(0.3, 1, 2)
    circuit.measure_all()
    for backend in provider.backends():
        pass_manager = generate_preset_pass_manager(
            backend=backend, optimization_level=2, seed_transpiler=1
        )
        counts = (
            backend.run(pass_manager.run(circuit), shots=200, seed_simulator=1)
            .result()
            .get_counts()
        )
        assert sum(counts.values()) == 200


def test_result_date_is_when_the_job_ended(provider: VendorProvider) -> None:
    from datetime import datetime

    from tests.helpers import bell

    job = provider.get_backend("ideal_simulator").run(bell(), shots=10)
    result = job.result()  # the quick path: the result is the only request after the POST
    assert result.date is not None
    ended = job.refresh().ended_at
    assert ended is not None
    assert datetime.fromisoformat(result.date) == ended
    assert result.to_dict()["date"] == result.date


def test_result_date_from_the_job_status_when_the_server_leaves_it_out() -> None:
    from datetime import datetime, timezone

    from qiskit_vendor_provider.api.models import JobResult
    from qiskit_vendor_provider.serialization import to_qiskit_result

    ended = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=timezone.utc)
    older = JobResult(job_id="j", device="d", status="DONE", success=True, results=[])
    result = to_qiskit_result(older, backend_name="d", backend_version="1", ended_at=ended)
    assert result.date == "2025-03-04T05:06:07.890000+00:00"
    assert to_qiskit_result(older, backend_name="d", backend_version="1").date is None
    newer = older.model_copy(update={"ended_at": ended})
    assert to_qiskit_result(newer, backend_name="d", backend_version="1").date == result.date
