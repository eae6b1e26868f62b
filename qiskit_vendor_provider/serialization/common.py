"""What the serialization modules share: the error, register mapping, classical operations.

Register mapping lives in one function, :func:`register_layout`, which says how count
keys split into classical registers.
"""

from __future__ import annotations

from typing import Any

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.classical import expr

from qiskit_vendor_provider.errors import VendorValidationError

__all__ = [
    "BINARY_OPERATIONS",
    "MAX_CIRCUIT_NAME_LENGTH",
    "UNARY_OPERATIONS",
    "WireFormatError",
    "register_clbits",
    "register_layout",
    "shown_name",
]


MAX_CIRCUIT_NAME_LENGTH = 256
"""Longest circuit name the API takes (``ProgramHeader.name``)."""


class WireFormatError(VendorValidationError):
    """A circuit cannot be written as a wire program, or a wire program read as a circuit."""


# --------------------------------------------------------------------------- registers


def register_layout(circuit: QuantumCircuit) -> tuple[list[tuple[str, int]], int]:
    """The ``creg_sizes`` and ``memory_slots`` that format a circuit's count keys.

    Qiskit's result formatting splits a key into registers by consecutive clbit ranges,
    the first register on the lowest bits. That is right when the registers tile the
    clbits in order, as registers made with their own bits do. When they do not (loose
    clbits, overlapping or reordered registers) the split would mislabel bits, so no
    split is given and keys stay one plain bitstring over all clbits.

    >>> from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister, Clbit
    >>> q, a, b = QuantumRegister(1), ClassicalRegister(2, "a"), ClassicalRegister(1, "b")
    >>> register_layout(QuantumCircuit(2, 0)), register_layout(QuantumCircuit(q, a, b))
    (([], 0), ([('a', 2), ('b', 1)], 3))
    >>> register_layout(QuantumCircuit(q, [Clbit()], a))   # a loose clbit comes first
    ([], 3)
    """
    registers = register_clbits(circuit)
    expected = 0
    for _, clbits in registers:
        if clbits != list(range(expected, expected + len(clbits))):
            return [], circuit.num_clbits
        expected += len(clbits)
    if expected != circuit.num_clbits:
        return [], circuit.num_clbits
    return [(name, len(clbits)) for name, clbits in registers], circuit.num_clbits


def register_clbits(circuit: QuantumCircuit) -> list[tuple[str, list[int]]]:
    """Each classical register of ``circuit``, in order, with its clbits' circuit indices.

    The one reading of a circuit's registers: :func:`register_layout` (result headers)
    and the primitives' register slices both start from it.

    >>> from qiskit.circuit import ClassicalRegister, Clbit
    >>> register_clbits(QuantumCircuit([Clbit()], ClassicalRegister(2, "c")))
    [('c', [1, 2])]
    """
    return [
        (creg.name, [circuit.find_bit(clbit).index for clbit in creg]) for creg in circuit.cregs
    ]


def shown_name(name: str, limit: int = 40) -> str:
    """A circuit name for a message: quoted, and cut short if long.

    >>> shown_name("bell"), shown_name("x" * 300, limit=8)
    ("'bell'", "'xxxxxxxx...' (300 characters)")
    """
    if len(name) <= limit:
        return repr(name)
    return f"{name[:limit]!r}"[:-1] + f"...' ({len(name)} characters)"


# The classical operations the devices evaluate (Aer's set), by Qiskit's enum names.
UNARY_OPERATIONS: dict[str, Any] = {"BIT_NOT": expr.bit_not, "LOGIC_NOT": expr.logic_not}
BINARY_OPERATIONS: dict[str, Any] = {
    "BIT_AND": expr.bit_and,
    "BIT_OR": expr.bit_or,
    "BIT_XOR": expr.bit_xor,
    "LOGIC_AND": expr.logic_and,
    "LOGIC_OR": expr.logic_or,
    "EQUAL": expr.equal,
    "NOT_EQUAL": expr.not_equal,
    "LESS": expr.less,
    "LESS_EQUAL": expr.less_equal,
    "GREATER": expr.greater,
    "GREATER_EQUAL": expr.greater_equal,
}
