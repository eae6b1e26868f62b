"""Job-name filters: regular expressions matched with a time budget, so none stalls a server.

Job listings filter names with a regular expression (``GET /v1/jobs?name=...``), as IBM's
``job_name`` does. A backtracking engine can take exponential time on some patterns
(``(a+)+$``); rather than guess which from a pattern's structure, the emulator matches
with the `regex <https://pypi.org/project/regex/>`_ package, whose matches take a timeout,
within a budget for the whole listing: a pattern that runs out of it gets a 422 that says
so. The rule a pattern must meet before it is sent (it compiles, it is not too long)
lives here, and the client and the server both call :func:`name_pattern_problem`; the
client may not import the emulator, hence a module of its own.

>>> name_pattern_problem("^vqe-[0-9]+$") is None, name_pattern_problem("(unclosed")[:26]
(True, 'not a valid regular expres')
>>> NameFilter("^sweep-0[0-4]").matches("sweep-031"), NameFilter("x").matches("abc")
(True, False)
"""

from __future__ import annotations

import time

import regex

__all__ = [
    "MATCH_BUDGET_SECONDS",
    "MAX_PATTERN_LENGTH",
    "NameFilter",
    "PatternTooSlowError",
    "name_pattern_problem",
]

MAX_PATTERN_LENGTH = 256
"""Longest name filter, in characters (a job name is at most 256 too)."""

MATCH_BUDGET_SECONDS = 0.5
"""Time all the matches of one listing may take together."""


class PatternTooSlowError(ValueError):
    """A name filter used up its matching budget."""


def name_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a job-name filter, with the fix; None if it can."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is {len(pattern)} characters long; the most is {MAX_PATTERN_LENGTH}"
    try:
        regex.compile(pattern)
    except regex.error as exc:
        return f"not a valid regular expression ({exc})"
    return None


class NameFilter:
    """A compiled name filter whose matches share one time budget.

    Args:
        pattern: A pattern :func:`name_pattern_problem` accepts.
        budget: Seconds all matches together may take.

    Raises:
        PatternTooSlowError: from :meth:`matches`, once the budget is used up.
    """

    def __init__(self, pattern: str, budget: float = MATCH_BUDGET_SECONDS) -> None:
        self.pattern = pattern
        self._compiled = regex.compile(pattern)
        self._deadline: float | None = None
        self._budget = budget
        self.timed_out = False

    def matches(self, name: str | None) -> bool:
        """Whether ``pattern`` is found in ``name`` (a missing name never matches)."""
        if name is None:
            return False
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self._budget
        left = self._deadline - now
        try:
            if left <= 0:
                raise TimeoutError
            return self._compiled.search(name, timeout=left) is not None
        except TimeoutError:
            self.timed_out = True
            self.check()
            raise  # unreachable: check() raises once timed out

    def check(self) -> None:
        """Raise :class:`PatternTooSlowError` if the budget ran out."""
        if self.timed_out:
            raise PatternTooSlowError(
                f"the pattern took more than {self._budget} s to match the job names; use "
                "a simpler regular expression (no nested repetition such as (a+)+), or "
                "filter by tags"
            )

    def sqlite_function(self, pattern: str, name: str | None) -> bool:
        """SQLite's ``name REGEXP pattern``: False after the budget ran out (see ``timed_out``).

        An exception raised inside SQLite would lose its message, so the timeout is kept
        in :attr:`timed_out` for the caller to raise once the query is over.
        """
        if self.timed_out:
            return False
        try:
            return self.matches(name)
        except PatternTooSlowError:
            return False
