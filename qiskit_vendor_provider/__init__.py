"""Qiskit provider for the vendor's quantum devices.

>>> from qiskit_vendor_provider import VendorProvider
>>> backend = VendorProvider().get_backend("ideal_simulator")
>>> backend.num_qubits
32

Names are imported on first use: ``import qiskit_vendor_provider.testing.plugin`` (which
pytest does in every run on a machine with the package) or ``qiskit-vendor --help`` must
not pay for importing Qiskit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qiskit_vendor_provider._lazy import lazy_names
from qiskit_vendor_provider._version import __version__

if TYPE_CHECKING:
    from qiskit_vendor_provider.api.client import RetryPolicy, Timeouts
    from qiskit_vendor_provider.backend import VendorBackend
    from qiskit_vendor_provider.errors import (
        CircuitValidationError,
        DamagedJournalWarning,
        DatabaseFileError,
        DeviceRetiredError,
        DeviceUnavailableError,
        FaultyElementError,
        JobLimitError,
        ServerStorageFullError,
        SessionClosedError,
        SessionDeviceError,
        SessionLimitError,
        UnknownJobStateError,
        VendorApiError,
        VendorAuthError,
        VendorCompatibilityWarning,
        VendorConnectionError,
        VendorError,
        VendorJobError,
        VendorJobTimeoutError,
        VendorNotFoundError,
        VendorUpgradeRequiredError,
        VendorValidationError,
    )
    from qiskit_vendor_provider.job import VendorJob
    from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
    from qiskit_vendor_provider.provider import VendorProvider
    from qiskit_vendor_provider.session import Batch, Session

_WHERE = {
    "RetryPolicy": "api.client",
    "Timeouts": "api.client",
    "VendorBackend": "backend",
    "VendorJob": "job",
    # The primitives at the top too, so an IBM script's one import line
    # (``from qiskit_ibm_runtime import EstimatorV2, QiskitRuntimeService``) ports as one line.
    "VendorEstimator": "primitives",
    "VendorSampler": "primitives",
    "VendorProvider": "provider",
    "Session": "session",
    "Batch": "session",
    **dict.fromkeys(
        (
            "CircuitValidationError",
            "DamagedJournalWarning",
            "DatabaseFileError",
            "DeviceRetiredError",
            "DeviceUnavailableError",
            "FaultyElementError",
            "JobLimitError",
            "ServerStorageFullError",
            "SessionClosedError",
            "SessionDeviceError",
            "SessionLimitError",
            "UnknownJobStateError",
            "VendorApiError",
            "VendorAuthError",
            "VendorCompatibilityWarning",
            "VendorConnectionError",
            "VendorError",
            "VendorJobError",
            "VendorJobTimeoutError",
            "VendorNotFoundError",
            "VendorUpgradeRequiredError",
            "VendorValidationError",
        ),
        "errors",
    ),
}

__all__ = [
    "Batch",
    "CircuitValidationError",
    "DamagedJournalWarning",
    "DatabaseFileError",
    "DeviceRetiredError",
    "DeviceUnavailableError",
    "FaultyElementError",
    "JobLimitError",
    "RetryPolicy",
    "ServerStorageFullError",
    "Session",
    "SessionClosedError",
    "SessionDeviceError",
    "SessionLimitError",
    "Timeouts",
    "UnknownJobStateError",
    "VendorApiError",
    "VendorAuthError",
    "VendorBackend",
    "VendorCompatibilityWarning",
    "VendorConnectionError",
    "VendorError",
    "VendorEstimator",
    "VendorJob",
    "VendorJobError",
    "VendorJobTimeoutError",
    "VendorNotFoundError",
    "VendorProvider",
    "VendorSampler",
    "VendorUpgradeRequiredError",
    "VendorValidationError",
    "__version__",
]


__getattr__, __dir__ = lazy_names(__name__, globals(), _WHERE)
