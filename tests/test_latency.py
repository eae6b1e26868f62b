"""How soon things take effect: the slow layer's wall-clock claims (``pytest --slow``).

The fast tests check that a cancel, a timeout, Ctrl-C, SIGTERM or a long poll *takes
effect*, synchronising on events. What they leave out is *how soon*: a bound on elapsed
time depends on the machine, so it lives here, where the suite is run on purpose on a
machine of known speed. Each bound is the product's aim times ``SLACK``, and every
clock starts at an event the test caused (never at a process start).
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest
from qiskit.providers import JobStatus

from qiskit_vendor_provider import VendorJobTimeoutError, VendorProvider, VendorValidationError
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.emulator.app import MAX_WAIT_SECONDS
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port
from tests.conftest import MOCK_TOKEN, MOCK_URL, MockedApi
from tests.helpers import bell
from tests.test_workers import FAULTS, interrupt_a_waiting_script, provider_for
from tests.waiting import NEVER, Watches, eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

SLACK = 5.0
"""How many times the product's aim a bound allows: for a busy machine, not a slow product."""


@pytest.fixture
def faulty(tmp_path: Path) -> Emulator:
    emulator = Emulator(
        EmulatorConfig(database=tmp_path / "jobs.sqlite3", poll_interval=0.02, worker_faults=FAULTS)
    ).start()
    yield emulator
    emulator.stop()


def test_a_cancel_stops_a_running_simulation_within_a_second(faulty: Emulator) -> None:
    job = provider_for(faulty).get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    eventually(lambda: job.job_id() in faulty.supervisor.running_jobs, "the job runs")
    cancelled = time.monotonic()
    assert job.cancel() is True
    eventually(lambda: job.job_id() not in faulty.supervisor.running_jobs, "the process stops")
    assert time.monotonic() - cancelled < 1.0 * SLACK


def test_a_timeout_ends_the_wait_on_time(tmp_path: Path) -> None:
    paused = Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3"))  # runs nothing
    job = provider_for(paused).get_backend("ideal_simulator").run(bell(), shots=5)
    for timeout in (0.2, 1.5):
        started = time.monotonic()
        with pytest.raises(VendorJobTimeoutError):
            job.result(timeout=timeout)
        assert timeout <= time.monotonic() - started < timeout + 0.5 * SLACK


def test_a_server_busy_simulating_answers_at_once(tmp_path: Path) -> None:
    config = EmulatorConfig(database=tmp_path / "j.sqlite3", worker_faults=FAULTS)
    with EmulatorServer(Emulator(config)) as server:
        provider = VendorProvider(url=server.url, poll_interval=(0.01, 0.05), journal=False)
        backend = provider.get_backend("ideal_simulator")
        job = backend.run(bell(), shots=10, job_name="slow")
        eventually(lambda: job.status() is JobStatus.RUNNING, "the job runs")
        started = time.monotonic()
        assert backend.status().operational
        assert job.status() is JobStatus.RUNNING
        assert time.monotonic() - started < 2.0 * SLACK
        job.cancel()


def test_a_timeout_is_kept_while_the_server_is_unreachable(tmp_path: Path) -> None:
    config = EmulatorConfig(database=tmp_path / "j.sqlite3", worker_faults=FAULTS)
    server = EmulatorServer(Emulator(config)).start()
    provider = VendorProvider(url=server.url, journal=False)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5, job_name="slow")
    eventually(lambda: job.status() is JobStatus.RUNNING, "the job runs")
    server.stop()
    for timeout in (0.01, 1.0):
        started = time.monotonic()
        with pytest.raises(VendorJobTimeoutError):
            job.result(timeout=timeout)
        assert time.monotonic() - started < timeout + 0.5 * SLACK


def test_embedded_timeout_and_ctrl_c_take_effect_within_two_seconds(tmp_path: Path) -> None:
    interrupt_a_waiting_script("embedded", str(tmp_path / "embedded.sqlite3"), within=2.0 * SLACK)


def test_timeout_and_ctrl_c_against_a_server_take_effect_within_two_seconds(
    tmp_path: Path,
) -> None:
    port = free_loopback_port()
    with emulator_process(port, tmp_path / "j.sqlite3", "--worker-fault", "slow=sleep=60"):
        interrupt_a_waiting_script(f"http://127.0.0.1:{port}", within=2.0 * SLACK)


def test_sigterm_stops_the_server_within_two_seconds(tmp_path: Path) -> None:
    port = free_loopback_port()
    provider = VendorProvider(url=f"http://127.0.0.1:{port}", journal=False)
    with emulator_process(port, tmp_path / "j.sqlite3", "--worker-fault", "pause=sleep=30") as host:
        job = provider.get_backend("ideal_simulator").run(bell(), shots=6, job_name="pause")
        eventually(lambda: job.status() is JobStatus.RUNNING, "the job runs")
        stopped = time.monotonic()
        host.send_signal(signal.SIGTERM)
        assert host.wait(timeout=NEVER) == 0
        assert time.monotonic() - stopped < 2.0 * SLACK


def test_a_long_poll_answers_a_cancel_within_a_second(tmp_path: Path) -> None:
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", workers=0)
    emulator = Emulator(config)
    watches = Watches(emulator)
    with EmulatorServer(emulator) as server:
        provider = VendorProvider(url=server.url, journal=False)
        job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
        answers: list[str] = []
        waiter = threading.Thread(
            target=lambda: answers.append(
                provider.client.get_job(job.job_id(), wait=MAX_WAIT_SECONDS).status
            )
        )
        waiter.start()
        watches.reach(1, "(the status long poll)")
        cancelled = time.monotonic()
        job.cancel()
        waiter.join(NEVER)
        assert answers == ["CANCELLED"]
        assert time.monotonic() - cancelled < 1.0 * SLACK


def test_a_catastrophic_name_filter_ends_within_its_budget(api: MockedApi) -> None:
    provider = VendorProvider(url=MOCK_URL, token=MOCK_TOKEN, poll_interval=(0.005, 0.05))
    provider.get_backend("ideal_simulator").run(bell(), shots=1, job_name="a" * 40 + "!").result()
    started = time.monotonic()
    with pytest.raises(VendorValidationError, match="took more than"):
        provider.jobs(job_name="^(a|aa)+$", limit=100)
    assert time.monotonic() - started < 2.0 * SLACK  # a 0.5 s budget, not exponential time
