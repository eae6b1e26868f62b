"""The emulator's errors as the API answers them: ``application/problem+json`` problems."""

from __future__ import annotations

from qiskit_vendor_provider.api.models import PROBLEM_STORAGE_FULL


class ProblemError(Exception):
    """An API error: becomes an ``application/problem+json`` answer.

    Args:
        status: HTTP status.
        title: Short, fixed summary of the kind of problem.
        detail: What exactly was wrong, and how to fix it.
        type: Problem type URI, for problems a client handles specially.
    """

    def __init__(self, status: int, title: str, detail: str, type: str = "about:blank") -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type


def not_found(what: str) -> ProblemError:
    """A 404 problem saying what was not found."""
    return ProblemError(404, "Not Found", what)


_FULL = ("database or disk is full", "disk i/o error")
_BUSY = ("database is locked", "database is busy")


def storage_problem(exc: Exception) -> ProblemError | None:
    """The answer to a failure of the job store, or None for a real crash.

    A full disk is the server's trouble, not the request's, and not one a quick retry
    mends: a 507, which clients do not retry. A store held by another process past the
    wait is passing: a 503 with ``Retry-After``.

    >>> storage_problem(Exception("database or disk is full")).status
    507
    >>> storage_problem(Exception("no such table: jobs")) is None
    True
    """
    text = str(exc).lower()
    if any(words in text for words in _FULL):
        return ProblemError(
            507,
            "Insufficient Storage",
            "the server's storage is full, so nothing was done (no job was stored or "
            "changed); try again once the server's operator has freed disk space",
            type=PROBLEM_STORAGE_FULL,
        )
    if any(words in text for words in _BUSY):
        return ProblemError(
            503,
            "Service Unavailable",
            "the job store is busy with another process; nothing was done: try again shortly",
        )
    return None
