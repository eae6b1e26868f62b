"""The job store's per-submission queries find what they need without walking history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qiskit_vendor_provider.emulator.store import ACTIVE_COUNT_SQL, SQLiteJobStore


def test_counting_active_jobs_uses_the_status_index_not_the_account_history(
    tmp_path: Path,
) -> None:
    # Every submission counts the account's active jobs. Through the (account, created_at)
    # index that walks every job the account ever ran, and an embedded database keeps
    # them all; the (status, seq) index finds only the queued and running ones.
    database = tmp_path / "jobs.sqlite3"
    SQLiteJobStore(database)
    conn = sqlite3.connect(database)
    try:
        plan = " ".join(
            str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {ACTIVE_COUNT_SQL}", ("a",))
        )
    finally:
        conn.close()
    assert "jobs_status" in plan, plan
    assert "jobs_account" not in plan, plan
