"""Per-shot memory → packed ``BitArray`` per classical register, vectorised.

Memory arrives packed (result format 2: :class:`~.api.shots.PackedMemory`, already
``BitArray``'s bytes) or, from an older server, as hex strings, which
:func:`~.api.shots.pack_hex` packs on whole arrays (``BackendSamplerV2`` decodes shot
by shot in Python, about 0.1 s for a 1,000-binding sweep of 100 shots). Either way each
register is then a slice of the packed bits. It gives exactly the arrays
``BackendSamplerV2`` gives (the tests compare them bit for bit), at any width.

The rule both follow: register ``r`` holds clbits ``start .. start + num_bits - 1`` of the
shot's integer (clbit 0 the least significant bit), packed big-endian into
``ceil(num_bits / 8)`` bytes, as :class:`~qiskit.primitives.BitArray` stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.primitives import BitArray

from qiskit_vendor_provider.api.shots import PackedMemory, pack_hex, shot_bytes, shot_ints
from qiskit_vendor_provider.errors import VendorJobError
from qiskit_vendor_provider.serialization.common import register_clbits

__all__ = [
    "MAX_FAST_CLBITS",
    "RegisterSlice",
    "packed_registers",
    "register_layout",
    "unpack_registers",
]

MAX_FAST_CLBITS = 64
"""Widest circuit (clbits) decoded on the vectorised path; a shot must fit in 64 bits."""

PackedArrays = dict[str, np.ndarray[Any, np.dtype[np.uint8]]]


@dataclass(frozen=True)
class RegisterSlice:
    """Where a classical register's bits sit in a shot's integer.

    Attributes:
        name: The register's name (the ``DataBin`` field).
        num_bits: Its size.
        num_bytes: Bytes of its packed bits, ``ceil(num_bits / 8)``.
        start: Index of its first clbit in the circuit (0 for an empty register).
    """

    name: str
    num_bits: int
    num_bytes: int
    start: int


def register_layout(circuit: QuantumCircuit) -> list[RegisterSlice]:
    """The circuit's classical registers, in order, as slices of a shot's integer.

    >>> from qiskit.circuit import ClassicalRegister, Clbit
    >>> circuit = QuantumCircuit([Clbit()], ClassicalRegister(9, "c"), ClassicalRegister(0, "e"))
    >>> [(r.name, r.num_bits, r.num_bytes, r.start) for r in register_layout(circuit)]
    [('c', 9, 2, 1), ('e', 0, 0, 0)]
    """
    return [
        RegisterSlice(name, len(clbits), shot_bytes(len(clbits)), clbits[0] if clbits else 0)
        for name, clbits in register_clbits(circuit)
    ]


def _check_size(memory: Sequence[Sequence[str]], shape: tuple[int, ...], shots: int) -> int:
    size = int(np.prod(shape, dtype=np.int64))
    if len(memory) != size or any(len(row) != shots for row in memory):
        raise VendorJobError(
            f"the server sent {sum(len(row) for row in memory)} samples for {size} "
            f"binding(s) of {shots} shots"
        )
    return size


def _layout_width(layout: Sequence[RegisterSlice]) -> int:
    return max((item.start + item.num_bits for item in layout), default=0)


def _packed_shots(
    memory: Sequence[Sequence[str]], num_clbits: int | None, layout: Sequence[RegisterSlice]
) -> tuple[np.ndarray[Any, np.dtype[np.uint8]], int]:
    """Every shot of every row, packed, one row per shot; and the bits each holds."""
    if memory and all(isinstance(row, PackedMemory) for row in memory):
        rows = [row.packed for row in memory if isinstance(row, PackedMemory)]
        widths = {row.num_bits for row in memory if isinstance(row, PackedMemory)}
        if len(widths) == 1:
            return np.concatenate(rows), widths.pop()
    num_bits = max(num_clbits or 0, _layout_width(layout))
    try:
        return pack_hex(chain.from_iterable(memory), num_bits), num_bits
    except ValueError:
        pass
    # A shot with clbits set above every register (loose clbits): only registers are read.
    try:
        values = shot_ints(chain.from_iterable(memory))
    except ValueError:
        raise VendorJobError("the server sent a sample that is not a hex integer") from None
    num_bits = max([num_bits, *(value.bit_length() for value in values)])
    return pack_hex(map(hex, values), num_bits), num_bits


def unpack_registers(
    memory: Sequence[Sequence[str]],
    shape: tuple[int, ...],
    shots: int,
    layout: Sequence[RegisterSlice],
    num_clbits: int | None = None,
) -> PackedArrays:
    """Each register's packed bits, shaped ``shape + (shots, num_bytes)``, for any width.

    Args:
        memory: Per binding (C order over ``shape``), every shot's memory: a
            :class:`~.api.shots.PackedMemory` or hex strings.
        shape: The PUB's shape.
        shots: Shots per binding.
        layout: The circuit's registers (:func:`register_layout`).
        num_clbits: The circuit's clbits (default: as far as its registers reach).

    Raises:
        VendorJobError: the memory does not hold ``shots`` samples per binding.

    >>> layout = register_layout(QuantumCircuit(1, 70))
    >>> arrays = unpack_registers([["0x3", "0x1"]], (1,), 2, layout)
    >>> arrays["c"].shape, arrays["c"][0, :, -1].tolist()
    ((1, 2, 9), [3, 1])
    """
    _check_size(memory, shape, shots)
    packed, num_bits = _packed_shots(memory, num_clbits, layout)
    return _registers(packed, num_bits, shape, shots, layout)


def _registers(
    packed: np.ndarray[Any, np.dtype[np.uint8]],
    num_bits: int,
    shape: tuple[int, ...],
    shots: int,
    layout: Sequence[RegisterSlice],
) -> PackedArrays:
    """Each register's bits of the packed shots: the whole array, or a slice of its bits."""
    every = BitArray(packed.reshape((*shape, shots, packed.shape[-1])), num_bits)
    arrays = {}
    for item in layout:
        if item.start == 0 and item.num_bits == num_bits:
            arrays[item.name] = every.array
        else:
            bits = every.slice_bits(range(item.start, item.start + item.num_bits))
            arrays[item.name] = bits.array
    return arrays


def packed_registers(
    memory: Sequence[Sequence[str]],
    shape: tuple[int, ...],
    shots: int,
    layout: Sequence[RegisterSlice],
) -> PackedArrays | None:
    """:func:`unpack_registers` for shots of up to :data:`MAX_FAST_CLBITS` clbits.

    Returns:
        Register name → uint8 array; or None when a register reaches above clbit 63, or a
        shot's integer does not fit in 64 bits (clbits above every register were set).

    Raises:
        VendorJobError: the memory does not hold ``shots`` samples per binding.
    """
    if _layout_width(layout) > MAX_FAST_CLBITS:
        return None
    _check_size(memory, shape, shots)
    packed, num_bits = _packed_shots(memory, None, layout)
    if num_bits > MAX_FAST_CLBITS:
        return None
    return _registers(packed, num_bits, shape, shots, layout)
