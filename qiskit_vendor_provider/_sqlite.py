"""One SQLite connection shared by threads: how the job store and the journal open theirs.

Each store keeps one connection in autocommit mode behind a lock; writes that read
before they change take ``BEGIN IMMEDIATE``, so two processes sharing a file serialise
on the database's write lock instead of failing halfway.

Both files hold users' circuits, so a database is created with mode 0600 (SQLite gives
its ``-wal`` and ``-shm`` files the database's mode), in a directory created 0700; an
existing database readable by others is made private when opened.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SharedConnection:
    """A lock and an autocommit connection to one database file (or ``":memory:"``).

    Args:
        path: The database; its parent directory is created (with ``dir_mode``) if missing.
        schema: SQL run once on opening (``CREATE ... IF NOT EXISTS``).
        dir_mode: Mode of a created parent directory (private by default).
    """

    def __init__(self, path: Path | str, schema: str, *, dir_mode: int = 0o700) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _create_private(Path(self.path), dir_mode)
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


def _create_private(path: Path, dir_mode: int) -> None:
    """Make ``path``'s directory (``dir_mode``) and the file itself (0600) if missing."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
        # mkdir's mode is filtered by the umask; the directory is ours to set exactly.
        os.chmod(parent, dir_mode)
    # An existing database is only stat'ed and chmod'ed, never opened: closing a
    # descriptor of a file drops every POSIX lock this process holds on it, SQLite's
    # included, and another process could then delete the WAL index under a connection
    # that still uses it ("disk I/O error").
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        path.chmod(mode & 0o700)
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists() and stat.S_IMODE(companion.stat().st_mode) & 0o077:
            companion.chmod(0o600)
