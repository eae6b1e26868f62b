"""The emulator's job store: a small port (:class:`JobStore`) and its SQLite adapter.

SQLite keeps every job across restarts. State changes are single conditional UPDATEs
(``... WHERE status = 'RUNNING'``), so a cancel racing a finishing worker, or two
emulator processes sharing one database, can never move a job out of a final state.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qiskit_vendor_provider._sqlite import SharedConnection
from qiskit_vendor_provider.api.models import JobQuery

FINAL_STATES = frozenset({"DONE", "ERROR", "CANCELLED"})


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

    def claim_next(self) -> JobRecord | None:
        """Move the oldest queued job to RUNNING and return it."""
        ...

    def finish(self, job_id: str, result: str, error: str | None = None) -> bool:
        """RUNNING → DONE with its result (ERROR, keeping the partial result, if ``error``)."""
        ...

    def fail(self, job_id: str, error: str) -> bool:
        """RUNNING → ERROR; False if the job was no longer running."""
        ...

    def cancel(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """QUEUED or RUNNING → CANCELLED; returns the job as it is afterwards."""
        ...

    def requeue_running(self) -> int:
        """RUNNING → QUEUED, after a restart; returns how many."""
        ...

    def queue_position(self, record: JobRecord) -> int | None:
        """1 for the next job to run; None unless queued."""
        ...

    def pending_count(self, device: str) -> int:
        """Queued and running jobs on a device."""
        ...

    def active_count(self, account: str) -> int:
        """Queued and running jobs of an account."""
        ...

    def list_jobs(self, account: str, query: JobQuery) -> list[JobRecord]:
        """One page of an account's jobs that match ``query`` (``query.limit`` at most)."""
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
"""

_COLUMNS = (
    "seq, job_id, account, idempotency_key, device, status, name, tags, shots, "
    "num_programs, submission, result, error, created_at, started_at, ended_at"
)


def _regexp(pattern: str, value: str | None) -> bool:
    # SQLite evaluates `value REGEXP pattern` as regexp(pattern, value).
    return value is not None and re.search(pattern, value) is not None


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
        self._db = SharedConnection(path, _SCHEMA)
        self.path = self._db.path
        self._lock = self._db.lock
        self._conn = self._db.conn
        self._conn.create_function("REGEXP", 2, _regexp, deterministic=True)
        self._transaction = self._db.transaction

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
        with self._transaction() as conn:
            if record.idempotency_key is not None:
                existing = self._fetch_by_key(conn, record.account, record.idempotency_key)
                if existing is not None:
                    return existing, False
            cursor = conn.execute(
                "INSERT INTO jobs (job_id, account, idempotency_key, device, status, name, "
                "tags, shots, num_programs, submission, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                ),
            )
            record.seq = int(cursor.lastrowid or 0)
            return record, True

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

    def claim_next(self) -> JobRecord | None:
        """Move the oldest queued job to RUNNING and return it."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT job_id FROM jobs WHERE status = 'QUEUED' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE jobs SET status = 'RUNNING', started_at = ? WHERE job_id = ?",
                (time.time(), row["job_id"]),
            )
            return self._fetch(conn, row["job_id"])

    def _end(self, job_id: str, status: str, result: str | None, error: str | None) -> bool:
        # Conditional on RUNNING: a job cancelled meanwhile stays cancelled.
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = ?, result = ?, error = ?, ended_at = ? "
                "WHERE job_id = ? AND status = 'RUNNING'",
                (status, result, error, time.time(), job_id),
            )
            return cursor.rowcount == 1

    def finish(self, job_id: str, result: str, error: str | None = None) -> bool:
        """RUNNING → DONE with its result (ERROR, keeping the partial result, if ``error``)."""
        return self._end(job_id, "DONE" if error is None else "ERROR", result, error)

    def fail(self, job_id: str, error: str) -> bool:
        """RUNNING → ERROR; False if the job was no longer running."""
        return self._end(job_id, "ERROR", None, error)

    def cancel(self, job_id: str, account: str | None = None) -> JobRecord | None:
        """QUEUED or RUNNING → CANCELLED; returns the job as it is afterwards."""
        with self._transaction() as conn:
            record = self._fetch(conn, job_id)
            if record is None or (account is not None and record.account != account):
                return None
            conn.execute(
                "UPDATE jobs SET status = 'CANCELLED', ended_at = ? "
                "WHERE job_id = ? AND status IN ('QUEUED', 'RUNNING')",
                (time.time(), job_id),
            )
            return self._fetch(conn, job_id)

    def requeue_running(self) -> int:
        """RUNNING → QUEUED, after a restart; returns how many."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET status = 'QUEUED', started_at = NULL WHERE status = 'RUNNING'"
            )
            return cursor.rowcount

    def queue_position(self, record: JobRecord) -> int | None:
        """1 for the next job to run; None unless queued."""
        if record.status != "QUEUED":
            return None
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = 'QUEUED' AND seq < ?", (record.seq,)
            ).fetchone()
        return int(row[0]) + 1

    def pending_count(self, device: str) -> int:
        """Queued and running jobs on a device."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE device = ? AND status IN ('QUEUED', 'RUNNING')",
                (device,),
            ).fetchone()
        return int(row[0])

    def active_count(self, account: str) -> int:
        """Queued and running jobs of an account."""
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE account = ? AND status IN ('QUEUED', 'RUNNING')",
                (account,),
            ).fetchone()
        return int(row[0])

    def list_jobs(self, account: str, query: JobQuery) -> list[JobRecord]:
        """One page of an account's jobs that match ``query`` (``query.limit`` at most)."""
        where, args = _where(account, query)
        order = "DESC" if query.order == "desc" else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM jobs WHERE {where} "  # noqa: S608 - clauses are constants
            f"ORDER BY created_at {order}, seq {order} LIMIT ? OFFSET ?"
        )
        with self._lock:
            rows = self._conn.execute(sql, (*args, query.limit, query.offset)).fetchall()
        return [self._record(row) for row in rows]
