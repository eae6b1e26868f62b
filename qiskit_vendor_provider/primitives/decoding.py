"""Per-shot hex memory → packed ``BitArray`` per classical register, vectorised.

``BackendSamplerV2`` decodes memory shot by shot in Python (an ``int.to_bytes`` per
shot, then a pad-and-pack per binding and register), which costs about 0.1 s for a
1,000-binding sweep of 100 shots: a sixth of the whole sweep on the emulator. This does
the same arithmetic on whole arrays. It gives exactly the arrays ``BackendSamplerV2``
gives (the tests compare them bit for bit), for circuits of up to 64 clbits; wider
circuits are left to ``BackendSamplerV2``'s own decoder.

The rule both follow: register ``r`` holds clbits ``start .. start + num_bits - 1`` of the
shot's integer (clbit 0 the least significant bit), packed big-endian into
``ceil(num_bits / 8)`` bytes, as :class:`~qiskit.primitives.BitArray` stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qiskit_vendor_provider.errors import VendorJobError

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
        RegisterSlice(
            register.name,
            register.size,
            -(-register.size // 8),
            circuit.find_bit(register[0]).index if register.size else 0,
        )
        for register in circuit.cregs
    ]


def _check_size(memory: Sequence[Sequence[str]], shape: tuple[int, ...], shots: int) -> int:
    size = int(np.prod(shape, dtype=np.int64))
    if len(memory) != size or any(len(row) != shots for row in memory):
        raise VendorJobError(
            f"the server sent {sum(len(row) for row in memory)} samples for {size} "
            f"binding(s) of {shots} shots"
        )
    return size


def unpack_registers(
    memory: Sequence[Sequence[str]],
    shape: tuple[int, ...],
    shots: int,
    layout: Sequence[RegisterSlice],
) -> PackedArrays:
    """Each register's packed bits, shaped ``shape + (shots, num_bytes)``, for any width.

    :func:`packed_registers` when it applies, else shot by shot with Python integers.

    Raises:
        VendorJobError: the memory does not hold ``shots`` samples per binding.

    >>> layout = register_layout(QuantumCircuit(1, 70))
    >>> arrays = unpack_registers([["0x3", "0x1"]], (1,), 2, layout)
    >>> arrays["c"].shape, arrays["c"][0, :, -1].tolist()
    ((1, 2, 9), [3, 1])
    """
    fast = packed_registers(memory, shape, shots, layout)
    if fast is not None:
        return fast
    _check_size(memory, shape, shots)
    samples = [int(sample, 16) for sample in chain.from_iterable(memory)]
    arrays = {}
    for item in layout:
        mask = (1 << item.num_bits) - 1
        data = b"".join(
            ((sample >> item.start) & mask).to_bytes(item.num_bytes, "big") for sample in samples
        )
        arrays[item.name] = (
            np.frombuffer(data, dtype=np.uint8).copy().reshape((*shape, shots, item.num_bytes))
        )
    return arrays


def packed_registers(
    memory: Sequence[Sequence[str]],
    shape: tuple[int, ...],
    shots: int,
    layout: Sequence[RegisterSlice],
) -> PackedArrays | None:
    """Each register's packed bits, shaped ``shape + (shots, num_bytes)``, vectorised.

    Args:
        memory: Per binding (C order over ``shape``), the hex memory of every shot.
        shape: The PUB's shape.
        shots: Shots per binding.
        layout: The circuit's registers (:func:`register_layout`).

    Returns:
        Register name → uint8 array; or None when a register reaches above clbit 63, or a
        shot's integer does not fit in 64 bits (clbits above every register were set).

    Raises:
        VendorJobError: the memory does not hold ``shots`` samples per binding.
    """
    if any(item.start + item.num_bits > MAX_FAST_CLBITS for item in layout):
        return None
    size = _check_size(memory, shape, shots)
    flat = chain.from_iterable(memory)
    try:
        samples = np.fromiter(map(int, flat, repeat(16)), dtype=np.uint64, count=size * shots)
    except OverflowError:
        return None
    arrays = {}
    for item in layout:
        mask = np.uint64((1 << item.num_bits) - 1)
        values = (samples >> np.uint64(item.start)) & mask
        # Big-endian bytes of each value; the register's bytes are the last num_bytes.
        as_bytes = values.astype(">u8").view(np.uint8).reshape(-1, 8)
        packed = as_bytes[:, 8 - item.num_bytes :]
        arrays[item.name] = np.ascontiguousarray(packed).reshape((*shape, shots, item.num_bytes))
    return arrays
