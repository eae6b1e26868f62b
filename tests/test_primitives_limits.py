"""Device limits handled by the primitives: shots split and merged, PUBs packed, payload kept."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Clbit, Parameter, QuantumRegister
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import VendorBackend, VendorProvider, VendorValidationError
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.primitives.packing import (
    envelope_size,
    make_program,
    plan_jobs,
    split_shots,
)
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.conftest import MockedApi


def lower_limits(backend: VendorBackend, **limits: int) -> VendorBackend:
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update=limits)}
    )
    return backend


def posted(api: MockedApi) -> list[dict[str, Any]]:
    return [json.loads(call.request.body) for call in api.calls("POST", "/v1/jobs")]


def basis_state(bits: str) -> QuantumCircuit:
    """A circuit that always reads ``bits`` (Qiskit order: clbit 0 is the last character)."""
    circuit = QuantumCircuit(len(bits), name=f"state-{bits}")
    for index, bit in enumerate(reversed(bits)):
        if bit == "1":
            circuit.x(index)
    circuit.measure_all()
    return circuit


def rx_sweep(name: str = "rx") -> tuple[QuantumCircuit, Parameter]:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, name=name)
    circuit.rx(theta, 0)
    circuit.measure_all()
    return circuit, theta


# --------------------------------------------------------------------------- shots


def test_shots_over_max_shots_are_split_and_merged_in_order(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=100)
    circuit = QuantumCircuit(2)
    circuit.h([0, 1])
    circuit.measure_all()
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 9})
    result = sampler.run([circuit], shots=250).result()[0]

    bodies = posted(api)
    assert [body["shots"] for body in bodies] == [100, 100, 50]
    seeds = [body["seed_simulator"] for body in bodies]
    assert seeds[0] == 9
    assert len(set(seeds)) == 3  # chunks with one seed would repeat each other's samples
    assert result.metadata["shots"] == 250
    assert result.data.meas.num_shots == 250

    # The samples are the jobs' memories, concatenated in job order.
    job_ids = [json.loads(call.response.text)["job_id"] for call in api.calls("POST", "/v1/jobs")]
    memory = [
        sample
        for job_id in job_ids
        for sample in provider.client.get_result(job_id).results[0].data[0].memory or []
    ]
    assert result.data.meas.get_bitstrings() == [format(int(m, 16), "02b") for m in memory]


def test_split_shots_of_a_sweep_merge_per_binding(provider: VendorProvider, api: MockedApi) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=64)
    circuit, _ = rx_sweep()
    values = np.array([[0.0], [math.pi], [0.0]])
    result = VendorSampler(backend=backend).run([(circuit, values, 150)]).result()[0]
    assert [body["shots"] for body in posted(api)] == [64, 64, 22]
    assert result.data.meas.shape == (3,)
    assert [result.data.meas[i].get_counts() for i in range(3)] == [
        {"0": 150},
        {"1": 150},
        {"0": 150},
    ]


def test_estimator_precision_beyond_one_job_is_met_by_splitting(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=1000)
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 2})
    result = estimator.run([(circuit, SparsePauliOp(["ZZ", "XX"]))], precision=0.02).result()[0]
    assert [body["shots"] for body in posted(api)] == [1000, 1000, 500]
    assert result.metadata["shots"] == 2500
    assert result.metadata["target_precision"] == 0.02
    assert float(result.data.evs) == pytest.approx(2.0)


def test_a_precision_needing_more_than_max_jobs_fails_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=1000)
    circuit = QuantumCircuit(1)
    circuit.h(0)
    estimator = VendorEstimator(backend=backend, options={"max_jobs": 5})
    before = len(api.calls())
    with pytest.raises(VendorValidationError) as info:
        estimator.run([(circuit, "Z")], precision=0.01)
    message = str(info.value)
    assert "needs 10000 shots" in message
    assert "max_jobs=5" in message
    assert "finest precision within 5 jobs is 0.0141" in message
    assert len(api.calls()) == before
    # Raising max_jobs makes the same precision possible.
    estimator.set_options(max_jobs=10)
    assert estimator.run([(circuit, "Z")], precision=0.01).result()[0].metadata["shots"] == 10000


def test_sampler_shots_needing_more_than_max_jobs_fail_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=10)
    sampler = VendorSampler(backend=backend, options={"max_jobs": 3})
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="needs 4 jobs") as info:
        sampler.run([basis_state("1")], shots=31)
    assert "ask for fewer shots or PUBs, or raise max_jobs with set_options()" in str(info.value)
    assert len(api.calls()) == before


def test_estimator_pubs_packed_into_more_than_max_jobs_fail_naming_the_fix(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_circuits=1)
    circuit = QuantumCircuit(1)
    circuit.h(0)
    estimator = VendorEstimator(backend=backend, options={"max_jobs": 2})
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="needs 3 jobs") as info:
        estimator.run([(circuit, "Z")] * 3, precision=0.1)
    message = str(info.value)
    assert "and 1 circuits per job), over max_jobs=2" in message
    assert "ask for a coarser precision or fewer PUBs, or raise max_jobs" in message
    assert len(api.calls()) == before


def test_default_shots_over_max_shots_are_split_too(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_shots=30)
    sampler = VendorSampler(backend=backend, options={"default_shots": 45})
    result = sampler.run([basis_state("10")]).result()[0]
    assert [body["shots"] for body in posted(api)] == [30, 15]
    assert result.data.meas.get_counts() == {"10": 45}


# --------------------------------------------------------------------------- circuits


def test_pubs_over_max_circuits_are_packed_into_several_jobs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_circuits=3)
    states = [format(i, "03b") for i in range(7)]
    result = VendorSampler(backend=backend).run([basis_state(s) for s in states], shots=20).result()
    assert [len(body["programs"]) for body in posted(api)] == [3, 3, 1]
    assert [pub.data.meas.get_counts() for pub in result] == [{s: 20} for s in states]


def test_pubs_with_different_shots_run_in_separate_jobs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    pubs = [(basis_state("01"), None, 10), (basis_state("10"), None, 20), (basis_state("11"),)]
    result = VendorSampler(backend=backend).run(pubs, shots=10).result()
    assert sorted((body["shots"], len(body["programs"])) for body in posted(api)) == [
        (10, 2),
        (20, 1),
    ]
    assert [pub.data.meas.get_counts() for pub in result] == [{"01": 10}, {"10": 20}, {"11": 10}]
    # Every job is submitted before any is waited for.
    job_calls = [call.request for call in api.calls(path="/v1/jobs")]
    first_get = next(i for i, request in enumerate(job_calls) if request.method == "GET")
    assert all(request.method == "GET" for request in job_calls[first_get:])


def test_a_table_over_max_parameter_rows_is_split_into_programs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_parameter_rows=10)
    circuit, _ = rx_sweep()
    flips = np.arange(25) % 3 == 0
    values = np.where(flips, math.pi, 0.0).reshape(25, 1)
    result = VendorSampler(backend=backend).run([(circuit, values)], shots=8).result()[0]
    (body,) = posted(api)
    assert [len(p["parameter_values"]) for p in body["programs"]] == [10, 10, 5]
    assert [result.data.meas[i].get_counts() for i in range(25)] == [
        {"1" if flip else "0": 8} for flip in flips
    ]


# --------------------------------------------------------------------------- payload


def wire_size(circuit: QuantumCircuit) -> int:
    """Bytes of the circuit's program as the client sends it."""
    return len(wire.encode_program(circuit_to_wire(circuit)))


def test_payload_limit_packs_circuits_into_as_few_jobs_as_fit(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    states = [format(i, "04b") for i in range(8)]
    circuits = [basis_state(s) for s in states]
    sizes = [wire_size(circuit) for circuit in circuits]
    limit = 3 * max(sizes)
    lower_limits(backend, max_payload_bytes=limit)
    result = VendorSampler(backend=backend).run(circuits, shots=5).result()
    calls = api.calls("POST", "/v1/jobs")
    assert all(len(call.request.body) <= limit for call in calls)
    # Greedy packing by exact size: the planner must not lose jobs to loose size bounds.
    envelope = envelope_size(backend.name, 5, {}, True)
    expected, used = 1, envelope
    for size in sizes:
        if used + size + 1 > limit:
            expected, used = expected + 1, envelope
        used += size + 1
    assert len(calls) == expected > 1
    assert sum(len(json.loads(call.request.body)["programs"]) for call in calls) == 8
    assert [pub.data.meas.get_counts() for pub in result] == [{s: 5} for s in states]


def test_payload_limit_splits_a_large_table_over_jobs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit, _ = rx_sweep()
    values = np.where(np.arange(300) % 2 == 1, math.pi, 0.0).reshape(300, 1)
    whole = make_program(circuit, parameters=list(circuit.parameters), rows=values).size
    limit = whole // 2
    lower_limits(backend, max_payload_bytes=limit)
    result = VendorSampler(backend=backend).run([(circuit, values)], shots=4).result()[0]
    calls = api.calls("POST", "/v1/jobs")
    assert len(calls) >= 3
    assert all(len(call.request.body) <= limit for call in calls)
    rows = [len(json.loads(call.request.body)["programs"][0]["parameter_values"]) for call in calls]
    assert sum(rows) == 300
    assert [result.data.meas[i].get_counts() for i in range(300)] == [
        {str(i % 2): 4} for i in range(300)
    ]


def test_a_circuit_alone_over_the_payload_limit_fails_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_payload_bytes=300)
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="payload limit"):
        VendorSampler(backend=backend).run([basis_state("10101")])
    assert len(api.calls()) == before


def test_a_circuit_over_max_operations_fails_before_any_http_call(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = lower_limits(provider.get_backend("ideal_simulator"), max_operations=4)
    before = len(api.calls())
    with pytest.raises(
        VendorValidationError, match="has 11 operations; device 'ideal_simulator' allows 4"
    ):
        VendorSampler(backend=backend).run([basis_state("11111")])
    assert len(api.calls()) == before


# --------------------------------------------------------------------------- planning


def test_planned_sizes_are_the_bytes_the_client_sends(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit, theta = rx_sweep()
    circuit.rz(0.1 + 2 * theta, 0)
    rng = np.random.default_rng(5)
    values = rng.normal(size=(37, 1)) * 1e-7
    programs = [
        make_program(circuit, parameters=[theta], rows=values),
        make_program(basis_state("101")),
    ]
    settings = {"seed_simulator": 12345, "job_name": "n", "job_tags": ["t"]}
    (plan,) = plan_jobs(
        programs, 10, device=backend.name, limits=backend.limits, settings=settings, memory=True
    )
    backend.run(
        [p.circuit for p in plan.programs],
        parameter_binds=[p.binds() for p in plan.programs],
        shots=10,
        memory=True,
        seed_simulator=12345,
        job_name="n",
        job_tags=["t"],
    )
    sent = len(api.calls("POST", "/v1/jobs")[-1].request.body)
    sweep, bound = programs
    assert bound.size == wire_size(bound.circuit)
    planned = wire.submission_size(
        envelope_size(backend.name, 10, settings, True), [sweep.size, bound.size]
    )
    # Exact but for the seed: the plan counts the longest seed a later shot chunk may get.
    assert planned == sent + len(str(2**63 - 1)) - len("12345")


def test_split_shots_chunks() -> None:
    assert split_shots(1, 5) == [1]
    assert split_shots(5, 5) == [5]
    assert split_shots(11, 5) == [5, 5, 1]


def odd_circuit() -> QuantumCircuit:
    """Long and non-ASCII names, extreme angles, delays, barriers, loose and high clbits."""
    qreg = QuantumRegister(30, "quäntum-register-with-a-long-name")
    creg = ClassicalRegister(3, "c\u00e9\n")
    circuit = QuantumCircuit(qreg, [Clbit()], creg, name='ünïcode "quoted" name')
    circuit.rx(-2.2250738585072014e-308, 29)
    circuit.rz(-1.7976931348623157e308 / 1e300, 17)
    circuit.u(1 / 3, -2 / 7, 1e-300, 11)
    circuit.delay(123.456, 3, unit="us")
    circuit.delay(100, 4)
    circuit.barrier()
    circuit.cx(29, 0)
    circuit.measure(29, creg[2])
    circuit.measure(28, 0)
    return circuit


@pytest.mark.parametrize(
    "circuit",
    [odd_circuit(), basis_state("10110"), QuantumCircuit(1), QuantumCircuit(2, 2)],
    ids=["odd", "basis", "empty", "clbits-only"],
)
def test_program_sizes_are_exact(circuit: QuantumCircuit) -> None:
    assert make_program(circuit).size == wire_size(circuit)
    circuit.metadata = {"k": "v€"}
    assert make_program(circuit).size == wire_size(circuit)


def test_a_sweep_slice_has_the_size_of_its_rows() -> None:
    circuit, theta = rx_sweep()
    values = np.random.default_rng(3).normal(size=(50, 1)) * 10.0 ** np.arange(-25, 25)[:, None]
    program = make_program(circuit, parameters=[theta], rows=values)
    for start, stop in [(0, 50), (0, 1), (7, 31), (49, 50)]:
        part = circuit_to_wire(circuit, parameters=[theta], parameter_values=values[start:stop])
        expected = len(wire.encode_program(part))
        assert wire.program_size(program.wire, program.row_bytes[start:stop].tolist()) == expected


def test_a_circuit_exactly_at_the_limit_runs(provider: VendorProvider, api: MockedApi) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = basis_state("1011")
    limit = wire.submission_size(envelope_size(backend.name, 7, {}, True), [wire_size(circuit)])
    lower_limits(backend, max_payload_bytes=limit)
    result = VendorSampler(backend=backend).run([circuit], shots=7).result()
    assert len(api.calls("POST", "/v1/jobs")) == 1
    assert result[0].data.meas.get_counts() == {"1011": 7}
    lower_limits(backend, max_payload_bytes=limit - 1)
    with pytest.raises(VendorValidationError, match="payload limit"):
        VendorSampler(backend=backend).run([circuit], shots=7)


def test_a_failed_submission_cancels_the_jobs_already_submitted(
    provider: VendorProvider, api: MockedApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiskit_vendor_provider import VendorApiError

    backend = lower_limits(provider.get_backend("ideal_simulator"), max_circuits=1)
    real_run = VendorBackend.run_programs
    submitted = []

    def failing_second_run(self: VendorBackend, *args: Any, **kwargs: Any) -> Any:
        if submitted:
            raise VendorApiError("the server went away")
        job = real_run(self, *args, **kwargs)
        submitted.append(job.job_id())
        return job

    monkeypatch.setattr(VendorBackend, "run_programs", failing_second_run)
    job = VendorSampler(backend=backend).run([basis_state("1"), basis_state("0")], shots=3)
    with pytest.raises(VendorApiError, match="went away"):
        job.result()
    cancels = [
        call.request.url
        for call in api.calls("POST", "/v1/jobs/")
        if (call.request.url or "").endswith("/cancel")
    ]
    assert cancels == [f"https://api.vendor.test/v1/jobs/{submitted[0]}/cancel"]
