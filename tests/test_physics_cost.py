"""A job that would keep a simulator busy for hours is refused with the estimate."""

from __future__ import annotations

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.models import JobSubmission
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.simulation import (
    JobRunner,
    SimulationTooLongError,
    estimated_seconds,
)
from qiskit_vendor_provider.errors import VendorJobError
from qiskit_vendor_provider.serialization import circuit_to_wire

SC = "superconducting_27q"


def wide(qubits: int) -> QuantumCircuit:
    """Every one of ``qubits`` qubits gated (so simulated, with idle noise), then read."""
    circuit = QuantumCircuit(27, qubits)
    for qubit in range(qubits):
        circuit.sx(qubit)
    circuit.measure(range(qubits), range(qubits))
    return circuit


def test_the_estimate_grows_with_qubits_and_shots_as_aer_does() -> None:
    small, large = wide(5), wide(24)
    # 5 qubits, 4,000 shots: one density matrix of 4^5 entries.
    assert estimated_seconds([small], [1], shots=4000, noisy=True) < 0.01
    # 24 qubits: a state vector of 2^24 amplitudes per shot, hours at 4,000 shots.
    hours = estimated_seconds([large], [1], shots=4000, noisy=True) / 3600
    assert hours > 1
    assert estimated_seconds([large], [1], shots=40, noisy=True) / 3600 == pytest.approx(
        hours / 100
    )
    # Ideal: one state vector, sampled.
    assert estimated_seconds([large], [1], shots=4000, noisy=False) < 10


def test_a_job_of_hours_is_refused_with_its_estimate_before_it_runs() -> None:
    spec = DeviceCatalog.from_directories().spec(SC)
    submission = JobSubmission(
        device=SC, programs=[circuit_to_wire(wide(24))], shots=4000, seed_simulator=1
    )
    with pytest.raises(SimulationTooLongError, match=r"about \d+\.\d hours.*24 qubits"):
        JobRunner().run(submission, spec)


def test_the_refusal_reaches_the_user_as_a_failed_job(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend(SC)
    job = backend.run(wide(24), shots=4000)
    with pytest.raises(VendorJobError, match="hours to simulate"):
        job.result(timeout=120)


def test_a_program_too_large_for_memory_is_left_to_fail_alone() -> None:
    """Aer refuses it at once (its own message, the job's other programs still run)."""
    assert estimated_seconds([wide(24)], [1], shots=4000, noisy=True, max_memory_mb=64) == 0


def test_one_pass_survey_counts_as_the_flat_operations_do() -> None:
    # survey() walks a static circuit once, without flat_operations; it must count the
    # operations and active qubits as flat_operations does, blocks included.
    from qiskit_vendor_provider.emulator.simulation import flat_operations, survey

    static = QuantumCircuit(5, 2)
    static.sx(3)
    static.barrier()
    static.cx(3, 1)
    static.delay(100, 4)
    static.measure([1, 3], [0, 1])
    dynamic = static.copy()
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(0)
    for circuit, is_dynamic in ((static, False), (dynamic, True)):
        flat = list(flat_operations(circuit))
        facts = survey(circuit)
        assert facts.operations == len(flat)
        assert facts.active == {q for name, qs in flat if name != "barrier" for q in qs}
        assert facts.dynamic is is_dynamic
    assert survey(static).active == {1, 3, 4}
    assert survey(dynamic).active == {0, 1, 3, 4}
