"""Sessions and batches in the emulator: what they are, and the one rule for their state.

A session or batch is opened on one device by one account. Its clock (``max_time``)
starts when its first job starts, as on IBM Quantum, so the time spent in the queue
before that is not charged to it.

* A **session** (``mode="session"``) holds its device while it is *active*: the
  scheduler runs its queued jobs before anyone else's, and while it has none queued it
  keeps the device free for ``max_idle`` seconds after its last job started or ended,
  so a client that submits, waits and submits again gets the device back to back. It
  stops holding the device when ``max_time`` runs out, when it has been idle longer
  than ``max_idle`` (it is then ``inactive``: its next job waits in the ordinary queue,
  and the session is active again once that job starts), when it is cancelled, or when
  it is closed and has no job left to run.
  Holding is fair to other accounts: a session with no job queued or running yields
  its device to other accounts' queued jobs once it has been idle for a short grace
  (``EmulatorConfig.session_idle_grace``, 5 s by default), one job at a time; its own
  next job still goes first once the device is free. And an account may have at most
  ``EmulatorConfig.max_sessions_per_account`` sessions open at once.
* A **batch** (``mode="batch"``) never holds the device. Its jobs are queued as a
  group: each takes the queue place of the batch's first job, so a batch submitted
  while other clients submit too runs its jobs one after the other instead of
  interleaved with theirs. Jobs queued before the batch's first one still run first.

:func:`evaluate` is the only code that decides a session's state and whether it holds
its device; the claim order (:mod:`~qiskit_vendor_provider.emulator.scheduler`) and the
API's answers both call it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_IDLE_GRACE",
    "DEFAULT_MAX_IDLE",
    "DEFAULT_MAX_SESSIONS",
    "DEFAULT_MAX_TIME",
    "SessionRecord",
    "SessionStats",
    "SessionView",
    "evaluate",
    "yields_device",
]

DEFAULT_MAX_TIME = 900.0
"""Seconds a session or batch lasts from its first job's start, unless it asks otherwise."""
DEFAULT_MAX_IDLE = 60.0
"""Seconds an active session keeps its device while it has no job queued or running."""
DEFAULT_IDLE_GRACE = 5.0
"""Seconds an idle session keeps its device from other accounts' queued jobs."""
DEFAULT_MAX_SESSIONS = 5
"""Sessions (``mode="session"``) one account may have open at once."""


@dataclass
class SessionRecord:
    """One session or batch as stored.

    Attributes:
        session_id: 32 lowercase hex digits.
        account: The account that opened it; no other account sees it.
        device: The device its jobs run on.
        mode: ``session`` or ``batch``.
        max_time: Seconds it lasts from its first job's start.
        max_idle: Seconds an active session keeps its device with nothing to run
            (None for a batch, which never holds it).
        created_at: When it was opened (Unix time).
        started_at: When its first job started.
        closed_at: When it was closed (accepts no new jobs; queued ones still run).
        cancelled_at: When it was cancelled (its unfinished jobs cancelled with it).
    """

    session_id: str
    account: str
    device: str
    mode: str
    max_time: float
    max_idle: float | None
    created_at: float
    started_at: float | None = None
    closed_at: float | None = None
    cancelled_at: float | None = None


@dataclass(frozen=True)
class SessionStats:
    """What a session's jobs say about it.

    Attributes:
        job_count: Jobs submitted in it.
        queued: Its queued jobs.
        running: Its running jobs.
        last_activity: The latest start or end of one of its jobs (None: none started).
    """

    job_count: int = 0
    queued: int = 0
    running: int = 0
    last_activity: float | None = None


@dataclass(frozen=True)
class SessionView:
    """A session as it is at one moment.

    Attributes:
        state: ``open`` (no job started yet), ``active``, ``inactive`` (idle past
            ``max_idle``; a batch with nothing to run), ``closed``, ``expired`` or
            ``cancelled``.
        accepting_jobs: Whether a new job may join it.
        holds_device: Whether the scheduler gives its device to its jobs alone.
        expires_at: When ``max_time`` runs out (None until its first job starts).
        elapsed: Seconds of ``max_time`` used (up to its end, for one that ended).
    """

    state: str
    accepting_jobs: bool
    holds_device: bool
    expires_at: float | None
    elapsed: float


def evaluate(record: SessionRecord, stats: SessionStats, now: float) -> SessionView:
    """The state of a session at ``now``, and whether it holds its device.

    >>> opened = SessionRecord("s" * 32, "a", "dev", "session", 100.0, 10.0, created_at=0.0)
    >>> evaluate(opened, SessionStats(), now=50.0).state
    'open'
    >>> started = SessionRecord("s" * 32, "a", "dev", "session", 100.0, 10.0, 0.0, started_at=1.0)
    >>> view = evaluate(started, SessionStats(job_count=1, last_activity=5.0), now=12.0)
    >>> view.state, view.holds_device, view.elapsed
    ('active', True, 11.0)
    >>> evaluate(started, SessionStats(job_count=1, last_activity=5.0), now=16.0).state
    'inactive'
    >>> evaluate(started, SessionStats(job_count=1, running=1), now=101.0).state
    'expired'
    """
    expires_at = None if record.started_at is None else record.started_at + record.max_time
    expired = expires_at is not None and now >= expires_at
    pending = stats.queued + stats.running
    idle = stats.running == 0 and (
        stats.last_activity is None
        or record.max_idle is None
        or now - stats.last_activity >= record.max_idle
    )
    if record.cancelled_at is not None:
        state = "cancelled"
    elif record.closed_at is not None:
        state = "closed"
    elif expired:
        state = "expired"
    elif record.started_at is None:
        state = "open"
    elif record.mode == "batch":
        state = "active" if pending else "inactive"
    else:
        state = "inactive" if idle else "active"
    holds = (
        record.mode == "session"
        and record.cancelled_at is None
        and record.started_at is not None
        and not expired
        and not idle
        # Closed: it keeps the device only for the jobs it already has.
        and (record.closed_at is None or pending > 0)
    )
    return SessionView(
        state=state,
        accepting_jobs=state in ("open", "active", "inactive"),
        holds_device=holds,
        expires_at=expires_at,
        elapsed=_elapsed(record, stats, now, expires_at, pending),
    )


def _elapsed(
    record: SessionRecord,
    stats: SessionStats,
    now: float,
    expires_at: float | None,
    pending: int,
) -> float:
    if record.started_at is None:
        return 0.0
    end = now
    if expires_at is not None:
        end = min(end, expires_at)
    if record.cancelled_at is not None:
        end = min(end, record.cancelled_at)
    if record.closed_at is not None and pending == 0:
        end = min(end, max(record.closed_at, stats.last_activity or record.closed_at))
    return max(0.0, end - record.started_at)


def yields_device(record: SessionRecord, stats: SessionStats, now: float, grace: float) -> bool:
    """Whether a session that holds its device lets other accounts' jobs run on it now.

    It does once it has had nothing queued or running for ``grace`` seconds: holding a
    shared device for ``max_idle`` (up to an hour) would make everyone else wait on a
    client that may never come back.

    >>> started = SessionRecord("s" * 32, "a", "dev", "session", 100.0, 60.0, 0.0, started_at=1.0)
    >>> idle = SessionStats(job_count=1, last_activity=5.0)
    >>> yields_device(started, idle, now=7.0, grace=5.0), yields_device(started, idle, 11.0, 5.0)
    (False, True)
    >>> yields_device(started, SessionStats(job_count=2, queued=1, last_activity=5.0), 11.0, 5.0)
    False
    """
    if stats.queued or stats.running:
        return False
    return stats.last_activity is None or now - stats.last_activity >= grace
