"""The emulator's supervisor: leases queued jobs and runs each in a simulator process.

One supervisor thread per emulator does all the bookkeeping; simulations run in worker
processes (:mod:`~qiskit_vendor_provider.emulator.workers`). The rules:

- One job at a time per device, in submission order, as on hardware; devices run in
  parallel, up to ``workers`` processes. Processes stay warm between jobs, and a device's
  next job goes preferably to a process that already has its noise model.
- A running job holds a lease that the supervisor renews while it lives. Processes that
  share a database take back only jobs whose lease ran out (or whose owner, on this
  machine, is gone), so none re-runs another's live job.
- A process that dies (segfault, abort, kill, exit) fails its one job with a message that
  says so; the process is replaced and the queue goes on. A job is not re-run after that:
  whatever crashed the simulator would crash it again.
- A job interrupted by its host stopping is re-queued with its attempt counted; out of
  attempts, it is quarantined (ERROR) instead of running again.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.sessions import DEFAULT_IDLE_GRACE
from qiskit_vendor_provider.emulator.store import JobRecord, JobStore
from qiskit_vendor_provider.emulator.workers import (
    DEFAULT_MAX_MEMORY_MB,
    WorkerEvent,
    WorkerProcess,
    exit_description,
)

logger = logging.getLogger(__name__)

_HOST = socket.gethostname()


@dataclass(frozen=True)
class SupervisorSettings:
    """How the supervisor runs jobs.

    Attributes:
        workers: Simulator processes at most (devices running at once).
        poll_interval: How often to look for jobs queued by another process.
        max_memory_mb: Memory one simulation may use; each process's ceiling derives from it.
        lease_seconds: How long a running job stays ours without a renewal.
        max_attempts: Claims a job gets; an interrupted job past them is quarantined.
        faults: Job name → fault its worker injects (tests only; see ``inject_fault``).
        session_idle_grace: Seconds an idle session keeps its device from other
            accounts' jobs (see :func:`~.sessions.yields_device`).
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    poll_interval: float = 0.5
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB
    lease_seconds: float = 10.0
    max_attempts: int = 2
    faults: dict[str, str] = field(default_factory=dict)
    session_idle_grace: float = DEFAULT_IDLE_GRACE


@dataclass
class _Running:
    record: JobRecord
    worker: WorkerProcess
    started: float = field(default_factory=time.monotonic)
    """When its clock started: at hand-over to a started process, else once it is ready."""
    limit: float = math.inf
    """Seconds it may run (its own ``max_execution_time``, or its device's limit)."""


def overtime_message(record: JobRecord, limit: float, device_limit: float) -> str:
    """The error of a job stopped at its run-time limit.

    >>> record = JobRecord("j" * 32, "a", "dev", "RUNNING", 1, 1, "{}", 0.0)
    >>> overtime_message(record, 5, 3600)[:66]
    'the job ran past its run-time limit of 5 s (max_execution_time) an'
    """
    return (
        f"the job ran past its run-time limit of {limit:g} s (max_execution_time) and was "
        f"stopped on device {record.device!r}; it is charged the time it ran. Ask for up to "
        f"{device_limit:g} s with backend.run(..., max_execution_time=SECONDS), or split "
        "the job (fewer shots, circuits or loop iterations)"
    )


def _owner_is_dead(owner: str) -> bool:
    """Whether a lease owner is a process of this machine that no longer exists."""
    host, _, rest = owner.rpartition("/")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False


def _program_names(record: JobRecord) -> str:
    try:
        submission = wire.decode_submission(record.submission)
    except ValidationError:
        return "?"
    names = [program.header.name for program in submission.programs]
    shown = ", ".join(repr(name) for name in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def crash_message(record: JobRecord, how: str) -> str:
    """The error of a job whose simulator process died under it."""
    return (
        f"the simulator process died with {how} while running job {record.job_id} on device "
        f"{record.device!r} (programs {_program_names(record)}); the job is not retried. The "
        "emulator itself is unaffected and runs the next jobs"
    )


class Supervisor:
    """Runs queued jobs in simulator processes; see the module docstring for the rules.

    Args:
        store: The job store (leases, attempts, results).
        catalog: The devices this emulator serves; it claims only their jobs.
        settings: Process count, lease and attempt policy, memory, faults.
    """

    def __init__(
        self, store: JobStore, catalog: DeviceCatalog, settings: SupervisorSettings
    ) -> None:
        self._store = store
        self._catalog = catalog
        self.settings = settings
        self.owner = f"{_HOST}/{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._events: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}
        self._idle: list[WorkerProcess] = []
        self._spec_keys = {
            spec.name: hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16]
            for spec in catalog
        }
        self.on_simulation: Callable[[JobRecord], None] | None = None
        """Called with each job handed to a simulator process (tests count runs with it)."""
        self.on_job_end: Callable[[str], None] | None = None
        """Called with the id of each job this supervisor ended (done, failed, crashed)."""
        self.job_spec: Callable[[JobRecord], DeviceSpec] | None = None
        """The device as a job runs on it (its calibration's); None: the catalog's spec."""

    # ------------------------------------------------------------- control

    def start(self) -> None:
        """Take back jobs left by dead processes, and start supervising (no-op if running)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping.clear()
            self._take_back_expired()
            self._thread = threading.Thread(
                target=self._loop, name="vendor-emulator-supervisor", daemon=True
            )
            self._thread.start()
            atexit.register(self.stop)

    def adopt(self, worker: WorkerProcess) -> bool:
        """Take a simulator process started apart from this supervisor as an idle one.

        A process started for another memory limit, or one that has already ended, is
        not taken (and is closed): the first job then starts a process as usual. Once
        the supervisor runs, the process joins its idle ones on the supervisor's thread,
        ahead of any job queued after this call. Returns whether it was taken (or, once
        running, handed over).
        """
        with self._lock:
            if worker.max_memory_mb != self.settings.max_memory_mb or not worker.running():
                worker.close()
                return False
            worker.redirect(self._events)
            if self._thread is not None and self._thread.is_alive():
                self._events.put(("adopt", worker))
            else:
                self._idle.append(worker)
            return True

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of this supervisor's simulator processes, idle or running a job."""
        return [w.pid for w in self._idle] + [r.worker.pid for r in self._running.values()]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop: running jobs are interrupted and given back, processes end."""
        self._stopping.set()
        self._events.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        atexit.unregister(self.stop)

    def notify(self) -> None:
        """Tell the supervisor a job was queued."""
        self._events.put(None)

    def cancelled(self, job_id: str) -> None:
        """Tell the supervisor a job was cancelled: if it runs, its process is stopped."""
        self._events.put(("cancel", job_id))

    @property
    def running_jobs(self) -> list[str]:
        """Ids of the jobs this supervisor's processes are running."""
        return list(self._running)

    # ------------------------------------------------------------- the loop

    def _loop(self) -> None:
        renew_every = self.settings.lease_seconds / 4
        next_renewal = time.monotonic() + renew_every
        try:
            while not self._stopping.is_set():
                try:
                    next_renewal = self._turn(next_renewal, renew_every)
                except Exception:  # one bad turn (a locked database, say) is not the end
                    logger.exception("emulator: supervisor step failed; going on")
                    self._stopping.wait(0.1)
        finally:
            self._shut_down()

    def _turn(self, next_renewal: float, renew_every: float) -> float:
        """One round: start what can start, handle one event, keep the leases."""
        self._dispatch()
        timeout = 0.2 if self._running else self.settings.poll_interval
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            event = None
        self._handle(event)
        if self._running:
            self._stop_cancelled()
            self._stop_overdue()
        if time.monotonic() < next_renewal:
            return next_renewal
        # Only the jobs running here: one whose result could not be stored is left to
        # expire and be taken back, not held forever.
        running = list(self._running)
        self._guarded(
            lambda: self._store.renew_leases(self.owner, self.settings.lease_seconds, running)
        )
        self._guarded(self._take_back_expired)
        return time.monotonic() + renew_every

    def _guarded(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception:  # a locked database, say: try again on the next turn
            logger.exception("emulator: supervisor step failed; retrying")
            return None

    def _take_back_expired(self) -> None:
        dead = [owner for owner in self._store.running_owners() if _owner_is_dead(owner)]
        taken = self._store.expire_leases(self.settings.max_attempts, dead)
        requeued = [r for r in taken if r.status == "QUEUED"]
        quarantined = [r for r in taken if r.status == "ERROR"]
        if requeued:
            logger.warning(
                "emulator: re-queued %d job(s) left running by a restart (their process "
                "stopped or its lease expired)",
                len(requeued),
            )
        for record in quarantined:
            logger.error("emulator: job %s quarantined: %s", record.job_id, record.error)
            self._ended_job(record.job_id)

    def _dispatch(self) -> None:
        while len(self._running) < self.settings.workers and not self._stopping.is_set():
            busy = {running.record.device for running in self._running.values()}
            free = [name for name in self._catalog.names() if name not in busy]
            record = self._guarded(
                functools.partial(
                    self._store.claim_next,
                    self.owner,
                    self.settings.lease_seconds,
                    free,
                    idle_grace=self.settings.session_idle_grace,
                )
            )
            if record is None:
                return
            self._start(record)

    def _worker_for(self, spec_key: str) -> WorkerProcess:
        for index, worker in enumerate(self._idle):
            if spec_key in worker.known_specs:
                return self._idle.pop(index)
        if self._idle:
            return self._idle.pop()
        return WorkerProcess(self._events, self.settings.max_memory_mb)

    def _start(self, record: JobRecord) -> None:
        spec = self._catalog.spec(record.device) if self.job_spec is None else self.job_spec(record)
        # One key per device file and calibration: a process keeps each noise model built.
        calibration_id = spec.calibration.calibration_id if spec.calibration else None
        spec_key = f"{self._spec_keys[record.device]}@{calibration_id or ''}"
        worker = self._worker_for(spec_key)
        header: dict[str, Any] = {
            "kind": "job",
            "job_id": record.job_id,
            "spec_key": spec_key,
            "spec": None,
            "fault": self.settings.faults.get(record.name or ""),
        }
        if spec_key not in worker.known_specs:
            header["spec"] = spec.model_dump_json()
            worker.known_specs.add(spec_key)
        device_limit = self._catalog.spec(record.device).limits.max_execution_time
        limit = min(record.max_execution_time or device_limit, device_limit)
        self._running[record.job_id] = _Running(record, worker, limit=limit)
        if self.on_simulation is not None:
            self.on_simulation(record)
        worker.send(header, record.submission.encode())

    def _handle(self, event: Any) -> None:
        if isinstance(event, tuple) and event[0] == "adopt":
            # An adopted process that ended meanwhile has posted its end already, which
            # found it nowhere (reaped there): it is not made idle.
            worker = event[1]
            if worker.running():
                self._idle.append(worker)
        elif isinstance(event, tuple) and event[0] == "cancel":
            running = self._running.pop(event[1], None)
            if running is not None:
                running.worker.kill()
                logger.info("emulator: job %s cancelled while running", event[1])
        elif isinstance(event, WorkerEvent):
            if event.header is None:
                self._ended(event.worker)
            elif event.header.get("kind") == "result":
                self._finished(event)
            elif event.header.get("kind") == "ready":
                self._ready(event.worker)

    def _ready(self, worker: WorkerProcess) -> None:
        # A job's run-time limit counts from here on a new process: starting Python and
        # importing Aer is the emulator's time, not the job's.
        worker.ready = True
        for running in self._running.values():
            if running.worker is worker:
                running.started = time.monotonic()

    def _job_of(self, worker: WorkerProcess) -> _Running | None:
        for job_id, running in self._running.items():
            if running.worker is worker:
                return self._running.pop(job_id)
        return None

    def _finished(self, event: WorkerEvent) -> None:
        header = event.header or {}
        running = self._running.pop(header["job_id"], None)
        if running is None:  # cancelled meanwhile; its process is being stopped
            return
        if header["ok"]:
            self._store.finish(
                running.record.job_id,
                event.body.decode(),
                header.get("error"),
                usage_seconds=header.get("usage_seconds"),
            )
        else:
            logger.info("emulator: job %s failed: %s", running.record.job_id, header["error"])
            self._store.fail(running.record.job_id, header["error"])
        # Idle again before the job's end is told: whoever hears of it (a held request
        # answers at once) finds the process free.
        if not event.worker.retiring:
            self._idle.append(event.worker)
        self._ended_job(running.record.job_id)

    def _ended(self, worker: WorkerProcess) -> None:
        if worker in self._idle:
            self._idle.remove(worker)
        running = self._job_of(worker)
        # Always waited for, a retiring one too: an ended child that nobody waits for
        # stays a zombie until the host exits (every cancel of a running job made one).
        how = exit_description(worker.wait(5.0))
        if worker.retiring and running is None:
            return
        if running is None:
            logger.warning("emulator: an idle simulator process ended (%s)", how)
            return
        logger.error(
            "emulator: simulator process %d died (%s) running job %s; its last output:\n%s",
            worker.pid,
            how,
            running.record.job_id,
            worker.stderr_tail(),
        )
        self._store.fail(running.record.job_id, crash_message(running.record, how))
        self._ended_job(running.record.job_id)

    def _ended_job(self, job_id: str) -> None:
        if self.on_job_end is not None:
            self.on_job_end(job_id)

    def _stop_cancelled(self) -> None:
        # Cancels made by another process sharing the database, and jobs whose lease
        # someone took back (this process was suspended past it), are seen here.
        statuses = self._guarded(lambda: self._store.statuses(list(self._running))) or {}
        for job_id in [job for job, status in statuses.items() if status != "RUNNING"]:
            running = self._running.pop(job_id, None)
            if running is not None:
                running.worker.kill()

    def _stop_overdue(self) -> None:
        """Stop the jobs past their run-time limit: ERROR, charged what they ran."""
        now = time.monotonic()
        overdue = [
            job_id
            for job_id, running in self._running.items()
            if now - running.started > running.limit
        ]
        for job_id in overdue:
            running = self._running.pop(job_id)
            running.worker.kill()
            device_limit = self._catalog.spec(running.record.device).limits.max_execution_time
            message = overtime_message(running.record, running.limit, device_limit)
            logger.info("emulator: job %s stopped at its run-time limit", job_id)
            self._guarded(
                functools.partial(
                    self._store.fail, job_id, message, usage_seconds=now - running.started
                )
            )
            self._ended_job(job_id)

    def _shut_down(self) -> None:
        ending = [running.worker for running in self._running.values()] + self._idle
        for running in self._running.values():
            running.worker.kill()
        self._running.clear()
        for worker in self._idle:
            worker.close()
        self._idle.clear()
        for worker in ending:
            # Reaped here: their end events are never read once the loop has stopped.
            worker.wait(5.0)
        try:
            given_back = self._store.release(self.owner, self.settings.max_attempts)
        except Exception:
            logger.exception("emulator: could not give back running jobs; their leases expire")
            return
        for record in given_back:
            logger.info(
                "emulator: job %s interrupted by shutdown; now %s", record.job_id, record.status
            )
