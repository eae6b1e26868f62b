"""Qiskit provider for the vendor's quantum devices.

>>> from qiskit_vendor_provider import VendorProvider
>>> backend = VendorProvider().get_backend("ideal_simulator")
>>> backend.num_qubits
32
"""

from qiskit_vendor_provider._version import __version__
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.errors import (
    CircuitValidationError,
    DeviceUnavailableError,
    VendorApiError,
    VendorAuthError,
    VendorConnectionError,
    VendorError,
    VendorJobError,
    VendorJobTimeoutError,
    VendorNotFoundError,
    VendorValidationError,
)
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.provider import VendorProvider

__all__ = [
    "CircuitValidationError",
    "DeviceUnavailableError",
    "VendorApiError",
    "VendorAuthError",
    "VendorBackend",
    "VendorConnectionError",
    "VendorError",
    "VendorJob",
    "VendorJobError",
    "VendorJobTimeoutError",
    "VendorNotFoundError",
    "VendorProvider",
    "VendorValidationError",
    "__version__",
]
