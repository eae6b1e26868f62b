"""The host's handle on one simulator process: start it, send it jobs, hear how it ends.

Each process is a fresh interpreter (``python -m ...worker_process``) rather than a
``multiprocessing`` child: spawn and forkserver would import the user's ``__main__`` again
in the child (a script without an ``if __name__ == "__main__"`` guard would run twice),
and a fork copies the locks of every thread of the host, which once the emulator runs
has several (the supervisor's, the server's, these pipes' own). A subprocess with pipes
behaves the same on every platform and in notebooks, and a dead one is just a closed pipe
and an exit code.

Two daemon threads per process move bytes: one writes jobs to its stdin, one reads its
answers and posts them, and finally its death, to the supervisor's event queue.

A process can also be started before there is a supervisor (:func:`start_spare`): starting
Python and importing Qiskit and Aer takes longer than anything else in a script's first
job, so the embedded emulator starts one while it sets itself up, and its supervisor
adopts it (:meth:`WorkerProcess.redirect`). That spare, and only it, is forked from the
user's process when that is safe (:mod:`~qiskit_vendor_provider.emulator.worker_fork`
gives the rule and why): Qiskit is loaded there already, so it is ready in about 0.1 s
instead of 0.6 s. Otherwise it is spawned like every other. A spare is an ordinary
simulator process: it ends with its host (stdin EOF, or Linux's parent-death signal),
and one that died is just not used.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import InitVar, dataclass, field
from typing import IO, Any, Protocol

from qiskit_vendor_provider.emulator.worker_fork import fork_refusal, fork_worker
from qiskit_vendor_provider.emulator.worker_protocol import read_message, write_message

logger = logging.getLogger(__name__)

_STDERR_LINES = 40

DEFAULT_MAX_MEMORY_MB = 4096
"""Memory one simulation may use unless the emulator's configuration says otherwise."""


@dataclass
class WorkerEvent:
    """Something a simulator process did: sent a message, or ended (``header`` is None)."""

    worker: WorkerProcess
    header: dict[str, Any] | None = None
    body: bytes = b""


def exit_description(returncode: int | None) -> str:
    """How a process ended, in words.

    >>> exit_description(-11), exit_description(3), exit_description(None)
    ('signal 11 (SIGSEGV)', 'exit status 3', 'an unknown cause')
    """
    if returncode is None:
        return "an unknown cause"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"signal {-returncode} ({name})"
    return f"exit status {returncode}"


class ChildProcess(Protocol):
    """What :class:`WorkerProcess` uses of its process: a :class:`subprocess.Popen`'s part.

    Both a spawned process (``Popen``) and a forked one
    (:class:`~qiskit_vendor_provider.emulator.worker_fork.ForkedProcess`) have it.
    """

    @property
    def pid(self) -> int:
        """The process id."""

    @property
    def stdin(self) -> IO[bytes] | None:
        """The pipe to its stdin."""

    @property
    def stdout(self) -> IO[bytes] | None:
        """The pipe from its stdout."""

    @property
    def stderr(self) -> IO[bytes] | None:
        """The pipe from its stderr."""

    def poll(self) -> int | None:
        """Its exit code if it has ended, else None."""

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code; :class:`subprocess.TimeoutExpired` if still running after ``timeout``."""

    def kill(self) -> None:
        """End it with SIGKILL."""


def spawn_worker(max_memory_mb: int) -> subprocess.Popen[bytes]:
    """Start a simulator process as a fresh interpreter."""
    env = dict(os.environ)
    # Bounds the allocator's per-thread arenas, which count against the ceiling.
    env.setdefault("MALLOC_ARENA_MAX", "4")
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "qiskit_vendor_provider.emulator.worker_process",
            "--parent",
            str(os.getpid()),
            "--max-memory-mb",
            str(max_memory_mb),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        # Its own session: a Ctrl-C at the terminal is the user's, not the worker's.
        start_new_session=os.name == "posix",
    )


@dataclass
class WorkerProcess:
    """One simulator process and the threads that talk to it.

    Args:
        events: Where its messages and its end are posted.
        max_memory_mb: Memory one simulation may use (and what its ceiling derives from).
        started: The process, if it was started already (a forked spare); by default a
            fresh interpreter is spawned.
    """

    events: queue.Queue[Any]
    max_memory_mb: int
    started: InitVar[ChildProcess | None] = None
    known_specs: set[str] = field(default_factory=set)
    retiring: bool = False
    ready: bool = False
    """Whether it has started up (said so); set by the supervisor on its ready message."""
    _process: ChildProcess = field(init=False)
    _outbox: queue.Queue[tuple[dict[str, Any], bytes] | None] = field(init=False)
    _stderr: collections.deque[str] = field(init=False)
    _post_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self, started: ChildProcess | None) -> None:
        self._process = spawn_worker(self.max_memory_mb) if started is None else started
        self._outbox = queue.Queue()
        self._stderr = collections.deque(maxlen=_STDERR_LINES)
        name = f"vendor-worker-{self._process.pid}"
        for target, suffix in (
            (self._read, "read"),
            (self._write, "write"),
            (self._drain_stderr, "stderr"),
        ):
            threading.Thread(target=target, name=f"{name}-{suffix}", daemon=True).start()

    @property
    def pid(self) -> int:
        """The process id."""
        return self._process.pid

    def running(self) -> bool:
        """Whether the process has not ended yet (an ended one is reaped here)."""
        return self._process.poll() is None

    def redirect(self, events: queue.Queue[Any]) -> None:
        """Post from now on to ``events``, moving there what was posted and not yet read.

        How a supervisor adopts a process started before it (:func:`start_spare`): its
        ready message, or its end, may already be waiting in the old queue.
        """
        with self._post_lock:
            while True:
                try:
                    events.put(self.events.get_nowait())
                except queue.Empty:
                    break
            self.events = events

    def _post(self, event: WorkerEvent) -> None:
        with self._post_lock:
            self.events.put(event)

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        """Queue a message for the process (written by its writer thread)."""
        self._outbox.put((header, body))

    def kill(self) -> None:
        """End the process now; its end is still posted, with ``retiring`` set."""
        self.retiring = True
        with contextlib.suppress(OSError):
            self._process.kill()

    def close(self) -> None:
        """Ask the process to end once it has answered what it was sent (stdin EOF)."""
        self.retiring = True
        self._outbox.put(None)

    def wait(self, timeout: float) -> int | None:
        """Its exit code once it has ended (None if it is still running after ``timeout``)."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stderr_tail(self) -> str:
        """The last lines the process wrote to stderr."""
        return "".join(self._stderr)

    def _read(self) -> None:
        stdout: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        try:
            while (message := read_message(stdout)) is not None:
                header, body = message
                self._post(WorkerEvent(self, header, body))
        except (OSError, ValueError):
            pass
        self._post(WorkerEvent(self))

    def _write(self) -> None:
        stdin: IO[bytes] = self._process.stdin  # type: ignore[assignment]
        try:
            while (item := self._outbox.get()) is not None:
                write_message(stdin, *item)
        except (OSError, ValueError):  # it died; the reader reports that
            return
        with contextlib.suppress(OSError):
            stdin.close()

    def _drain_stderr(self) -> None:
        stderr: IO[bytes] = self._process.stderr  # type: ignore[assignment]
        for line in stderr:
            text = line.decode(errors="replace")
            self._stderr.append(text)
            logger.debug("simulator process %d: %s", self.pid, text.rstrip())


def a_processor_is_idle() -> bool:
    """Whether this machine has a processor to spare now (1-minute load below CPUs - 1).

    A spare started while its host sets itself up runs beside it: on a machine with a
    processor idle that costs the host nothing, on a busy one it takes the host's share
    (measured on a loaded 2-CPU machine: ``VendorProvider()`` 0.25 s alone, 0.5 s beside
    a spare). Unknown (no load average, as on Windows) counts as busy.
    """
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return False
    return load <= (os.cpu_count() or 1) - 1


def start_spare(max_memory_mb: int = DEFAULT_MAX_MEMORY_MB) -> WorkerProcess | None:
    """Start a simulator process now, for a supervisor to adopt later (or None).

    Forked from this process when :func:`spare_forks` says so (ready in about 0.1 s),
    spawned otherwise. Only from the main thread: Linux's parent-death signal, which ends
    the process as soon as its host dies, fires when the *thread* that started it ends,
    and a spare started from a short-lived thread would die with that thread. Elsewhere
    the supervisor starts its processes on its own thread, as it always has.

    Raises:
        VendorValidationError: ``QISKIT_VENDOR_WORKER_START`` has a value it does not know.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    started: ChildProcess | None = None
    if spare_forks():
        try:
            started = fork_worker(max_memory_mb)
        except OSError:  # a large process under strict overcommit, say: spawned instead
            logger.debug("could not fork a spare simulator process", exc_info=True)
    try:
        return WorkerProcess(queue.Queue(), max_memory_mb, started)
    except OSError:  # no process to spare (limits, no memory): the first job starts one
        logger.debug("could not start a spare simulator process", exc_info=True)
        return None


def spare_forks() -> bool:
    """Whether :func:`start_spare` would fork the spare now (see ``worker_fork``).

    Raises:
        VendorValidationError: ``QISKIT_VENDOR_WORKER_START`` has a value it does not know.
    """
    refusal = fork_refusal()
    if refusal is not None:
        logger.debug("the spare simulator process is spawned, not forked: %s", refusal)
    return refusal is None
