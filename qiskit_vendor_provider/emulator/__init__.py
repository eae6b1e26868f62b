"""An Aer-backed emulator of the vendor REST API: same routes, same models, fake devices.

It is the zero-config default of :class:`~qiskit_vendor_provider.VendorProvider` (in this
process, no socket), a real server on loopback (``python -m qiskit_vendor_provider.emulator``)
and what the tests run against.

Names are imported on first use: a simulator process (``emulator.worker_process``) is a
module of this package, and importing the web app here (FastAPI, uvicorn, requests) would
add about half a second to every simulator process's start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qiskit_vendor_provider.emulator.app import create_app
    from qiskit_vendor_provider.emulator.server import EmulatorServer
    from qiskit_vendor_provider.emulator.service import Emulator, EmulatorConfig
    from qiskit_vendor_provider.emulator.transport import InProcessTransport

_WHERE = {
    "create_app": "app",
    "EmulatorServer": "server",
    "Emulator": "service",
    "EmulatorConfig": "service",
    "InProcessTransport": "transport",
}

__all__ = ["Emulator", "EmulatorConfig", "EmulatorServer", "InProcessTransport", "create_app"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
