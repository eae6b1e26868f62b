"""QuantumCircuit ⇄ wire program, and wire result → :class:`qiskit.result.Result`.

Three modules with one role each, and what they share:

* :mod:`.encoding` (client): :func:`circuit_to_wire`;
* :mod:`.decoding` (server): :func:`wire_to_circuit`, :func:`parameter_columns`;
* :mod:`.results` (client): :func:`to_qiskit_result`;
* :mod:`.common`: :class:`WireFormatError`, :func:`register_layout` (the one register
  mapping) and the classical operations the devices evaluate.

Bit order: a wire instruction names clbits by their index in the circuit, and the server
keys counts and memory by integers whose bit *i* is clbit *i*: Qiskit's own order, so no
bit is ever reordered on the way (per-shot bytes: :mod:`qiskit_vendor_provider.api.shots`).
"""

from __future__ import annotations

from qiskit_vendor_provider.serialization.common import (
    MAX_CIRCUIT_NAME_LENGTH,
    WireFormatError,
    register_layout,
)
from qiskit_vendor_provider.serialization.decoding import parameter_columns, wire_to_circuit
from qiskit_vendor_provider.serialization.encoding import circuit_to_wire
from qiskit_vendor_provider.serialization.results import to_qiskit_result

__all__ = [
    "MAX_CIRCUIT_NAME_LENGTH",
    "WireFormatError",
    "circuit_to_wire",
    "parameter_columns",
    "register_layout",
    "to_qiskit_result",
    "wire_to_circuit",
]
