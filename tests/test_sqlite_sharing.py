"""Two connections in this process and one in another share a database without harm.

Checking or fixing a file's mode must never open and close the file: POSIX drops every
lock a process holds on a file when any of its descriptors closes, and another process
could then delete the WAL index under a live connection ("disk I/O error").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qiskit_vendor_provider._sqlite import SharedConnection

SCHEMA = "CREATE TABLE IF NOT EXISTS t (x INTEGER);"


def test_a_second_open_here_and_a_visit_from_another_process_leave_the_first_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "private" / "shared.sqlite3"
    first = SharedConnection(path, SCHEMA)
    with first.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    second = SharedConnection(path, SCHEMA)  # the mode check on an open database
    # Another process writes and closes: as the last connection it would checkpoint and
    # delete the WAL index if this process's locks had been dropped.
    visit = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('INSERT INTO t VALUES (9)'); c.close()"
    )
    subprocess.run([sys.executable, "-c", visit, str(path)], check=True, timeout=60)
    with first.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (2)")
    rows = SharedConnection(path, SCHEMA).conn.execute("SELECT x FROM t ORDER BY x").fetchall()
    assert [row[0] for row in rows] == [1, 2, 9]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    second.close()
    first.close()
