"""Names a package imports on first use (PEP 562), for packages whose import must be cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    package: str, namespace: dict[str, Any], where: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for names kept in its submodules.

    Args:
        package: The package's ``__name__``.
        namespace: Its ``globals()``: a name, once imported, is kept there.
        where: Each name and the submodule (relative to ``package``) that defines it.
    """

    def getattr_(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted([*namespace, *where])

    return getattr_, dir_
