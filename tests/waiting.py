"""Waiting in tests for something to happen, without timing how fast it happens.

The fast tests synchronise on events: a state seen in the store, a request the server
holds, a counter that moved. :func:`eventually` polls for such a state; its deadline is
there only to turn "never" into a failure with a message, so it is far longer than any
machine needs and no verdict depends on the speed of the machine (or of a process
start). Claims about latency itself (a cancel within a second, Ctrl-C within two) live
in ``tests/test_latency.py``, in the slow layer (``pytest --slow``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

NEVER = 120.0
"""Seconds after which a state that has not arrived is taken to never arrive."""


def eventually(condition: Callable[[], object], what: str, limit: float = NEVER) -> None:
    """Return once ``condition()`` is true; fail naming ``what`` if it never is."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"never happened (waited {limit:g} s): {what}"
        time.sleep(0.01)


class Calls:
    """How many times a method wrapped by :func:`count_calls` was called."""

    def __init__(self) -> None:
        self.count = 0


def count_calls(obj: object, name: str) -> Calls:
    """Count the calls of ``obj.name`` from now on: a seam to synchronise on."""
    calls = Calls()
    method = getattr(obj, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.count += 1
        return method(*args, **kwargs)

    setattr(obj, name, counted)
    return calls


class Watches:
    """Counts the long polls an emulator's HTTP app starts (a request the server holds).

    The app asks ``emulator.watch(job_id, wake)`` to be woken when a job ends each time it
    holds a request; wrapping that method tells a test, without a clock, that a request
    is being held right now.
    """

    def __init__(self, emulator: Any) -> None:
        self.count = 0
        self._changed = threading.Condition()
        watch = emulator.watch

        def counting(*args: Any, **kwargs: Any) -> Any:
            unwatch = watch(*args, **kwargs)
            with self._changed:
                self.count += 1
                self._changed.notify_all()
            return unwatch

        emulator.watch = counting

    def reach(self, count: int, what: str = "", limit: float = NEVER) -> None:
        """Block until ``count`` long polls have started; fail if they never do."""
        with self._changed:
            reached = self._changed.wait_for(lambda: self.count >= count, limit)
        assert reached, f"the server never held request {count} {what}".rstrip()
