"""Device time: backend.estimate() before running, job.usage() after, one formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.device_time import DeviceTimeEstimate
from qiskit_vendor_provider.errors import CircuitValidationError, VendorValidationError
from tests.conftest import MockedApi
from tests.helpers import bell, queued_job

DEVICES = ["ideal_simulator", "superconducting_27q", "trapped_ion_11q"]


def _duration(backend: object, name: str, qargs: tuple[int, ...]) -> float:
    props = backend.target[name][qargs]  # type: ignore[attr-defined]
    return float(props.duration)


def test_hand_computed_estimate_on_superconducting(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(27, 2)
    circuit.sx(0)
    circuit.sx(0)
    circuit.x(1)
    circuit.delay(100, 1, unit="dt")
    circuit.delay(1.5, 0, unit="us")
    circuit.barrier(0, 1)
    circuit.measure([0, 1], [0, 1])
    qubit0 = 2 * _duration(backend, "sx", (0,)) + 1.5e-6
    qubit1 = _duration(backend, "x", (1,)) + 100 * backend.target.dt
    measure = max(_duration(backend, "measure", (0,)), _duration(backend, "measure", (1,)))
    duration = max(qubit0, qubit1) + measure  # the barrier makes qubit 1 wait for qubit 0
    spec = backend.spec
    expected = spec.job_overhead_seconds + 300 * (duration + spec.default_rep_delay)
    posts = len(api.calls("POST", "/v1/jobs"))
    estimate = backend.estimate(circuit, shots=300)
    assert isinstance(estimate, DeviceTimeEstimate)
    assert math.isclose(estimate.device_seconds, expected, rel_tol=1e-12)
    (program,) = estimate.per_program
    assert math.isclose(program.duration, duration, rel_tol=1e-12)
    assert (program.shots, program.rows) == (300, 1)
    assert estimate.pending_jobs >= 0
    assert len(api.calls("POST", "/v1/jobs")) == posts  # nothing submitted
    assert api.calls("GET", "/v1/devices/superconducting_27q/status")
    with pytest.raises(AttributeError):
        estimate.device_seconds = 0.0  # type: ignore[misc]


def _sweep(backend: object) -> tuple[QuantumCircuit, Parameter]:
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, 2, name="sweep")
    circuit.rx(theta, 0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return transpile(circuit, backend=backend, optimization_level=1, seed_transpiler=1), theta


@pytest.mark.parametrize("device", DEVICES)
def test_estimate_equals_usage(provider: VendorProvider, device: str) -> None:
    backend = provider.get_backend(device)
    swept, theta = _sweep(backend)
    fixed = transpile(bell(), backend=backend, optimization_level=1, seed_transpiler=1)
    cases: list[tuple[list[QuantumCircuit], list[dict[Parameter, object]] | None, int]] = [
        ([fixed], None, 10),
        ([fixed, swept], [{}, {theta: np.linspace(0, 1, 3)}], 7),
    ]
    for circuits, binds, shots in cases:
        estimate = backend.estimate(circuits, parameter_binds=binds, shots=shots)
        job = backend.run(circuits, parameter_binds=binds, shots=shots)
        job.result()
        usage = job.usage()
        assert usage is not None
        assert math.isclose(usage, estimate.device_seconds, rel_tol=1e-12, abs_tol=1e-15)
    # Rows multiply: the swept program is charged three times the shots.
    assert estimate.per_program[1].rows == 3
    assert math.isclose(
        estimate.per_program[1].seconds,
        3 * shots * (estimate.per_program[1].duration + estimate.per_program[1].rep_delay),
    )


def test_ideal_simulator_without_durations_is_overhead_plus_rep_delay(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    estimate = backend.estimate(bell(), shots=50)
    spec = backend.spec
    assert estimate.per_program[0].duration == 0.0
    assert estimate.device_seconds == spec.job_overhead_seconds + 50 * (
        spec.default_rep_delay or 0.0
    )


def test_control_flow_counts_the_longer_branch_and_loop_bounds(provider: VendorProvider) -> None:
    backend = provider.get_backend("superconducting_27q")
    sx = _duration(backend, "sx", (0,))
    measure = _duration(backend, "measure", (0,))

    def durations(build: object) -> float:
        circuit = QuantumCircuit(27, 1)
        circuit.measure(0, 0)
        build(circuit)  # type: ignore[operator]
        return backend.estimate(circuit, shots=1).per_program[0].duration - measure

    def if_else(circuit: QuantumCircuit) -> None:
        with circuit.if_test((circuit.clbits[0], 1)) as else_:
            circuit.sx(0)
        with else_:
            circuit.sx(0)
            circuit.sx(0)
            circuit.sx(0)

    def for_loop(circuit: QuantumCircuit) -> None:
        with circuit.for_loop(range(4)):
            circuit.sx(0)

    def while_loop(circuit: QuantumCircuit) -> None:
        with circuit.while_loop((circuit.clbits[0], 1)):
            circuit.sx(0)
            circuit.measure(0, 0)

    assert math.isclose(durations(if_else), 3 * sx)
    assert math.isclose(durations(for_loop), 4 * sx)
    bound = backend.spec.limits.max_loop_iterations
    assert math.isclose(durations(while_loop), bound * (sx + measure))


def test_estimate_refuses_what_run_refuses_before_any_request(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(27, 2)
    circuit.measure([0, 1], [0, 1])
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="shots"):
        backend.estimate(circuit, shots=0)
    with pytest.raises(VendorValidationError, match="shots"):
        backend.estimate(circuit, shots=10**12)
    with pytest.raises(VendorValidationError, match="frobnicate"):
        backend.estimate(circuit, frobnicate=1)
    with pytest.raises(CircuitValidationError):
        backend.estimate(bell())  # h is not native: the same error run() gives
    with pytest.raises(VendorValidationError):
        backend.estimate(circuit, rep_delay=10.0)
    assert len(api.calls()) == before


def test_usage_is_reported_once_done(provider: VendorProvider) -> None:
    backend = provider.get_backend("trapped_ion_11q")
    circuit = transpile(bell(), backend=backend, optimization_level=1, seed_transpiler=1)
    job = backend.run(circuit, shots=5)
    job.result()
    usage = job.usage()
    assert usage is not None
    assert usage > backend.spec.job_overhead_seconds


def test_sampler_estimate_equals_the_usage_of_its_jobs(
    provider: VendorProvider, api: MockedApi
) -> None:
    from qiskit_vendor_provider.primitives import VendorSampler

    backend = provider.get_backend("trapped_ion_11q")
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.rx(theta, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    # More shots than one job may take: the plan splits them, and the estimate follows.
    shots = backend.limits.max_shots + 10
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 1})
    pubs = [(circuit, [[0.1], [0.2]], shots)]
    posts = len(api.calls("POST", "/v1/jobs"))
    estimate = sampler.estimate(pubs)
    assert len(api.calls("POST", "/v1/jobs")) == posts
    assert estimate.num_jobs == 2
    assert math.isclose(estimate.overhead_seconds, 2 * backend.spec.job_overhead_seconds)
    sampler.run(pubs).result()
    jobs = backend.jobs(limit=2)
    usage = sum(job.usage() or 0.0 for job in jobs)
    assert math.isclose(usage, estimate.device_seconds, rel_tol=1e-12)


def test_estimator_estimate_equals_the_usage_of_its_jobs(
    provider: VendorProvider, api: MockedApi
) -> None:
    from qiskit.quantum_info import SparsePauliOp

    from qiskit_vendor_provider.primitives import VendorEstimator

    backend = provider.get_backend("trapped_ion_11q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    observables = SparsePauliOp.from_list([("ZZ", 1.0), ("XX", 1.0)])
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 1})
    posts = len(api.calls("POST", "/v1/jobs"))
    estimate = estimator.estimate([(circuit, observables)], precision=0.05)
    assert len(api.calls("POST", "/v1/jobs")) == posts
    # One measurement basis per commuting group, and (IBM's default resilience level 1)
    # the TREX calibration: the estimate counts the extra programs and shots.
    assert len(estimate.per_program) == 3
    estimator.run([(circuit, observables)], precision=0.05).result()
    jobs = backend.jobs(limit=estimate.num_jobs)
    usage = sum(job.usage() or 0.0 for job in jobs)
    assert math.isclose(usage, estimate.device_seconds, rel_tol=1e-12)
    with pytest.raises(ValueError, match="precision"):
        estimator.estimate([(circuit, observables)], precision=0.0)


def test_swept_delay_is_refused_as_the_server_refuses_it(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("superconducting_27q")
    wait = Parameter("wait")
    circuit = QuantumCircuit(27, 1)
    circuit.x(0)
    circuit.delay(wait, 0, unit="dt")
    circuit.measure(0, 0)
    with pytest.raises(VendorValidationError, match="delay"):
        backend.estimate(circuit, parameter_binds=[{wait: [16, 160]}], shots=4)
    with pytest.raises(VendorValidationError, match="delay"):
        backend.run(circuit, parameter_binds=[{wait: [16, 160]}], shots=4)


def test_usage_is_stored_with_the_job_and_survives_a_reopen(tmp_path: object) -> None:
    import sqlite3
    from pathlib import Path

    from qiskit_vendor_provider.emulator.store import SQLiteJobStore

    database = Path(str(tmp_path)) / "jobs.sqlite3"
    # A database made before usage was stored: opening it adds the column.
    old = sqlite3.connect(database)
    old.executescript(
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL "
        "UNIQUE, account TEXT NOT NULL, idempotency_key TEXT, device TEXT NOT NULL, status "
        "TEXT NOT NULL, name TEXT, tags TEXT NOT NULL DEFAULT '[]', shots INTEGER NOT NULL, "
        "num_programs INTEGER NOT NULL, submission TEXT NOT NULL, result TEXT, error TEXT, "
        "created_at REAL NOT NULL, started_at REAL, ended_at REAL, "
        "UNIQUE (account, idempotency_key));"
    )
    old.close()
    store = SQLiteJobStore(database)
    # One job runs on a device at a time: each is claimed and ended in turn.
    for job_id, error in (("done", None), ("failed", "boom")):
        store.create(queued_job(job_id, device="ideal_simulator"))
        store.claim_next("owner", 60.0, ["ideal_simulator"])
        assert store.finish(job_id, "{}", error, usage_seconds=1.25)
    store.close()
    reopened = SQLiteJobStore(database)
    done, failed = reopened.get("done"), reopened.get("failed")
    assert done is not None and failed is not None
    assert done.usage_seconds == 1.25
    assert failed.usage_seconds is None  # only a complete result is charged
    reopened.close()


def test_an_estimate_follows_a_refreshed_calibration(provider_session: VendorProvider) -> None:
    """Durations are read once per Target, and again once its calibration is refreshed."""
    from qiskit_vendor_provider.api.models import Calibration

    backend = provider_session.get_backend("superconducting_27q")
    circuit = QuantumCircuit(1, 1)
    circuit.sx(0)
    circuit.measure(0, 0)
    before = backend.estimate(circuit, shots=100).per_program[0].duration
    calibration = backend.spec.calibration
    assert calibration is not None
    slower = [
        gate.model_copy(update={"duration": (gate.duration or 0.0) * 2})
        if gate.name == "sx" and gate.qubits == [0]
        else gate
        for gate in calibration.gates
    ]
    backend._apply_calibration(
        Calibration(timestamp=calibration.timestamp, qubits=calibration.qubits, gates=slower)
    )
    try:
        after = backend.estimate(circuit, shots=100).per_program[0].duration
        sx = next(g for g in calibration.gates if g.name == "sx" and g.qubits == [0])
        assert after - before == pytest.approx(sx.duration or 0.0, rel=1e-9)
    finally:
        backend._apply_calibration(calibration)


def test_a_chosen_rep_delay_is_estimated_and_charged(provider: VendorProvider) -> None:
    """rep_delay goes on the wire: the estimate and the server's charge both use it."""
    backend = provider.get_backend("superconducting_27q")
    circuit = transpile(bell(), backend, seed_transpiler=1)
    low, high = backend.spec.rep_delay_range or (0.0, 0.0)
    chosen = (low + high) / 3
    default = backend.estimate(circuit, shots=200)
    estimate = backend.estimate(circuit, shots=200, rep_delay=chosen)
    default_delay = backend.spec.default_rep_delay or 0.0
    assert estimate.device_seconds - default.device_seconds == pytest.approx(
        200 * (chosen - default_delay), rel=1e-9
    )
    job = backend.run(circuit, shots=200, rep_delay=chosen)
    job.result()
    assert job.usage() == pytest.approx(estimate.device_seconds, rel=1e-9)


def test_the_server_refuses_a_rep_delay_out_of_the_device_range(
    provider: VendorProvider,
) -> None:
    from qiskit_vendor_provider.api import wire
    from qiskit_vendor_provider.api.models import JobSubmission
    from qiskit_vendor_provider.serialization import circuit_to_wire

    backend = provider.get_backend("superconducting_27q")
    circuit = transpile(bell(), backend, seed_transpiler=1)
    _, high = backend.spec.rep_delay_range or (0.0, 0.0)
    job = JobSubmission(
        device=backend.name, shots=10, programs=[circuit_to_wire(circuit)], rep_delay=high * 2
    )
    with pytest.raises(VendorValidationError, match=r"rep_delay=.* is out of range"):
        backend._client.submit_payload(wire.encode_submission(job), "rep-delay-too-long")


def test_a_target_without_durations_times_only_delays_at_any_depth() -> None:
    # circuit_duration skips the walk when a duration-less device has nothing to time;
    # delays (at top level or in a block) still take their time, as the walk gives.
    from qiskit.transpiler import Target

    from qiskit_vendor_provider.device_time import circuit_duration

    target = Target(num_qubits=2, dt=1e-9)
    plain = QuantumCircuit(2, 1)
    plain.h(0)
    plain.cx(0, 1)
    plain.measure(1, 0)
    assert circuit_duration(plain, target, 10) == 0.0
    delayed = plain.copy()
    delayed.delay(2, 1, unit="us")
    assert circuit_duration(delayed, target, 10) == pytest.approx(2e-6)
    looped = plain.copy()
    with looped.for_loop(range(3)):
        looped.delay(100, 0)
    assert circuit_duration(looped, target, 10) == pytest.approx(300e-9)
