"""One SQLite connection shared by threads: how the job store and the journal open theirs.

Each store keeps one connection in autocommit mode behind a lock; writes that read
before they change take ``BEGIN IMMEDIATE``, so two processes sharing a file serialise
on the database's write lock instead of failing halfway.

Both files hold users' circuits, so a database is created with mode 0600 (SQLite gives
its ``-wal`` and ``-shm`` files the database's mode), in a directory created 0700; an
existing database readable by others is made private when opened.

A file that cannot be opened (damaged, not a database, a directory, in a directory that
is not writable) raises :class:`~qiskit_vendor_provider.errors.DatabaseFileError`, which
names the file, says what is wrong with it and how to fix it; never a bare
``sqlite3`` error that names no file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qiskit_vendor_provider.errors import DatabaseFileError

# SQLite result codes (sqlite_errorname) that say the file's content is at fault.
_DAMAGED = frozenset({"SQLITE_NOTADB", "SQLITE_CORRUPT"})
# ... and those that say the file or its directory may not be written (or not opened).
_NOT_WRITABLE = frozenset({"SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM"})


class SharedConnection:
    """A lock and an autocommit connection to one database file (or ``":memory:"``).

    Args:
        path: The database; its parent directory is created (with ``dir_mode``) if missing.
        schema: SQL run once on opening (``CREATE ... IF NOT EXISTS``).
        dir_mode: Mode of a created parent directory (private by default).
        what: What the file is, for messages (``the job journal``).
        fix: What the user can do when the file is damaged, for messages.

    Raises:
        DatabaseFileError: the file cannot be opened or its schema written; the message
            names the file, the reason and the fix, and ``damaged`` says whether the
            file's content (rather than its place) is at fault.
    """

    def __init__(
        self,
        path: Path | str,
        schema: str,
        *,
        dir_mode: int = 0o700,
        what: str = "database",
        fix: str = "move it away or delete it, and a new one is made",
    ) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        conn: sqlite3.Connection | None = None
        try:
            if self.path != ":memory:":
                _create_private(Path(self.path), dir_mode)
            conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            conn.row_factory = sqlite3.Row
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(schema)
        except (sqlite3.Error, OSError) as exc:
            if conn is not None:
                conn.close()
            error = open_error(self.path, exc, what=what, fix=fix)
        else:
            self.conn = conn
            return
        # Raised outside the handler: the sqlite3 error adds nothing the message lacks.
        raise error

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
    if path.is_dir():
        # Before any chmod below: a directory given by mistake is left as it was.
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
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


def open_error(
    path: str, exc: BaseException, *, what: str = "database", fix: str = ""
) -> DatabaseFileError:
    """The typed error for ``exc``, raised while opening (or first writing) ``path``.

    Args:
        path: The database file.
        exc: The ``sqlite3`` or ``OSError`` exception.
        what: What the file is, for the message.
        fix: What to do about a damaged file, for the message.
    """
    name = str(getattr(exc, "sqlite_errorname", ""))
    text = str(exc)
    where = Path(path)
    if where.is_dir():
        return DatabaseFileError(
            f"{what} {path} is a directory, not a database file; give the path of a file "
            "(it is created if missing), or move the directory away",
            path=path,
        )
    if name in _DAMAGED or "not a database" in text or "malformed" in text:
        return DatabaseFileError(
            f"{what} {path} is damaged or is not a SQLite database ({text}); {fix}",
            path=path,
            damaged=True,
        )
    if isinstance(exc, PermissionError) or name in _NOT_WRITABLE or "readonly" in text:
        return DatabaseFileError(
            f"cannot write {what} {path} ({text}): the file or its directory "
            f"{where.parent} is not writable by this user; make it writable, or give a "
            "path in a directory you can write to",
            path=path,
        )
    if name == "SQLITE_BUSY" or "locked" in text:
        return DatabaseFileError(
            f"{what} {path} stayed locked by another process for 30 s ({text}); close the "
            "other program that uses it, or give another path",
            path=path,
        )
    reason = getattr(exc, "strerror", None) or text
    return DatabaseFileError(
        f"cannot open {what} {path}: {reason}; check the file and its directory, or give "
        "another path",
        path=path,
    )
