"""The emulator's behaviour behind the HTTP routes: devices, validation, jobs, accounts.

:class:`Emulator` knows nothing of HTTP: it takes models and raises :class:`ProblemError`
errors that the app turns into ``application/problem+json`` answers. That keeps every
rule of the API in one testable place, whatever server (or in-process transport) is in
front of it.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from qiskit.circuit.exceptions import CircuitError

from qiskit_vendor_provider.api.models import (
    PROBLEM_DEVICE_UNAVAILABLE,
    PROBLEM_JOB_LIMIT,
    AccountInfo,
    Calibration,
    DeviceSpec,
    DeviceStatus,
    DeviceSummary,
    JobInfo,
    JobPage,
    JobQuery,
    JobSubmission,
    ParameterExpression,
    Reservation,
    WireProgram,
    nested_instructions,
)
from qiskit_vendor_provider.emulator.calibration_history import calibration_history
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.faults import FaultConfig
from qiskit_vendor_provider.emulator.store import (
    JobRecord,
    JobStore,
    SQLiteJobStore,
    new_job_id,
)
from qiskit_vendor_provider.emulator.supervisor import Supervisor, SupervisorSettings
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.name_filter import PatternTooSlowError, name_pattern_problem
from qiskit_vendor_provider.serialization import wire_to_circuit
from qiskit_vendor_provider.validation import validate_circuit

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "default"


class ProblemError(Exception):
    """An API error: becomes an ``application/problem+json`` answer.

    Args:
        status: HTTP status.
        title: Short, fixed summary of the kind of problem.
        detail: What exactly was wrong, and how to fix it.
        type: Problem type URI, for problems a client handles specially.
    """

    def __init__(self, status: int, title: str, detail: str, type: str = "about:blank") -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type


def _within(value: int, maximum: int, title: str, what: str) -> None:
    """Raise a 422 unless ``value`` is at most the device's ``maximum``.

    >>> _within(5, 3, "Invalid Job", "programs in one job")
    Traceback (most recent call last):
    ...
    qiskit_vendor_provider.emulator.service.ProblemError: 5 programs in one job exceed the \
maximum of 3
    """
    if value > maximum:
        raise ProblemError(422, title, f"{value} {what} exceed the maximum of {maximum}")


def _not_found(what: str) -> ProblemError:
    return ProblemError(404, "Not Found", what)


@dataclass
class EmulatorConfig:
    """How an emulator is set up.

    Attributes:
        database: SQLite file of the job store (``":memory:"`` keeps nothing).
        device_dirs: Directories of device files (default: the shipped devices).
        tokens: Token → account name. Empty: no authentication, one shared account.
        offline: Device name → status message, for devices that do not accept jobs.
        max_body_bytes: Largest request body accepted.
        poll_interval: How often the worker looks for jobs queued by other processes.
        max_active_jobs: Queued and running jobs one account may have at once.
        max_memory_mb: Memory one simulation may use; each simulator process's memory
            ceiling is derived from it.
        reservations: Reservation windows of the devices.
        faults: Faults to inject into HTTP answers (off when None); see
            :mod:`~qiskit_vendor_provider.emulator.faults`.
        workers: Simulator processes at most, so devices running at once (default: the
            number of CPUs; 0 runs no jobs, for a process that only serves the API next
            to others sharing its database). Each device runs one job at a time whatever
            this is.
        lease_seconds: How long a running job stays this emulator's without a renewal;
            another process sharing the database takes it back only after that.
        max_attempts: How often a job may be started; a job interrupted on its last
            attempt (its host stopped or died) is quarantined in ERROR. The default, 2,
            re-runs an interrupted job once.
        worker_faults: Job name → fault the simulator process injects before running
            it (``segfault``, ``abort``, ``kill``, ``exit``, ``memory``, ``sleep=S``): for
            tests of crash handling; empty by default.
    """

    database: Path | str = ":memory:"
    device_dirs: tuple[Path, ...] = ()
    tokens: dict[str, str] = field(default_factory=dict)
    offline: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 64 * 1024 * 1024
    poll_interval: float = 0.5
    max_active_jobs: int = 500
    max_memory_mb: int = 4096
    reservations: list[Reservation] = field(default_factory=list)
    faults: FaultConfig | None = None
    workers: int | None = None
    lease_seconds: float = 10.0
    max_attempts: int = 2
    worker_faults: dict[str, str] = field(default_factory=dict)


MAX_CLBITS = 10_000
"""Most classical bits one program may declare (every shot's memory holds all of them)."""

MAX_OFFSET = 2**62
"""Largest ``offset`` of a job listing (SQLite integers are 64-bit)."""


MAX_BLOCK_NESTING = 16
"""How deep control-flow blocks may nest in any program, whatever the device."""


def program_shape_problem(program: WireProgram, device_qubits: int) -> str | None:
    """What is wrong with a program's sizes and instruction shapes, before it is built.

    These are the checks that must come before a circuit is made from the program: a
    program declaring a billion qubits would exhaust memory while being built, and a
    header whose sizes disagree with the program would break result formatting.

    >>> from qiskit_vendor_provider.api.models import ProgramHeader, WireProgram
    >>> header = ProgramHeader(name="p", memory_slots=3)
    >>> program_shape_problem(WireProgram(num_qubits=2, num_clbits=2, instructions=[],
    ...                                   header=header), 5)
    'header.memory_slots is 3, but the program has 2 clbits'
    >>> program_shape_problem(WireProgram(num_qubits=9, num_clbits=0, instructions=[],
    ...                                   header=ProgramHeader(name="p")), 5)
    'it has 9 qubits, but the device has 5'

    Returns:
        The problem, or None when the shape is fine.
    """
    if program.num_qubits > device_qubits:
        return f"it has {program.num_qubits} qubits, but the device has {device_qubits}"
    if program.num_clbits > MAX_CLBITS:
        return f"it has {program.num_clbits} clbits; the most a program may have is {MAX_CLBITS}"
    header = program.header
    if header.memory_slots > program.num_clbits:
        return (
            f"header.memory_slots is {header.memory_slots}, but the program has "
            f"{program.num_clbits} clbits"
        )
    creg_sizes = [size for _, size in header.creg_sizes]
    if any(size < 0 for size in creg_sizes) or sum(creg_sizes) > program.num_clbits:
        return (
            f"header.creg_sizes {creg_sizes} do not fit in the program's "
            f"{program.num_clbits} clbits"
        )
    if any(not 0 <= size <= program.num_qubits for _, size in header.qreg_sizes):
        return (
            f"header.qreg_sizes {[size for _, size in header.qreg_sizes]} do not fit in the "
            f"program's {program.num_qubits} qubits"
        )
    if len(set(program.parameters)) != len(program.parameters):
        return f"parameters {program.parameters} name a parameter twice"
    return _instruction_problem(program) or _binding_problem(program)


def _instruction_problem(program: WireProgram) -> str | None:
    # Blocks of control flow included: a block holds instructions like the program does.
    for position, inst in nested_instructions(program.instructions):
        where = f"instruction {position} ({inst.name})"
        if position.count(".block") > MAX_BLOCK_NESTING:
            # Far above any device's limit (checked later, by validate_circuit): only
            # stops a hostile program before reading it back recurses that deep.
            return f"{where}: blocks nest more than {MAX_BLOCK_NESTING} deep"
        if inst.unit is not None and inst.name != "delay":
            return f"{where}: only a delay has a time unit"
        if inst.name == "barrier" and (inst.clbits or inst.params):
            return f"{where}: a barrier takes qubits only"
        if inst.name == "delay" and (
            len(inst.params) > 1 or any(not isinstance(p, float | int) for p in inst.params)
        ):
            return f"{where}: a delay takes one duration, a number"
        if inst.name == "delay" and any(
            isinstance(p, float | int) and not 0 <= p < 2**63 for p in inst.params
        ):
            # Checked here, not left to Qiskit: how it treats such durations differs
            # between its versions.
            return f"{where}: a delay lasts from 0 to 2**63 - 1 units"
    return None


def _binding_problem(program: WireProgram) -> str | None:
    """An angle that some row of the parameter table makes infinite."""
    if not program.parameter_values:
        return None
    expressions = [
        angle
        for _, inst in nested_instructions(program.instructions)
        for angle in inst.params
        if isinstance(angle, ParameterExpression)
    ]
    # |constant| + sum |coefficient| * max |value| bounds every bound angle: when it is
    # finite, no row can give an infinite angle (each value is finite already).
    largest = [
        max(abs(row[index]) for row in program.parameter_values)
        for index in range(len(program.parameters))
    ]
    column = {name: index for index, name in enumerate(program.parameters)}
    for angle in expressions:
        bound = abs(angle.constant) + sum(
            abs(coefficient) * largest[column[name]] if name in column else 0.0
            for name, coefficient in angle.terms.items()
        )
        if not math.isfinite(bound):
            return (
                f"an angle ({angle.constant} + {angle.terms}) overflows to infinity for some "
                "row of parameter_values"
            )
    return None


def _aware(moment: datetime | None) -> datetime | None:
    """A naive datetime is taken as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


class Emulator:
    """The Aer-backed implementation of the vendor REST API.

    Args:
        config: Its set-up; defaults to an in-memory store and the shipped devices.
        store: A job store to use instead of the one the config names.
    """

    def __init__(self, config: EmulatorConfig | None = None, *, store: JobStore | None = None):
        self.config = config or EmulatorConfig()
        self.catalog = DeviceCatalog.from_directories(*self.config.device_dirs)
        self.store: JobStore = store or SQLiteJobStore(self.config.database)
        settings = SupervisorSettings(
            poll_interval=self.config.poll_interval,
            max_memory_mb=self.config.max_memory_mb,
            lease_seconds=self.config.lease_seconds,
            max_attempts=self.config.max_attempts,
            faults=dict(self.config.worker_faults),
        )
        if self.config.workers is not None:
            settings = dataclasses.replace(settings, workers=self.config.workers)
        self.supervisor = Supervisor(self.store, self.catalog, settings)
        self.supervisor.on_job_end = self._job_ended
        self._watchers: dict[str, list[Callable[[], None]]] = {}
        self._watchers_lock = threading.Lock()
        self._started = False
        # Counting active jobs and storing a new one must not interleave, or two
        # submissions could both pass the limit.
        self._submit_lock = threading.Lock()

    def start(self) -> Emulator:
        """Take back jobs that dead processes left running, and start running jobs.

        Simulator processes start with the first job, not here.
        """
        if not self._started:
            self.supervisor.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop running jobs: a running one is given back to the queue (the store stays)."""
        self.supervisor.stop()
        self._started = False

    # ---------------------------------------------------------------- accounts

    def authenticate(self, authorization: str | None) -> str:
        """The account a request's ``Authorization`` header belongs to.

        Raises:
            ProblemError: 401, without saying which tokens exist.
        """
        if not self.config.tokens:
            return DEFAULT_ACCOUNT
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            for known, account in self.config.tokens.items():
                if hmac.compare_digest(known.encode(), token.strip().encode()):
                    return account
        raise ProblemError(401, "Unauthorized", "a valid bearer token is required")

    # ---------------------------------------------------------------- devices

    def _spec(self, name: str) -> DeviceSpec:
        if name not in self.catalog:
            raise _not_found(
                f"no device named {name!r}; devices: {', '.join(self.catalog.names())}"
            )
        return self.catalog.spec(name)

    def _operational(self, spec: DeviceSpec) -> tuple[bool, str]:
        if spec.name in self.config.offline:
            return False, self.config.offline[spec.name] or "offline"
        return spec.operational, spec.status_message

    def list_devices(self) -> list[DeviceSummary]:
        """Every device's summary."""
        summaries = []
        for spec in self.catalog:
            operational, message = self._operational(spec)
            summaries.append(spec.summary(operational=operational, message=message))
        return summaries

    def device(self, name: str) -> DeviceSpec:
        """A device's full spec, with its operational state as configured."""
        spec = self._spec(name)
        operational, message = self._operational(spec)
        return spec.model_copy(update={"operational": operational, "status_message": message})

    def device_status(self, name: str) -> DeviceStatus:
        """A device's operational state and queue length."""
        spec = self._spec(name)
        operational, message = self._operational(spec)
        return DeviceStatus(
            name=name,
            operational=operational,
            pending_jobs=self.store.pending_count(name),
            status_message=message,
        )

    def calibration(self, name: str, at: datetime | None = None) -> Calibration:
        """The calibration of a device in force at ``at`` (default: now)."""
        spec = self._spec(name)
        snapshots = calibration_history(spec)
        if not snapshots:
            raise _not_found(f"device {name!r} has no calibration (it is an ideal simulator)")
        moment = _aware(at)
        if moment is None:
            return snapshots[-1]
        in_force = [c for c in snapshots if c.timestamp <= moment]
        if not in_force:
            raise _not_found(
                f"device {name!r} has no calibration before {moment.isoformat()}; the earliest "
                f"is from {snapshots[0].timestamp.isoformat()}"
            )
        return in_force[-1]

    # ---------------------------------------------------------------- jobs

    def check_submission(self, submission: JobSubmission) -> None:
        """Everything the device requires of a job, or a 4xx :class:`ProblemError`."""
        spec = self._spec(submission.device)
        operational, message = self._operational(spec)
        if not operational:
            # 409, not 503: waiting and retrying the same request will not help.
            raise ProblemError(
                409,
                "Device Unavailable",
                f"device {spec.name!r} is not accepting jobs: {message}. Check "
                "backend.status(), or pick an operational device with "
                "provider.backends(operational=True)",
                type=PROBLEM_DEVICE_UNAVAILABLE,
            )
        limits = spec.limits
        _within(submission.shots, limits.max_shots, "Invalid Job", f"shots on {spec.name!r}")
        _within(len(submission.programs), limits.max_circuits, "Invalid Job", "programs in one job")
        target = self.catalog.target(spec.name)
        for index, program in enumerate(submission.programs):
            where = f"program {index}"
            _within(
                len(program.instructions),
                limits.max_operations,
                "Invalid Program",
                f"operations in {where}",
            )
            _within(
                len(program.parameter_values),
                limits.max_parameter_rows,
                "Invalid Program",
                f"parameter rows in {where}",
            )
            problem = program_shape_problem(program, spec.num_qubits)
            if problem is not None:
                raise ProblemError(422, "Invalid Program", f"program {index}: {problem}")
            try:
                circuit = wire_to_circuit(program, target)
                validate_circuit(
                    circuit,
                    target,
                    device=spec.name,
                    index=index,
                    allow_parameters=bool(program.parameters),
                )
            except VendorValidationError as exc:
                raise ProblemError(422, "Invalid Program", str(exc)) from None
            except (CircuitError, ValueError, TypeError, OverflowError) as exc:
                # Qiskit's own checks (a negative or fractional delay, say): still the
                # sender's mistake, so a 4xx that says what Qiskit said, never a 500.
                raise ProblemError(
                    422, "Invalid Program", f"program {index} is not a valid circuit: {exc}"
                ) from None

    def check_payload_size(self, device: str, size: int) -> None:
        """A 413 :class:`ProblemError` when a job body is over the device's payload limit."""
        limit = self._spec(device).limits.max_payload_bytes
        if size > limit:
            raise ProblemError(
                413,
                "Payload Too Large",
                f"the job is {size} bytes, over the {limit}-byte limit of device {device!r}; "
                "split the circuits over several jobs",
            )

    def submit(
        self, account: str, submission: JobSubmission, idempotency_key: str | None
    ) -> tuple[JobInfo, bool]:
        """Validate and queue a job; a known key answers with the job it made before.

        Returns:
            The job and whether it was created by this call.
        """
        if idempotency_key is not None and not idempotency_key.strip():
            raise ProblemError(
                422,
                "Invalid Request",
                "the Idempotency-Key header is empty; send a fresh unique key per job, or none",
            )
        if idempotency_key is not None:
            # A retried POST must get the original job even if the device went offline
            # since, so the key is looked up before anything else is checked.
            existing = self.store.find_by_key(account, idempotency_key)
            if existing is not None:
                return self._info(existing), False
        self.check_submission(submission)
        with self._submit_lock:
            self._check_job_limit(account)
            return self._store_new(account, submission, idempotency_key)

    def _check_job_limit(self, account: str) -> None:
        active = self.store.active_count(account)
        limit = self.config.max_active_jobs
        if active >= limit:
            raise ProblemError(
                429,
                "Job Limit Reached",
                f"the account has {active} active (queued or running) jobs, the most it may "
                f"have; wait for one to finish (job.wait_for_final_state(), or see "
                f"backend.active_jobs()) or cancel one, then submit again",
                type=PROBLEM_JOB_LIMIT,
            )

    def _store_new(
        self, account: str, submission: JobSubmission, idempotency_key: str | None
    ) -> tuple[JobInfo, bool]:
        if submission.seed_simulator is None:
            # Fixed now, so a job re-run after a restart gives the same answer.
            seed = random.SystemRandom().randrange(2**31)
            submission = submission.model_copy(update={"seed_simulator": seed})
        record = JobRecord(
            job_id=new_job_id(),
            account=account,
            device=submission.device,
            status="QUEUED",
            shots=submission.shots,
            num_programs=len(submission.programs),
            submission=submission.model_dump_json(),
            created_at=time.time(),
            name=submission.name,
            tags=list(submission.tags),
            idempotency_key=idempotency_key,
        )
        stored, created = self.store.create(record)
        if created:
            self.supervisor.notify()
        return self._info(stored), created

    def _record(self, account: str, job_id: str) -> JobRecord:
        record = self.store.get(job_id, account)
        if record is None:
            raise _not_found(f"no job with id {job_id!r}")
        return record

    def _info(self, record: JobRecord) -> JobInfo:
        return JobInfo(
            job_id=record.job_id,
            device=record.device,
            status=record.status,
            name=record.name,
            tags=record.tags,
            shots=record.shots,
            num_programs=record.num_programs,
            created_at=_utc(record.created_at),  # type: ignore[arg-type]
            started_at=_utc(record.started_at),
            ended_at=_utc(record.ended_at),
            queue_position=self.store.queue_position(record),
            error=record.error,
            usage_seconds=record.usage_seconds if record.status == "DONE" else None,
        )

    def job(self, account: str, job_id: str) -> JobInfo:
        """A job's status."""
        return self._info(self._record(account, job_id))

    def watch(self, job_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from any thread) when this emulator ends the job.

        What makes long polls answer at once. A job ended by another process sharing the
        database is not seen here: a long poll also looks at the store now and then.

        Returns:
            A function that stops watching.
        """
        with self._watchers_lock:
            self._watchers.setdefault(job_id, []).append(callback)

        def unwatch() -> None:
            with self._watchers_lock:
                callbacks = self._watchers.get(job_id, [])
                if callback in callbacks:
                    callbacks.remove(callback)
                if not callbacks:
                    self._watchers.pop(job_id, None)

        return unwatch

    def _job_ended(self, job_id: str) -> None:
        with self._watchers_lock:
            callbacks = list(self._watchers.get(job_id, []))
        for callback in callbacks:
            callback()

    def result_json(self, account: str, job_id: str) -> str:
        """A finished job's result as stored, JSON of a ``JobResult``.

        A job that failed part-way has the result of what finished (its failed programs
        marked); otherwise 409 until the job is DONE.
        """
        record = self._record(account, job_id)
        if record.result is None:
            detail = f"job {job_id} is {record.status}; its result exists once it is DONE"
            if record.error:
                detail += f" (error: {record.error})"
            raise ProblemError(409, "Result Not Available", detail)
        return record.result

    def cancel(self, account: str, job_id: str) -> JobInfo:
        """Cancel a queued or running job; a finished job is left as it is."""
        record = self.store.cancel(job_id, account)
        if record is None:
            raise _not_found(f"no job with id {job_id!r}")
        self.supervisor.cancelled(job_id)
        self._job_ended(job_id)
        return self._info(record)

    def list_jobs(self, account: str, query: JobQuery) -> JobPage:
        """One page of an account's jobs, newest first unless ``query.order`` says otherwise."""
        if query.offset > MAX_OFFSET:
            raise ProblemError(
                422, "Invalid Request", f"offset: {query.offset} is larger than {MAX_OFFSET}"
            )
        if query.name is not None:
            problem = name_pattern_problem(query.name)
            if problem is not None:
                raise ProblemError(422, "Invalid Request", f"name: {problem}")
        # One row more than asked tells whether another page follows.
        try:
            records = self.store.list_jobs(
                account, query.model_copy(update={"limit": query.limit + 1})
            )
        except PatternTooSlowError as exc:
            raise ProblemError(422, "Invalid Request", f"name: {exc}") from None
        more = len(records) > query.limit
        return JobPage(
            jobs=[self._info(record) for record in records[: query.limit]],
            next_offset=query.offset + query.limit if more else None,
        )

    def account(self, account: str) -> AccountInfo:
        """An account's job limit and how many of its jobs are active."""
        return AccountInfo(
            account=account,
            max_active_jobs=self.config.max_active_jobs,
            active_jobs=self.store.active_count(account),
        )

    def reservations(
        self, name: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[Reservation]:
        """A device's reservation windows that overlap [start, end)."""
        self._spec(name)
        lower = _aware(start)
        upper = _aware(end)
        return [
            window
            for window in sorted(self.config.reservations, key=lambda w: w.start)
            if window.device == name
            and (upper is None or window.start < upper)
            and (lower is None or window.end > lower)
        ]
