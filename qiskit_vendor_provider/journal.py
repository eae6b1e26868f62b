"""The local job journal: every submission is written down before it is sent.

A laptop that sleeps, a killed kernel or a dropped connection between the POST and its
answer must not lose a job, nor make the user submit it twice. So :meth:`VendorBackend.run`
writes the job's idempotency key, device, name, tags and payload here *before* the first
POST, and the job id once the server answers. :meth:`VendorProvider.resume` reads the
unfinished entries back: an entry without a job id is posted again with the same key (the
server answers with the job it already made, or makes it once), an entry with one is
followed.

Entries belong to one account on one server: each carries the server's URL (for the
embedded emulator, its database path too) and an account fingerprint, a keyed hash
(HMAC-SHA256) of the token under a random key kept in the journal, so two accounts that
share a journal never see, nor resume, each other's submissions, and the token itself is
never written. A submission the server refused (a 4xx: invalid, unauthorised, over the
job limit) ends ``FAILED`` with the server's message and is never posted again.

Whether a state is final is decided by :func:`qiskit_vendor_provider.job.job_status`,
the one status mapping of the package.

The journal is a small port (:class:`JobJournal`) with one SQLite adapter; SQLite makes
each write atomic. A journal file that is damaged (not a database any more) is renamed
with a ``.damaged-<time>`` suffix and a new one started, with a
:class:`~qiskit_vendor_provider.errors.DamagedJournalWarning` that names both files: the
journal is on by default, so one bad file must not stop every script. A journal that
cannot be written where it is (a directory, a read-only directory) raises
:class:`~qiskit_vendor_provider.errors.DatabaseFileError`. It never holds a token: only
what the user would see in a job list.
The file is created with mode 0600 in a 0700 directory: it holds the user's circuits.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from qiskit_vendor_provider._sqlite import SharedConnection, open_error
from qiskit_vendor_provider.api.secret import Token, redacting_logger
from qiskit_vendor_provider.errors import DamagedJournalWarning, DatabaseFileError
from qiskit_vendor_provider.job import FINAL, job_status

logger = redacting_logger(__name__)

SUBMITTING = "SUBMITTING"
"""State of an entry whose POST has not been answered (yet, or ever)."""
FAILED = "FAILED"
"""State of a submission the server refused: never posted again."""
NO_TOKEN = "no-token"  # noqa: S105 - a marker, not a secret
"""Account fingerprint of a server used without a token."""


def is_final(state: str) -> bool:
    """Whether a journal state is final, by the package's one status mapping.

    >>> is_final("DONE"), is_final("done"), is_final("FAILED"), is_final(SUBMITTING)
    (True, True, True, False)
    """
    return state != SUBMITTING and job_status(state) in FINAL


@dataclass(frozen=True)
class JournalEntry:
    """One submission as the journal knows it.

    Attributes:
        key: The idempotency key the submission is posted with.
        server: The server's base URL (for the embedded emulator, with its database).
        account: The account fingerprint (a keyed hash of the token, never the token).
        device: The device name.
        name: The job name, if any.
        tags: The job tags.
        created_at: When the submission was journalled.
        job_id: The server's job id, once known.
        state: The last state seen: ``SUBMITTING``, ``FAILED`` (refused by the server),
            or a server job state.
        updated_at: When the entry last changed.
        error: Why the server refused the submission, for a ``FAILED`` one.
        session_id: The session or batch the job was submitted in, if any. It is part
            of the payload too, so a resumed submission joins the same session (and is
            refused, ``FAILED``, if that session no longer accepts jobs).
    """

    key: str
    server: str
    account: str
    device: str
    name: str | None
    tags: list[str]
    created_at: datetime
    job_id: str | None
    state: str
    updated_at: datetime
    error: str | None = None
    session_id: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the job reached a final state (nothing left to resume)."""
        return is_final(self.state)


class JobJournal(Protocol):
    """What the provider needs from a journal."""

    def fingerprint(self, token: Token | None) -> str:
        """The account fingerprint of ``token``: stable for this journal, never the token."""
        ...

    def record_submission(
        self,
        *,
        key: str,
        server: str,
        account: str,
        device: str,
        name: str | None,
        tags: list[str],
        payload: bytes | str,
        session_id: str | None = None,
    ) -> None:
        """Write a submission down before it is posted."""
        ...

    def record_failure(self, key: str, error: str) -> None:
        """Mark a submission the server refused: FAILED, never posted again."""
        ...

    def record_job(self, key: str, job_id: str, state: str) -> None:
        """Attach the server's job id (and its state) to a submission."""
        ...

    def record_state(self, job_id: str, state: str) -> None:
        """Note the last state seen of a job."""
        ...

    def entries(self, server: str, account: str) -> list[JournalEntry]:
        """Every entry of one account on one server, newest first."""
        ...

    def payload(self, key: str) -> bytes | str | None:
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
CREATE TABLE IF NOT EXISTS journal_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
"""

# Columns added after the first release: a journal written before them gets them, and
# its old entries (of no known account) are resumed by no one.
_ADDED_COLUMNS = {"account": "TEXT NOT NULL DEFAULT ''", "error": "TEXT", "session_id": "TEXT"}


def _move_aside(path: Path) -> Path | None:
    """Rename ``path`` (and its ``-wal``/``-shm`` files) to a free ``.damaged-<time>`` name.

    The companions go with it: SQLite would otherwise replay the old write-ahead log
    into the new file. None if ``path`` is gone already (another process moved it).
    """
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{number}")
    try:
        path.rename(aside)
    except FileNotFoundError:
        return None
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):  # none, or SQLite dropped it
            Path(f"{path}{suffix}").rename(Path(f"{aside}{suffix}"))
    return aside


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=timezone.utc)


class SQLiteJobJournal:
    """A :class:`JobJournal` in one SQLite file.

    Args:
        path: The file; created, with its directory (mode 0700), if missing.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self._open()
        except DatabaseFileError as exc:
            if not exc.damaged:
                raise
            # A damaged journal must not block every script: it is kept for whoever wants
            # its entries, and a new one takes its place.
            try:
                aside = _move_aside(self.path)
            except OSError:
                raise exc from None  # it cannot be moved: the error says what to do by hand
            if aside is None:  # another process moved it first, and warned
                self._open()
                return
            warnings.warn(
                f"the job journal {self.path} is damaged or not a SQLite database; it was "
                f"moved to {aside} and a new journal started in {self.path}. Your jobs are "
                "still on the server (provider.jobs()); only provider.resume() of the "
                "submissions journalled there is lost",
                DamagedJournalWarning,
                stacklevel=2,
            )
            self._open()

    def _open(self) -> None:
        """Open (or create) the file, add the columns of later versions, read the key.

        Raises:
            DatabaseFileError: the file cannot be used (``damaged`` if its content is
                at fault).
        """
        fix = (
            "move it away or delete it (it only holds the record of your submissions), "
            "or point QISKIT_VENDOR_JOURNAL (or journal=) at another file"
        )
        self._db = SharedConnection(
            self.path, _SCHEMA, dir_mode=0o700, what="the job journal", fix=fix
        )
        self._lock = self._db.lock
        self._conn = self._db.conn
        self._write = self._db.transaction
        try:
            with self._write() as conn:
                have = {row["name"] for row in conn.execute("PRAGMA table_info(submissions)")}
                for column, declaration in _ADDED_COLUMNS.items():
                    if column not in have:
                        conn.execute(f"ALTER TABLE submissions ADD COLUMN {column} {declaration}")
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS submissions_account "
                    "ON submissions (server, account, created_at)"
                )
                row = conn.execute("SELECT key FROM journal_key WHERE id = 1").fetchone()
                if row is None:
                    key = secrets.token_bytes(32)
                    conn.execute("INSERT INTO journal_key (id, key) VALUES (1, ?)", (key,))
                else:
                    key = bytes(row["key"])
        except sqlite3.DatabaseError as exc:
            self._db.close()
            error = open_error(str(self.path), exc, what="the job journal", fix=fix)
        else:
            self._key = key
            return
        raise error

    def __repr__(self) -> str:
        return f"SQLiteJobJournal({str(self.path)!r})"

    def fingerprint(self, token: Token | None) -> str:
        """HMAC-SHA256 of the token under this journal's key (``no-token`` without one)."""
        if token is None:
            return NO_TOKEN
        return hmac.new(self._key, token.reveal().encode("ascii"), hashlib.sha256).hexdigest()

    def record_submission(
        self,
        *,
        key: str,
        server: str,
        account: str,
        device: str,
        name: str | None,
        tags: list[str],
        payload: bytes | str,
        session_id: str | None = None,
    ) -> None:
        """Write a submission down before it is posted."""
        now = time.time()
        # One statement is one transaction (autocommit): no BEGIN and COMMIT of its own.
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO submissions (key, server, account, device, name, tags, "
                "created_at, state, updated_at, payload, session_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    server,
                    account,
                    device,
                    name,
                    json.dumps(tags),
                    now,
                    SUBMITTING,
                    now,
                    payload,
                    session_id,
                ),
            )

    def record_failure(self, key: str, error: str) -> None:
        """Mark a submission the server refused: FAILED with its error, payload dropped."""
        with self._lock:
            self._conn.execute(
                "UPDATE submissions SET state = ?, error = ?, updated_at = ?, payload = NULL "
                "WHERE key = ? AND job_id IS NULL",
                (FAILED, error, time.time(), key),
            )

    def record_job(self, key: str, job_id: str, state: str) -> None:
        """Attach the server's job id (and its state) to a submission.

        The payload is dropped: the server has the job, so it is never posted again.
        """
        with self._lock:
            self._conn.execute(
                "UPDATE submissions SET job_id = ?, state = ?, updated_at = ?, payload = NULL "
                "WHERE key = ?",
                (job_id, state, time.time(), key),
            )

    def record_state(self, job_id: str, state: str) -> None:
        """Note the last state seen of a job (no-op for jobs not in the journal)."""
        with self._lock:
            self._conn.execute(
                "UPDATE submissions SET state = ?, updated_at = ? WHERE job_id = ? AND state != ?",
                (state, time.time(), job_id, state),
            )

    def entries(self, server: str, account: str) -> list[JournalEntry]:
        """Every entry of one account on one server, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, server, account, device, name, tags, created_at, job_id, state, "
                "updated_at, error, session_id FROM submissions WHERE server = ? AND account = ? "
                "ORDER BY created_at DESC",
                (server, account),
            ).fetchall()
        return [
            JournalEntry(
                key=row["key"],
                server=row["server"],
                account=row["account"],
                device=row["device"],
                name=row["name"],
                tags=json.loads(row["tags"]),
                created_at=_time(row["created_at"]),
                job_id=row["job_id"],
                state=row["state"],
                updated_at=_time(row["updated_at"]),
                error=row["error"],
                session_id=row["session_id"],
            )
            for row in rows
        ]

    def payload(self, key: str) -> bytes | str | None:
        """The payload of a submission not known to have reached the server."""
        with self._lock:
            row = self._conn.execute(
                "SELECT payload FROM submissions WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else row["payload"]

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()
