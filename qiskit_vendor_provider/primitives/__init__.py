"""Sampler and Estimator V2 primitives for vendor devices.

:class:`VendorSampler` and :class:`VendorEstimator` subclass Qiskit's
``BackendSamplerV2`` and ``BackendEstimatorV2``: the same PUBs in, the same
``PrimitiveResult`` out, plus validated vendor options, device limits handled by
splitting and packing jobs, and parameter sweeps bound on the server.

Modules, one role each: :mod:`.options` (the pydantic option models), :mod:`.preparation`
(transpile when needed; sweep on the server or bind here), :mod:`.packing` (fit programs
into jobs within the device's limits), :mod:`.execution` (submit and collect),
:mod:`.decoding` (samples to bit arrays), :mod:`.pauli_measurement` (Pauli grouping,
measurement circuits, expectation values), :mod:`.sampler` and :mod:`.estimator`.
:mod:`qiskit_vendor_provider.qiskit_internals` is the only module that uses private Qiskit names.
"""

from qiskit_vendor_provider.primitives.estimator import VendorEstimator
from qiskit_vendor_provider.primitives.options import (
    TRANSPILE_OPTION_NAMES,
    EstimatorOptions,
    SamplerOptions,
)
from qiskit_vendor_provider.primitives.sampler import VendorSampler

__all__ = [
    "TRANSPILE_OPTION_NAMES",
    "EstimatorOptions",
    "SamplerOptions",
    "VendorEstimator",
    "VendorSampler",
]
