"""The spare simulator process: started early, adopted by the supervisor, never leaked.

The embedded emulator starts a simulator process before it sets itself up, and its
supervisor adopts it, so a script's first job does not wait for Python, Qiskit and Aer to
start. These tests check what that must not change: the spare is the process that runs
the first job, it ends with its host however the host ends, and one that died is simply
not used. None of them depends on how fast a process starts: they wait on pids and states.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from qiskit_vendor_provider import DatabaseFileError, VendorProvider
from qiskit_vendor_provider import provider as provider_module
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    InProcessTransport,
    create_app,
    workers,
)
from qiskit_vendor_provider.emulator.worker_fork import START_ENV
from qiskit_vendor_provider.emulator.workers import WorkerProcess, start_spare
from tests.helpers import ROOT, bell
from tests.waiting import NEVER, eventually


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie nobody reaps counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def emulator_with(tmp_path: Path, spare: WorkerProcess | None) -> tuple[Emulator, bool]:
    emulator = Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3", poll_interval=0.02))
    adopted = emulator.supervisor.adopt(spare) if spare is not None else False
    return emulator.start(), adopted


def run_bell(emulator: Emulator) -> dict[str, int]:
    provider = VendorProvider(
        transport=InProcessTransport(create_app(emulator)), poll_interval=(0.005, 0.05)
    )
    backend = provider.get_backend("ideal_simulator")
    counts: dict[str, int] = backend.run(bell(), shots=64, seed_simulator=5).result().get_counts()
    return counts


def test_the_adopted_spare_runs_the_first_job(tmp_path: Path) -> None:
    spare = start_spare()
    assert spare is not None
    emulator, adopted = emulator_with(tmp_path, spare)
    try:
        assert adopted
        assert emulator.supervisor.worker_pids == [spare.pid]
        assert sum(run_bell(emulator).values()) == 64
        # No second process was started: the job ran on the spare, which stays warm.
        assert emulator.supervisor.worker_pids == [spare.pid]
    finally:
        emulator.stop()
    assert spare.wait(NEVER) is not None


def test_a_spare_adopted_by_a_running_supervisor_runs_the_next_job(tmp_path: Path) -> None:
    emulator, _ = emulator_with(tmp_path, None)
    try:
        spare = start_spare()
        assert spare is not None
        assert emulator.supervisor.adopt(spare)
        eventually(lambda: emulator.supervisor.worker_pids == [spare.pid], "the spare adopted")
        assert sum(run_bell(emulator).values()) == 64
        assert emulator.supervisor.worker_pids == [spare.pid]
    finally:
        emulator.stop()


def test_a_spare_that_died_before_adoption_is_not_used(tmp_path: Path) -> None:
    spare = start_spare()
    assert spare is not None
    os.kill(spare.pid, signal.SIGKILL)
    assert spare.wait(NEVER) == -signal.SIGKILL
    emulator, adopted = emulator_with(tmp_path, spare)
    try:
        assert not adopted
        assert emulator.supervisor.worker_pids == []
        assert sum(run_bell(emulator).values()) == 64
        [worker] = emulator.supervisor.worker_pids
        assert worker != spare.pid
    finally:
        emulator.stop()


def test_a_spare_that_dies_after_adoption_costs_nothing(tmp_path: Path) -> None:
    spare = start_spare()
    assert spare is not None
    emulator, adopted = emulator_with(tmp_path, spare)
    try:
        assert adopted
        os.kill(spare.pid, signal.SIGKILL)
        eventually(lambda: emulator.supervisor.worker_pids == [], "the dead spare dropped")
        assert sum(run_bell(emulator).values()) == 64
    finally:
        emulator.stop()


def test_a_spare_for_another_memory_limit_is_closed_not_adopted(tmp_path: Path) -> None:
    spare = start_spare(max_memory_mb=300)
    assert spare is not None
    emulator, adopted = emulator_with(tmp_path, spare)
    try:
        assert not adopted
        assert spare.wait(NEVER) is not None  # closed: it ends, not left running
    finally:
        emulator.stop()


def test_no_spare_from_a_thread_other_than_the_main_one() -> None:
    # Linux's parent-death signal follows the thread that started the process: a spare
    # started from a short-lived thread would die with that thread.

    started: list[object] = []
    thread = threading.Thread(target=lambda: started.append(start_spare()))
    thread.start()
    thread.join()
    assert started == [None]


HOST = textwrap.dedent(
    """
    import json, sys, time
    from qiskit_vendor_provider import DatabaseFileError, VendorProvider
    from qiskit_vendor_provider import provider as module

    VendorProvider()
    supervisor = module._embedded.app.state.emulator.supervisor
    # Adopted at once with a processor idle, on the supervisor's thread on a busy machine.
    while not supervisor.worker_pids:
        time.sleep(0.01)
    [spare] = supervisor.worker_pids
    with open(f"/proc/{spare}/cmdline", "rb") as cmdline:  # spawned: python -m the worker
        spawned = b"-m" in cmdline.read().split(bytes(1))[1:2]
    print(json.dumps([spare, "spawn" if spawned else "fork"]), flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)
    print("waiting", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("start", ["fork", "spawn"])
@pytest.mark.parametrize("how", ["exit", "kill -9", "ctrl-c"])
def test_the_embedded_spare_ends_with_its_host(tmp_path: Path, how: str, start: str) -> None:
    # Forked (the default in a script with one thread) or spawned, it ends with its host.
    env = dict(os.environ)
    env["QISKIT_VENDOR_EMULATOR_DB"] = str(tmp_path / "embedded.sqlite3")
    env["QISKIT_VENDOR_JOURNAL"] = str(tmp_path / "journal.sqlite3")
    env[START_ENV] = start
    host = subprocess.Popen(
        [sys.executable, "-c", HOST, how.split(maxsplit=1)[0]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        assert host.stdout is not None
        line = host.stdout.readline()
        assert line, host.communicate(timeout=NEVER)[1]
        spare, started = json.loads(line)  # VendorProvider() started one before any job
        assert started == start
        assert not gone(spare)
        if how != "exit":
            assert host.stdout.readline().strip() == "waiting"
            host.send_signal(signal.SIGKILL if how == "kill -9" else signal.SIGINT)
        host.communicate(timeout=NEVER)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
    eventually(lambda: gone(spare), f"the spare {spare} ended after its host's {how}")


def record_spares(monkeypatch: pytest.MonkeyPatch, *, idle: bool) -> list[WorkerProcess]:
    """The spares the embedded emulator starts from now on, with the processor idle or not."""
    started: list[WorkerProcess] = []

    def recorded_spare() -> WorkerProcess | None:
        spare = start_spare()
        if spare is not None:
            started.append(spare)
        return spare

    monkeypatch.setattr(workers, "start_spare", recorded_spare)
    monkeypatch.setattr(workers, "a_processor_is_idle", lambda: idle)
    return started


def test_an_embedded_emulator_that_fails_to_start_closes_its_spare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = record_spares(monkeypatch, idle=True)  # started first
    monkeypatch.setattr(provider_module, "_embedded", None)
    # A directory where the database file should be: the emulator cannot open its store.
    monkeypatch.setenv("QISKIT_VENDOR_EMULATOR_DB", str(tmp_path))
    with pytest.raises(DatabaseFileError):
        VendorProvider()
    [spare] = started
    assert spare.wait(NEVER) is not None  # closed: it ended rather than idle until exit


@pytest.mark.parametrize("idle", [True, False], ids=["processor idle", "machine busy"])
def test_the_embedded_emulator_adopts_its_spare_whenever_it_starts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    # Idle: the spare starts before the emulator's set-up; busy: after it. Adopted either way.
    started = record_spares(monkeypatch, idle=idle)
    monkeypatch.setattr(provider_module, "_embedded", None)
    monkeypatch.setenv("QISKIT_VENDOR_EMULATOR_DB", str(tmp_path / "embedded.sqlite3"))
    monkeypatch.setenv("QISKIT_VENDOR_JOURNAL", str(tmp_path / "journal.sqlite3"))
    VendorProvider()
    emulator = provider_module._embedded.app.state.emulator
    try:
        [spare] = started
        eventually(lambda: emulator.supervisor.worker_pids == [spare.pid], "the spare adopted")
    finally:
        emulator.stop()
