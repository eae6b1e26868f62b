"""One SQLite connection shared by threads: how the job store and the journal open theirs.

Each store keeps one connection in autocommit mode behind a lock; writes that read
before they change take ``BEGIN IMMEDIATE``, so two processes sharing a file serialise
on the database's write lock instead of failing halfway.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SharedConnection:
    """A lock and an autocommit connection to one database file (or ``":memory:"``).

    Args:
        path: The database; its parent directory is created (with ``dir_mode``) if missing.
        schema: SQL run once on opening (``CREATE ... IF NOT EXISTS``).
        dir_mode: Mode of a created parent directory.
    """

    def __init__(self, path: Path | str, schema: str, *, dir_mode: int = 0o777) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self.conn.row_factory = sqlite3.Row
        with self.lock:
            if self.path != ":memory:":
                self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()
