"""What the emulator's fuzz tests share: positions in a JSON body, settings, the 4xx check."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings


def positions(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a JSON value, as the keys leading to it."""
    if prefix:
        yield prefix
    if isinstance(value, (dict, list)):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from positions(child, (*prefix, key))


def fuzz_settings(examples: int) -> Any:
    """Seeded, reproducible settings: ``QVP_FUZZ_EXAMPLES`` raises the count for a long run."""
    return settings(
        max_examples=int(os.environ.get("QVP_FUZZ_EXAMPLES", str(examples))),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def assert_not_5xx(status: int, headers: Any, content: bytes) -> None:
    """A success, or a 4xx ``application/problem+json`` whose body repeats the status."""
    assert status < 500, content[:500]
    if status >= 400:
        assert dict(headers)["content-type"] == "application/problem+json", content[:200]
        assert json.loads(content)["status"] == status
