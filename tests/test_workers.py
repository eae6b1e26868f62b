"""Worker isolation: whatever a simulation does, the host lives and only its job fails.

Faults are injected in the simulator process by job name (``EmulatorConfig.worker_faults``)
so each test picks its crash: a real segfault (a read of address 0), abort(3), SIGKILL,
``os._exit`` and running out of the memory ceiling. Leases and attempts are checked in
the SQLite store itself, which is what two processes sharing it agree through.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobError, VendorJobTimeoutError, VendorProvider
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port
from tests.helpers import ROOT, bell
from tests.waiting import NEVER, count_calls, eventually

FAULTS = {
    "segfault": "segfault",
    "abort": "abort",
    "kill": "kill",
    "exit": "exit",
    "memory": "memory",
    "slow": "sleep=600",  # longer than any wait here: only a cancel or a kill ends it
    "pause": "sleep=2",
}


def provider_for(emulator: Emulator) -> VendorProvider:
    return VendorProvider(
        transport=InProcessTransport(create_app(emulator)), poll_interval=(0.005, 0.05)
    )


def jobs_table(database: Path) -> dict[str, dict[str, object]]:
    conn = sqlite3.connect(database)
    conn.row_factory = sqlite3.Row
    try:
        return {
            row["job_id"]: dict(row)
            for row in conn.execute("SELECT job_id, status, attempts, lease_owner, error FROM jobs")
        }
    finally:
        conn.close()


def wait_for(predicate, limit: float = NEVER) -> None:  # type: ignore[no-untyped-def]
    """Until ``predicate()`` holds; the limit only turns "never" into a failure."""
    eventually(predicate, "the condition", limit)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator on a SQLite file whose simulator processes misbehave on request."""
    database = Path(tmp_path_factory.mktemp("workers")) / "jobs.sqlite3"
    emulator = Emulator(
        EmulatorConfig(
            database=database, poll_interval=0.02, worker_faults=FAULTS, max_memory_mb=256
        )
    ).start()
    yield emulator
    emulator.stop()


# ------------------------------------------------------------------ crashes


@pytest.mark.parametrize(
    ("fault", "how"),
    [
        ("segfault", "signal 11 (SIGSEGV)"),
        ("abort", "signal 6 (SIGABRT)"),
        ("kill", "signal 9 (SIGKILL)"),
        ("exit", "exit status 3"),
    ],
)
def test_a_dying_simulator_fails_its_job_alone(faulty: Emulator, fault: str, how: str) -> None:
    backend = provider_for(faulty).get_backend("ideal_simulator")
    doomed = backend.run(bell(name="doomed-circuit"), shots=10, job_name=fault)
    after = backend.run(bell(), shots=64, seed_simulator=3)
    with pytest.raises(VendorJobError) as raised:
        doomed.result(timeout=60)
    message = str(raised.value)
    assert f"the simulator process died with {how}" in message
    assert "'ideal_simulator'" in message and "'doomed-circuit'" in message
    assert doomed.status() is JobStatus.ERROR
    # The host is this test process; the queue goes on with a new simulator process.
    counts = after.result(timeout=60).get_counts()
    assert sum(counts.values()) == 64 and set(counts) <= {"00", "11"}


def test_a_job_over_the_memory_ceiling_fails_alone(faulty: Emulator) -> None:
    backend = provider_for(faulty).get_backend("ideal_simulator")
    hog = backend.run(bell(), shots=10, job_name="memory")
    with pytest.raises(VendorJobError, match="went over its memory ceiling"):
        hog.result(timeout=60)
    assert backend.run(bell(), shots=8).result(timeout=60).get_counts()


def test_an_aer_failure_inside_a_job_is_an_error_not_a_crash(faulty: Emulator) -> None:
    # 30 entangled qubits of state vector cannot fit in 256 MB: Aer refuses, the process
    # lives.
    wide = QuantumCircuit(30, 30)
    wide.rx(0.1, range(30))
    for qubit in range(29):
        wide.cx(qubit, qubit + 1)
    wide.measure(range(30), range(30))
    job = provider_for(faulty).get_backend("ideal_simulator").run(wide, shots=10)
    with pytest.raises(VendorJobError, match="failed"):
        job.result(timeout=60)
    assert job.status() is JobStatus.ERROR


# ------------------------------------------------------------------ cancel


def test_cancelling_a_running_job_stops_its_process(faulty: Emulator) -> None:
    # How soon is tests/test_latency.py's (slow layer); here: it stops, long before the
    # 30 s the job would sleep, and the queue goes on.
    backend = provider_for(faulty).get_backend("ideal_simulator")
    job = backend.run(bell(), shots=10, job_name="slow")
    wait_for(lambda: job.status() is JobStatus.RUNNING)
    wait_for(lambda: job.job_id() in faulty.supervisor.running_jobs)
    assert job.cancel() is True
    wait_for(lambda: job.job_id() not in faulty.supervisor.running_jobs)
    assert job.status() is JobStatus.CANCELLED
    assert backend.run(bell(), shots=8).result(timeout=60).get_counts()


# ------------------------------------------------------------------ restarts and quarantine


def test_a_job_interrupted_on_every_attempt_is_quarantined(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    config = EmulatorConfig(database=database, poll_interval=0.02, worker_faults=FAULTS)
    held = Emulator(config)  # not started: its jobs stay queued
    backend = provider_for(held).get_backend("ideal_simulator")
    poison = backend.run(bell(), shots=10, job_name="segfault")
    innocent = backend.run(bell(), shots=10, seed_simulator=1)
    held.store.close()  # type: ignore[attr-defined]
    # Twice a process claims it and dies with it (a lease of 0 s has run out at once).
    store = SQLiteJobStore(database)
    store.claim_next("a-dead-host/1:x", 0.0, ["ideal_simulator"])
    [requeued] = store.expire_leases(max_attempts=2)
    assert (requeued.job_id, requeued.status) == (poison.job_id(), "QUEUED")
    store.claim_next("a-dead-host/2:y", 0.0, ["ideal_simulator"])
    store.close()

    restarted = Emulator(config).start()
    try:
        again = provider_for(restarted)
        job = VendorJob(again.get_backend("ideal_simulator"), poison.job_id(), again.client)
        with pytest.raises(VendorJobError, match="quarantined: the job was interrupted"):
            job.result(timeout=60)
        other = VendorJob(job.backend(), innocent.job_id(), again.client)
        assert sum(other.result(timeout=60).get_counts().values()) == 10
    finally:
        restarted.stop()
    rows = jobs_table(database)
    assert rows[poison.job_id()]["status"] == "ERROR"
    assert rows[poison.job_id()]["attempts"] == 2  # never handed to a simulator again


def test_a_job_left_running_is_rerun_once_then_its_crash_is_final(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    config = EmulatorConfig(database=database, poll_interval=0.02, worker_faults=FAULTS)
    held = Emulator(config)
    poison = (
        provider_for(held).get_backend("ideal_simulator").run(bell(), shots=10, job_name="segfault")
    )
    held.store.close()  # type: ignore[attr-defined]
    store = SQLiteJobStore(database)
    store.claim_next("a-dead-host/1:x", 0.0, ["ideal_simulator"])  # attempt 1, abandoned
    store.close()
    for _ in range(2):  # the crash is final: a second restart does not run it again
        restarted = Emulator(config).start()
        try:
            wait_for(lambda: jobs_table(database)[poison.job_id()]["status"] == "ERROR")
        finally:
            restarted.stop()
    row = jobs_table(database)[poison.job_id()]
    assert row["attempts"] == 2
    assert "the simulator process died with signal 11" in str(row["error"])


def test_a_database_from_before_leases_is_migrated_and_its_running_job_rerun(
    tmp_path: Path,
) -> None:
    database = tmp_path / "old.sqlite3"
    seeded = Emulator(EmulatorConfig(database=database))
    job = provider_for(seeded).get_backend("ideal_simulator").run(bell(), shots=12)
    seeded.store.close()  # type: ignore[attr-defined]
    conn = sqlite3.connect(database)
    # The table as the first release made it: no attempts, no lease, the job RUNNING.
    conn.executescript(
        "ALTER TABLE jobs DROP COLUMN attempts; ALTER TABLE jobs DROP COLUMN lease_owner; "
        "ALTER TABLE jobs DROP COLUMN lease_expires; UPDATE jobs SET status = 'RUNNING';"
    )
    conn.close()
    restarted = Emulator(EmulatorConfig(database=database, poll_interval=0.02)).start()
    try:
        again = provider_for(restarted)
        result = VendorJob(again.get_backend("ideal_simulator"), job.job_id(), again.client)
        assert sum(result.result(timeout=60).get_counts().values()) == 12
    finally:
        restarted.stop()


# ------------------------------------------------------------------ leases across processes


def test_a_live_lease_of_another_process_is_left_alone_until_it_expires(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    held = Emulator(EmulatorConfig(database=database))
    job = provider_for(held).get_backend("ideal_simulator").run(bell(), shots=9)
    held.store.close()  # type: ignore[attr-defined]
    store = SQLiteJobStore(database)
    store.claim_next("another-host/4242:abc", 3600.0, ["ideal_simulator"])
    store.close()
    emulator = Emulator(EmulatorConfig(database=database, poll_interval=0.02, lease_seconds=0.4))
    checks = count_calls(emulator.store, "expire_leases")
    emulator.start()
    try:
        wait_for(lambda: checks.count >= 3)  # several of this emulator's lease checks
        row = jobs_table(database)[job.job_id()]
        assert (row["status"], row["lease_owner"], row["attempts"]) == (
            "RUNNING",
            "another-host/4242:abc",
            1,
        )
        # The other process never renews: once its lease runs out (its expiry is moved to
        # the past, as an hour passing would), the job is taken back.
        conn = sqlite3.connect(database)
        with conn:
            conn.execute("UPDATE jobs SET lease_expires = 0 WHERE job_id = ?", (job.job_id(),))
        conn.close()
        wait_for(lambda: jobs_table(database)[job.job_id()]["status"] == "DONE")
    finally:
        emulator.stop()
    assert jobs_table(database)[job.job_id()]["attempts"] == 2


def test_two_processes_on_one_database_simulate_each_job_exactly_once(tmp_path: Path) -> None:
    database = tmp_path / "shared.sqlite3"
    port = free_loopback_port()
    # One simulator process on the server: while it is held by a slow job, the other
    # device is free for the second process, so both of them run jobs.
    # Leases far longer than any job here: what is checked is that the two processes
    # share the queue, not how quickly a lease is renewed on a busy machine.
    args = ("--worker-fault", "pause=sleep=2", "--workers", "1", "--lease-seconds", "30")
    with emulator_process(port, database, *args) as server:
        remote = VendorProvider(
            url=f"http://127.0.0.1:{port}", poll_interval=(0.01, 0.1), journal=False
        )
        circuits = {
            name: transpile(bell(), remote.get_backend(name), seed_transpiler=1)
            for name in ("ideal_simulator", "superconducting_27q")
        }
        # The server is running a job when the second process starts on the same file.
        paused = remote.get_backend("ideal_simulator").run(bell(), shots=5, job_name="pause")
        wait_for(lambda: paused.status() is JobStatus.RUNNING)
        local_emulator = Emulator(
            EmulatorConfig(database=database, poll_interval=0.02, lease_seconds=30)
        ).start()
        try:
            local = provider_for(local_emulator)
            jobs: list[VendorJob] = [paused]
            for index in range(6):
                name = ("ideal_simulator", "superconducting_27q")[index % 2]
                for provider in (remote, local):
                    jobs.append(
                        provider.get_backend(name).run(
                            circuits[name], shots=20 + index, seed_simulator=index
                        )
                    )
            for job in jobs:
                job.wait_for_final_state(timeout=120)
        finally:
            local_emulator.stop()
        server.terminate()
        server.wait(timeout=30)
    rows = jobs_table(database)
    assert len(rows) == len(jobs) == 13
    assert {row["status"] for row in rows.values()} == {"DONE"}
    assert {row["attempts"] for row in rows.values()} == {1}  # one simulation per job
    owners = {str(row["lease_owner"]).rsplit(":", 1)[0] for row in rows.values()}
    assert len(owners) == 2  # both processes ran jobs
    assert rows[paused.job_id()]["lease_owner"] != local_emulator.supervisor.owner


# ------------------------------------------------------------------ serving while busy


def test_status_requests_are_answered_while_a_simulation_runs(tmp_path: Path) -> None:
    config = EmulatorConfig(database=tmp_path / "j.sqlite3", worker_faults=FAULTS)
    with EmulatorServer(Emulator(config)) as server:
        provider = VendorProvider(url=server.url, poll_interval=(0.01, 0.05), journal=False)
        backend = provider.get_backend("ideal_simulator")
        job = backend.run(bell(), shots=10, job_name="slow")
        wait_for(lambda: job.status() is JobStatus.RUNNING)
        # Answered while the 30 s simulation runs (a server held by it would answer once
        # it is over, DONE): how soon is tests/test_latency.py's.
        assert backend.status().operational
        assert job.status() is JobStatus.RUNNING
        with pytest.raises(VendorJobTimeoutError, match=r"still RUNNING after 0\.3 s"):
            job.result(timeout=0.3)
        assert job.job_id() in server.emulator.supervisor.running_jobs
        job.cancel()


def test_status_requests_are_answered_while_a_large_body_arrives(tmp_path: Path) -> None:
    import socket

    import requests

    with EmulatorServer(Emulator(EmulatorConfig(database=tmp_path / "j.sqlite3"))) as server:
        declared = 8_000_000
        with socket.create_connection((server.host, server.port), timeout=10) as upload:
            upload.sendall(
                b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {declared}\r\n\r\n".encode()
                + b'{"device": "ideal_simulator", "programs": ['
                + b" " * 1_000_000
            )
            # Half-way through a large upload (which never ends), the server answers
            # others: a server waiting for the body would never answer.
            answer = requests.get(
                f"{server.url}/v1/devices/ideal_simulator/status", timeout=NEVER / 2
            )
            assert answer.status_code == 200 and answer.json()["operational"] is True


# ------------------------------------------------------------------ timeouts and signals

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from qiskit import QuantumCircuit
    from qiskit_vendor_provider import VendorProvider, VendorJobTimeoutError
    from qiskit_vendor_provider.emulator import (
        Emulator, EmulatorConfig, InProcessTransport, create_app)
    if sys.argv[1] == "embedded":
        emulator = Emulator(EmulatorConfig(
            database=sys.argv[2], worker_faults={"slow": "sleep=60"})).start()
        provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
    else:
        provider = VendorProvider(url=sys.argv[1], journal=False)
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    job = provider.get_backend("ideal_simulator").run(circuit, shots=5, job_name="slow")
    while job.status().name != "RUNNING":
        time.sleep(0.01)
    started = time.monotonic()
    try:
        job.result(timeout=0.5)
    except VendorJobTimeoutError as exc:
        print(f"timeout after {time.monotonic() - started:.3f} s: {exc}", flush=True)
    print("waiting", flush=True)
    job.result()
    """
)


def interrupt_a_waiting_script(*args: str, within: float | None = None) -> str:
    """Run SCRIPT; check its timeout; Ctrl-C it while it waits; return its stderr.

    With ``within``, also check that the timeout and the Ctrl-C took effect within that
    many seconds (tests/test_latency.py, the slow layer).
    """
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        timeout_line = process.stdout.readline()
        # The job sleeps 60 s: a timeout at all is a timeout honoured.
        assert "still RUNNING after 0.5 s" in timeout_line, timeout_line
        if within is not None:
            assert float(timeout_line.split()[2]) < 0.5 + within
        assert process.stdout.readline().strip() == "waiting"
        time.sleep(0.2)  # into the wait (a Ctrl-C before it would end the script too)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=NEVER)
        if within is not None:
            assert time.monotonic() - interrupted < within, errors
    finally:
        if process.poll() is None:
            process.kill()
    assert "KeyboardInterrupt" in errors
    return errors


def test_embedded_timeout_and_ctrl_c_are_honoured(tmp_path: Path) -> None:
    database = tmp_path / "embedded.sqlite3"
    interrupt_a_waiting_script("embedded", str(database))
    [row] = jobs_table(database).values()
    assert (row["status"], row["attempts"]) == ("QUEUED", 1)  # given back, attempt counted


def test_timeout_and_ctrl_c_against_a_server(tmp_path: Path) -> None:
    port = free_loopback_port()
    with emulator_process(port, tmp_path / "j.sqlite3", "--worker-fault", "slow=sleep=60"):
        interrupt_a_waiting_script(f"http://127.0.0.1:{port}")


def test_a_timeout_is_kept_and_truthful_while_the_server_is_unreachable(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(database=tmp_path / "j.sqlite3", worker_faults=FAULTS)
    server = EmulatorServer(Emulator(config)).start()
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    wait_for(lambda: job.status() is JobStatus.RUNNING)
    server.stop()
    for timeout in (0.01, 1.0):  # how soon: tests/test_latency.py
        with pytest.raises(VendorJobTimeoutError) as raised:
            job.result(timeout=timeout)
        assert "the server did not answer" in str(raised.value)
        assert "its last known status is RUNNING" in str(raised.value)


def test_sigterm_stops_the_server_mid_simulation_and_the_job_resumes(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    provider = VendorProvider(url=url, poll_interval=(0.01, 0.1), journal=False)
    with emulator_process(port, database, "--worker-fault", "pause=sleep=30") as server:
        job = provider.get_backend("ideal_simulator").run(bell(), shots=6, job_name="pause")
        wait_for(lambda: job.status() is JobStatus.RUNNING)
        server.send_signal(signal.SIGTERM)  # how soon it stops: tests/test_latency.py
        assert server.wait(timeout=NEVER) == 0
    row = jobs_table(database)[job.job_id()]
    assert (row["status"], row["attempts"]) == ("QUEUED", 1)
    with emulator_process(port, database):  # no fault now: the job runs on its second attempt
        assert sum(job.result(timeout=60).get_counts().values()) == 6
    assert jobs_table(database)[job.job_id()]["attempts"] == 2


def test_a_job_longer_than_its_lease_keeps_it_by_renewing(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    # A 1 s lease and a 2 s job: without renewals the watcher would take the job back;
    # a renewal is due every 0.25 s, so only a stall of a whole second could lose it.
    short = {"worker_faults": FAULTS, "lease_seconds": 1.0, "poll_interval": 0.02}
    runner = Emulator(EmulatorConfig(database=database, **short)).start()  # type: ignore[arg-type]
    watcher = Emulator(EmulatorConfig(database=database, **short))  # type: ignore[arg-type]
    try:
        job = (
            provider_for(runner)
            .get_backend("ideal_simulator")
            .run(bell(), shots=5, job_name="pause")
        )
        wait_for(lambda: jobs_table(database)[job.job_id()]["status"] == "RUNNING")
        watcher.start()  # checks for expired leases every 0.25 s while the 2 s job runs
        assert sum(job.result(timeout=60).get_counts().values()) == 5
    finally:
        watcher.stop()
        runner.stop()
    row = jobs_table(database)[job.job_id()]
    assert (row["status"], row["attempts"]) == ("DONE", 1)
    assert row["lease_owner"] == runner.supervisor.owner


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_kill_9_of_the_server_leaves_no_simulator_running(tmp_path: Path) -> None:
    port = free_loopback_port()
    with emulator_process(port, tmp_path / "j.sqlite3", "--worker-fault", "slow=sleep=60") as host:
        provider = VendorProvider(url=f"http://127.0.0.1:{port}", journal=False)
        job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
        wait_for(lambda: job.status() is JobStatus.RUNNING)
        children = subprocess.run(
            ["pgrep", "-P", str(host.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert children, "the simulator process is the server's child"
        host.kill()
        host.wait(timeout=NEVER)

    def alive(pid: str) -> bool:
        try:
            return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False

    wait_for(lambda: not any(alive(pid) for pid in children))
