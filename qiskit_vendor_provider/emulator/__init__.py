"""An Aer-backed emulator of the vendor REST API: same routes, same models, fake devices.

It is the zero-config default of :class:`~qiskit_vendor_provider.VendorProvider` (in this
process, no socket), a real server on loopback (``python -m qiskit_vendor_provider.emulator``)
and what the tests run against.
"""

from qiskit_vendor_provider.emulator.app import create_app
from qiskit_vendor_provider.emulator.server import EmulatorServer
from qiskit_vendor_provider.emulator.service import Emulator, EmulatorConfig
from qiskit_vendor_provider.emulator.transport import InProcessTransport

__all__ = ["Emulator", "EmulatorConfig", "EmulatorServer", "InProcessTransport", "create_app"]
