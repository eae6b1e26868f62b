"""Early results (API 1.5): ``POST /v1/jobs?wait=`` holds the answer while the job runs.

A job that starts at once and ends DONE within the wait comes back with its result in
the submission's answer, so a short job needs one request. What else must hold:

* an older client (no version header, or 1.4) is answered as before: no ``result``;
* this client sends ``?wait=`` only to a server that names API 1.5, and reads its
  results as before from an older one;
* a job longer than the wait is answered when the wait ends, and waited for as before;
* a cancel during the wait ends it at once, and the job is CANCELLED;
* two threads submitting at once get their own jobs and results, once each;
* a host killed (SIGKILL) while its submission is held loses nothing and duplicates
  nothing: the journal's entry is resumed as the one job the server made.

As in ``test_long_poll.py``, nothing here times a process start: a held request is seen
by counting the watches the server starts, and a job ends when the test makes it end.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobError, VendorProvider
from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider.api.models import JobQuery
from qiskit_vendor_provider.api.versions import API_VERSION_HEADER
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.app import MAX_WAIT_SECONDS
from qiskit_vendor_provider.emulator.auth import DEFAULT_ACCOUNT
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.journal import SUBMITTING
from qiskit_vendor_provider.primitives import VendorSampler
from tests.helpers import bell
from tests.waiting import NEVER, Watches, eventually

ROOT = Path(__file__).resolve().parent.parent
FAULTS = {"slow": "sleep=600", "second": "sleep=1"}
TOKEN = "early-result-token-0123456789"


@pytest.fixture
def emulator(tmp_path: Path) -> Any:
    running = Emulator(
        EmulatorConfig(database=tmp_path / "jobs.sqlite3", worker_faults=FAULTS)
    ).start()
    yield running
    running.stop()


def warm(provider: VendorProvider) -> None:
    """Run one job to its end, so that the next one finds a simulator process started."""
    job = provider.get_backend("ideal_simulator").run(bell(), shots=1)
    assert sum(job.result().get_counts().values()) == 1


class Recording(InProcessTransport):
    """The in-process transport, keeping each request's method and path (with its query).

    With ``api_version``, every answer names that API version instead of the server's:
    a server pinned to an older version of the contract.
    """

    def __init__(self, app: Any, api_version: str | None = "") -> None:
        super().__init__(app)
        self.seen: list[str] = []
        self.api_version = api_version

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.seen.append(f"{request.method} {request.path_url}")
        response = super().send(request, *args, **kwargs)
        if self.api_version is None:
            response.headers.pop(API_VERSION_HEADER, None)
        elif self.api_version:
            response.headers[API_VERSION_HEADER] = self.api_version
        return response

    def paths(self) -> list[str]:
        return [line.split("?")[0] for line in self.seen]


def wait_of(line: str) -> float | None:
    values = parse_qs(urlsplit(line.split(" ", 1)[1]).query).get("wait")
    return None if values is None else float(values[0])


def post_job(app: Any, api_version: str | None, wait: float | None) -> tuple[int, dict[str, Any]]:
    """``POST /v1/jobs`` of a Bell job as a client of ``api_version`` sends it (None: 1.0)."""
    provider = VendorProvider(transport=InProcessTransport(app), journal=False)
    backend = provider.get_backend("ideal_simulator")
    _, _, _, payload = backend._checked_submission(bell(), None, {"shots": 7})
    headers = {"Content-Type": "application/json", "Idempotency-Key": os.urandom(8).hex()}
    if api_version is not None:
        headers[API_VERSION_HEADER] = api_version
    query = "" if wait is None else f"?wait={wait}"
    status, _, body = dispatch(app, "POST", f"http://e.test/v1/jobs{query}", headers, payload)
    return status, json.loads(body)


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize("api_version", [None, "1.4"])
def test_an_older_client_is_answered_without_a_result(
    emulator: Emulator, api_version: str | None
) -> None:
    app = create_app(emulator)
    warm(VendorProvider(transport=InProcessTransport(app), journal=False))
    # Held as long as the server allows, so the job is DONE when the answer is written:
    # an older client still gets the job alone, as it always did.
    status, answer = post_job(app, api_version, MAX_WAIT_SECONDS)
    assert status == 201
    assert answer["status"] == "DONE"
    assert "result" not in answer
    # Without ?wait= (all an older client ever sends) the answer is not held at all.
    status, answer = post_job(app, api_version, None)
    assert status == 201 and "result" not in answer


def test_a_new_client_is_answered_with_the_result_it_reads(emulator: Emulator) -> None:
    app = create_app(emulator)
    warm(VendorProvider(transport=InProcessTransport(app), journal=False))
    status, answer = post_job(app, "1.5", MAX_WAIT_SECONDS)
    assert status == 201 and answer["status"] == "DONE"
    result = answer["result"]
    assert result["job_id"] == answer["job_id"] and result["success"] is True
    assert result["result_format"] == 2 and result["ended_at"]
    [program] = result["results"]
    assert sum(program["data"][0]["counts"].values()) == 7


def test_the_client_asks_no_wait_of_a_server_pinned_to_api_1_4(emulator: Emulator) -> None:
    transport = Recording(create_app(emulator), api_version="1.4")
    provider = VendorProvider(transport=transport, journal=False)
    backend = provider.get_backend("ideal_simulator")
    transport.seen.clear()
    job = backend.run(bell(), shots=13)
    assert transport.seen == ["POST /v1/jobs"]  # no ?wait=: the server does not know it
    assert sum(job.result().get_counts().values()) == 13
    assert transport.paths()[1] == f"GET /v1/jobs/{job.job_id()}/result"


def test_the_client_asks_no_wait_of_a_server_that_names_no_version(emulator: Emulator) -> None:
    transport = Recording(create_app(emulator), api_version=None)
    provider = VendorProvider(transport=transport, journal=False)
    backend = provider.get_backend("ideal_simulator")
    transport.seen.clear()
    job = backend.run(bell(), shots=5)
    assert transport.seen == ["POST /v1/jobs"]
    assert sum(job.result().get_counts().values()) == 5


class GarbledResult(Recording):
    """A server whose submission answers carry a result this client cannot read."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().send(request, *args, **kwargs)
        if request.method == "POST" and urlsplit(request.path_url).path == "/v1/jobs":
            answer = json.loads(response.content)
            if "result" in answer:
                answer["result"] = {"job_id": 5, "results": "none"}
                response._content = json.dumps(answer).encode()
        return response


def test_a_result_that_cannot_be_read_leaves_the_job_to_its_result_route(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", MAX_WAIT_SECONDS)
    transport = GarbledResult(create_app(emulator))
    provider = VendorProvider(transport=transport, journal=False)
    warm(provider)
    transport.seen.clear()
    # The job was made: the submission does not fail over its result.
    job = provider.get_backend("ideal_simulator").run(bell(), shots=6)
    assert job.status() is JobStatus.DONE
    assert sum(job.result().get_counts().values()) == 6
    assert transport.paths() == ["POST /v1/jobs", f"GET /v1/jobs/{job.job_id()}/result"]


def test_waits_over_the_limit_are_refused_on_submission(emulator: Emulator) -> None:
    app = create_app(emulator)
    for wait in (-1, MAX_WAIT_SECONDS + 1, "soon"):
        status, answer = post_job(app, "1.5", wait)  # type: ignore[arg-type]
        assert status == 422 and "wait" in answer["detail"]
    assert emulator.store.active_count(DEFAULT_ACCOUNT) == 0  # refused before anything was stored


# --------------------------------------------------------------------------- the wait


def test_a_job_longer_than_the_wait_is_answered_when_the_wait_ends(emulator: Emulator) -> None:
    transport = Recording(create_app(emulator))
    provider = VendorProvider(transport=transport, journal=False)
    warm(provider)
    backend = provider.get_backend("ideal_simulator")
    transport.seen.clear()
    # The job sleeps 1 s before it runs, ten times the submission's wait.
    job = backend.run(bell(), shots=9, job_name="second")
    assert transport.seen == [f"POST /v1/jobs?wait={job_module.SUBMIT_WAIT_SECONDS:.3f}"]
    assert job._info is not None and job._info.status in ("QUEUED", "RUNNING")
    # Then it is waited for as before: the quick result wait, and more if need be.
    assert sum(job.result().get_counts().values()) == 9
    assert transport.paths()[1] == f"GET /v1/jobs/{job.job_id()}/result"


def test_a_job_queued_behind_another_is_answered_at_once(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = VendorProvider(transport=InProcessTransport(create_app(emulator)), journal=False)
    backend = provider.get_backend("ideal_simulator")
    watches = Watches(emulator)
    first = backend.run(bell(), shots=3, job_name="slow")  # runs for 600 s
    eventually(lambda: first.status() is JobStatus.RUNNING, "the slow job runs")
    held = watches.count
    # A script that submits many jobs before it waits for any is not held on each: the
    # second job is queued behind the first, so its answer comes at once, however long
    # the wait it asked for.
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", MAX_WAIT_SECONDS)
    second = backend.run(bell(), shots=3)
    assert watches.count == held
    assert second.status() is JobStatus.QUEUED
    first.cancel()
    assert sum(second.result(timeout=NEVER).get_counts().values()) == 3


def test_a_cancel_during_the_wait_ends_it(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", MAX_WAIT_SECONDS)
    provider = VendorProvider(transport=InProcessTransport(create_app(emulator)), journal=False)
    backend = provider.get_backend("ideal_simulator")
    watches = Watches(emulator)
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(backend.run(bell(), shots=3, job_name="slow")),
        daemon=True,
    )
    thread.start()
    watches.reach(1, "(the submission, held while its 600 s job runs)")
    [record] = emulator.store.list_jobs(DEFAULT_ACCOUNT, JobQuery())
    assert provider.client.cancel_job(record.job_id).status == "CANCELLED"
    thread.join(MAX_WAIT_SECONDS * 4)
    assert not thread.is_alive(), "the held submission never answered"
    [job] = outcome
    assert job.job_id() == record.job_id
    assert job.status() is JobStatus.CANCELLED
    with pytest.raises(VendorJobError, match="cancelled"):
        job.result()


def test_two_threads_submitting_at_once_get_their_own_jobs_once_each(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", MAX_WAIT_SECONDS)
    journal = tmp_path / "journal.sqlite3"
    provider = VendorProvider(transport=InProcessTransport(create_app(emulator)), journal=journal)
    warm(provider)
    backend = provider.get_backend("ideal_simulator")
    start = threading.Barrier(2)
    counts: dict[int, dict[str, int]] = {}
    ids: dict[int, str] = {}

    def submit(shots: int) -> None:
        start.wait()
        job = backend.run(bell(), shots=shots, seed_simulator=shots)
        ids[shots] = job.job_id()
        counts[shots] = job.result().get_counts()

    threads = [threading.Thread(target=submit, args=(shots,), daemon=True) for shots in (21, 34)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(MAX_WAIT_SECONDS * 4)
        assert not thread.is_alive()
    assert {shots: sum(c.values()) for shots, c in counts.items()} == {21: 21, 34: 34}
    assert len(set(ids.values())) == 2
    stored = emulator.store.list_jobs(DEFAULT_ACCOUNT, JobQuery())
    assert sorted(r.shots for r in stored if r.job_id in ids.values()) == [21, 34]
    entries = [e for e in provider.journal() if e.job_id in ids.values()]
    assert len(entries) == 2 and {e.state for e in entries} == {"DONE"}


def test_a_primitive_holds_only_its_last_job(emulator: Emulator) -> None:
    transport = Recording(create_app(emulator))
    provider = VendorProvider(transport=transport, journal=False)
    backend = provider.get_backend("ideal_simulator")
    transport.seen.clear()
    # Two shot counts: two jobs, all submitted before any is waited for. Held for its
    # result, the first would keep the second from queueing while it runs.
    pubs = [(bell(), None, 10), (bell(), None, 20)]
    result = VendorSampler(backend=backend).run(pubs).result()
    assert [sum(pub.data.c.get_counts().values()) for pub in result] == [10, 20]
    posts = [line for line in transport.seen if line.startswith("POST /v1/jobs")]
    assert [wait_of(line) for line in posts] == [None, job_module.SUBMIT_WAIT_SECONDS]


# --------------------------------------------------------------------------- a killed host

_HOST_SCRIPT = """
import sys
from qiskit import QuantumCircuit
from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider import job as job_module
job_module.SUBMIT_WAIT_SECONDS = 30.0
provider = VendorProvider(url=sys.argv[1], token=sys.argv[2], journal=sys.argv[3])
circuit = QuantumCircuit(2)
circuit.h(0)
circuit.cx(0, 1)
circuit.measure_all()
provider.get_backend("ideal_simulator").run(circuit, shots=17, job_name="slow")
print("run() returned: the kill came too late", flush=True)
"""


@pytest.mark.integration
def test_a_host_killed_while_its_submission_is_held_resumes_the_job_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "server.sqlite3"
    config = EmulatorConfig(database=database, worker_faults=FAULTS, tokens={TOKEN: "acct"})
    emulator = Emulator(config)
    watches = Watches(emulator)
    journal = tmp_path / "journal.sqlite3"
    with EmulatorServer(emulator) as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        host = subprocess.Popen(
            [sys.executable, "-c", _HOST_SCRIPT, server.url, TOKEN, str(journal)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The server holds the submission while its 600 s job runs: kill the host then.
            watches.reach(1, "(the host's submission, held)")
            host.send_signal(signal.SIGKILL)
            out, _ = host.communicate(timeout=NEVER)
        finally:
            if host.poll() is None:
                host.kill()
        assert "run() returned" not in out
        conn = sqlite3.connect(database)
        made = conn.execute("SELECT job_id, idempotency_key FROM jobs").fetchall()
        conn.close()
        [(job_id, key)] = made  # the server made the job before the host died
        provider = VendorProvider(url=server.url, token=TOKEN, journal=journal)
        [entry] = provider.journal()
        assert (entry.key, entry.job_id, entry.state) == (key, None, SUBMITTING)
        [job] = provider.resume()
        assert job.job_id() == job_id  # the server's one job, found again
        assert job.cancel() is True
        conn = sqlite3.connect(database)
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1  # exactly once
        conn.close()
        [entry] = provider.journal()
        assert (entry.job_id, entry.state) == (job_id, "CANCELLED")
        assert provider.resume() == []
