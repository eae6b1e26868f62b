"""The emulator's errors as the API answers them: ``application/problem+json`` problems."""

from __future__ import annotations


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
