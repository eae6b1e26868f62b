"""The emulator: SQLite persistence across restarts, cancel, idempotency, server-side checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobError, VendorJobTimeoutError, VendorProvider
from qiskit_vendor_provider.api.models import JobSubmission
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.helpers import bell
from tests.waiting import NEVER, count_calls, eventually


def provider_for(emulator: Emulator) -> VendorProvider:
    return VendorProvider(
        transport=InProcessTransport(create_app(emulator)), poll_interval=(0.005, 0.05)
    )


@pytest.fixture
def paused(tmp_path: Path) -> Emulator:
    """An emulator on a SQLite file whose worker is not running: jobs stay queued."""
    return Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3", poll_interval=0.02))


def post(emulator: Emulator, path: str, body: object, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    status, response_headers, content = dispatch(
        create_app(emulator),
        "POST",
        f"http://emulator.test/v1{path}",
        {"content-type": "application/json", **(headers or {})},
        json.dumps(body).encode() if not isinstance(body, bytes) else body,
    )
    return status, dict(response_headers), json.loads(content)


def count_jobs(emulator: Emulator) -> int:
    store = emulator.store
    return int(store._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])  # type: ignore[attr-defined]


def test_jobs_survive_a_restart_and_running_ones_are_rerun(
    paused: Emulator, tmp_path: Path
) -> None:
    provider = provider_for(paused)
    backend = provider.get_backend("ideal_simulator")
    first = backend.run(bell(), shots=100, seed_simulator=1)
    second = backend.run(bell(), shots=100, seed_simulator=2)
    assert first.status() is JobStatus.QUEUED
    assert first.refresh().queue_position == 1
    assert second.refresh().queue_position == 2
    # A process claims the first job and dies with it: its lease (of 0 s) has run out.
    claimed = paused.store.claim_next("a-dead-host/1:x", 0.0, ["ideal_simulator"])
    assert claimed is not None and claimed.job_id == first.job_id()
    assert first.status() is JobStatus.RUNNING
    paused.store.close()

    restarted = Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3", poll_interval=0.02))
    restarted.start()
    try:
        again = provider_for(restarted)
        for job_id in (first.job_id(), second.job_id()):
            job = again.get_backend("ideal_simulator")
            from qiskit_vendor_provider.job import VendorJob

            result = VendorJob(job, job_id, again.client).result(timeout=30)
            assert sum(result.get_counts().values()) == 100
            assert set(result.get_counts()) <= {"00", "11"}
    finally:
        restarted.stop()


def test_cancel_a_queued_job(paused: Emulator) -> None:
    backend = provider_for(paused).get_backend("ideal_simulator")
    job = backend.run(bell(), shots=10)
    assert job.cancel() is True
    assert job.status() is JobStatus.CANCELLED
    claims = count_calls(paused.store, "claim_next")
    paused.start()
    try:
        # The supervisor has looked for work (twice: after its first look, and after
        # it waited for more) and left the cancelled job alone.
        eventually(lambda: claims.count >= 2, "the supervisor looks for jobs")
        assert paused.store.get(job.job_id()).status == "CANCELLED"  # type: ignore[union-attr]
        with pytest.raises(VendorJobError, match="was cancelled"):
            job.result(timeout=NEVER)
    finally:
        paused.stop()


def test_cancel_of_a_finished_job_leaves_it_done(emulator: Emulator) -> None:
    backend = provider_for(emulator).get_backend("ideal_simulator")
    job = backend.run(bell(), shots=10)
    job.result(timeout=30)
    assert job.cancel() is False
    assert job.status() is JobStatus.DONE


def test_failed_job_raises_with_the_servers_message(paused: Emulator) -> None:
    backend = provider_for(paused).get_backend("ideal_simulator")
    job = backend.run(bell(), shots=10)
    claimed = paused.store.claim_next("a-test", 60.0, ["ideal_simulator"])
    assert claimed is not None
    paused.store.fail(claimed.job_id, "simulation failed: out of memory")
    assert job.status() is JobStatus.ERROR
    assert job.error_message() == "simulation failed: out of memory"
    with pytest.raises(VendorJobError, match="out of memory"):
        job.result()


def test_result_timeout_is_a_typed_error(paused: Emulator) -> None:
    # Nothing runs the job: an error at all is the timeout ending the wait (how soon is
    # tests/test_latency.py's, in the slow layer).
    job = provider_for(paused).get_backend("ideal_simulator").run(bell(), shots=10)
    with pytest.raises(VendorJobTimeoutError, match=r"still QUEUED after 0\.2 s"):
        job.result(timeout=0.2)


def test_repeated_idempotency_key_returns_the_same_job(paused: Emulator) -> None:
    submission = JobSubmission(
        device="ideal_simulator", programs=[circuit_to_wire(bell())], shots=5
    )
    body = json.loads(submission.model_dump_json())
    status1, _, job1 = post(paused, "/jobs", body, {"idempotency-key": "key-1"})
    status2, _, job2 = post(paused, "/jobs", body, {"idempotency-key": "key-1"})
    status3, _, job3 = post(paused, "/jobs", body, {"idempotency-key": "key-2"})
    assert (status1, status2, status3) == (201, 200, 201)
    assert job1["job_id"] == job2["job_id"] != job3["job_id"]
    assert count_jobs(paused) == 2


Operation = tuple[str, list[int], list[int], list[float]]


def render(operations: list[Operation], form: str) -> dict[str, object]:
    """Plain operations in one of the three forms the server reads."""
    if form == "objects":
        return {
            "instructions": [
                {"name": n, "qubits": q, "clbits": c, "params": p} for n, q, c, p in operations
            ]
        }
    if form == "arrays":
        return {"instructions": [[n, q, c, p] for n, q, c, p in operations]}
    kinds: dict[tuple[str, int, int, int], int] = {}
    code = [kinds.setdefault((n, len(q), len(c), len(p)), len(kinds)) for n, q, c, p in operations]
    return {
        "ops": {
            "kinds": [list(kind) for kind in kinds],
            "code": code,
            "qubits": [i for _, q, _, _ in operations for i in q],
            "clbits": [i for _, _, c, _ in operations for i in c],
            "params": [x for _, _, _, p in operations for x in p],
        }
    }


@pytest.mark.parametrize("form", ["objects", "arrays", "columns"])
@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (
            lambda b, ops: ops.insert(0, ("h", [0], [], [])),
            422,
            "instruction 0 (h): 'h' is not a native operation",
        ),
        (
            lambda b, ops: ops.insert(0, ("ecr", [0, 5], [], [])),
            422,
            "cannot apply 'ecr' to qubits (0, 5)",
        ),
        (lambda b, ops: ops.insert(0, ("ecr", [1, 1], [], [])), 422, "repeats a qubit"),
        (lambda b, ops: ops.insert(0, ("rz", [1], [], [])), 422, "takes 1 angles, got 0"),
        (lambda b, ops: ops.insert(0, ("x", [1], [0], [])), 422, "acts on 1 qubits and 0 clbits"),
        (
            lambda b, ops: ops.insert(0, ("barrier", [1], [0], [])),
            422,
            "a barrier takes qubits only",
        ),
        (lambda b, ops: ops.insert(0, ("delay", [1], [], [-5])), 422, "a delay lasts from 0"),
        (lambda b, ops: b.update(shots=100_001), 422, "100001 shots exceed the maximum of 100000"),
        (
            lambda b, ops: b.update(shots=0),
            422,
            "shots: Input should be greater than or equal to 1",
        ),
        (lambda b, ops: b.update(device="nope"), 404, "no device named 'nope'"),
        (lambda b, ops: b.update(colour="blue"), 422, "colour: Extra inputs are not permitted"),
        (lambda b, ops: ops.append(("x", [40], [], [])), 422, "uses qubit 40"),
    ],
)
def test_server_rejects_invalid_jobs_with_problem_json_and_stores_nothing(
    paused: Emulator,
    mutate,
    status: int,
    fragment: str,
    form: str,  # type: ignore[no-untyped-def]
) -> None:
    """Every form of a program gets the same answer, from the same rules."""
    operations: list[Operation] = [("x", [0], [], []), ("measure", [0], [0], [])]
    body: dict[str, object] = {"device": "superconducting_27q", "shots": 10}
    mutate(body, operations)
    program = {"num_qubits": 27, "num_clbits": 1, "header": {"name": "ok"}}
    body["programs"] = [{**program, **render(operations, form)}]
    code, headers, problem = post(paused, "/jobs", body)
    assert code == status, problem
    assert headers["content-type"] == "application/problem+json"
    assert fragment in problem["detail"], problem
    assert problem["status"] == status
    assert problem["request_id"] == headers["x-request-id"]
    assert count_jobs(paused) == 0


def test_malformed_json_and_oversized_bodies_are_rejected(tmp_path: Path) -> None:
    small = Emulator(EmulatorConfig(database=":memory:", max_body_bytes=1000))
    code, headers, problem = post(small, "/jobs", b"{not json")
    assert code == 422 and headers["content-type"] == "application/problem+json"
    code, _, problem = post(small, "/jobs", b"[" + b"1," * 1000 + b"1]")
    assert code == 413 and "limited to 1000 bytes" in problem["detail"]
    assert count_jobs(small) == 0


def test_unknown_job_ids_are_404(emulator: Emulator) -> None:
    app = create_app(emulator)
    for job_id in ("0" * 32, "..%2F..%2Fetc%2Fpasswd", "x" * 5000):
        status, _, body = dispatch(app, "GET", f"http://e.test/v1/jobs/{job_id}", {}, b"")
        assert status == 404, job_id
        assert json.loads(body)["title"] == "Not Found"


@pytest.mark.parametrize(
    "query",
    [
        "/jobs?created_after=2026-01-01T00:00:00",
        "/jobs?created_before=2026-01-01T00:00:00",
        "/devices/superconducting_27q/calibration?at=2026-01-01T00:00:00",
        "/devices/trapped_ion_11q/reservations?start=2026-01-01T00:00:00",
        "/devices/trapped_ion_11q/reservations?end=2026-01-01T00:00:00",
    ],
)
def test_a_timestamp_without_an_offset_is_refused_everywhere(paused: Emulator, query: str) -> None:
    """The server cannot know the sender's local time: no naive moment is guessed at."""
    app = create_app(paused)
    status, _, content = dispatch(app, "GET", f"http://emulator.test/v1{query}", {}, b"")
    assert status == 422, content
    assert "timezone" in json.loads(content)["detail"]
    aware = query.replace("T00:00:00", "T00:00:00%2B01:00")
    status, _, content = dispatch(app, "GET", f"http://emulator.test/v1{aware}", {}, b"")
    assert status in (200, 404), content  # 404: no calibration in force that early
