"""The local job journal: every submission is written down before it is sent.

A laptop that sleeps, a killed kernel or a dropped connection between the POST and its
answer must not lose a job, nor make the user submit it twice. So :meth:`VendorBackend.run`
writes the job's idempotency key, device, name, tags and payload here *before* the first
POST, and the job id once the server answers. :meth:`VendorProvider.resume` reads the
unfinished entries back: an entry without a job id is posted again with the same key (the
server answers with the job it already made, or makes it once), an entry with one is
followed.

The journal is a small port (:class:`JobJournal`) with one SQLite adapter; SQLite makes
each write atomic. It never holds a token: only what the user would see in a job list.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from qiskit_vendor_provider._sqlite import SharedConnection

logger = logging.getLogger(__name__)

SUBMITTING = "SUBMITTING"
"""State of an entry whose POST has not been answered (yet, or ever)."""
FINAL_STATES = frozenset({"DONE", "ERROR", "CANCELLED"})


@dataclass(frozen=True)
class JournalEntry:
    """One submission as the journal knows it.

    Attributes:
        key: The idempotency key the submission is posted with.
        server: The server's base URL.
        device: The device name.
        name: The job name, if any.
        tags: The job tags.
        created_at: When the submission was journalled.
        job_id: The server's job id, once known.
        state: The last state seen: ``SUBMITTING``, or a server job state.
        updated_at: When the entry last changed.
    """

    key: str
    server: str
    device: str
    name: str | None
    tags: list[str]
    created_at: datetime
    job_id: str | None
    state: str
    updated_at: datetime

    @property
    def finished(self) -> bool:
        """Whether the job reached a final state (nothing left to resume)."""
        return self.state in FINAL_STATES


class JobJournal(Protocol):
    """What the provider needs from a journal."""

    def record_submission(
        self, *, key: str, server: str, device: str, name: str | None, tags: list[str], payload: str
    ) -> None:
        """Write a submission down before it is posted."""
        ...

    def record_job(self, key: str, job_id: str, state: str) -> None:
        """Attach the server's job id (and its state) to a submission."""
        ...

    def record_state(self, job_id: str, state: str) -> None:
        """Note the last state seen of a job."""
        ...

    def entries(self, server: str) -> list[JournalEntry]:
        """Every entry for a server, newest first."""
        ...

    def payload(self, key: str) -> str | None:
        """The payload of a submission not known to have reached the server."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    device TEXT NOT NULL,
    name TEXT,
    tags TEXT NOT NULL,
    created_at REAL NOT NULL,
    job_id TEXT,
    state TEXT NOT NULL,
    updated_at REAL NOT NULL,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS submissions_job ON submissions (job_id);
CREATE INDEX IF NOT EXISTS submissions_server ON submissions (server, created_at);
"""


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


class SQLiteJobJournal:
    """A :class:`JobJournal` in one SQLite file.

    Args:
        path: The file; created, with its directory (mode 0700), if missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = SharedConnection(self.path, _SCHEMA, dir_mode=0o700)
        self._lock = self._db.lock
        self._conn = self._db.conn
        self._write = self._db.transaction

    def __repr__(self) -> str:
        return f"SQLiteJobJournal({str(self.path)!r})"

    def record_submission(
        self, *, key: str, server: str, device: str, name: str | None, tags: list[str], payload: str
    ) -> None:
        """Write a submission down before it is posted."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO submissions (key, server, device, name, tags, created_at, "
                "state, updated_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, server, device, name, json.dumps(tags), now, SUBMITTING, now, payload),
            )

    def record_job(self, key: str, job_id: str, state: str) -> None:
        """Attach the server's job id (and its state) to a submission.

        The payload is dropped: the server has the job, so it is never posted again.
        """
        with self._write() as conn:
            conn.execute(
                "UPDATE submissions SET job_id = ?, state = ?, updated_at = ?, payload = NULL "
                "WHERE key = ?",
                (job_id, state, time.time(), key),
            )

    def record_state(self, job_id: str, state: str) -> None:
        """Note the last state seen of a job (no-op for jobs not in the journal)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE submissions SET state = ?, updated_at = ? WHERE job_id = ? AND state != ?",
                (state, time.time(), job_id, state),
            )

    def entries(self, server: str) -> list[JournalEntry]:
        """Every entry for a server, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, server, device, name, tags, created_at, job_id, state, updated_at "
                "FROM submissions WHERE server = ? ORDER BY created_at DESC",
                (server,),
            ).fetchall()
        return [
            JournalEntry(
                key=row["key"],
                server=row["server"],
                device=row["device"],
                name=row["name"],
                tags=json.loads(row["tags"]),
                created_at=_time(row["created_at"]),
                job_id=row["job_id"],
                state=row["state"],
                updated_at=_time(row["updated_at"]),
            )
            for row in rows
        ]

    def payload(self, key: str) -> str | None:
        """The payload of a submission not known to have reached the server."""
        with self._lock:
            row = self._conn.execute(
                "SELECT payload FROM submissions WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else row["payload"]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
