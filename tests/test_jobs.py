"""Job management: retrieve, list and filter, limits, reservations, accessors, partial results."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.providers import JobStatus

from qiskit_vendor_provider import (
    VendorJobError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.api.models import Reservation
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.errors import JobLimitError
from tests.conftest import MockedApi


def tiny(name: str = "tiny") -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name=name)
    circuit.x(0)
    circuit.measure(0, 0)
    return circuit


# ------------------------------------------------------------------ retrieve


def test_retrieved_job_gives_the_full_result_without_the_circuits(
    provider: VendorProvider, api: MockedApi
) -> None:
    qreg = QuantumRegister(3)
    low, high = ClassicalRegister(2, "low"), ClassicalRegister(1, "high")
    circuit = QuantumCircuit(qreg, low, high, name="layout", metadata={"experiment": 7})
    circuit.x(0)
    circuit.x(2)
    circuit.measure(0, low[1])
    circuit.measure(2, high[0])
    job = provider.get_backend("ideal_simulator").run(circuit, shots=20, job_name="kept")
    original = job.result()

    elsewhere = VendorProvider(url=provider.client.base_url, token="another-process-token-1")
    again = elsewhere.retrieve_job(job.job_id())
    result = again.result()
    assert result.get_counts() == original.get_counts() == {"1 10": 20}
    assert result.results[0].header["name"] == "layout"
    assert result.results[0].header["metadata"] == {"experiment": 7}
    assert again.name() == "kept"
    assert again.backend().name == "ideal_simulator"
    same_device = elsewhere.get_backend("ideal_simulator").retrieve_job(job.job_id())
    assert same_device.result().get_counts() == {"1 10": 20}


def test_retrieve_unknown_or_misplaced_jobs(provider: VendorProvider) -> None:
    with pytest.raises(VendorNotFoundError, match="no job with id"):
        provider.retrieve_job("0" * 32)
    with pytest.raises(VendorNotFoundError, match="HTTP 404"):
        provider.retrieve_job("../etc/passwd")
    with pytest.raises(VendorNotFoundError, match="not a job id"):
        provider.retrieve_job("x" * 300)
    with pytest.raises(VendorValidationError, match="non-empty string"):
        provider.retrieve_job("")
    job = provider.get_backend("ideal_simulator").run(tiny(), shots=1)
    with pytest.raises(VendorNotFoundError, match=r"use provider\.retrieve_job"):
        provider.get_backend("trapped_ion_11q").retrieve_job(job.job_id())


# ------------------------------------------------------------------ listing, over real HTTP


@pytest.fixture(scope="module")
def listing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """A loopback server holding 130 known jobs (5 cancelled) on two devices."""
    database = Path(tmp_path_factory.mktemp("listing")) / "jobs.sqlite3"
    server = EmulatorServer(Emulator(EmulatorConfig(database=database, poll_interval=0.02)))
    with server:
        server.emulator.supervisor.stop()  # jobs stay queued until the cancels are done
        provider = VendorProvider(url=server.url, journal=False)
        ideal = provider.get_backend("ideal_simulator")
        ion = provider.get_backend("trapped_ion_11q")
        jobs = []
        for n in range(120):
            tags = (
                ["sweep"] + (["even"] if n % 2 == 0 else ["odd"]) + (["x3"] if n % 3 == 0 else [])
            )
            jobs.append(ideal.run(tiny(), shots=1, job_name=f"sweep-{n:03d}", job_tags=tags))
        for n in range(10):
            jobs.append(ion.run(tiny_ion(), shots=1, job_name=f"ion-{n}", job_tags=["ion"]))
        for job in jobs[:5]:
            assert job.cancel()
        server.emulator.supervisor.start()
        for job in jobs[5:]:
            job.wait_for_final_state(timeout=120)
        yield server


def tiny_ion() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    circuit.r(3.14159, 0.0, 0)
    circuit.measure(0, 0)
    return circuit


@pytest.mark.integration
def test_listing_follows_pages_and_filters_on_the_server(listing_server: EmulatorServer) -> None:
    provider = VendorProvider(url=listing_server.url, journal=False)
    ideal = provider.get_backend("ideal_simulator")
    assert len(provider.jobs(limit=None)) == 130
    every = ideal.jobs(limit=None)
    assert len(every) == 120  # more than one server page (100)
    assert [j.name() for j in every[:2]] == ["sweep-119", "sweep-118"]  # newest first
    oldest_first = ideal.jobs(limit=3, descending=False)
    assert [j.name() for j in oldest_first] == ["sweep-000", "sweep-001", "sweep-002"]
    assert [j.name() for j in ideal.jobs(limit=2, skip=110)] == ["sweep-009", "sweep-008"]
    assert len(ideal.jobs(limit=105)) == 105
    assert len(ideal.jobs()) == 10  # the default limit

    cancelled = ideal.jobs(limit=None, status=JobStatus.CANCELLED)
    assert sorted(j.name() or "" for j in cancelled) == [f"sweep-{n:03d}" for n in range(5)]
    assert all(j.status() is JobStatus.CANCELLED for j in cancelled)
    assert len(ideal.jobs(limit=None, status="done")) == 115
    assert len(provider.jobs(limit=None, status=["CANCELLED", JobStatus.DONE])) == 130
    assert ideal.jobs(status=JobStatus.VALIDATING) == []
    assert ideal.active_jobs() == []

    assert len(ideal.jobs(limit=None, job_name=r"sweep-0[0-4]\d")) == 50
    assert len(ideal.jobs(limit=None, job_tags=["even", "x3"])) == 80  # OR
    assert len(ideal.jobs(limit=None, job_tags=["even", "x3"], job_tags_operator="AND")) == 20
    ion_jobs = provider.jobs(limit=None, backend_name="trapped_ion_11q")
    assert len(ion_jobs) == 10 and {j.backend().name for j in ion_jobs} == {"trapped_ion_11q"}

    middle = every[60].creation_date()
    newer = ideal.jobs(limit=None, start_datetime=middle)
    older = ideal.jobs(limit=None, end_datetime=middle)
    assert len(newer) + len(older) == 120
    assert all(j.creation_date() >= middle for j in newer)
    naive_future = dt.datetime.now() + dt.timedelta(days=1)  # naive: local time
    assert ideal.jobs(start_datetime=naive_future) == []


@pytest.mark.integration
def test_listed_jobs_give_their_results(listing_server: EmulatorServer) -> None:
    provider = VendorProvider(url=listing_server.url, journal=False)
    job = provider.get_backend("trapped_ion_11q").jobs(limit=1)[0]
    assert job.result().get_counts() in ({"1": 1}, {"0": 1})
    assert job.tags() == ["ion"]


# ------------------------------------------------------------------ limits and reservations


@pytest.fixture
def limited() -> Iterator[tuple[Emulator, VendorProvider]]:
    from qiskit_vendor_provider.emulator import InProcessTransport, create_app

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    windows = [
        Reservation(
            device="trapped_ion_11q",
            start=now + dt.timedelta(hours=h),
            end=now + dt.timedelta(hours=h + 2),
            reservation_id=f"r{h}",
        )
        for h in (1, 5, 48)
    ]
    emulator = Emulator(
        EmulatorConfig(max_active_jobs=2, reservations=windows)
    )  # worker not started
    provider = VendorProvider(transport=InProcessTransport(create_app(emulator)), journal=False)
    yield emulator, provider
    emulator.stop()


def test_job_limit_is_a_clear_error_not_a_raw_429(limited: tuple[Emulator, VendorProvider]) -> None:
    _, provider = limited
    backend = provider.get_backend("ideal_simulator")
    assert backend.job_limit().maximum_jobs == 2
    assert backend.remaining_jobs_count() == 2
    first = backend.run(tiny(), shots=1)
    backend.run(tiny(), shots=1)
    assert backend.job_limit().active_jobs == 2
    assert backend.remaining_jobs_count() == 0
    assert len(backend.active_jobs()) == 2
    with pytest.raises(JobLimitError) as info:
        backend.run(tiny(), shots=1)
    message = str(info.value)
    assert "2 active (queued or running) jobs" in message
    assert "wait_for_final_state" in message
    assert info.value.status_code == 429
    first.cancel()
    assert backend.remaining_jobs_count() == 1
    backend.run(tiny(), shots=1)  # room again


def test_reservations_overlapping_a_window(limited: tuple[Emulator, VendorProvider]) -> None:
    _, provider = limited
    backend = provider.get_backend("trapped_ion_11q")
    everything = backend.reservations()
    assert [r.reservation_id for r in everything] == ["r1", "r5", "r48"]
    start = everything[0].start + dt.timedelta(hours=1)  # inside r1
    soon = backend.reservations(start_datetime=start, end_datetime=start + dt.timedelta(hours=5))
    assert [r.reservation_id for r in soon] == ["r1", "r5"]
    assert provider.get_backend("superconducting_27q").reservations() == []
    with pytest.raises(VendorValidationError, match="must be a datetime"):
        backend.reservations(start_datetime="tomorrow")  # type: ignore[arg-type]


# ------------------------------------------------------------------ the job object


def test_job_accessors(provider: VendorProvider) -> None:
    backend = provider.get_backend("ideal_simulator")
    before = dt.datetime.now(dt.timezone.utc)
    job = backend.run(tiny(), shots=3, job_name="named", job_tags=["a", "b"])
    assert job.name() == "named"
    assert job.tags() == ["a", "b"]
    assert (
        before - dt.timedelta(seconds=5) <= job.creation_date() <= dt.datetime.now(dt.timezone.utc)
    )
    assert job.backend() is backend
    seen: list[JobStatus] = []
    final = job.wait_for_final_state(
        timeout=30, callback=lambda _id, status, _job: seen.append(status)
    )
    assert final is JobStatus.DONE and seen[-1] is JobStatus.DONE
    assert job.queue_position(refresh=True) is None
    assert job.error_message() is None


def test_queue_position_of_waiting_jobs(limited: tuple[Emulator, VendorProvider]) -> None:
    _, provider = limited
    backend = provider.get_backend("ideal_simulator")
    first, second = backend.run(tiny(), shots=1), backend.run(tiny(), shots=1)
    assert (first.queue_position(), second.queue_position(refresh=True)) == (1, 2)
    first.cancel()
    assert second.queue_position(refresh=True) == 1


def test_progress_bar_only_when_asked(
    provider: VendorProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = provider.get_backend("ideal_simulator")
    job = backend.run(tiny(), shots=1)
    job.result()  # default: stderr is not a terminal here, so no bar
    assert "job " not in capsys.readouterr().err
    job = backend.run(tiny(), shots=1, with_progress_bar=True)
    job.result()
    assert f"job {job.job_id()}: DONE" in capsys.readouterr().err
    backend.set_options(with_progress_bar=True)
    job = backend.run(tiny(), shots=1)
    job.result(with_progress_bar=False)
    assert "job " not in capsys.readouterr().err


def dense(num_qubits: int) -> QuantumCircuit:
    """A circuit whose state vector no simulator memory limit here admits."""
    circuit = QuantumCircuit(num_qubits, num_qubits, name="too-big")
    for _ in range(2):
        circuit.h(range(num_qubits))
        circuit.t(range(num_qubits))
        circuit.cx(range(num_qubits - 1), range(1, num_qubits))
    circuit.measure(range(num_qubits), range(num_qubits))
    return circuit


def test_failed_job_raises_typed_error_and_partial_result_returns_what_finished(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend("ideal_simulator")
    job = backend.run([tiny("fine"), dense(32)], shots=5)
    with pytest.raises(VendorJobError) as info:
        job.result()
    assert "1 of 2 programs failed" in str(info.value)
    assert "Insufficient memory" in str(info.value)
    assert "result(partial=True)" in str(info.value)
    assert job.status() is JobStatus.ERROR
    partial = job.result(partial=True)
    assert partial.results[0].success is True
    assert partial.get_counts("fine") == {"1": 5}
    assert partial.results[1].success is False
    assert "Insufficient memory" in partial.results[1].status


def test_cancelled_job_has_no_partial_result(limited: tuple[Emulator, VendorProvider]) -> None:
    _, provider = limited
    job = provider.get_backend("ideal_simulator").run(tiny(), shots=1)
    job.cancel()
    for partial in (False, True):
        with pytest.raises(VendorJobError, match="was cancelled"):
            job.result(partial=partial)


def test_journal_records_every_submission_without_the_token(
    provider: VendorProvider, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    own = VendorProvider(
        url=provider.client.base_url, token="secret-token-xyz-123", journal=journal_path
    )
    job = own.get_backend("ideal_simulator").run(
        tiny(), shots=2, job_name="journalled", job_tags=["j"]
    )
    entries = own.journal()
    assert [(e.job_id, e.name, e.tags, e.device) for e in entries] == [
        (job.job_id(), "journalled", ["j"], "ideal_simulator")
    ]
    job.result()
    assert own.journal()[0].state == "DONE"
    assert own.resume() == []  # nothing unfinished
    raw = journal_path.read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("journal.sqlite3-*")
    )
    assert b"secret-token-xyz-123" not in raw
    assert json.loads(json.dumps([e.key for e in entries]))  # keys are plain strings
