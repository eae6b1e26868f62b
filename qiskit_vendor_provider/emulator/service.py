"""The emulator's behaviour behind the HTTP routes: devices, jobs, listings, accounts.

:class:`Emulator` knows nothing of HTTP: it takes models and raises :class:`ProblemError`
errors that the app turns into ``application/problem+json`` answers. The other roles
live beside it: the program rules in :mod:`.program_rules`, authentication in
:mod:`.auth`, the set-up in :mod:`.config`, the problems in :mod:`.problems`.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from qiskit_vendor_provider import rules
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import (
    PROBLEM_CALIBRATION_NOT_KEPT,
    PROBLEM_DEVICE_UNAVAILABLE,
    PROBLEM_JOB_LIMIT,
    PROBLEM_SESSION_CLOSED,
    PROBLEM_SESSION_DEVICE,
    PROBLEM_SESSION_LIMIT,
    AccountInfo,
    Calibration,
    CalibrationInfo,
    DeviceSpec,
    DeviceStatus,
    DeviceSummary,
    JobInfo,
    JobPage,
    JobQuery,
    JobSubmission,
    Reservation,
    SessionInfo,
    SessionRequest,
)
from qiskit_vendor_provider.api.states import ACTIVE_SERVER_STATES, FINAL_SERVER_STATES
from qiskit_vendor_provider.emulator.auth import DEFAULT_ACCOUNT, account_of
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog, load_spec_file
from qiskit_vendor_provider.emulator.config import EmulatorConfig
from qiskit_vendor_provider.emulator.problems import ProblemError, not_found
from qiskit_vendor_provider.emulator.program_rules import (
    MAX_CLBITS,
    check_programs,
    program_shape_problem,
)
from qiskit_vendor_provider.emulator.recalibration import CalibrationBook
from qiskit_vendor_provider.emulator.sessions import (
    DEFAULT_MAX_IDLE,
    DEFAULT_MAX_TIME,
    SessionRecord,
    SessionStats,
    evaluate,
)
from qiskit_vendor_provider.emulator.store import (
    JobRecord,
    JobStore,
    SQLiteJobStore,
    new_job_id,
)
from qiskit_vendor_provider.emulator.supervisor import Supervisor, SupervisorSettings
from qiskit_vendor_provider.name_filter import PatternTooSlowError, name_pattern_problem

__all__ = [
    "DEFAULT_ACCOUNT",
    "MAX_CLBITS",
    "Emulator",
    "EmulatorConfig",
    "ProblemError",
    "name_pattern_problem",
    "program_shape_problem",
]

logger = logging.getLogger(__name__)

SERVER_STATES = tuple(sorted({*ACTIVE_SERVER_STATES, *FINAL_SERVER_STATES}))
"""The job states this server reports (and filters by)."""

_RECENTLY_ENDED = 1024
"""Ends remembered for :meth:`Emulator.watch` (a read and a watch are microseconds apart)."""

MAX_OFFSET = 2**62
"""Largest ``offset`` of a job listing (SQLite integers are 64-bit)."""


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _with_end_time(result: str, ended_at: float | None) -> str:
    """A stored result's JSON with the job's end time as its last field.

    The stored JSON is served as it is (no parse of a large result): the end time,
    known only once the result was stored, is appended.

    >>> _with_end_time('{"a":1}', 0.0)
    '{"a":1,"ended_at":"1970-01-01T00:00:00+00:00"}'
    """
    ended = _utc(ended_at)
    if ended is None or not result.endswith("}"):
        return result
    return f'{result[:-1]},"ended_at":"{ended.isoformat()}"}}'


class Emulator:
    """The Aer-backed implementation of the vendor REST API.

    Args:
        config: Its set-up; defaults to an in-memory store and the shipped devices.
        store: A job store to use instead of the one the config names.
    """

    def __init__(self, config: EmulatorConfig | None = None, *, store: JobStore | None = None):
        self.config = config or EmulatorConfig()
        self.catalog = DeviceCatalog.from_directories(
            *self.config.device_dirs,
            extra=[load_spec_file(path) for path in self.config.device_files],
        )
        self.store: JobStore = store or SQLiteJobStore(self.config.database)
        self.calibrations = CalibrationBook(self.store, self.catalog, self.config.recalibration)
        settings = SupervisorSettings(
            poll_interval=self.config.poll_interval,
            max_memory_mb=self.config.max_memory_mb,
            lease_seconds=self.config.lease_seconds,
            max_attempts=self.config.max_attempts,
            faults=dict(self.config.worker_faults),
            session_idle_grace=self.config.session_idle_grace,
        )
        if self.config.workers is not None:
            settings = dataclasses.replace(settings, workers=self.config.workers)
        self.supervisor = Supervisor(self.store, self.catalog, settings)
        self.supervisor.on_job_end = self._job_ended
        self.supervisor.job_spec = self.job_spec
        self._watchers: dict[str, list[Callable[[], None]]] = {}
        self._recently_ended: collections.OrderedDict[str, None] = collections.OrderedDict()
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
            self.supervisor.start()  # first: it re-queues what dead processes left running
            self.fail_withdrawn_jobs()
            self._started = True
        return self

    def fail_withdrawn_jobs(self) -> list[str]:
        """End in ERROR the queued jobs of devices this emulator no longer serves.

        A device withdrawn from the catalog (its file removed) would leave its queued
        jobs waiting forever. Their records, results and sessions stay readable.
        Returns the ids of the jobs failed.
        """
        failed = self.store.fail_withdrawn(
            self.catalog.names(),
            "device withdrawn: the server no longer serves this device, so the job never "
            "ran; submit it again to another device (provider.backends())",
        )
        if failed:
            logger.warning("emulator: %d queued job(s) of withdrawn devices failed", len(failed))
        for job_id in failed:
            self._job_ended(job_id)
        return failed

    def stop(self) -> None:
        """Stop running jobs: a running one is given back to the queue (the store stays)."""
        self.supervisor.stop()
        self._started = False

    # ---------------------------------------------------------------- accounts

    def authenticate(self, authorization: str | None) -> str:
        """The account a request's ``Authorization`` header belongs to (401 otherwise)."""
        return account_of(self.config.tokens, authorization)

    # ---------------------------------------------------------------- devices

    def _spec(self, name: str) -> DeviceSpec:
        if name not in self.catalog:
            raise not_found(f"no device named {name!r}; devices: {', '.join(self.catalog.names())}")
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
        """A device's full spec, with its current calibration and its operational state."""
        spec = self.calibrations.spec(name, self.calibrations.current(self._spec(name).name))
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

    def calibration(
        self, name: str, at: datetime | None = None, calibration_id: str | None = None
    ) -> Calibration:
        """A device's calibration: by id, in force at ``at``, or the current one."""
        spec = self._spec(name)
        if not self.calibrations.calibrated(name):
            raise not_found(f"device {name!r} has no calibration (it is an ideal simulator)")
        if calibration_id is not None:
            return self._kept_calibration(spec, calibration_id)
        if at is None:
            current = self.calibrations.current(name)
            assert current is not None
            return current
        found = self.calibrations.at(name, at)
        if found is None:
            earliest = self.calibrations.kept(name)[0].timestamp
            raise not_found(
                f"device {name!r} has no calibration before {at.isoformat()}; the earliest "
                f"kept is from {earliest.isoformat()}"
            )
        return found

    def calibration_list(self, name: str) -> list[CalibrationInfo]:
        """The calibrations kept for a device, oldest first (none for an ideal simulator)."""
        return self.calibrations.kept(self._spec(name).name)

    def _kept_calibration(self, spec: DeviceSpec, calibration_id: str) -> Calibration:
        found = self.calibrations.by_id(spec.name, calibration_id)
        if found is not None:
            return found
        kept = self.calibrations.kept(spec.name)
        listed = ", ".join(info.calibration_id for info in kept[-10:])
        raise ProblemError(
            404,
            "Calibration Not Kept",
            f"device {spec.name!r} has no calibration {calibration_id!r} (it keeps its "
            f"{len(kept)} latest); the newest it keeps: {listed}. Pin one of these, or use "
            "the current one (get_backend(name) without calibration_id, or "
            "backend.refresh())",
            type=PROBLEM_CALIBRATION_NOT_KEPT,
        )

    def job_spec(self, record: JobRecord) -> DeviceSpec:
        """The device as a job runs on it: its pinned calibration, or the one in force now.

        An unpinned job's calibration is recorded here, as it starts.
        """
        name = record.device
        if not self.calibrations.calibrated(name):
            return self.catalog.spec(name)
        calibration = None
        if record.calibration_pinned and record.calibration_id is not None:
            calibration = self.calibrations.by_id(name, record.calibration_id)
        if calibration is None:
            calibration = self.calibrations.current(name)
            assert calibration is not None
            if calibration.calibration_id is not None:
                self.store.set_job_calibration(record.job_id, calibration.calibration_id)
                record.calibration_id = calibration.calibration_id
        return self.calibrations.spec(name, calibration)

    def largest_payload(self) -> int:
        """The most bytes a job body may have: the largest device payload limit.

        No body over it can be a valid job on any device (nor over the server's own
        ``max_body_bytes``), so it is refused before it is read.
        """
        largest = max((spec.limits.max_payload_bytes for spec in self.catalog), default=0)
        return min(largest, self.config.max_body_bytes)

    # ---------------------------------------------------------------- jobs

    def check_submission(self, submission: JobSubmission, *, size: int | None = None) -> None:
        """Everything the device requires of a job, or a 4xx :class:`ProblemError`.

        Args:
            submission: The job.
            size: Its bytes as received (encoded again to count them when not given).
        """
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
        problem = rules.rep_delay_problem(submission.rep_delay, spec.rep_delay_range)
        if problem is not None:
            raise ProblemError(422, "Invalid Job", problem)
        spec = self._submission_spec(spec, submission.calibration_id)
        check_programs(submission, spec, self.calibrations.target(spec), size=size)

    def _submission_spec(self, spec: DeviceSpec, calibration_id: str | None) -> DeviceSpec:
        """The device as a job is checked against: at its pinned calibration, or now."""
        if not self.calibrations.calibrated(spec.name):
            if calibration_id is not None:
                raise self._uncalibrated_pin(spec.name)
            return spec
        if calibration_id is None:
            return self.calibrations.spec(spec.name, self.calibrations.current(spec.name))
        return self.calibrations.spec(spec.name, self._kept_calibration(spec, calibration_id))

    @staticmethod
    def _uncalibrated_pin(name: str) -> ProblemError:
        return ProblemError(
            422,
            "Invalid Job",
            f"calibration_id: device {name!r} has no calibrations (it is an ideal "
            "simulator); leave calibration_id out",
        )

    def submit(
        self,
        account: str,
        submission: JobSubmission,
        idempotency_key: str | None,
        *,
        body: bytes | None = None,
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
        self.check_submission(submission, size=None if body is None else len(body))
        with self._submit_lock:
            self._check_session(account, submission)
            self._check_job_limit(account)
            return self._store_new(account, submission, idempotency_key, body)

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
        self,
        account: str,
        submission: JobSubmission,
        idempotency_key: str | None,
        body: bytes | None,
    ) -> tuple[JobInfo, bool]:
        # The body as received is what is kept (writing a large job out again would take
        # longer than reading it), plus the seed, fixed now so that a job re-run after a
        # restart gives the same answer.
        text = body
        if submission.seed_simulator is None:
            seed = random.SystemRandom().randrange(2**31)
            text = None
            if body is not None and "seed_simulator" not in submission.model_fields_set:
                text = wire.with_first_field(body, "seed_simulator", seed)
            submission = submission.model_copy(update={"seed_simulator": seed})
        if text is None:
            text = wire.encode_submission(submission)
        record = JobRecord(
            job_id=new_job_id(),
            account=account,
            device=submission.device,
            status="QUEUED",
            shots=submission.shots,
            num_programs=len(submission.programs),
            submission=text.decode("utf-8"),
            created_at=time.time(),
            name=submission.name,
            tags=list(submission.tags),
            idempotency_key=idempotency_key,
            session_id=submission.session_id,
            max_execution_time=submission.max_execution_time,
            calibration_id=self._submitted_calibration(submission),
            calibration_pinned=int(submission.calibration_id is not None),
        )
        stored, created = self.store.create(record)
        if created:
            self.supervisor.notify()
        return self._info(stored), created

    def _submitted_calibration(self, submission: JobSubmission) -> str | None:
        """The pinned calibration, or the one in force now (until the job starts)."""
        if submission.calibration_id is not None:
            return submission.calibration_id
        current = self.calibrations.current(submission.device)
        return None if current is None else current.calibration_id

    def _record(self, account: str, job_id: str) -> JobRecord:
        record = self.store.get(job_id, account)
        if record is None:
            raise not_found(f"no job with id {job_id!r}")
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
            # A DONE job's price; a job stopped at its run-time limit is charged what ran.
            usage_seconds=record.usage_seconds if record.status in ("DONE", "ERROR") else None,
            session_id=record.session_id,
            calibration_id=record.calibration_id,
        )

    def job(self, account: str, job_id: str) -> JobInfo:
        """A job's status."""
        return self._info(self._record(account, job_id))

    def watch(self, job_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from any thread) when this emulator ends the job.

        What makes long polls answer at once. A job this emulator ended a moment before
        (between a long poll's read of its state and this call) is called back at once.
        A job ended by another process sharing the database is not seen here: a long
        poll also looks at the store now and then.

        Returns:
            A function that stops watching.
        """
        with self._watchers_lock:
            self._watchers.setdefault(job_id, []).append(callback)
            ended = job_id in self._recently_ended
        if ended:
            callback()

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
            self._recently_ended[job_id] = None
            if len(self._recently_ended) > _RECENTLY_ENDED:
                self._recently_ended.popitem(last=False)
            callbacks = list(self._watchers.get(job_id, []))
        for callback in callbacks:
            callback()

    def starts_at_once(self, info: JobInfo) -> bool:
        """Whether this emulator runs the job now: running, or first in a free device's queue.

        What a submission held for its result (``POST /v1/jobs?wait=``) asks first: a
        job queued behind another would hold the client for nothing, and a script that
        submits many jobs before it waits for any must not submit them one by one.
        """
        runs_jobs = self._started and self.supervisor.settings.workers > 0
        if not runs_jobs or info.status not in ACTIVE_SERVER_STATES:
            return False
        return info.status == "RUNNING" or self.store.pending_count(info.device) <= 1

    def job_with_result(self, account: str, job_id: str) -> tuple[JobInfo, str | None]:
        """A job's status and, once it is DONE, its result (as :meth:`result_json`).

        One read of the job for both: what a held request answers with when the job ends.
        """
        record = self._record(account, job_id)
        info = self._info(record)
        if record.status != "DONE" or record.result is None:
            return info, None
        return info, _with_end_time(record.result, record.ended_at)

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
        return _with_end_time(record.result, record.ended_at)

    def cancel(self, account: str, job_id: str) -> JobInfo:
        """Cancel a queued or running job; a finished job is left as it is."""
        record = self.store.cancel(job_id, account)
        if record is None:
            raise not_found(f"no job with id {job_id!r}")
        self.supervisor.cancelled(job_id)
        self._job_ended(job_id)
        return self._info(record)

    def list_jobs(self, account: str, query: JobQuery) -> JobPage:
        """One page of an account's jobs, newest first unless ``query.order`` says otherwise."""
        if query.offset > MAX_OFFSET:
            raise ProblemError(
                422, "Invalid Request", f"offset: {query.offset} is larger than {MAX_OFFSET}"
            )
        # The query model takes any state name (a client passes on what it does not
        # know); this server refuses one it does not have, naming its own.
        for position, state in enumerate(query.status):
            if state not in SERVER_STATES:
                raise ProblemError(
                    422,
                    "Invalid Request",
                    f"status.{position}: {state!r} is not a job state of this server; its "
                    f"states are {', '.join(SERVER_STATES)}",
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
        lower, upper = start, end
        return [
            window
            for window in sorted(self.config.reservations, key=lambda w: w.start)
            if window.device == name
            and (upper is None or window.start < upper)
            and (lower is None or window.end > lower)
        ]

    # ---------------------------------------------------------------- sessions

    def create_session(self, account: str, request: SessionRequest) -> SessionInfo:
        """Open a session or batch on a device (see :mod:`.sessions`)."""
        self._spec(request.device)
        if request.mode == "batch" and request.max_idle is not None:
            raise ProblemError(
                422,
                "Invalid Request",
                "max_idle: a batch never holds its device, so it has no idle timeout; "
                "leave max_idle out, or open a session (mode 'session')",
            )
        with self._submit_lock:  # counting and storing must not interleave
            if request.mode == "session":
                self._check_session_limit(account)
            return self._open_session(account, request)

    def _check_session_limit(self, account: str) -> None:
        limit = self.config.max_sessions_per_account
        open_sessions = self.store.open_session_count(account)
        if open_sessions >= limit:
            raise ProblemError(
                409,
                "Session Limit Reached",
                f"the account has {open_sessions} open sessions, the most it may have at "
                "once; close one (session.close(), or see provider.sessions()) or let it "
                "expire, or use a Batch, which is not limited",
                type=PROBLEM_SESSION_LIMIT,
            )

    def _open_session(self, account: str, request: SessionRequest) -> SessionInfo:
        record = SessionRecord(
            session_id=new_job_id(),
            account=account,
            device=request.device,
            mode=request.mode,
            max_time=request.max_time or DEFAULT_MAX_TIME,
            max_idle=None if request.mode == "batch" else request.max_idle or DEFAULT_MAX_IDLE,
            created_at=time.time(),
        )
        self.store.create_session(record)
        return self._session_info(record, SessionStats())

    def session(self, account: str, session_id: str) -> SessionInfo:
        """A session's state, times and job counts."""
        found = self.store.get_session(session_id, account)
        if found is None:
            raise not_found(f"no session with id {session_id!r}")
        return self._session_info(*found)

    def list_sessions(self, account: str, limit: int = 50) -> list[SessionInfo]:
        """An account's newest sessions and batches."""
        return [self._session_info(*found) for found in self.store.list_sessions(account, limit)]

    def close_session(self, account: str, session_id: str) -> SessionInfo:
        """Close a session: it accepts no new jobs; the ones it has still run."""
        if not self.store.close_session(session_id, account):
            raise not_found(f"no session with id {session_id!r}")
        # A closed session with nothing left to run gives its device back now.
        self.supervisor.notify()
        return self.session(account, session_id)

    def cancel_session(self, account: str, session_id: str) -> SessionInfo:
        """Cancel a session: its queued and running jobs are cancelled, and it is closed."""
        cancelled = self.store.cancel_session(session_id, account)
        if cancelled is None:
            raise not_found(f"no session with id {session_id!r}")
        for job_id in cancelled:
            self.supervisor.cancelled(job_id)
            self._job_ended(job_id)
        self.supervisor.notify()
        return self.session(account, session_id)

    def _session_info(self, record: SessionRecord, stats: SessionStats) -> SessionInfo:
        view = evaluate(record, stats, time.time())
        return SessionInfo(
            session_id=record.session_id,
            device=record.device,
            mode=record.mode,
            state=view.state,
            accepting_jobs=view.accepting_jobs,
            max_time=record.max_time,
            max_idle=record.max_idle,
            created_at=_utc(record.created_at),  # type: ignore[arg-type]
            started_at=_utc(record.started_at),
            closed_at=_utc(record.closed_at),
            last_activity_at=_utc(stats.last_activity),
            expires_at=_utc(view.expires_at),
            elapsed_seconds=view.elapsed,
            job_count=stats.job_count,
            pending_jobs=stats.queued + stats.running,
        )

    def _check_session(self, account: str, submission: JobSubmission) -> None:
        """A 404 or 409 :class:`ProblemError` unless the job may join its session."""
        if submission.session_id is None:
            return
        found = self.store.get_session(submission.session_id, account)
        if found is None:
            raise not_found(
                f"no session with id {submission.session_id!r}; open one with "
                "POST /v1/sessions (Session(backend=...) in the SDK)"
            )
        record, stats = found
        if record.device != submission.device:
            raise ProblemError(
                409,
                "Session On Another Device",
                f"session {record.session_id} runs on device {record.device!r}, not "
                f"{submission.device!r}; submit to {record.device!r}, or open a session on "
                f"{submission.device!r}",
                type=PROBLEM_SESSION_DEVICE,
            )
        view = evaluate(record, stats, time.time())
        if not view.accepting_jobs:
            raise ProblemError(
                409,
                "Session Not Accepting Jobs",
                f"{record.mode} {record.session_id} is {view.state} and accepts no new jobs; "
                f"open a new {record.mode}, or submit the job without one",
                type=PROBLEM_SESSION_CLOSED,
            )
