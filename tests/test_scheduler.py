"""The emulator's claim order, decided in one module (emulator/scheduler.py)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from qiskit_vendor_provider.emulator.sessions import SessionRecord
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
from tests.helpers import queued_job

ROOT = Path(__file__).resolve().parents[1] / "qiskit_vendor_provider" / "emulator"


def _job(store: SQLiteJobStore, job_id: str, account: str, session: str | None = None) -> None:
    store.create(queued_job(job_id, account=account, session_id=session))


def _claims(store: SQLiteJobStore) -> list[str]:
    order = []
    while (job := store.claim_next("me", 60.0, ["dev"])) is not None:
        order.append(job.job_id)
        store.finish(job.job_id, "{}")
    return order


def test_a_batch_runs_its_jobs_together_at_its_first_jobs_place(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "db.sqlite3")
    batch = SessionRecord("b" * 32, "alice", "dev", "batch", 900.0, None, time.time())
    store.create_session(batch)
    _job(store, "a1", "alice", batch.session_id)
    _job(store, "x1", "bob")
    _job(store, "a2", "alice", batch.session_id)
    record = store.get("a2")
    assert record is not None and store.queue_position(record) == 2
    assert _claims(store) == ["a1", "a2", "x1"]


def test_the_store_leaves_the_claim_order_to_the_scheduler() -> None:
    store = (ROOT / "store.py").read_text()
    assert not re.search(r"COALESCE\(group_seq|ORDER BY seq|yields_device|evaluate\(", store)
