"""The forked spare: made from the user's process when that is safe, and harmless to it.

The embedded emulator forks its first simulator process from the user's process (Qiskit
is loaded there already) when the process is on Linux with one Python thread. Each
scenario runs in a fresh script, as a user's would: a test process has threads of its
own (other tests' emulators, Aer's executor), and with them the spare is spawned. The
scripts report what they saw as one JSON line; nothing here depends on how fast a
process starts (they wait on pids and job states).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from qiskit_vendor_provider import VendorValidationError
from qiskit_vendor_provider.emulator import worker_fork, workers
from qiskit_vendor_provider.emulator.worker_fork import START_ENV, ForkedProcess, fork_refusal
from tests.helpers import ROOT, isolated_env, run_python
from tests.waiting import NEVER

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")

PRELUDE = textwrap.dedent(
    """
    import json, os, sys, time
    from qiskit import QuantumCircuit
    from qiskit_vendor_provider import VendorProvider
    from qiskit_vendor_provider import provider as module
    from qiskit_vendor_provider.emulator import workers

    def bell(num_qubits=2):
        circuit = QuantumCircuit(num_qubits)
        circuit.h(0)
        for qubit in range(num_qubits - 1):
            circuit.cx(qubit, qubit + 1)
        circuit.measure_all()
        return circuit

    def supervisor():
        return module._embedded.app.state.emulator.supervisor

    def the_spare():
        # Adopted at once, or on the supervisor's thread (a spawned one on a busy machine).
        while not supervisor().worker_pids:
            time.sleep(0.01)
        [pid] = supervisor().worker_pids
        return pid

    def started(pid):
        # A spawned one runs `python -m ...worker_process`; a forked one has our argv.
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\\0")
        spawned = argv[1:3] == [b"-m", b"qiskit_vendor_provider.emulator.worker_process"]
        return "spawn" if spawned else "fork"

    def run(provider, circuit, **options):
        job = provider.get_backend("ideal_simulator").run(circuit, shots=64, **options)
        return job.result().get_counts()

    def report(**facts):
        print(json.dumps(facts), flush=True)
    """
)


def script(tmp_path: Path, body: str, **env: str) -> dict[str, Any]:
    """Run PRELUDE + ``body`` as a fresh script; what it reported (its last line)."""
    done = run_python(
        ["-c", PRELUDE + textwrap.dedent(body)], isolated_env(tmp_path, **env), timeout=NEVER
    )
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    facts["stdout"] = done.stdout
    return facts


@pytest.mark.parametrize("idle", [True, False], ids=["processor idle", "machine busy"])
def test_the_spare_is_forked_and_runs_the_first_job(tmp_path: Path, idle: bool) -> None:
    # Idle: forked before the emulator's set-up; busy: after it, before its threads start.
    facts = script(
        tmp_path,
        f"""
        workers.a_processor_is_idle = lambda: {idle}
        provider = VendorProvider()
        spare = the_spare()
        how = started(spare)
        counts = run(provider, bell())
        report(host=os.getpid(), spare=spare, how=how, parent=os.getppid(),
               spare_parent=int(open(f"/proc/{{spare}}/stat").read().rpartition(")")[2].split()[1]),
               pids=supervisor().worker_pids, shots=sum(counts.values()),
               outcomes=sorted(counts))
        """,
    )
    assert facts["how"] == "fork"
    assert facts["spare_parent"] == facts["host"]
    assert facts["pids"] == [facts["spare"]]  # the job ran on the spare, which stays warm
    assert facts["shots"] == 64
    assert set(facts["outcomes"]) <= {"00", "11"}


def test_the_spare_holds_none_of_the_hosts_files_and_has_a_memory_ceiling(
    tmp_path: Path,
) -> None:
    facts = script(
        tmp_path,
        """
        import socket
        # The user's own file and socket, open when the emulator starts.
        mine = open(os.path.join(os.environ["QISKIT_VENDOR_EMULATOR_DB"] + ".mine"), "w")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        provider = VendorProvider()
        spare = the_spare()
        run(provider, bell())
        fds = {fd: os.readlink(f"/proc/{spare}/fd/{fd}") for fd in os.listdir(f"/proc/{spare}/fd")}
        with open(f"/proc/{spare}/limits") as limits:
            ceiling = [line for line in limits if line.startswith("Max address space")][0]
        report(how=started(spare), fds=fds, ceiling=ceiling.split()[3],
               mine=os.path.realpath(mine.name), listener=listener.fileno())
        """,
    )
    assert facts["how"] == "fork"
    targets = set(facts["fds"].values())
    assert facts["mine"] not in targets
    assert not [t for t in targets if t.startswith("socket:")], facts["fds"]
    assert not [t for t in targets if t.endswith((".sqlite3", ".sqlite3-wal"))], facts["fds"]
    # Its pipes are on 0, 1 (and 2, where printing goes), as a spawned one's are.
    assert {"0", "1", "2"} <= set(facts["fds"])
    assert facts["fds"]["0"].startswith("pipe:")
    assert facts["ceiling"] != "unlimited"


def test_unflushed_output_of_the_user_appears_exactly_once(tmp_path: Path) -> None:
    done = run_python(
        [
            "-c",
            PRELUDE
            + textwrap.dedent(
                """
                print("before", end="")
                print("err-before", end="", file=sys.stderr)
                provider = VendorProvider()
                how = started(the_spare())
                run(provider, bell())
                print("|after", how)
                """
            ),
        ],
        isolated_env(tmp_path),
        timeout=NEVER,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "before|after fork\n"
    assert done.stderr.count("err-before") == 1, done.stderr


def test_ctrl_c_at_the_terminal_is_the_users_alone(tmp_path: Path) -> None:
    body = """
    provider = VendorProvider()
    spare = the_spare()
    try:  # said inside the try: the Ctrl-C may come as soon as it is read
        print(json.dumps({"spare": spare, "how": started(spare)}), flush=True)
        time.sleep(600)
    except KeyboardInterrupt:
        pass
    counts = run(provider, bell())
    report(pids=supervisor().worker_pids, shots=sum(counts.values()))
    """
    # The host leads a process group of its own, as a shell's foreground job does.
    host = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=isolated_env(tmp_path),
        start_new_session=True,
    )
    try:
        assert host.stdout is not None
        line = host.stdout.readline()
        assert line, host.communicate(timeout=NEVER)[1]
        first = json.loads(line)
        assert first["how"] == "fork"
        assert os.getpgid(first["spare"]) != host.pid  # not in the group a terminal signals
        os.killpg(host.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        out, err = host.communicate(timeout=NEVER)
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
    assert host.returncode == 0, err
    facts = json.loads(out.strip().splitlines()[-1])
    assert facts["pids"] == [first["spare"]]  # the same spare ran the job after Ctrl-C
    assert facts["shots"] == 64


def test_a_process_with_another_python_thread_spawns_its_spare(tmp_path: Path) -> None:
    facts = script(
        tmp_path,
        """
        import threading
        stop = threading.Event()
        waiting = threading.Thread(target=stop.wait)
        waiting.start()
        provider = VendorProvider()
        how = started(the_spare())
        counts = run(provider, bell())
        stop.set()
        report(how=how, shots=sum(counts.values()))
        """,
    )
    assert facts == {"how": "spawn", "shots": 64, "stdout": facts["stdout"]}


def test_spawn_when_the_environment_says_so(tmp_path: Path) -> None:
    facts = script(
        tmp_path,
        """
        provider = VendorProvider()
        how = started(the_spare())
        counts = run(provider, bell())
        report(how=how, shots=sum(counts.values()))
        """,
        **{START_ENV: "spawn"},
    )
    assert facts["how"] == "spawn"
    assert facts["shots"] == 64


def test_an_unknown_start_method_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(START_ENV, "thread")
    with pytest.raises(VendorValidationError, match=f"{START_ENV}='thread'.*'spawn'"):
        workers.start_spare()
    with pytest.raises(VendorValidationError, match=START_ENV):
        fork_refusal()


def test_fork_is_refused_off_the_main_thread_and_beside_other_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.delenv(START_ENV, raising=False)
    seen: list[str | None] = []
    thread = threading.Thread(target=lambda: seen.append(fork_refusal()))
    thread.start()
    thread.join()
    assert seen == ["only the main thread forks"]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert "other Python threads" in str(fork_refusal())
    finally:
        stop.set()
        other.join()


def test_two_providers_share_the_one_forked_spare(tmp_path: Path) -> None:
    facts = script(
        tmp_path,
        """
        first, second = VendorProvider(), VendorProvider()
        spare = the_spare()
        counts = [run(first, bell()), run(second, bell())]
        children = []
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as listed:
                children += [int(pid) for pid in listed.read().split()]
        report(how=started(spare), spare=spare, pids=supervisor().worker_pids,
               children=children, shots=[sum(c.values()) for c in counts])
        """,
    )
    assert facts["how"] == "fork"
    assert facts["pids"] == [facts["spare"]]
    assert facts["children"] == [facts["spare"]]  # one simulator process, no stray fork
    assert facts["shots"] == [64, 64]


def test_a_forked_spare_killed_while_idle_is_replaced(tmp_path: Path) -> None:
    facts = script(
        tmp_path,
        """
        import signal
        provider = VendorProvider()
        spare = the_spare()
        how = started(spare)
        os.kill(spare, signal.SIGKILL)
        while supervisor().worker_pids == [spare]:
            time.sleep(0.01)
        counts = run(provider, bell())
        report(how=how, spare=spare, pids=supervisor().worker_pids,
               reaped=not os.path.exists(f"/proc/{spare}"), shots=sum(counts.values()))
        """,
    )
    assert facts["how"] == "fork"
    assert facts["reaped"]  # waited for: no zombie left behind
    [worker] = facts["pids"]
    assert worker != facts["spare"]
    assert facts["shots"] == 64


def test_a_forked_spare_killed_mid_job_fails_that_job_and_the_next_runs(tmp_path: Path) -> None:
    facts = script(
        tmp_path,
        """
        import signal
        from pathlib import Path
        from qiskit_vendor_provider import VendorJobError
        from qiskit_vendor_provider.emulator import (
            Emulator, EmulatorConfig, InProcessTransport, create_app)

        spare = workers.start_spare()  # a fresh script: one thread, so it is forked
        how = started(spare.pid)
        emulator = Emulator(EmulatorConfig(
            database=Path(os.environ["QISKIT_VENDOR_EMULATOR_DB"]),
            worker_faults={"slow": "sleep=600"}))
        assert emulator.supervisor.adopt(spare)
        emulator.start()
        provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
        backend = provider.get_backend("ideal_simulator")
        job = backend.run(bell(), shots=8, job_name="slow")
        while job.status().name != "RUNNING":
            time.sleep(0.01)
        os.kill(spare.pid, signal.SIGKILL)
        try:
            job.result()
            error = None
        except VendorJobError as exc:
            error = str(exc)
        counts = backend.run(bell(), shots=64).result().get_counts()
        report(how=how, error=error, shots=sum(counts.values()),
               pids=emulator.supervisor.worker_pids, spare=spare.pid)
        emulator.stop()
        """,
    )
    assert facts["how"] == "fork"
    assert "signal 9 (SIGKILL)" in facts["error"]
    assert facts["shots"] == 64
    assert facts["spare"] not in facts["pids"]


AER_FIRST = {
    # OpenMP on the main thread, which keeps a pool whose threads a child would not have;
    # nothing else stays, so the spare is forked.
    "AerStatevector": (
        "from qiskit_aer.quantum_info import AerStatevector\n"
        "AerStatevector(bell(20).remove_final_measurements(inplace=False))",
        "fork",
    ),
    # Runs on Aer's executor thread, which stays: another thread, so the spare is spawned.
    "AerSimulator().run": (
        "from qiskit_aer import AerSimulator\nAerSimulator().run(bell(20), shots=8).result()",
        "spawn",
    ),
}


@pytest.mark.parametrize("first", list(AER_FIRST))
def test_aer_run_in_the_host_before_does_not_hang_the_spare(tmp_path: Path, first: str) -> None:
    # The user simulated with Aer in this process first. The job then needs OpenMP in the
    # simulator process (16 qubits: Aer parallelises the state update): it completes.
    simulate, expected = AER_FIRST[first]
    facts = script(
        tmp_path,
        simulate
        + """
provider = VendorProvider()
how = started(the_spare())
counts = run(provider, bell(16))
report(how=how, shots=sum(counts.values()), outcomes=sorted(counts))
""",
    )
    assert facts["how"] == expected
    assert facts["shots"] == 64
    assert facts["outcomes"] == ["0" * 16, "1" * 16]


def test_the_forked_worker_serves_on_a_thread_of_its_own(tmp_path: Path) -> None:
    # libgomp keeps its pool per calling thread: a parallel region on the thread that ran
    # one in the host waits forever for threads the child does not have. The forked
    # worker serves on a thread it starts, so Aer run directly there (not through Aer's
    # executor) works; if it served on the inherited thread, this script would hang.
    facts = script(
        tmp_path,
        """
        from qiskit_aer.quantum_info import AerStatevector
        from qiskit_vendor_provider.emulator import worker_process

        wide = QuantumCircuit(20)
        wide.h(range(20))
        AerStatevector(wide)  # OpenMP on this thread: its pool now has threads

        def serve(inbox, outbox, max_memory_mb):
            AerStatevector(wide)  # OpenMP on the serving thread, in the child
            write_message(outbox, {"kind": "ready", "pid": os.getpid()})

        from qiskit_vendor_provider.emulator.worker_protocol import read_message, write_message
        worker_process.serve = serve
        from qiskit_vendor_provider.emulator.worker_fork import fork_worker
        child = fork_worker(256)
        header, _ = read_message(child.stdout)
        child.stdin.close()
        report(header=header, pid=child.pid, code=child.wait())
        """,
    )
    assert facts["header"] == {"kind": "ready", "pid": facts["pid"]}
    assert facts["code"] == 0


def _sleeper(seconds: float) -> ForkedProcess:
    """A child (not a Popen: only the handle reaps it) that sleeps, behind pipes."""
    read, write = os.pipe()
    pid = os.posix_spawn(
        sys.executable, [sys.executable, "-c", f"import time; time.sleep({seconds})"], os.environ
    )
    return ForkedProcess(pid, os.fdopen(write, "wb"), os.fdopen(read, "rb"), open(os.devnull, "rb"))


def test_the_forked_handle_reports_ends_as_popen_does() -> None:
    sleeping = _sleeper(600)
    try:
        assert sleeping.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            sleeping.wait(timeout=0.01)
        sleeping.kill()
        assert sleeping.wait() == -signal.SIGKILL  # a signal: negative, as Popen gives it
        assert sleeping.returncode == -signal.SIGKILL
        assert not Path(f"/proc/{sleeping.pid}").exists()  # reaped
        sleeping.kill()  # ended: nothing sent, nothing raised
    finally:
        if sleeping.returncode is None:
            os.kill(sleeping.pid, signal.SIGKILL)
            os.waitpid(sleeping.pid, 0)
    done = _sleeper(0)
    assert done.wait() == 0
    assert done.poll() == 0  # kept: asked again, the same answer
    for handle in (sleeping, done):
        for stream in (handle.stdin, handle.stdout, handle.stderr):
            assert stream is not None
            stream.close()


def test_a_refused_fork_spawns_the_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "fork_refusal", lambda: "a test says no")
    forked: list[int] = []
    monkeypatch.setattr(workers, "fork_worker", lambda _: forked.append(1))
    spare = workers.start_spare()
    assert spare is not None
    try:
        assert forked == []
        assert not isinstance(spare._process, worker_fork.ForkedProcess)
    finally:
        spare.close()
        spare.wait(NEVER)


def test_a_fork_that_fails_spawns_the_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    # A large process under strict overcommit cannot fork: the spare is spawned instead.
    monkeypatch.setattr(workers, "spare_forks", lambda: True)

    def no_memory(_: int) -> ForkedProcess:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(workers, "fork_worker", no_memory)
    spare = workers.start_spare()
    assert spare is not None
    try:
        assert isinstance(spare._process, subprocess.Popen)
    finally:
        spare.close()
        spare.wait(NEVER)
