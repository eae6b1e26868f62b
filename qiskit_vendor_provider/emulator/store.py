"""The emulator's job store: a small port (:class:`JobStore`) and its SQLite adapter.

SQLite keeps every job across restarts. State changes are single conditional UPDATEs
(``... WHERE status = 'RUNNING'``), so a cancel racing a finishing worker, or two
emulator processes sharing one database, can never move a job out of a final state.

A running job is leased: it names the process that runs it (``lease_owner``, kept after
the job ends as a record of who ran it) and a time (``lease_expires``) that process keeps
pushing forward while it lives. Only a job whose
lease has run out is taken back, so processes sharing one file never re-run each other's
live jobs. Every claim counts an attempt; a job whose attempts are used up is not queued
again but ends in ERROR (quarantined), so a job that kills whatever runs it cannot take
down every restart.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qiskit_vendor_provider._sqlite import SharedConnection, open_error
from qiskit_vendor_provider.api.models import JobQuery
from qiskit_vendor_provider.api.states import ACTIVE_SERVER_STATES
from qiskit_vendor_provider.emulator.scheduler import group_place, next_job, queue_position
from qiskit_vendor_provider.emulator.sessions import (
    DEFAULT_IDLE_GRACE,
    SessionRecord,
    SessionStats,
)
from qiskit_vendor_provider.name_filter import NameFilter

_ACTIVE = ", ".join(f"'{state}'" for state in ACTIVE_SERVER_STATES)  # constants only

ACTIVE_COUNT_SQL = f"SELECT COUNT(*) FROM jobs WHERE +account = ? AND status IN ({_ACTIVE})"  # noqa: S608
"""An account's queued and running jobs, counted on every submission.

``+account`` keeps SQLite off the ``(account, created_at)`` index, which would walk every
job the account ever ran (2 ms a submission at 3,500 jobs in an embedded database),
and onto ``(status, seq)``, which finds the few active ones.
"""


@dataclass
class JobRecord:
    """One job as stored."""

    job_id: str
    account: str
    device: str
    status: str
    shots: int
    num_programs: int
    submission: str
    created_at: float
    name: str | None = None
    tags: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    error: str | None = None
    result: str | None = None
    seq: int = 0
    attempts: int = 0
    lease_owner: str | None = None
    lease_expires: float | None = None
    usage_seconds: float | None = None
    session_id: str | None = None
    group_seq: int | None = None
    """Queue place of a batch's job: the ``seq`` of the batch's first job (None: its own)."""
    max_execution_time: float | None = None
    """Seconds the job asked to run at most (None: its device's limit)."""
    calibration_id: str | None = None
    """The calibration the job runs on: pinned, or in force at its start (at its
    submission until then)."""
    calibration_pinned: int = 0
    """1: the submission pinned ``calibration_id``; 0: it is set again when the job starts."""


@dataclass(frozen=True)
class CalibrationRow:
    """One calibration a device was served: its epoch, id, start time and JSON body."""

    epoch: int
    calibration_id: str
    timestamp: float
    body: str


class JobStore(Protocol):
    """What the emulator needs from a job store."""

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Store a new job; with a known (account, key), return the stored job and False."""
        ...

    def get(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """The job, if it exists (and belongs to ``account``, when given)."""
        ...

    def find_by_key(self, account: str, idempotency_key: str) -> JobRecord | None:
        """The job an account submitted with this idempotency key, if any."""
        ...

    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        devices: Collection[str],
        *,
        idle_grace: float = DEFAULT_IDLE_GRACE,
    ) -> JobRecord | None:
        """Lease the oldest queued job of a device among ``devices`` that runs nothing.

        A session idle for ``idle_grace`` seconds lets other accounts' jobs pass.
        """
        ...

    def renew_leases(self, owner: str, lease_seconds: float, job_ids: Collection[str]) -> None:
        """Push the leases of ``owner``'s running ``job_ids`` ``lease_seconds`` ahead."""
        ...

    def release(self, owner: str, max_attempts: int) -> list[JobRecord]:
        """Give back ``owner``'s running jobs (re-queued, or quarantined when out of attempts)."""
        ...

    def expire_leases(
        self, max_attempts: int, dead_owners: Collection[str] = ()
    ) -> list[JobRecord]:
        """Take back running jobs whose lease ran out, or whose owner is known to be dead."""
        ...

    def running_owners(self) -> list[str]:
        """The owners of the leases on running jobs."""
        ...

    def statuses(self, job_ids: Collection[str]) -> dict[str, str]:
        """The current status of each of the given jobs."""
        ...

    def finish(
        self,
        job_id: str,
        result: str,
        error: str | None = None,
        usage_seconds: float | None = None,
    ) -> bool:
        """RUNNING → DONE with its result and charged device time (ERROR if ``error``)."""
        ...

    def fail(self, job_id: str, error: str, usage_seconds: float | None = None) -> bool:
        """RUNNING → ERROR, charged ``usage_seconds`` if given; False if it no longer ran."""
        ...

    def cancel(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """QUEUED or RUNNING → CANCELLED; returns the job as it is afterwards."""
        ...

    def queue_position(self, record: JobRecord) -> int | None:
        """1 for the next job to run on its device; None unless queued."""
        ...

    def pending_count(self, device: str) -> int:
        """Queued and running jobs on a device."""
        ...

    def fail_withdrawn(self, served: Collection[str], error: str) -> list[str]:
        """QUEUED → ERROR with ``error`` for every job of a device not in ``served``."""
        ...

    def active_count(self, account: str) -> int:
        """Queued and running jobs of an account."""
        ...

    def list_jobs(self, account: str, query: JobQuery) -> list[JobRecord]:
        """One page of an account's jobs that match ``query`` (``query.limit`` at most)."""
        ...

    def create_session(self, record: SessionRecord) -> SessionRecord:
        """Store a new session or batch."""
        ...

    def calibrations(self, device: str) -> list[CalibrationRow]:
        """The calibrations a device was served, oldest first."""
        ...

    def extend_calibrations(
        self,
        device: str,
        extend: Callable[[CalibrationRow | None], list[CalibrationRow]],
        keep: int,
    ) -> None:
        """Store what ``extend`` makes of the device's latest calibration, atomically.

        Only the ``keep`` latest are kept.
        """
        ...

    def set_job_calibration(self, job_id: str, calibration_id: str) -> None:
        """Record the calibration an unpinned job starts on."""
        ...

    def get_session(
        self, session_id: str, account: str | None = None
    ) -> tuple[SessionRecord, SessionStats] | None:
        """The session and its jobs' figures, if it exists (and is ``account``'s, when given)."""
        ...

    def list_sessions(self, account: str, limit: int) -> list[tuple[SessionRecord, SessionStats]]:
        """An account's newest sessions and batches, ``limit`` at most."""
        ...

    def open_session_count(self, account: str) -> int:
        """An account's sessions (not batches) that still accept jobs."""
        ...

    def close_session(self, session_id: str, account: str) -> bool:
        """Mark a session closed (no new jobs); False if there is no such session."""
        ...

    def cancel_session(self, session_id: str, account: str) -> list[str] | None:
        """Cancel a session and its queued and running jobs; their ids (None: no session)."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    idempotency_key TEXT,
    device TEXT NOT NULL,
    status TEXT NOT NULL,
    name TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    shots INTEGER NOT NULL,
    num_programs INTEGER NOT NULL,
    submission TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    UNIQUE (account, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_account ON jobs (account, created_at);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    device TEXT NOT NULL,
    mode TEXT NOT NULL,
    max_time REAL NOT NULL,
    max_idle REAL,
    created_at REAL NOT NULL,
    started_at REAL,
    closed_at REAL,
    cancelled_at REAL
);
CREATE INDEX IF NOT EXISTS sessions_device ON sessions (device, started_at);
CREATE INDEX IF NOT EXISTS sessions_account ON sessions (account, created_at);
CREATE TABLE IF NOT EXISTS calibrations (
    device TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    calibration_id TEXT NOT NULL,
    timestamp REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (device, epoch)
);
"""

# Columns added after the first release: a database made by an older version gains them
# when it is opened (a job that was RUNNING then has no lease, so it counts as expired).
_ADDED_COLUMNS = {
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "lease_owner": "TEXT",
    "lease_expires": "REAL",
    "usage_seconds": "REAL",
    "session_id": "TEXT",
    "group_seq": "INTEGER",
    "max_execution_time": "REAL",
    "calibration_id": "TEXT",
    "calibration_pinned": "INTEGER NOT NULL DEFAULT 0",
}

_COLUMNS = (
    "seq, job_id, account, idempotency_key, device, status, name, tags, shots, "
    "num_programs, submission, result, error, created_at, started_at, ended_at, "
    "attempts, lease_owner, lease_expires, usage_seconds, session_id, group_seq, "
    "max_execution_time, calibration_id, calibration_pinned"
)
_SESSION_COLUMNS = (
    "session_id, account, device, mode, max_time, max_idle, created_at, started_at, "
    "closed_at, cancelled_at"
)
_INSERT = (
    "INSERT INTO jobs (job_id, account, idempotency_key, device, status, name, tags, shots, "
    "num_programs, submission, created_at, session_id, group_seq, max_execution_time, "
    "calibration_id, calibration_pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_KEYED = _INSERT + " ON CONFLICT (account, idempotency_key) DO NOTHING"


def quarantine_message(attempts: int) -> str:
    """The error of a job taken back after its last allowed attempt.

    >>> quarantine_message(2)[:60]
    'quarantined: the job was interrupted on each of its 2 attemp'
    """
    return (
        f"quarantined: the job was interrupted on each of its {attempts} attempts (the "
        "emulator process running it stopped or died), so it is not run again; submit it "
        "again if you think the interruptions had another cause"
    )


def _where(account: str, query: JobQuery) -> tuple[str, list[Any]]:
    """The WHERE clause and its arguments for an account's jobs matching ``query``."""
    clauses = ["account = ?"]
    args: list[Any] = [account]
    if query.device is not None:
        clauses.append("device = ?")
        args.append(query.device)
    if query.status:
        clauses.append(f"status IN ({', '.join('?' * len(query.status))})")
        args.extend(query.status)
    if query.name is not None:
        clauses.append("name REGEXP ?")
        args.append(query.name)
    if query.tags:
        marks = ", ".join("?" * len(query.tags))
        matches = (  # only placeholders are interpolated
            "(SELECT COUNT(DISTINCT value) FROM json_each(jobs.tags) "  # noqa: S608
            f"WHERE value IN ({marks}))"
        )
        needed = len(set(query.tags)) if query.tags_operator == "AND" else 1
        clauses.append(f"{matches} >= ?")
        args.extend([*query.tags, needed])
    if query.created_after is not None:
        clauses.append("created_at >= ?")
        args.append(query.created_after.timestamp())
    if query.created_before is not None:
        clauses.append("created_at < ?")
        args.append(query.created_before.timestamp())
    if query.session_id is not None:
        clauses.append("session_id = ?")
        args.append(query.session_id)
    if query.calibration_id is not None:
        clauses.append("calibration_id = ?")
        args.append(query.calibration_id)
    return " AND ".join(clauses), args


def new_job_id() -> str:
    """A fresh job id: 32 lowercase hex digits."""
    return uuid.uuid4().hex


class SQLiteJobStore:
    """A :class:`JobStore` in one SQLite file (or ``":memory:"``).

    Args:
        path: Database file; created with its parent directory if missing.
    """

    def __init__(self, path: Path | str) -> None:
        fix = (
            "move it away or delete it (the emulator's jobs in it are lost with it), or give "
            "the emulator another file: EmulatorConfig(database=...), --database, or "
            "QISKIT_VENDOR_EMULATOR_DB for the one VendorProvider() embeds"
        )
        self._db = SharedConnection(path, _SCHEMA, what="the emulator's job store", fix=fix)
        self.path = self._db.path
        self._lock = self._db.lock
        self._conn = self._db.conn
        self._transaction = self._db.transaction
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            error = open_error(self.path, exc, what="the emulator's job store", fix=fix)
        else:
            return
        raise error

    def _migrate(self) -> None:
        with self._transaction() as conn:
            present = {row["name"] for row in conn.execute("PRAGMA table_info(jobs)")}
            for column, declaration in _ADDED_COLUMNS.items():
                if column not in present:
                    conn.execute(f"ALTER TABLE jobs ADD COLUMN {column} {declaration}")
            conn.execute("CREATE INDEX IF NOT EXISTS jobs_device ON jobs (device, status, seq)")
            conn.execute("CREATE INDEX IF NOT EXISTS jobs_session ON jobs (session_id, status)")
            conn.execute("CREATE INDEX IF NOT EXISTS jobs_calibration ON jobs (calibration_id)")

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @staticmethod
    def _record(row: sqlite3.Row) -> JobRecord:
        values: dict[str, Any] = dict(row)
        values["tags"] = json.loads(values["tags"])
        return JobRecord(**values)

    def _fetch(self, conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?",  # noqa: S608 - constant columns
            (job_id,),
        ).fetchone()
        return None if row is None else self._record(row)

    def create(self, record: JobRecord) -> tuple[JobRecord, bool]:
        """Store a new job; with a known (account, key), return the stored job and False."""
        if record.session_id is None:
            # Nothing to read first: one statement, one transaction (autocommit), and the
            # key's uniqueness decides between a new job and the one made before.
            with self._lock:
                cursor = self._insert(self._conn, record, keyed=True)
                if cursor.rowcount == 1:
                    record.seq = int(cursor.lastrowid or 0)
                    return record, True
                existing = self._fetch_by_key(
                    self._conn, record.account, record.idempotency_key or ""
                )
            if existing is not None:
                return existing, False
        with self._transaction() as conn:
            if record.idempotency_key is not None:
                existing = self._fetch_by_key(conn, record.account, record.idempotency_key)
                if existing is not None:
                    return existing, False
            # A batch's job takes the queue place of the batch's first job.
            record.group_seq = group_place(conn, record.session_id)
            cursor = self._insert(conn, record)
            record.seq = int(cursor.lastrowid or 0)
            return record, True

    @staticmethod
    def _insert(conn: sqlite3.Connection, record: JobRecord, *, keyed: bool = False) -> Any:
        """INSERT the job (``keyed``: doing nothing when its account already used its key)."""
        sql = _INSERT_KEYED if keyed else _INSERT
        return conn.execute(
            sql,
            (
                record.job_id,
                record.account,
                record.idempotency_key,
                record.device,
                record.status,
                record.name,
                json.dumps(record.tags),
                record.shots,
                record.num_programs,
                record.submission,
                record.created_at,
                record.session_id,
                record.group_seq,
                record.max_execution_time,
                record.calibration_id,
                record.calibration_pinned,
            ),
        )

    def get(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """The job, if it exists (and belongs to ``account``, when given)."""
        with self._lock:
            record = self._fetch(self._conn, job_id)
        if record is None or (account is not None and record.account != account):
            return None
        return record

    def _fetch_by_key(self, conn: sqlite3.Connection, account: str, key: str) -> JobRecord | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE account = ? AND idempotency_key = ?",  # noqa: S608
            (account, key),
        ).fetchone()
        return None if row is None else self._record(row)

    def find_by_key(self, account: str, idempotency_key: str) -> JobRecord | None:
        """The job an account submitted with this idempotency key, if any."""
        with self._lock:
            return self._fetch_by_key(self._conn, account, idempotency_key)

    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        devices: Collection[str],
        *,
        idle_grace: float = DEFAULT_IDLE_GRACE,
    ) -> JobRecord | None:
        """Lease the next queued job of a device among ``devices`` that runs nothing.

        One job runs on a device at a time, whichever process runs it, as on hardware;
        the claim counts one attempt. Which job is next is the scheduler's to say
        (:func:`~qiskit_vendor_provider.emulator.scheduler.next_job`: sessions first,
        batches grouped); ``idle_grace`` is how long an idle session keeps its device.
        """
        if not devices:
            return None
        marks = ", ".join("?" * len(devices))
        with self._lock:
            # Most claims find nothing (the supervisor asks after every job it starts or
            # ends): a read on the status index says so without taking the write lock.
            queued = self._conn.execute(
                f"SELECT 1 FROM jobs WHERE status = 'QUEUED' AND device IN ({marks}) LIMIT 1",  # noqa: S608
                tuple(devices),
            ).fetchone()
        if queued is None:
            return None
        with self._transaction() as conn:
            now = time.time()
            row = next_job(conn, devices, now, idle_grace, self._stats)
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET status = 'RUNNING', started_at = ?, attempts = attempts + 1, "
                "lease_owner = ?, lease_expires = ? WHERE job_id = ?",
                (now, owner, now + lease_seconds, row["job_id"]),
            )
            if row["session_id"] is not None:
                # A session's clock starts with its first job.
                conn.execute(
                    "UPDATE sessions SET started_at = ? WHERE session_id = ? "
                    "AND started_at IS NULL",
                    (now, row["session_id"]),
                )
            return self._fetch(conn, row["job_id"])

    def renew_leases(self, owner: str, lease_seconds: float, job_ids: Collection[str]) -> None:
        """Push the leases of ``owner``'s running ``job_ids`` ``lease_seconds`` ahead."""
        if not job_ids:
            return
        marks = ", ".join("?" * len(job_ids))
        with self._transaction() as conn:
            conn.execute(
                "UPDATE jobs SET lease_expires = ? WHERE status = 'RUNNING' "  # noqa: S608
                f"AND lease_owner = ? AND job_id IN ({marks})",
                (time.time() + lease_seconds, owner, *job_ids),
            )

    def _take_back(
        self, conn: sqlite3.Connection, where: str, args: tuple[Any, ...], max_attempts: int
    ) -> list[JobRecord]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE status = 'RUNNING' AND ({where})",  # noqa: S608
            args,
        ).fetchall()
        taken = []
        for record in map(self._record, rows):
            if record.attempts < max_attempts:
                conn.execute(
                    "UPDATE jobs SET status = 'QUEUED', started_at = NULL, lease_owner = NULL, "
                    "lease_expires = NULL WHERE job_id = ? AND status = 'RUNNING'",
                    (record.job_id,),
                )
                record.status = "QUEUED"
            else:
                record.status, record.error = "ERROR", quarantine_message(record.attempts)
                conn.execute(
                    "UPDATE jobs SET status = 'ERROR', error = ?, ended_at = ?, "
                    "lease_owner = NULL WHERE job_id = ? AND status = 'RUNNING'",
                    (record.error, time.time(), record.job_id),
                )
            taken.append(record)
        return taken

    def release(self, owner: str, max_attempts: int) -> list[JobRecord]:
        """Give back ``owner``'s running jobs (re-queued, or quarantined when out of attempts)."""
        with self._transaction() as conn:
            return self._take_back(conn, "lease_owner = ?", (owner,), max_attempts)

    def expire_leases(
        self, max_attempts: int, dead_owners: Collection[str] = ()
    ) -> list[JobRecord]:
        """Take back running jobs whose lease ran out, or whose owner is known to be dead.

        A job without a lease (left RUNNING by a version that had none) counts as expired.
        """
        marks = ", ".join("?" * len(dead_owners)) or "NULL"
        with self._transaction() as conn:
            return self._take_back(
                conn,
                f"lease_expires IS NULL OR lease_expires < ? OR lease_owner IN ({marks})",
                (time.time(), *dead_owners),
                max_attempts,
            )

    def running_owners(self) -> list[str]:
        """The owners of the leases on running jobs."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT DISTINCT lease_owner FROM jobs WHERE status = 'RUNNING' "
                "AND lease_owner IS NOT NULL"
            ).fetchall()
        return [row[0] for row in rows]

    def statuses(self, job_ids: Collection[str]) -> dict[str, str]:
        """The current status of each of the given jobs."""
        if not job_ids:
            return {}
        marks = ", ".join("?" * len(job_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT job_id, status FROM jobs WHERE job_id IN ({marks})",  # noqa: S608
                tuple(job_ids),
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def _end(
        self,
        job_id: str,
        status: str,
        result: str | None,
        error: str | None,
        usage_seconds: float | None = None,
    ) -> bool:
        # Conditional on RUNNING: a job cancelled meanwhile stays cancelled. One statement
        # is one transaction (autocommit): no BEGIN and COMMIT of its own.
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE jobs SET status = ?, result = ?, error = ?, ended_at = ?, "
                "usage_seconds = ? WHERE job_id = ? AND status = 'RUNNING'",
                (status, result, error, time.time(), usage_seconds, job_id),
            )
            return cursor.rowcount == 1

    def finish(
        self,
        job_id: str,
        result: str,
        error: str | None = None,
        usage_seconds: float | None = None,
    ) -> bool:
        """RUNNING → DONE with its result and charged device time (ERROR if ``error``)."""
        status = "DONE" if error is None else "ERROR"
        # Only a DONE job is charged: the usage is the price of a complete result.
        return self._end(job_id, status, result, error, usage_seconds if error is None else None)

    def fail(self, job_id: str, error: str, usage_seconds: float | None = None) -> bool:
        """RUNNING → ERROR, charged ``usage_seconds`` if given; False if it no longer ran.

        A job stopped at its run-time limit is charged what it ran; a crashed one nothing.
        """
        return self._end(job_id, "ERROR", None, error, usage_seconds)

    def cancel(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """QUEUED or RUNNING → CANCELLED; returns the job as it is afterwards."""
        with self._transaction() as conn:
            record = self._fetch(conn, job_id)
            if record is None or (account is not None and record.account != account):
                return None
            conn.execute(
                "UPDATE jobs SET status = 'CANCELLED', ended_at = ? "  # noqa: S608 - constants
                f"WHERE job_id = ? AND status IN ({_ACTIVE})",
                (time.time(), job_id),
            )
            return self._fetch(conn, job_id)

    def queue_position(self, record: JobRecord) -> int | None:
        """1 for the next job to run on its device; None unless queued."""
        if record.status != "QUEUED":
            return None
        with self._lock:
            return queue_position(self._conn, record.device, record.seq, record.group_seq)

    def pending_count(self, device: str) -> int:
        """Queued and running jobs on a device."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT COUNT(*) FROM jobs WHERE device = ? AND status IN ({_ACTIVE})",  # noqa: S608
                (device,),
            ).fetchone()
        return int(row[0])

    def fail_withdrawn(self, served: Collection[str], error: str) -> list[str]:
        """QUEUED → ERROR with ``error`` for every job of a device not in ``served``.

        A device the server no longer serves will never run its queued jobs; failing
        them ends every wait for them. Returns the ids of the jobs failed.
        """
        marks = ", ".join("?" * len(served)) or "NULL"
        where = f"status = 'QUEUED' AND device NOT IN ({marks})"  # constants and marks only
        with self._transaction() as conn:
            ids = [
                row[0]
                for row in conn.execute(
                    f"SELECT job_id FROM jobs WHERE {where}",  # noqa: S608
                    tuple(served),
                ).fetchall()
            ]
            conn.execute(
                f"UPDATE jobs SET status = 'ERROR', error = ?, ended_at = ? WHERE {where}",  # noqa: S608
                (error, time.time(), *served),
            )
        return ids

    def active_count(self, account: str) -> int:
        """Queued and running jobs of an account."""
        with self._lock:
            row = self._conn.execute(ACTIVE_COUNT_SQL, (account,)).fetchone()
        return int(row[0])

    def list_jobs(self, account: str, query: JobQuery) -> list[JobRecord]:
        """One page of an account's jobs that match ``query`` (``query.limit`` at most).

        Raises:
            PatternTooSlowError: the name filter used up its matching budget.
        """
        where, args = _where(account, query)
        order = "DESC" if query.order == "desc" else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM jobs WHERE {where} "  # noqa: S608 - clauses are constants
            f"ORDER BY created_at {order}, seq {order} LIMIT ? OFFSET ?"
        )
        # SQLite evaluates `name REGEXP ?` as regexp(pattern, name); the function is this
        # query's, so its time budget is too.
        name_filter = NameFilter(query.name) if query.name is not None else None
        with self._lock:
            if name_filter is not None:
                self._conn.create_function("REGEXP", 2, name_filter.sqlite_function)
            rows = self._conn.execute(sql, (*args, query.limit, query.offset)).fetchall()
        if name_filter is not None:
            name_filter.check()
        return [self._record(row) for row in rows]

    # ------------------------------------------------------------- calibrations

    def calibrations(self, device: str) -> list[CalibrationRow]:
        """The calibrations a device was served, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT epoch, calibration_id, timestamp, body FROM calibrations "
                "WHERE device = ? ORDER BY epoch",
                (device,),
            ).fetchall()
        return [CalibrationRow(*row) for row in rows]

    def extend_calibrations(
        self,
        device: str,
        extend: Callable[[CalibrationRow | None], list[CalibrationRow]],
        keep: int,
    ) -> None:
        """Store what ``extend`` makes of the device's latest calibration, atomically.

        Only the ``keep`` latest are kept, and those active jobs are pinned to. Under the
        write lock: a process sharing the
        file sees the rows another stored first, and extends from them (a row already
        there is kept as it is).
        """
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT epoch, calibration_id, timestamp, body FROM calibrations "
                "WHERE device = ? ORDER BY epoch DESC LIMIT 1",
                (device,),
            ).fetchone()
            added = extend(None if row is None else CalibrationRow(*row))
            for new in added:
                conn.execute(
                    "INSERT OR IGNORE INTO calibrations (device, epoch, calibration_id, "
                    "timestamp, body) VALUES (?, ?, ?, ?, ?)",
                    (device, new.epoch, new.calibration_id, new.timestamp, new.body),
                )
            if added:
                # A calibration a queued or running job is pinned to stays until it ran.
                conn.execute(
                    "DELETE FROM calibrations WHERE device = ? AND epoch NOT IN (SELECT epoch "  # noqa: S608 - constants
                    "FROM calibrations WHERE device = ? ORDER BY epoch DESC LIMIT ?) "
                    "AND calibration_id NOT IN (SELECT calibration_id FROM jobs WHERE "
                    f"device = ? AND calibration_pinned = 1 AND status IN ({_ACTIVE}))",
                    (device, device, keep, device),
                )

    def set_job_calibration(self, job_id: str, calibration_id: str) -> None:
        """Record the calibration an unpinned job starts on."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE jobs SET calibration_id = ? WHERE job_id = ? AND calibration_pinned = 0",
                (calibration_id, job_id),
            )

    # ------------------------------------------------------------- sessions

    @staticmethod
    def _stats(conn: sqlite3.Connection, session_id: str) -> SessionStats:
        row = conn.execute(
            "SELECT COUNT(*), "
            "COALESCE(SUM(status = 'QUEUED'), 0), COALESCE(SUM(status = 'RUNNING'), 0), "
            # A job cancelled before it started was never activity on the device.
            "MAX(CASE WHEN started_at IS NOT NULL THEN COALESCE(ended_at, started_at) END) "
            "FROM jobs WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        return SessionStats(
            job_count=int(row[0]), queued=int(row[1]), running=int(row[2]), last_activity=row[3]
        )

    def create_session(self, record: SessionRecord) -> SessionRecord:
        """Store a new session or batch."""
        with self._transaction() as conn:
            conn.execute(
                f"INSERT INTO sessions ({_SESSION_COLUMNS}) "  # noqa: S608 - constant columns
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.session_id,
                    record.account,
                    record.device,
                    record.mode,
                    record.max_time,
                    record.max_idle,
                    record.created_at,
                    record.started_at,
                    record.closed_at,
                    record.cancelled_at,
                ),
            )
        return record

    def _session(
        self, conn: sqlite3.Connection, session_id: str, account: str | None
    ) -> SessionRecord | None:
        row = conn.execute(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE session_id = ?",  # noqa: S608
            (session_id,),
        ).fetchone()
        if row is None or (account is not None and row["account"] != account):
            return None
        return SessionRecord(**dict(row))

    def get_session(
        self, session_id: str, account: str | None = None
    ) -> tuple[SessionRecord, SessionStats] | None:
        """The session and its jobs' figures, if it exists (and is ``account``'s, when given)."""
        with self._lock:
            record = self._session(self._conn, session_id, account)
            if record is None:
                return None
            return record, self._stats(self._conn, session_id)

    def list_sessions(self, account: str, limit: int) -> list[tuple[SessionRecord, SessionStats]]:
        """An account's newest sessions and batches, ``limit`` at most."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE account = ? "  # noqa: S608
                "ORDER BY created_at DESC LIMIT ?",
                (account, limit),
            ).fetchall()
            records = [SessionRecord(**dict(row)) for row in rows]
            return [(record, self._stats(self._conn, record.session_id)) for record in records]

    def open_session_count(self, account: str) -> int:
        """An account's sessions (not batches) that still accept jobs.

        Open, active or inactive: not closed, cancelled or past its ``max_time``.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM sessions WHERE account = ? AND mode = 'session' "
                "AND closed_at IS NULL AND cancelled_at IS NULL "
                "AND (started_at IS NULL OR started_at + max_time > ?)",
                (account, time.time()),
            ).fetchone()
        return int(row[0])

    def close_session(self, session_id: str, account: str) -> bool:
        """Mark a session closed (no new jobs); False if there is no such session."""
        with self._transaction() as conn:
            if self._session(conn, session_id, account) is None:
                return False
            conn.execute(
                "UPDATE sessions SET closed_at = ? WHERE session_id = ? AND closed_at IS NULL "
                "AND cancelled_at IS NULL",
                (time.time(), session_id),
            )
            return True

    def cancel_session(self, session_id: str, account: str) -> list[str] | None:
        """Cancel a session and its queued and running jobs; their ids (None: no session)."""
        with self._transaction() as conn:
            if self._session(conn, session_id, account) is None:
                return None
            now = time.time()
            conn.execute(
                "UPDATE sessions SET cancelled_at = ?, closed_at = COALESCE(closed_at, ?) "
                "WHERE session_id = ? AND cancelled_at IS NULL",
                (now, now, session_id),
            )
            rows = conn.execute(
                f"SELECT job_id FROM jobs WHERE session_id = ? AND status IN ({_ACTIVE})",  # noqa: S608
                (session_id,),
            ).fetchall()
            conn.execute(
                "UPDATE jobs SET status = 'CANCELLED', ended_at = ? "  # noqa: S608 - constants
                f"WHERE session_id = ? AND status IN ({_ACTIVE})",
                (now, session_id),
            )
            return [row[0] for row in rows]
