"""Crash recovery: re-attach to the journalled jobs of an account, or submit them once.

:meth:`VendorProvider.resume <qiskit_vendor_provider.VendorProvider.resume>` calls
:func:`resume` with the provider's :class:`~qiskit_vendor_provider.connection.Connection`
and how to make a job object of what the server says; this module never sees the
provider, so the provider imports it and not the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qiskit_vendor_provider.api.models import JobInfo
from qiskit_vendor_provider.api.secret import redacting_logger
from qiskit_vendor_provider.connection import Connection
from qiskit_vendor_provider.errors import VendorError, VendorNotFoundError, is_refusal
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.journal import FAILED, JobJournal, JournalEntry

__all__ = ["ResumeOutcome", "ResumeReport", "resume"]

logger = redacting_logger(__name__)


@dataclass(frozen=True)
class ResumeOutcome:
    """What :meth:`VendorProvider.resume` did with one journal entry.

    Attributes:
        key: The entry's idempotency key.
        device: The device.
        name: The job name, if any.
        outcome: ``resumed`` (posted again with its key; the server has the job once),
            ``already there`` (the job was known; its state is refreshed), ``failed``
            (the server refused the submission or no longer knows the job: final, never
            posted again) or ``unreachable`` (the server could not be asked; the entry
            is left for the next ``resume()``).
        job: The job, for ``resumed`` and ``already there``.
        reason: Why, for ``failed`` and ``unreachable``: the server's message.
    """

    key: str
    device: str
    name: str | None
    outcome: str
    job: VendorJob | None = None
    reason: str | None = None


class ResumeReport(list[VendorJob]):
    """The unfinished jobs :meth:`VendorProvider.resume` re-attached to, newest first.

    A list of :class:`VendorJob`, as before, with :attr:`outcomes`: one
    :class:`ResumeOutcome` per unfinished entry, including those that failed and why.
    """

    def __init__(self, outcomes: list[ResumeOutcome]) -> None:
        super().__init__(o.job for o in outcomes if o.job is not None)
        self.outcomes = outcomes

    @property
    def failed(self) -> list[ResumeOutcome]:
        """The entries that failed or could not be resumed now."""
        return [o for o in self.outcomes if o.outcome in ("failed", "unreachable")]


def resume(connection: Connection, job_of: Callable[[JobInfo], VendorJob]) -> ResumeReport:
    """Every unfinished journal entry of ``connection``'s scope, resumed (see the provider).

    Args:
        connection: The client, the journal and the scope of this account's entries.
        job_of: The job object of a job the server knows.

    Returns:
        What happened to each unfinished entry, with the jobs re-attached to.
    """
    journal = connection.journal
    if journal is None:
        return ResumeReport([])
    outcomes = [
        _resume_entry(connection, journal, entry, job_of)
        for entry in journal.entries(*connection.journal_scope)
        if not entry.finished
    ]
    return ResumeReport(outcomes)


def _resume_entry(
    connection: Connection,
    journal: JobJournal,
    entry: JournalEntry,
    job_of: Callable[[JobInfo], VendorJob],
) -> ResumeOutcome:
    """Post one entry again with its key, or refresh its job; its new state is journalled."""

    def outcome(kind: str, info: JobInfo | None = None, reason: str | None = None) -> ResumeOutcome:
        job = None if info is None else job_of(info)
        return ResumeOutcome(entry.key, entry.device, entry.name, kind, job, reason)

    client = connection.client
    try:
        if entry.job_id is None:
            payload = journal.payload(entry.key)
            if payload is None:
                journal.record_failure(entry.key, "the journal lost the submission's payload")
                return outcome("failed", reason="the journal lost the submission's payload")
            info: JobInfo = client.submit_payload(payload, entry.key)
            journal.record_job(entry.key, info.job_id, info.status)
            logger.info("resume: submission %s is job %s", entry.key, info.job_id)
            return outcome("resumed", info)
        info = client.get_job(entry.job_id)
        journal.record_state(entry.job_id, info.status)
        return outcome("already there", info)
    except VendorError as exc:
        if not is_refusal(exc):
            logger.warning("resume: %s left for later: %s", entry.key, exc)
            return outcome("unreachable", reason=str(exc))
        if entry.job_id is None:
            # Refused: the same request would be refused again, so it is final.
            journal.record_failure(entry.key, str(exc))
        elif isinstance(exc, VendorNotFoundError):
            journal.record_state(entry.job_id, FAILED)
        # Any other refusal of a GET (a revoked token) says nothing about the job.
        logger.warning("resume: %s failed: %s", entry.key, exc)
        return outcome("failed", reason=str(exc))
