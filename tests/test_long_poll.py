"""Long polls: ``GET /v1/jobs/{id}?wait=`` answers the moment a job is final.

The client's waits use it and fall back to polling a server that refuses the parameter.

No test here times a process start: a job ends when the test makes it end (the store
is written as another process would, or a second emulator on the same file is started
once the server is seen holding the request), and what is counted is the requests the
client makes, never how many a cold start happens to need.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobError, VendorJobTimeoutError, VendorProvider
from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.emulator import app as app_module
from qiskit_vendor_provider.emulator.app import MAX_WAIT_SECONDS
from qiskit_vendor_provider.job import VendorJob
from tests.helpers import bell
from tests.waiting import Watches, eventually

SLOW = {"slow": "sleep=30", "short": "sleep=0.6"}


class _PollingOnly:
    """All a wait needs of a backend: its polling intervals."""

    poll_interval = (0.01, 0.02)


@pytest.fixture
def server(tmp_path: Path) -> EmulatorServer:
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", worker_faults=SLOW)
    with EmulatorServer(Emulator(config)) as running:
        yield running


class IdleServer:
    """A server that runs nothing: its jobs stay QUEUED until the test ends them.

    ``watches`` counts the requests it holds; :meth:`run_elsewhere` starts a second
    emulator on the same SQLite file, which runs the queued jobs as another process
    would.
    """

    def __init__(self, database: Path) -> None:
        self.database = database
        self.emulator = Emulator(EmulatorConfig(database=database, workers=0))
        self.watches = Watches(self.emulator)
        self.http = EmulatorServer(self.emulator)
        self.others: list[Emulator] = []

    @property
    def url(self) -> str:
        return self.http.url

    def run_elsewhere(self) -> None:
        other = Emulator(EmulatorConfig(database=self.database, poll_interval=0.02))
        self.others.append(other)
        other.start()


@pytest.fixture
def idle(tmp_path: Path) -> IdleServer:
    made = IdleServer(tmp_path / "shared.sqlite3")
    with made.http:
        try:
            yield made
        finally:
            for other in made.others:
                other.stop()


def wait_running(provider: VendorProvider, job_id: str) -> None:
    eventually(lambda: provider.client.get_job(job_id).status == "RUNNING", "the job runs")


def in_background(call, *args, **kwargs) -> tuple[threading.Thread, list[object]]:  # type: ignore[no-untyped-def]
    """Start ``call`` on a thread; the list gets its return value (or its exception)."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call(*args, **kwargs))
        except BaseException as exc:  # handed to the test, which raises it
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def joined(thread: threading.Thread, outcome: list[object]) -> object:
    """The outcome of a thread from :func:`in_background`, once it has one."""
    thread.join(MAX_WAIT_SECONDS * 4)
    assert not thread.is_alive(), "the call never returned"
    [value] = outcome
    if isinstance(value, BaseException):
        raise value
    return value


def warm(provider: VendorProvider) -> None:
    """Run one job to its end, so that the next one finds a simulator process started."""
    job = provider.get_backend("ideal_simulator").run(bell(), shots=1)
    assert sum(job.result().get_counts().values()) == 1


def test_a_long_poll_answers_when_the_job_ends_not_when_the_wait_does(
    server: EmulatorServer,
) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    warm(provider)
    submitted = time.monotonic()
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="short")
    info = provider.client.get_job(job.job_id(), wait=MAX_WAIT_SECONDS)
    assert info.status == "DONE"
    # A 0.6 s job on a simulator process already started, against the longest wait there
    # is: a server that held the request to the end of its wait fails this on any machine.
    assert time.monotonic() - submitted < MAX_WAIT_SECONDS


def test_a_long_poll_answers_a_cancel_at_once_and_a_wait_that_ends(
    server: EmulatorServer,
) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    watches = Watches(server.emulator)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    wait_running(provider, job.job_id())
    started = time.monotonic()
    # The 30 s job is still running when a short wait ends: the answer says so, and it
    # came no sooner than the wait (a lower bound: no machine is too slow for it).
    assert provider.client.get_job(job.job_id(), wait=0.3).status == "RUNNING"
    assert time.monotonic() - started >= 0.3
    thread, outcome = in_background(provider.client.get_job, job.job_id(), wait=MAX_WAIT_SECONDS)
    watches.reach(2, "(the second status long poll)")
    cancelled = time.monotonic()
    assert job.cancel() is True
    assert joined(thread, outcome).status == "CANCELLED"  # type: ignore[attr-defined]
    assert time.monotonic() - cancelled < MAX_WAIT_SECONDS


def test_a_long_poll_sees_a_job_another_process_ends(idle: IdleServer) -> None:
    provider = VendorProvider(url=idle.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    thread, outcome = in_background(provider.client.get_job, job.job_id(), wait=MAX_WAIT_SECONDS)
    idle.watches.reach(1, "(the status long poll)")
    # The job ends as another process sharing the file ends it: in the store, without a
    # word to this server.
    store = idle.emulator.store
    assert store.claim_next("another-host/1:x", 60.0, ["ideal_simulator"]) is not None
    ended = time.monotonic()
    assert store.finish(job.job_id(), "{}")
    assert joined(thread, outcome).status == "DONE"  # type: ignore[attr-defined]
    # Measured from the moment the test ended the job, against the wait it asked for.
    assert time.monotonic() - ended < MAX_WAIT_SECONDS


def test_waits_over_the_limit_are_refused(server: EmulatorServer) -> None:
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    answer = requests.get(f"{server.url}/v1/jobs/{job.job_id()}?wait=31", timeout=10)
    assert answer.status_code == 422
    assert "wait" in answer.json()["detail"]


def test_result_uses_the_long_poll_and_waits_for_a_slow_job(idle: IdleServer) -> None:
    provider = VendorProvider(url=idle.url, journal=False, poll_interval=(5.0, 5.0))
    job = provider.get_backend("ideal_simulator").run(bell(), shots=9)
    seen = _requests_seen(provider)
    thread, outcome = in_background(job.result)
    # The quick result wait, then the status long poll: the job ends only now.
    idle.watches.reach(2, "(the status long poll after the quick result wait)")
    idle.run_elsewhere()
    assert sum(joined(thread, outcome).get_counts().values()) == 9  # type: ignore[attr-defined]
    # With 5 s between plain polls, every status request was a long poll instead.
    statuses = [line for line in seen if line.split("?")[0] == f"GET /v1/jobs/{job.job_id()}"]
    assert statuses and all(_wait_of(line) is not None for line in statuses)
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


def _wait_of(line: str) -> float | None:
    """The ``wait`` a recorded request asked the server for (None: a plain request)."""
    values = parse_qs(urlsplit(line.split(" ", 1)[1]).query).get("wait")
    return None if values is None else float(values[0])


def test_a_short_job_is_answered_with_its_result_by_its_submission(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What is counted is the requests for a job that ends within the submission's wait:
    # the simulator process is started first (by a job of its own), and the wait is made
    # as long as the server allows, so no machine is too slow for the job to end within it.
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", MAX_WAIT_SECONDS)
    provider = VendorProvider(url=server.url, journal=False)
    warm(provider)
    backend = provider.get_backend("ideal_simulator")
    seen = _requests_seen(provider)
    job = backend.run(bell(), shots=11)
    assert seen == [f"POST /v1/jobs?wait={MAX_WAIT_SECONDS:.3f}"]
    assert job.status() is JobStatus.DONE  # known from the answer: no request
    assert sum(job.result().get_counts().values()) == 11
    assert job.result().date is not None  # the result's end time came with it
    assert len(seen) == 1


def test_a_short_job_is_fetched_in_one_request_after_its_submission(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What is counted is the requests for a job that ends within the quick wait: the
    # simulator process is started first (by a job of its own), and the wait is made as
    # long as the server allows, so no machine is too slow for the job to end within it.
    # The submission is not held (as by a server before API 1.5).
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", None)
    monkeypatch.setattr(job_module, "QUICK_RESULT_SECONDS", MAX_WAIT_SECONDS)
    provider = VendorProvider(url=server.url, journal=False)
    warm(provider)
    backend = provider.get_backend("ideal_simulator")
    seen = _requests_seen(provider)
    job = backend.run(bell(), shots=11)
    assert sum(job.result().get_counts().values()) == 11
    assert [line.split("?")[0] for line in seen] == [
        "POST /v1/jobs",
        f"GET /v1/jobs/{job.job_id()}/result",
    ]
    assert _wait_of(seen[1]) == MAX_WAIT_SECONDS
    assert job.status() is JobStatus.DONE


def test_the_result_route_holds_the_request_until_the_job_ends(idle: IdleServer) -> None:
    provider = VendorProvider(url=idle.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=3)
    thread, outcome = in_background(provider.client.get_result, job.job_id(), wait=MAX_WAIT_SECONDS)
    idle.watches.reach(1, "(the result long poll)")
    # Held while the job is queued; the job runs only now, on another emulator.
    idle.run_elsewhere()
    answer = joined(thread, outcome)
    assert answer.status == "DONE" and answer.success  # type: ignore[attr-defined]


def test_a_job_longer_than_the_quick_wait_is_waited_for_as_before(idle: IdleServer) -> None:
    provider = VendorProvider(url=idle.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    seen = _requests_seen(provider)
    thread, outcome = in_background(job.result)
    # The job cannot end during the quick wait: it runs only once the status long poll
    # that follows that wait is held.
    idle.watches.reach(2, "(the status long poll after the quick result wait)")
    idle.run_elsewhere()
    assert sum(joined(thread, outcome).get_counts().values()) == 5  # type: ignore[attr-defined]
    # The quick result wait ran out (409), then the status long poll, then the result.
    paths = [line.split("?")[0] for line in seen]
    assert paths[0] == paths[-1] == f"GET /v1/jobs/{job.job_id()}/result"
    assert _wait_of(seen[0]) == job_module.QUICK_RESULT_SECONDS
    assert f"GET /v1/jobs/{job.job_id()}" in paths


def test_the_quick_wait_counts_against_a_timeout(idle: IdleServer) -> None:
    provider = VendorProvider(url=idle.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)  # stays QUEUED
    seen = _requests_seen(provider)
    with pytest.raises(VendorJobTimeoutError, match=r"still QUEUED after 1\.5 s"):
        job.result(timeout=1.5)
    # The waits the client asked the server for add up to the timeout, not to the quick
    # wait plus the timeout: each is what was left of the 1.5 s when it was asked.
    waits = [_wait_of(line) or 0.0 for line in seen]
    assert waits[0] == job_module.QUICK_RESULT_SECONDS
    assert len(waits) >= 2 and sum(waits) <= 1.5


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
        assert job.result(timeout=10).get_counts() == {"1": 1}
    assert asked["status"] >= 2
    # Its status route ignores ?wait= too, answering at once: from then on it is polled.
    assert provider.client.long_poll is False


class _ResultBackend(_PollingOnly):
    """All ``result()`` needs of a backend: polling intervals, a name and a version."""

    name = "ideal_simulator"
    backend_version = "1"


def test_a_job_ending_between_the_polls_read_and_its_watch_wakes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No store check would rescue a missed wake-up: the poll would sleep its whole wait
    # (a day), and the test would hang, if the end were lost between the read and the watch.
    monkeypatch.setattr(app_module, "_STORE_CHECK_SECONDS", 86400.0)
    emulator = Emulator(EmulatorConfig(workers=0))
    job_id = "j" * 32
    reads: list[str] = []

    def job(account: str, wanted: str) -> SimpleNamespace:
        if not reads:
            # The job ends while its state is read: the read still says RUNNING.
            emulator._job_ended(wanted)
            reads.append("RUNNING")
        else:
            reads.append("DONE")
        return SimpleNamespace(status=reads[-1])

    monkeypatch.setattr(emulator, "job", job)
    info = asyncio.run(app_module._long_poll(emulator, "acct", job_id, 86400.0))
    assert info.status == "DONE"
    assert reads == ["RUNNING", "DONE"]
    assert emulator._watchers == {}  # and it stopped watching


def test_watching_a_job_that_just_ended_calls_back_at_once() -> None:
    emulator = Emulator(EmulatorConfig(workers=0))
    emulator._job_ended("e" * 32)
    called: list[str] = []
    unwatch = emulator.watch("e" * 32, lambda: called.append("ended"))
    unwatch()
    assert called == ["ended"]
    emulator.watch("f" * 32, lambda: called.append("other"))()
    assert called == ["ended"]  # a job that has not ended is not called back
