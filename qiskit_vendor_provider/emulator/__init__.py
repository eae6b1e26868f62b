"""An Aer-backed emulator of the vendor REST API: same routes, same models, fake devices.

It is the zero-config default of :class:`~qiskit_vendor_provider.VendorProvider` (in this
process, no socket), a real server on loopback (``python -m qiskit_vendor_provider.emulator``)
and what the tests run against.

Names are imported on first use: a simulator process (``emulator.worker_process``) is a
module of this package, and importing the web app here (FastAPI, uvicorn, requests) would
add about half a second to every simulator process's start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qiskit_vendor_provider._lazy import lazy_names

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


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE)
