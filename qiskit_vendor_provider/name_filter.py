"""The rule a job-name filter must follow: a pattern that cannot stall the server.

Job listings filter names with a regular expression (``GET /v1/jobs?name=...``). Python's
``re`` backtracks, so some patterns take exponential time; the server refuses them, and
the client checks the same rule, with this same function, before sending anything. It
lives outside ``emulator/`` because the client may not import the emulator.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

__all__ = [
    "MAX_UNBOUNDED_REPEATS",
    "MAX_VARIABLE_REPEATS",
    "name_pattern_problem",
    "pattern_cost_problem",
]

# The regular-expression parser of the standard library (``re._parser`` since 3.11):
# private, but the only way to see a pattern's structure before running it.
_SRE: Any = importlib.import_module("re._parser" if sys.version_info >= (3, 11) else "sre_parse")
_REPEATS = frozenset(
    getattr(_SRE, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(_SRE, name)
)
_BACKREFERENCES = frozenset(
    getattr(_SRE, name) for name in ("GROUPREF", "GROUPREF_EXISTS") if hasattr(_SRE, name)
)
MAX_VARIABLE_REPEATS = 6
"""Most repetitions of variable count (``?``, ``*``, ``+``, ``{m,n}``) in a name filter."""
MAX_UNBOUNDED_REPEATS = 2
"""Most of those that may repeat without bound (or more than 64 times)."""


def pattern_cost_problem(pattern: str) -> str | None:
    r"""Why matching ``pattern`` could take exponential or steep polynomial time, or None.

    Python's ``re`` backtracks: a repetition inside a repetition, alternatives inside a
    repetition or a back-reference can take exponential time, and k unbounded
    repetitions in a row take n**k steps. A job name is 256 characters at most, so
    refusing those keeps one listing from stalling the emulator.

    >>> pattern_cost_problem(r"^sweep-0[0-4]\d") is None
    True
    >>> pattern_cost_problem("(a*)*b"), pattern_cost_problem("a*a*a*x")
    ('a repetition inside a repetition', 'more than 2 unbounded repetitions')

    Args:
        pattern: A pattern that compiles.
    """
    counts = {"variable": 0, "unbounded": 0}

    def walk(items: Any, repeated: bool) -> str | None:
        for op, arg in items:
            found: str | None = None
            if op in _REPEATS:
                low, high, inner = arg
                variable = low != high
                if variable:
                    if repeated:
                        return "a repetition inside a repetition"
                    counts["variable"] += 1
                    counts["unbounded"] += high == _SRE.MAXREPEAT or high > 64
                found = walk(inner, repeated or variable)
            elif op in _BACKREFERENCES:
                return "a back-reference"
            elif op == _SRE.BRANCH:
                if repeated:
                    return "alternatives inside a repetition"
                for branch in arg[1]:
                    found = found or walk(branch, repeated)
            elif op == _SRE.SUBPATTERN:
                found = walk(arg[-1], repeated)
            elif op in (_SRE.ASSERT, _SRE.ASSERT_NOT):
                found = walk(arg[1], repeated)
            elif op == getattr(_SRE, "ATOMIC_GROUP", None):
                found = walk(arg, repeated)
            if found is not None:
                return found
        return None

    problem = walk(_SRE.parse(pattern), repeated=False)
    if problem is None and counts["variable"] > MAX_VARIABLE_REPEATS:
        problem = f"more than {MAX_VARIABLE_REPEATS} repetitions"
    if problem is None and counts["unbounded"] > MAX_UNBOUNDED_REPEATS:
        problem = f"more than {MAX_UNBOUNDED_REPEATS} unbounded repetitions"
    return problem


def name_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a job-name filter, with the fix; None if it can.

    >>> name_pattern_problem("^vqe-") is None
    True
    >>> name_pattern_problem("(a+)+")  # doctest: +ELLIPSIS
    'the pattern has a repetition inside a repetition, ...'
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid regular expression ({exc})"
    costly = pattern_cost_problem(pattern)
    if costly is None:
        return None
    return (
        f"the pattern has {costly}, which can take too long to match; use a simpler "
        f"regular expression (at most {MAX_VARIABLE_REPEATS} repetitions, "
        f"{MAX_UNBOUNDED_REPEATS} of them unbounded, none nested, no back-references)"
    )
