"""A simulator process forked from its host: the spare that is ready in a tenth of the time.

A simulator process started as a fresh interpreter spends about 0.6 s importing Qiskit
and Aer before it can take a job, which is most of a script's first job. The user's
process has Qiskit loaded already, so a copy of it made with ``os.fork()`` only imports
Aer and the worker's own modules (about 0.1 s). Only the embedded emulator's spare is
made this way, and only when forking is known to be safe (:func:`fork_refusal`); every
other simulator process, and the spare whenever the rule says no, is spawned as before.

What a fork copies, and what the child does about it, right after ``os.fork()``:

* **Threads.** Only the forking thread exists in the child, but locks and pools the
  others owned are copied. Hence the rule: Linux, the main thread, and no other Python
  thread (a thread of the user's, a notebook's kernel, or Aer's job executor after an
  ``AerSimulator().run``), so no Python lock can be held by a thread that is gone.
  Native pools need more:

  - Qiskit's Rust thread pool (rayon), started by a transpile in the host, has no
    threads in the child: the child sets ``QISKIT_IN_PARALLEL=TRUE`` (and drops
    ``QISKIT_FORCE_THREADS``), which is how Qiskit's own ``parallel_map`` children keep
    Qiskit off that pool.
  - Aer's OpenMP (libgomp) keeps its thread pool per calling thread, and a thread that
    ran a parallel region in the host (``AerStatevector`` runs on the caller's thread)
    leaves a pool whose threads the child does not have: a parallel region on that
    thread in the child waits for them forever. The child therefore serves jobs on a
    thread it starts itself, which gets a pool of its own; Aer's job executor is
    replaced in the child by Aer itself (``os.register_at_fork``).
  - OpenBLAS stops and restarts its threads around a fork by itself.

* **Files.** The child moves its three pipe ends onto fds 0, 1 and 2 and closes every
  other fd it inherited: the host's sockets, SQLite files and other simulator
  processes' pipes are not held open by it (a pipe held open would hide a worker's end).

* **Objects.** The host's objects are copied too. ``gc.freeze()`` keeps the collector
  from finalizing any of them in the child (a finalized file would close an fd the child
  reuses), and the streams and logging handlers the child replaces are kept referenced:
  your unflushed ``print`` is never written twice, and the child never writes to your
  terminal or your log files. Signal handlers, hooks, tracers and warning filters of
  yours are reset.

* **The end.** The child never returns into your code: it ends with ``os._exit``, so no
  ``atexit`` handler of yours runs twice. It is in a session of its own (Ctrl-C at your
  terminal is yours), dies with your process (Linux's parent-death signal, and stdin EOF)
  and gets the same memory ceiling as a spawned one.

``QISKIT_VENDOR_WORKER_START=spawn`` turns forking off (every simulator process is then a
fresh interpreter); ``fork``, the default, forks the spare when the rule allows it.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import warnings
from typing import IO, Any, NoReturn

from qiskit_vendor_provider.errors import VendorValidationError

START_ENV = "QISKIT_VENDOR_WORKER_START"
"""Environment variable: ``spawn`` to never fork a simulator process (default ``fork``)."""

_START_METHODS = ("fork", "spawn")
_M_ARENA_MAX = -8  # glibc's mallopt parameter; what MALLOC_ARENA_MAX sets at start-up

_inherited: list[object] = []
"""In a forked child: the host's objects it replaced, kept so they are never finalized."""


def start_method() -> str:
    """How the spare may start: ``fork`` (when :func:`fork_refusal` allows) or ``spawn``.

    Raises:
        VendorValidationError: :data:`START_ENV` is set to something else.
    """
    value = os.environ.get(START_ENV, "").strip().lower() or "fork"
    if value not in _START_METHODS:
        raise VendorValidationError(
            f"{START_ENV}={os.environ[START_ENV]!r} is not a way to start simulator "
            "processes: set it to 'spawn' (always a fresh interpreter) or 'fork' (the "
            "default: the embedded emulator's first one is forked when that is safe), "
            "or unset it"
        )
    return value


def fork_refusal() -> str | None:
    """Why a simulator process cannot be forked from this process now (None: it can).

    Forking is safe here only on Linux, from the main thread, with no other Python
    thread (see the module's docstring), and unless :data:`START_ENV` says ``spawn``.

    Raises:
        VendorValidationError: :data:`START_ENV` has a value it does not know.
    """
    if start_method() == "spawn":
        return f"{START_ENV}=spawn"
    if not sys.platform.startswith("linux"):
        return f"forking is only used on Linux, not on {sys.platform}"
    if threading.current_thread() is not threading.main_thread():
        return "only the main thread forks"
    # Threads started with ``_thread`` are not in threading's count, but have a frame.
    if threading.active_count() != 1 or len(sys._current_frames()) != 1:
        return "other Python threads run, and their locks would be copied held"
    return None


class ForkedProcess:
    """A process forked from this one, handled as :class:`subprocess.Popen` handles a child.

    The interface :class:`~qiskit_vendor_provider.emulator.workers.WorkerProcess` uses:
    ``pid``, the ``stdin``/``stdout``/``stderr`` pipes, :meth:`poll`, :meth:`wait`,
    :meth:`kill` and ``returncode`` (negative: the signal that ended it, as Popen gives).
    Only this object reaps the process, under a lock, so a signal it sends can never
    reach another process that got the pid after the child's end.

    Args:
        pid: The child's process id.
        stdin: The pipe to the child's fd 0.
        stdout: The pipe from the child's fd 1.
        stderr: The pipe from the child's fd 2.
    """

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid = pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr
        self.returncode: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ForkedProcess(pid={self.pid}, returncode={self.returncode})"

    def poll(self) -> int | None:
        """Its exit code if it has ended (reaped here), else None."""
        with self._lock:
            if self.returncode is None:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): as Popen does
                    self.returncode = 0
                else:
                    if pid == self.pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code once it has ended.

        Raises:
            subprocess.TimeoutExpired: It is still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.0005
        while (code := self.poll()) is None:
            # Polled, never blocked on: a kill from another thread must not wait for it.
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(
                    f"forked simulator process {self.pid}", timeout or 0
                )
            time.sleep(delay)
            delay = min(2 * delay, 0.05)
        return code

    def kill(self) -> None:
        """Send it SIGKILL, unless it has ended."""
        self.send_signal(signal.SIGKILL)

    def send_signal(self, signum: int) -> None:
        """Send it ``signum``, unless it has ended (a reaped pid may be someone else's)."""
        with self._lock:
            if self.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signum)


def fork_worker(max_memory_mb: int) -> ForkedProcess:
    """Fork a simulator process from this one; check :func:`fork_refusal` first.

    Raises:
        OSError: The process could not be made (limits, memory).
    """
    parent = os.getpid()
    pipes: list[int] = []
    try:
        for _ in range(3):
            pipes.extend(os.pipe())
        with warnings.catch_warnings():
            # Python 3.12+ warns about any fork of a process with native threads (numpy's
            # OpenBLAS has some); the module's docstring says why this one is safe.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        for fd in pipes:
            os.close(fd)
        raise
    stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write = pipes
    if pid == 0:
        _become_worker(stdin_read, stdout_write, stderr_write, parent, max_memory_mb)
    for fd in (stdin_read, stdout_write, stderr_write):
        os.close(fd)
    return ForkedProcess(
        pid,
        stdin=os.fdopen(stdin_write, "wb"),
        stdout=os.fdopen(stdout_read, "rb"),
        stderr=os.fdopen(stderr_read, "rb"),
    )


def _become_worker(
    inbox: int, outbox: int, errors: int, parent: int, max_memory_mb: int
) -> NoReturn:
    """The forked child, from ``os.fork()`` to ``os._exit``: never returns."""
    code = 1
    redirected = False
    try:
        os.setsid()  # Ctrl-C at the terminal goes to the user's process group, not here
        gc.freeze()
        _leave_native_pools()
        _own_descriptors(inbox, outbox, errors)
        redirected = True
        protocol = _replace_streams()
        _reset_handlers()
        code = _serve(protocol, parent, max_memory_mb)
    except BaseException:  # the host's code is never returned to, whatever happens here
        if redirected:  # never onto the user's terminal: only the worker's stderr pipe
            with contextlib.suppress(BaseException):
                os.write(2, traceback.format_exc().encode(errors="replace"))
    finally:
        os._exit(code)


def _leave_native_pools() -> None:
    # Read by Qiskit's Rust code at each call: stay off a thread pool the host started.
    os.environ["QISKIT_IN_PARALLEL"] = "TRUE"
    os.environ.pop("QISKIT_FORCE_THREADS", None)
    # A spawned process gets MALLOC_ARENA_MAX=4 (see workers.py); glibc reads that
    # variable at start-up only, so a forked one asks glibc directly.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 4)


def _own_descriptors(inbox: int, outbox: int, errors: int) -> None:
    """Put the pipes on fds 0, 1 and 2 and close every other inherited fd."""
    # Above 2 first: a pipe end may itself be 0, 1 or 2 if the host had those closed.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3) for fd in (inbox, outbox, errors)]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    # Closing the child's copy of a socket or a file leaves the host's untouched (a
    # SQLite lock is per process, and a socket shuts down only on shutdown()).
    signal.set_wakeup_fd(-1)  # the host's event loop's, now closed
    try:
        inherited = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        inherited = list(range(3, os.sysconf("SC_OPEN_MAX")))
    for fd in inherited:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def _replace_streams() -> IO[bytes]:
    """New stdin/stdout/stderr objects; the protocol's own pipe, as the spawned one has.

    The host's stream objects may hold your unflushed output: they are kept referenced
    and never flushed, written or closed here.
    """
    _inherited.extend([sys.stdin, sys.stdout, sys.stderr])
    _inherited.extend([sys.__stdin__, sys.__stdout__, sys.__stderr__])
    # As in worker_process.main: the protocol gets fd 1's pipe, printing goes to stderr.
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    streams = {
        "stdin": open(os.devnull, encoding="utf-8"),  # noqa: SIM115 - lives with the process
        "stdout": _text_stream(1),
        "stderr": _text_stream(2),
    }
    for name, stream in streams.items():
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    return protocol


def _text_stream(fd: int) -> io.TextIOWrapper:
    binary = open(fd, "wb", closefd=False)  # noqa: SIM115 - lives with the process
    return io.TextIOWrapper(binary, line_buffering=True, errors="backslashreplace")


def _reset_handlers() -> None:
    """Undo what the user's process installed that would run the user's code here."""
    for signum in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            if callable(signal.getsignal(signum)):
                signal.signal(signum, signal.SIG_DFL)
    for signum in (signal.SIGPIPE, signal.SIGXFSZ):  # as a fresh interpreter has them
        signal.signal(signum, signal.SIG_IGN)
    sys.excepthook = sys.__excepthook__
    sys.unraisablehook = sys.__unraisablehook__
    threading.excepthook = threading.__excepthook__
    # A fresh interpreter's filters: an "error" filter of the user's (or of pytest's)
    # must not turn a warning inside a simulation into a failed job.
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
        warnings.simplefilter("ignore", category)
    warnings.simplefilter("ignore", ResourceWarning)
    sys.settrace(None)  # a debugger stepping in the host would read our pipe
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    # Your handlers (files, sockets) must not get the worker's records; as in a spawned
    # process, warnings go to stderr (logging's last resort).
    loggers: list[Any] = [logging.getLogger()]
    loggers.extend(logging.Logger.manager.loggerDict.values())
    for logger in loggers:
        if isinstance(logger, logging.Logger) and logger.handlers:
            _inherited.append(logger.handlers)
            logger.handlers = []


def _serve(protocol: IO[bytes], parent: int, max_memory_mb: int) -> int:
    """Be a simulator process on a thread of the child's own; its exit code."""
    from qiskit_vendor_provider.emulator import worker_process  # noqa: PLC0415 - in the child

    worker_process.prepare(parent, max_memory_mb)
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            with contextlib.suppress(BrokenPipeError):  # the supervisor went away
                worker_process.serve(open(0, "rb", closefd=False), protocol, max_memory_mb)  # noqa: SIM115
        except BaseException as exc:
            traceback.print_exc()
            failed.append(exc)

    # Not on this thread: its OpenMP pool, if the host ran Aer on it, has no threads here.
    thread = threading.Thread(target=serve, name="vendor-worker")
    thread.start()
    thread.join()
    return 1 if failed else 0
