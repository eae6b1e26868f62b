"""The emulator's claim order: which queued job a free device runs next, in one place.

One job runs on a device at a time. When a device is free, the next job is chosen so:

1. A device an active session holds (:func:`~.sessions.evaluate` says whether it does)
   runs that session's queued jobs first, oldest first.
2. With none of them queued, the device waits for the session; once the session has
   been idle for the grace (:func:`~.sessions.yields_device`), the next job of another
   account may pass, one at a time.
3. Any other free device runs its queue in order: oldest first, except that a batch's
   jobs take the queue place of the batch's first job (:func:`group_place`), so a batch
   runs its jobs one after the other instead of interleaved with other clients' jobs.

:func:`next_job` makes the choice, :func:`queue_position` counts the jobs ahead of one
in the same order, and :data:`QUEUE_ORDER` is that order in SQL. The store
(:mod:`~.store`) owns the writes: it leases the job this module picks, inside the same
transaction.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Collection

from qiskit_vendor_provider.emulator.sessions import (
    SessionRecord,
    SessionStats,
    evaluate,
    yields_device,
)

__all__ = ["QUEUE_ORDER", "StatsOf", "group_place", "held_devices", "next_job", "queue_position"]

QUEUE_ORDER = "COALESCE(group_seq, seq), seq"
"""The queue's order: a batch's jobs at their first job's place (``group_seq``), then ``seq``."""

_FREE = "device NOT IN (SELECT device FROM jobs WHERE status = 'RUNNING')"
_SESSION_COLUMNS = ", ".join(f.name for f in dataclasses.fields(SessionRecord))

StatsOf = Callable[[sqlite3.Connection, str], SessionStats]
"""How the store sums up a session's jobs (``SessionStats``), by session id."""


def group_place(conn: sqlite3.Connection, session_id: str | None) -> int | None:
    """The queue place of a new job of a batch: its first job's (None otherwise)."""
    if session_id is None:
        return None
    row = conn.execute(
        "SELECT MIN(jobs.seq) FROM jobs JOIN sessions USING (session_id) "
        "WHERE jobs.session_id = ? AND sessions.mode = 'batch'",
        (session_id,),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def queue_position(conn: sqlite3.Connection, device: str, seq: int, group_seq: int | None) -> int:
    """1 for the next queued job of ``device`` in :data:`QUEUE_ORDER`, 2 for the one after...

    An active session's jobs may still pass it (rule 1 above).
    """
    place = seq if group_seq is None else group_seq
    row = conn.execute(
        "SELECT COUNT(*) FROM jobs WHERE device = ? AND status = 'QUEUED' AND "
        "(COALESCE(group_seq, seq) < ? OR (COALESCE(group_seq, seq) = ? AND seq < ?))",
        (device, place, place, seq),
    ).fetchone()
    return int(row[0]) + 1


def held_devices(
    conn: sqlite3.Connection, devices: Collection[str], now: float, stats_of: StatsOf
) -> dict[str, tuple[SessionRecord, SessionStats]]:
    """Device → the session that holds it (and its figures), among ``devices``."""
    marks = ", ".join("?" * len(devices))
    rows = conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE mode = 'session' "  # noqa: S608
        f"AND device IN ({marks}) AND cancelled_at IS NULL AND started_at IS NOT NULL "
        "AND started_at + max_time > ? ORDER BY started_at",
        (*devices, now),
    ).fetchall()
    held: dict[str, tuple[SessionRecord, SessionStats]] = {}
    for record in (SessionRecord(**dict(row)) for row in rows):
        if record.device in held:
            continue
        stats = stats_of(conn, record.session_id)
        if evaluate(record, stats, now).holds_device:
            held[record.device] = (record, stats)
    return held


def next_job(
    conn: sqlite3.Connection,
    devices: Collection[str],
    now: float,
    idle_grace: float,
    stats_of: StatsOf,
) -> sqlite3.Row | None:
    """The ``job_id`` and ``session_id`` of the job to run next on one of ``devices``.

    None when every device among them runs a job, or has nothing it may run now.
    """
    held = held_devices(conn, devices, now, stats_of)
    for device, (session, stats) in held.items():
        row: sqlite3.Row | None = conn.execute(
            "SELECT job_id, session_id FROM jobs WHERE status = 'QUEUED' "  # noqa: S608
            f"AND session_id = ? AND device = ? AND {_FREE} ORDER BY seq LIMIT 1",
            (session.session_id, device),
        ).fetchone()
        if row is None and yields_device(session, stats, now, idle_grace):
            # Idle past the grace: the next job of another account may pass.
            row = conn.execute(
                "SELECT job_id, session_id FROM jobs WHERE status = 'QUEUED' "  # noqa: S608
                f"AND device = ? AND account != ? AND {_FREE} "
                f"ORDER BY {QUEUE_ORDER} LIMIT 1",
                (device, session.account),
            ).fetchone()
        if row is not None:
            return row
    others = [device for device in devices if device not in held]
    if not others:
        return None
    marks = ", ".join("?" * len(others))
    found: sqlite3.Row | None = conn.execute(
        "SELECT job_id, session_id FROM jobs "  # noqa: S608 - placeholders
        f"WHERE status = 'QUEUED' AND device IN ({marks}) AND {_FREE} "
        f"ORDER BY {QUEUE_ORDER} LIMIT 1",
        tuple(others),
    ).fetchone()
    return found
