"""Long polls: ``GET /v1/jobs/{id}?wait=`` answers the moment a job is final.

The client's waits use it and fall back to polling a server that refuses the parameter.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import requests
import responses
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobError, VendorJobTimeoutError, VendorProvider
from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.job import VendorJob
from tests.helpers import bell

SLOW = {"slow": "sleep=30", "short": "sleep=0.6"}


class _PollingOnly:
    """All a wait needs of a backend: its polling intervals."""

    poll_interval = (0.01, 0.02)


@pytest.fixture
def server(tmp_path: Path) -> EmulatorServer:
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", worker_faults=SLOW)
    with EmulatorServer(Emulator(config)) as running:
        yield running


def wait_running(provider: VendorProvider, job_id: str) -> None:
    deadline = time.monotonic() + 30
    while provider.client.get_job(job_id).status != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_long_poll_answers_when_the_job_ends_not_when_the_wait_does(
    server: EmulatorServer,
) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="short")
    wait_running(provider, job.job_id())
    started = time.monotonic()
    info = provider.client.get_job(job.job_id(), wait=20)
    held = time.monotonic() - started
    assert info.status == "DONE"
    assert held < 5  # the 0.6 s job, not the 20 s wait


def test_a_long_poll_answers_a_cancel_at_once_and_a_wait_that_ends(
    server: EmulatorServer,
) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    wait_running(provider, job.job_id())
    started = time.monotonic()
    assert provider.client.get_job(job.job_id(), wait=0.3).status == "RUNNING"
    assert 0.3 <= time.monotonic() - started < 2
    threading.Timer(0.3, job.cancel).start()
    started = time.monotonic()
    assert provider.client.get_job(job.job_id(), wait=20).status == "CANCELLED"
    assert time.monotonic() - started < 2


def test_a_long_poll_sees_a_job_another_process_ends(tmp_path: Path) -> None:
    database = tmp_path / "shared.sqlite3"
    # This server runs nothing; a second emulator on the same file runs the job.
    idle = Emulator(EmulatorConfig(database=database, workers=0))
    with EmulatorServer(idle) as server:
        provider = VendorProvider(url=server.url, journal=False)
        job = provider.get_backend("ideal_simulator").run(bell(), shots=7)
        other = Emulator(EmulatorConfig(database=database, poll_interval=0.05))
        threading.Timer(0.3, other.start).start()
        try:
            started = time.monotonic()
            assert provider.client.get_job(job.job_id(), wait=20).status == "DONE"
            assert time.monotonic() - started < 5
        finally:
            time.sleep(0.4)
            other.stop()


def test_waits_over_the_limit_are_refused(server: EmulatorServer) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    answer = requests.get(f"{server.url}/v1/jobs/{job.job_id()}?wait=31", timeout=10)
    assert answer.status_code == 422
    assert "wait" in answer.json()["detail"]


def test_result_uses_the_long_poll_and_waits_for_a_slow_job(server: EmulatorServer) -> None:
    provider = VendorProvider(url=server.url, journal=False, poll_interval=(5.0, 5.0))
    job = provider.get_backend("ideal_simulator").run(bell(), shots=9, job_name="short")
    started = time.monotonic()
    # With 5 s between plain polls, only a long poll gets the result this soon.
    assert sum(job.result(timeout=30).get_counts().values()) == 9
    assert time.monotonic() - started < 4
    assert provider.client.long_poll is True


def test_a_server_that_refuses_wait_is_polled_instead() -> None:
    url = "https://old.vendor.test"
    job_id = "0" * 32
    polls = {"n": 0}

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if "wait=" in (request.url or ""):
            problem = '{"title": "Invalid Request", "status": 422, "detail": "wait: unknown"}'
            return 422, {"content-type": "application/problem+json"}, problem
        polls["n"] += 1
        status = "DONE" if polls["n"] >= 3 else "RUNNING"
        body = (
            f'{{"job_id": "{job_id}", "device": "ideal_simulator", "status": "{status}", '
            '"shots": 1, "num_programs": 1, "created_at": "2026-01-01T00:00:00Z"}'
        )
        return 200, {"content-type": "application/json"}, body

    with responses.RequestsMock() as mock:
        mock.add_callback("GET", re.compile(re.escape(url) + r"/v1/jobs/0+.*"), answer)
        provider = VendorProvider(url=url, token="old-server-token-1", journal=False)
        job = VendorJob(_PollingOnly(), job_id, provider.client)  # type: ignore[arg-type]
        assert job.wait_for_final_state(timeout=10) is JobStatus.DONE
    assert provider.client.long_poll is False
    assert polls["n"] == 3


# --------------------------------------------------------------------------- result in one request


def _requests_seen(provider: VendorProvider) -> list[str]:
    """Every request the provider's client sends from now on, as ``METHOD path?query``."""
    seen: list[str] = []
    session = provider.client.session
    send = session.send

    def recording(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        seen.append(f"{request.method} {request.path_url}")
        return send(request, **kwargs)  # type: ignore[arg-type]

    session.send = recording  # type: ignore[method-assign]
    return seen


def test_a_short_job_is_fetched_in_one_request_after_its_submission(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What is tested is the count of requests for a job that ends within the quick wait, not
    # how fast a simulator process starts: the wait is made long enough for any machine.
    monkeypatch.setattr(job_module, "QUICK_RESULT_SECONDS", 30.0)
    provider = VendorProvider(url=server.url, journal=False)
    backend = provider.get_backend("ideal_simulator")
    seen = _requests_seen(provider)
    job = backend.run(bell(), shots=11)
    assert sum(job.result().get_counts().values()) == 11
    assert [line.split("?")[0] for line in seen] == [
        "POST /v1/jobs",
        f"GET /v1/jobs/{job.job_id()}/result",
    ]
    assert "wait=" in seen[1]
    assert job.status() is JobStatus.DONE


def test_a_job_longer_than_the_quick_wait_is_waited_for_as_before(
    server: EmulatorServer,
) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="short")
    seen = _requests_seen(provider)
    started = time.monotonic()
    assert sum(job.result(timeout=30).get_counts().values()) == 5
    assert time.monotonic() - started < 5
    # The 1 s result wait ran out (409), then the status long poll, then the result.
    paths = [line.split("?")[0] for line in seen]
    assert paths[0].endswith("/result") and paths[-1].endswith("/result")
    assert any(path == f"GET /v1/jobs/{job.job_id()}" for path in paths)


def test_the_quick_wait_counts_against_a_timeout(server: EmulatorServer) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    started = time.monotonic()
    with pytest.raises(VendorJobTimeoutError):
        job.result(timeout=1.5)
    assert time.monotonic() - started < 1.5 + 0.5
    job.cancel()


def test_a_failed_job_still_raises_its_error_after_the_quick_wait(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", worker_faults={"doomed": "exit"})
    with EmulatorServer(Emulator(config)) as running:
        provider = VendorProvider(url=running.url, journal=False)
        job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="doomed")
        with pytest.raises(VendorJobError, match="simulator process died"):
            job.result(timeout=30)


def test_a_server_that_answers_the_result_at_once_is_waited_for_as_before() -> None:
    """An older server ignores ?wait= on the result route: its 409 means 'wait as usual'."""
    url = "https://old.vendor.test"
    job_id = "0" * 32
    asked = {"status": 0}
    info = (
        f'{{"job_id": "{job_id}", "device": "ideal_simulator", "status": "{{}}", '
        '"shots": 1, "num_programs": 1, "created_at": "2026-01-01T00:00:00Z"}'
    )
    result = (
        f'{{"job_id": "{job_id}", "device": "ideal_simulator", "status": "DONE", '
        '"success": true, "results": [{"header": {"name": "c", "memory_slots": 1, '
        '"creg_sizes": [["c", 1]]}, "shots": 1, "success": true, "data": '
        '[{"counts": {"0x1": 1}}]}]}'
    )

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        path = request.path_url
        if "/result" in path:
            if asked["status"] < 2:  # not done yet, whatever ?wait= says
                problem = '{"title": "Result Not Available", "status": 409, "detail": "RUNNING"}'
                return 409, {"content-type": "application/problem+json"}, problem
            return 200, {"content-type": "application/json"}, result
        asked["status"] += 1
        state = "DONE" if asked["status"] >= 2 else "RUNNING"
        return 200, {"content-type": "application/json"}, info.replace("{}", state)

    with responses.RequestsMock() as mock:
        mock.add_callback("GET", re.compile(re.escape(url) + r"/v1/jobs/0+.*"), answer)
        provider = VendorProvider(url=url, token="old-server-token-1", journal=False)
        job = VendorJob(_ResultBackend(), job_id, provider.client)  # type: ignore[arg-type]
        started = time.monotonic()
        assert job.result(timeout=10).get_counts() == {"1": 1}
        assert time.monotonic() - started < 5
    assert asked["status"] >= 2


class _ResultBackend(_PollingOnly):
    """All ``result()`` needs of a backend: polling intervals, a name and a version."""

    name = "ideal_simulator"
    backend_version = "1"
