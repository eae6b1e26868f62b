"""Local SQLite files that cannot be used: a typed error naming the file, never sqlite3's.

A damaged job journal is moved aside (with a warning naming both files) and a new one
started, since the journal is on by default and one bad file must not block every
script. A damaged emulator database, a path that is a directory and a directory that
cannot be written each raise :class:`DatabaseFileError`, which names the file and the fix.
"""

from __future__ import annotations

import errno
import os
import pickle
import sqlite3
import warnings
from pathlib import Path

import pytest

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider import _sqlite as shared_sqlite
from qiskit_vendor_provider.cli import exit_code
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
from qiskit_vendor_provider.errors import DamagedJournalWarning, DatabaseFileError, VendorError
from qiskit_vendor_provider.journal import SQLiteJobJournal, _move_aside
from tests.conftest import MOCK_TOKEN, MOCK_URL, MockedApi
from tests.helpers import bell, isolated_env, run_python

# Not a database: what a disk error, a sync tool or an editor leaves behind.
GARBAGE = b"this is not a SQLite file\n" * 400
# A SQLite header whose pages are garbage: the same check, from the other side.
BAD_PAGES = b"SQLite format 3\x00" + bytes(range(256)) * 32


@pytest.fixture(params=[GARBAGE, BAD_PAGES], ids=["not a database", "bad pages"])
def damaged(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / "data" / "file.sqlite3"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(request.param)
    # A write-ahead log left by the last run: it must move with the file, or SQLite
    # would replay it into the new one.
    Path(f"{path}-wal").write_bytes(b"old log")
    return path


def _aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.damaged-*"))


def test_a_damaged_journal_is_moved_aside_with_a_warning_and_a_new_one_works(
    damaged: Path,
) -> None:
    original = damaged.read_bytes()
    with pytest.warns(DamagedJournalWarning) as caught:
        journal = SQLiteJobJournal(damaged)
    (moved,) = [p for p in _aside(damaged) if not p.name.endswith(("-wal", "-shm"))]
    message = str(caught[0].message)
    assert str(damaged) in message and str(moved) in message
    assert moved.read_bytes() == original  # kept as it was, for whoever wants it
    # SQLite may have dropped the old log already; what is left of it moved with the file.
    log = Path(f"{damaged}-wal")
    assert not log.exists() or b"old log" not in log.read_bytes()
    # The new journal is a working one, in the same place.
    journal.record_submission(
        key="k1", server="s", account="a", device="d", name=None, tags=[], payload=b"{}"
    )
    assert [entry.key for entry in journal.entries("s", "a")] == ["k1"]
    journal.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reopened = SQLiteJobJournal(damaged)  # now healthy: no warning, no move
    assert [entry.key for entry in reopened.entries("s", "a")] == ["k1"]
    assert len([p for p in _aside(damaged) if not p.name.endswith(("-wal", "-shm"))]) == 1
    reopened.close()


def test_two_damaged_journals_in_the_same_second_keep_both(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    for _ in range(2):
        path.write_bytes(GARBAGE)
        with pytest.warns(DamagedJournalWarning):
            SQLiteJobJournal(path).close()
    assert len(_aside(path)) == 2


def test_a_damaged_journal_another_process_moved_first_is_simply_opened(tmp_path: Path) -> None:
    assert _move_aside(tmp_path / "gone.sqlite3") is None


def test_a_damaged_journal_that_cannot_be_moved_is_a_typed_error(
    damaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(DatabaseFileError, match="move it away") as caught:
        SQLiteJobJournal(damaged)
    assert caught.value.damaged and str(damaged) in str(caught.value)


def test_provider_starts_and_runs_on_a_damaged_default_journal(
    api: MockedApi, damaged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QISKIT_VENDOR_JOURNAL", str(damaged))
    with pytest.warns(DamagedJournalWarning, match="moved to"):
        provider = VendorProvider(url=MOCK_URL, token=MOCK_TOKEN, poll_interval=(0.005, 0.05))
    job = provider.get_backend("ideal_simulator").run(bell(), shots=16, seed_simulator=1)
    assert sum(job.result().get_counts().values()) == 16
    assert [entry.job_id for entry in provider.journal()] == [job.job_id()]


def test_a_damaged_emulator_store_is_a_typed_error_naming_the_file(damaged: Path) -> None:
    original = damaged.read_bytes()
    with pytest.raises(DatabaseFileError) as caught:
        SQLiteJobStore(damaged)
    message = str(caught.value)
    assert str(damaged) in message and "damaged" in message
    assert "QISKIT_VENDOR_EMULATOR_DB" in message and "move it away" in message
    assert caught.value.damaged and caught.value.path == str(damaged)
    assert damaged.read_bytes() == original  # the jobs' file is the user's to decide on
    assert not _aside(damaged)


def test_the_embedded_emulator_on_a_damaged_database_fails_with_the_file_named(
    tmp_path: Path,
) -> None:
    database = tmp_path / "emulator.sqlite3"
    database.write_bytes(GARBAGE)
    env = isolated_env(tmp_path, QISKIT_VENDOR_EMULATOR_DB=str(database))
    code = (
        "from qiskit_vendor_provider import VendorProvider\n"
        "from qiskit_vendor_provider.errors import DatabaseFileError\n"
        "try:\n"
        "    VendorProvider()\n"
        "except DatabaseFileError as exc:\n"
        "    print('typed:', exc)\n"
    )
    done = run_python(["-c", code], env)
    assert done.returncode == 0, done.stderr
    assert f"typed: the emulator's job store {database} is damaged" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("opener", [SQLiteJobJournal, SQLiteJobStore], ids=["journal", "store"])
def test_a_directory_as_the_database_path_is_a_typed_error(opener: type, tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir(mode=0o755)
    with pytest.raises(DatabaseFileError, match="is a directory") as caught:
        opener(directory)
    assert str(directory) in str(caught.value) and not caught.value.damaged
    assert (directory.stat().st_mode & 0o777) == 0o755  # not chmod'ed on the way
    assert not _aside(directory)


@pytest.mark.parametrize("opener", [SQLiteJobJournal, SQLiteJobStore], ids=["journal", "store"])
def test_a_directory_that_cannot_be_written_is_a_typed_error(
    opener: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a read-only data directory answers (simulated: the tests may run as root)."""
    path = tmp_path / "read-only" / "file.sqlite3"
    path.parent.mkdir()
    real_open = os.open

    def refuse(file: str | os.PathLike[str], *args: int) -> int:
        if Path(file) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(DatabaseFileError, match="not writable") as caught:
        opener(path)
    assert str(path) in str(caught.value) and not caught.value.damaged


@pytest.mark.parametrize("opener", [SQLiteJobJournal, SQLiteJobStore], ids=["journal", "store"])
def test_an_existing_database_that_cannot_be_written_is_a_typed_error(
    opener: type, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's own read-only answer (a file opened read-only, as without write access)."""
    path = tmp_path / "file.sqlite3"
    sqlite3.connect(path).close()
    real_connect = sqlite3.connect

    def read_only(database: str, **kwargs: object) -> sqlite3.Connection:
        return real_connect(f"file:{database}?mode=ro", uri=True, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(shared_sqlite.sqlite3, "connect", read_only)
    with pytest.raises(DatabaseFileError, match="not writable") as caught:
        opener(path)
    assert str(path) in str(caught.value) and not caught.value.damaged
    assert not _aside(path)


def test_the_error_pickles_with_its_attributes() -> None:
    error = DatabaseFileError("bad file", path="/x", damaged=True)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.path, copy.damaged) == (
        DatabaseFileError,
        "bad file",
        "/x",
        True,
    )
    assert isinstance(copy, VendorError)


def test_cli_on_a_damaged_emulator_database_says_error_and_exits_3(tmp_path: Path) -> None:
    # In a subprocess: this process's embedded emulator is already open on another file.
    assert exit_code(DatabaseFileError("x")) == 3
    database = tmp_path / "emulator.sqlite3"
    database.write_bytes(GARBAGE)
    env = isolated_env(tmp_path, QISKIT_VENDOR_EMULATOR_DB=str(database))
    done = run_python(["-m", "qiskit_vendor_provider.cli", "devices"], env)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert str(database) in done.stderr


def test_the_emulator_server_on_a_damaged_database_says_error_and_exits_3(
    tmp_path: Path,
) -> None:
    database = tmp_path / "served.sqlite3"
    database.write_bytes(GARBAGE)
    done = run_python(
        ["-m", "qiskit_vendor_provider.emulator", "--database", str(database), "--port", "0"],
        isolated_env(tmp_path),
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.splitlines()) == 1
    assert str(database) in done.stderr and "Traceback" not in done.stderr
