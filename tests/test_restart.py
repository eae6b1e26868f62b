"""Restart: the emulator is killed (SIGKILL) with jobs queued and running, then restarted.

Policy under test (docs/reliability.md): jobs are rows in SQLite, so a kill loses none;
at start-up, jobs left RUNNING are put back in the queue and run again from the start,
with the seed fixed at submission, so the re-run gives the result the first run would
have given. Clients already waiting keep polling through the outage and get their
results without doing anything.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.client import RetryPolicy
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port
from tests.waiting import NEVER, count_calls, eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
# The first server's simulator sleeps this long before a job named "slow": the kill
# always finds it running, however fast the machine. The second server has no fault.
HOLD = ("--worker-fault", "slow=sleep=600")


def basis(index: int) -> QuantumCircuit:
    circuit = QuantumCircuit(3, 3, name=f"fast-{index}")
    for bit in range(3):
        if index >> bit & 1:
            circuit.x(bit)
    circuit.measure(range(3), range(3))
    return circuit


def rows_of(database: Path) -> dict[str, tuple[str, float | None]]:
    conn = sqlite3.connect(database)
    try:
        return {
            job_id: (status, started)
            for job_id, status, started in conn.execute(
                "SELECT job_id, status, started_at FROM jobs"
            )
        }
    finally:
        conn.close()


def wait_until_running(database: Path, job_id: str, limit: float = NEVER) -> None:
    """Watch the store itself: polling over HTTP could miss a short RUNNING spell."""
    deadline = time.monotonic() + limit
    while True:
        status = rows_of(database).get(job_id, ("?", None))[0]
        if status == "RUNNING":
            return
        assert status == "QUEUED", f"job {job_id} is {status} before it was seen running"
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.005)


def test_sigkill_with_jobs_queued_and_running_then_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "jobs.sqlite3"
    port = free_loopback_port()
    # The default retry policy: waiting through restarts must need no special settings.
    provider = VendorProvider(
        url=f"http://127.0.0.1:{port}", poll_interval=(0.02, 0.2), journal=False
    )
    results: dict[str, object] = {}

    def wait(job: VendorJob) -> None:
        try:
            results[job.job_id()] = job.result(timeout=180).get_counts()
        except BaseException as exc:  # recorded, and the test fails on it below
            results[job.job_id()] = exc

    # The jobs are queued first, on a server of the same database and port that runs
    # nothing, so that all four are known to be queued when the next server starts.
    holding = EmulatorServer(Emulator(EmulatorConfig(database=database)), port=port)
    monkeypatch.setattr(holding.emulator.supervisor, "start", lambda: None)
    with holding:
        backend = provider.get_backend("ideal_simulator")
        slow = backend.run(basis(6), shots=50, job_name="slow")
        fast = [backend.run(basis(i), shots=10 + i, job_name=f"fast-{i}") for i in range(1, 4)]
        waiters = [threading.Thread(target=wait, args=(job,)) for job in [slow, *fast]]
        for waiter in waiters:
            waiter.start()

    with emulator_process(port, database, *HOLD, wait_ready=False) as first:
        wait_until_running(database, slow.job_id())
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=NEVER)

    # The kill hit the moment it was meant to: one job running, the others queued.
    at_kill = rows_of(database)
    assert at_kill[slow.job_id()][0] == "RUNNING"
    assert [at_kill[job.job_id()][0] for job in fast] == ["QUEUED"] * 3
    killed_at = time.time()

    time.sleep(0.5)  # down a little longer than a restart takes anyway
    with emulator_process(port, database, wait_ready=False) as second:
        for waiter in waiters:
            waiter.join(timeout=180)
        assert not any(waiter.is_alive() for waiter in waiters)
        second.terminate()
        _, log = second.communicate(timeout=NEVER)

    failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    assert not failures, failures
    assert results[slow.job_id()] == {"110": 50}
    for index, job in enumerate(fast, start=1):
        assert results[job.job_id()] == {format(index, "03b"): 10 + index}
    after = rows_of(database)
    assert len(after) == 4  # nothing lost, nothing duplicated
    assert {status for status, _ in after.values()} == {"DONE"}
    started_again = after[slow.job_id()][1]
    assert started_again is not None and started_again > killed_at  # re-run, from the start
    assert "re-queued 1 job(s) left running by a restart" in log


def test_a_wait_outlives_an_outage_longer_than_one_requests_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "jobs.sqlite3"
    config = EmulatorConfig(database=database, poll_interval=0.05)
    paused = EmulatorServer(Emulator(config))
    monkeypatch.setattr(paused.emulator.supervisor, "start", lambda: None)  # jobs stay queued
    provider = VendorProvider(
        url=paused.url,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        poll_interval=(0.02, 0.1),
        journal=False,
    )
    with paused:
        job = provider.get_backend("ideal_simulator").run(basis(5), shots=7)
        asked = count_calls(provider.client.session, "send")
        outcome: list[object] = []
        waiter = threading.Thread(target=lambda: outcome.append(_result_or_error(job)))
        waiter.start()
        eventually(lambda: asked.count >= 1, "the waiter asks the server")  # it is waiting
    time.sleep(1.5)  # down for 1.5 s: far past two quick attempts, far within the timeout
    with EmulatorServer(Emulator(config), port=paused.port):
        waiter.join(timeout=NEVER)
    [answer] = outcome
    if isinstance(answer, BaseException):
        raise answer
    assert answer == {"101": 7}


def _result_or_error(job: VendorJob) -> object:
    try:
        return job.result(timeout=NEVER).get_counts()
    except Exception as exc:
        return exc
