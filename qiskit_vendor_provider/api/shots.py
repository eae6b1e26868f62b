"""Per-shot memory on the wire: packed bits (result format 2) or hex strings (format 1).

A shot is the integer whose bit *i* is clbit *i* of the program. Packed, it is that
integer's ``ceil(num_bits / 8)`` bytes, big-endian: exactly the rows of Qiskit's
``BitArray``, so the client hands them to the primitives without rewriting a bit. A
row's shots travel one after another as one base64 string. Before format 2 a shot was
the integer as a hex string (``"0x5"``), which Qiskit's ``Result`` still takes.

This module is the one place where a shot's integer meets its bytes or its hex text:
:func:`shot_ints`, :func:`pack_hex` and :func:`shot_values` read, :func:`hex_memory` and
:func:`pack_values` write. It uses numpy only (no Qiskit), so the server and the client share it.

>>> packed = pack_hex(["0x5", "0x100"], 9)
>>> packed.tolist(), encode_packed(packed)
([[0, 5], [1, 0]], 'AAUBAA==')
>>> hex_memory(decode_packed("AAUBAA==", shots=2, num_bits=9))
['0x5', '0x100']
>>> dict(counts_of(packed))
{'0x5': 1, '0x100': 1}
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from qiskit_vendor_provider.errors import VendorJobError

if TYPE_CHECKING:
    from qiskit_vendor_provider.api.models import BindingResult, JobResult, ProgramResult

__all__ = [
    "EAGER_COUNTS_SHOTS",
    "HEX_RESULT_FORMAT",
    "PACKED_RESULT_FORMAT",
    "PackedCounts",
    "PackedMemory",
    "counts_of",
    "decode_packed",
    "encode_packed",
    "hex_memory",
    "pack_hex",
    "pack_values",
    "shot_bytes",
    "shot_ints",
    "shot_values",
    "unpack_result",
    "unpack_row",
]

HEX_RESULT_FORMAT = 1
"""Result format 1: ``counts`` always, memory as ``memory``, one hex string per shot."""

PACKED_RESULT_FORMAT = 2
"""Result format 2: memory as ``packed_memory`` (base64 of the packed shots), and
``counts`` only when no memory was asked for (the client counts the shots itself)."""

EAGER_COUNTS_SHOTS = 100_000
"""Most shots per row whose counts the client counts at once, into a ``dict``.

Above it a row's counts are a :class:`PackedCounts`, a read-only mapping counted when
first read: a million 20-bit shots have some 600,000 outcomes, a ``dict`` of about 80 MB,
where the packed shots are 3 MB. ``Result.get_counts()`` gives a ``dict`` either way;
Qiskit functions that insist on a ``dict`` (``marginal_distribution``) take that."""

_WORD = 8
"""Bytes of the widest shot held as one numpy integer (64 clbits)."""

Packed = np.ndarray[Any, np.dtype[np.uint8]]


def shot_bytes(num_bits: int) -> int:
    """Bytes of one packed shot: ``ceil(num_bits / 8)``.

    >>> shot_bytes(0), shot_bytes(1), shot_bytes(8), shot_bytes(20)
    (0, 1, 1, 3)
    """
    return -(-num_bits // 8)


def _too_wide(num_bits: int) -> ValueError:
    return ValueError(f"a shot's value does not fit in its {num_bits} clbits")


def pack_values(values: Sequence[int] | np.ndarray[Any, Any], num_bits: int) -> Packed:
    """Shot integers as packed rows, shaped ``(shots, shot_bytes(num_bits))``.

    Raises:
        ValueError: a value has a bit set at or above ``num_bits``.
    """
    width = shot_bytes(num_bits)
    if num_bits <= 8 * _WORD:
        array = np.asarray(values, dtype=np.uint64).reshape(-1)
        if num_bits < 8 * _WORD and array.size and int(array.max()) >> num_bits:
            raise _too_wide(num_bits)
        words = array.astype(">u8").view(np.uint8).reshape(-1, _WORD)
        return np.ascontiguousarray(words[:, _WORD - width :])
    numbers = [int(value) for value in values]
    if any(number >> num_bits or number < 0 for number in numbers):
        raise _too_wide(num_bits)
    data = b"".join(number.to_bytes(width, "big") for number in numbers)
    return np.frombuffer(data, dtype=np.uint8).copy().reshape(-1, width)


def pack_hex(memory: Iterable[str], num_bits: int, outcomes: Iterable[str] = ()) -> Packed:
    """Hex shots (``"0x5"``) as packed rows (see :func:`pack_values`).

    Args:
        memory: The shots.
        num_bits: Clbits per shot.
        outcomes: The shots' distinct values, when known (the keys of their counts):
            each is then read once, not once per shot (a third of the time for 1,000
            shots of 5 clbits). A shot not among them is read as usual.

    >>> pack_hex(["0x1", "0x3", "0x1"], 2, outcomes={"0x1": 2, "0x3": 1}).tolist()
    [[1], [3], [1]]

    Raises:
        ValueError: a shot is not a hex integer, or does not fit in ``num_bits``.
    """
    if num_bits <= 8 * _WORD:
        table = {outcome: int(outcome, 16) for outcome in outcomes}
        if table and isinstance(memory, Sequence):
            try:
                values = np.fromiter(
                    map(table.__getitem__, memory), dtype=np.uint64, count=len(memory)
                )
            except KeyError:
                pass  # a shot outside the outcomes: read them all
            except OverflowError:
                raise _too_wide(num_bits) from None
            else:
                return pack_values(values, num_bits)
        try:
            values = np.fromiter(map(int, memory, repeat(16)), dtype=np.uint64)
        except OverflowError:
            raise _too_wide(num_bits) from None
        return pack_values(values, num_bits)
    return pack_values(shot_ints(memory), num_bits)


def shot_ints(memory: Iterable[str]) -> list[int]:
    """Each shot's integer, from hex strings or a :class:`PackedMemory` (read unpacked).

    >>> shot_ints(["0x5", "0x0"]), shot_ints(PackedMemory(pack_hex(["0x5"], 3), 3))
    ([5, 0], [5])
    """
    if isinstance(memory, PackedMemory):
        values: list[int] = shot_values(memory.packed).tolist()
        return values
    return [int(shot, 16) for shot in memory]


def shot_values(packed: Packed) -> np.ndarray[Any, Any]:
    """Each packed row's integer: ``uint64`` up to 64 clbits, Python ints (object) above."""
    shots, width = packed.shape
    if width <= _WORD:
        words = np.zeros((shots, _WORD), dtype=np.uint8)
        words[:, _WORD - width :] = packed
        return words.view(">u8").reshape(shots).astype(np.uint64)
    return np.array([int.from_bytes(row.tobytes(), "big") for row in packed], dtype=object)


def hex_memory(packed: Packed) -> list[str]:
    """Packed rows as Qiskit's hex memory, one string per shot."""
    return [hex(value) for value in shot_values(packed).tolist()]


def counts_of(packed: Packed) -> dict[str, int]:
    """How often each outcome occurs among the packed shots, keyed by hex."""
    values = shot_values(packed)
    if values.dtype == object:
        return {hex(value): count for value, count in Counter(values.tolist()).items()}
    outcomes, counts = np.unique(values, return_counts=True)
    pairs = zip(outcomes.tolist(), counts.tolist(), strict=True)
    return {hex(value): count for value, count in pairs}


def encode_packed(packed: Packed) -> str:
    """Packed rows as the wire's base64 text."""
    return base64.b64encode(np.ascontiguousarray(packed, dtype=np.uint8).tobytes()).decode()


def decode_packed(text: str, *, shots: int, num_bits: int) -> Packed:
    """The wire's base64 text as packed rows, shaped ``(shots, shot_bytes(num_bits))``.

    Raises:
        ValueError: the text is not base64, or not ``shots`` shots of ``num_bits`` clbits.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("packed memory is not base64 text") from None
    width = shot_bytes(num_bits)
    if len(data) != shots * width:
        raise ValueError(
            f"packed memory has {len(data)} bytes; {shots} shots of {num_bits} clbits take "
            f"{shots * width}"
        )
    return np.frombuffer(data, dtype=np.uint8).reshape(shots, width)


class PackedMemory(Sequence[str]):
    """A row's per-shot memory as Qiskit's hex strings, kept packed until one is read.

    A million shots of 20 clbits are 3 MB packed and about 60 MB as a list of strings,
    so ``Result`` holds this instead of the list; it reads, compares and iterates as
    that list. ``packed`` gives the bytes (``BitArray``'s layout) without any text.

    >>> memory = PackedMemory(pack_hex(["0x1", "0x3"], 2), 2)
    >>> memory[1], list(memory), memory == ["0x1", "0x3"], len(memory)
    ('0x3', ['0x1', '0x3'], True, 2)
    """

    __slots__ = ("num_bits", "packed")

    def __init__(self, packed: Packed, num_bits: int) -> None:
        self.packed = packed
        self.num_bits = num_bits

    def __len__(self) -> int:
        return int(self.packed.shape[0])

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return hex_memory(self.packed[index])
        return hex_memory(self.packed[index : index + 1 or None])[0]

    def __iter__(self) -> Iterator[str]:
        chunk = 65536  # strings made a chunk at a time: never the whole list at once
        for start in range(0, len(self), chunk):
            yield from hex_memory(self.packed[start : start + chunk])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedMemory):
            return self.num_bits == other.num_bits and np.array_equal(self.packed, other.packed)
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = self[:4]
        more = ", ..." if len(self) > len(shown) else ""
        return f"PackedMemory([{', '.join(map(repr, shown))}{more}], shots={len(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return PackedMemory, (np.array(self.packed), self.num_bits)


class PackedCounts(Mapping[str, int]):
    """A row's counts, keyed by hex, counted from its packed memory when first read.

    >>> counts = PackedCounts(PackedMemory(pack_hex(["0x1", "0x3", "0x1"], 2), 2))
    >>> counts["0x1"], dict(counts), counts == {"0x3": 1, "0x1": 2}
    (2, {'0x1': 2, '0x3': 1}, True)
    """

    __slots__ = ("_counts", "memory")

    def __init__(self, memory: PackedMemory) -> None:
        self.memory = memory
        self._counts: dict[str, int] | None = None

    def _table(self) -> dict[str, int]:
        if self._counts is None:
            self._counts = counts_of(self.memory.packed)
        return self._counts

    def __getitem__(self, key: str) -> int:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())

    def __reduce__(self) -> tuple[Any, ...]:
        return PackedCounts, (self.memory,)


def unpack_row(program: ProgramResult, row: BindingResult) -> None:
    """Give a packed row (format 2) its ``memory`` and ``counts``, in place.

    ``memory`` becomes a :class:`PackedMemory` over the row's bytes (no string is made
    until one is read); ``counts``, when the server left them out, are counted from it
    (a ``dict`` up to :data:`EAGER_COUNTS_SHOTS` shots, else a :class:`PackedCounts`).
    The base64 text is let go. A row with hex memory, or without memory, is left as it is.

    Raises:
        VendorJobError: the packed memory is not ``shots`` shots of the program's clbits.
    """
    if row.packed_memory is None or row.memory is not None:
        return
    num_bits = program.num_clbits
    if num_bits is None:
        num_bits = program.header.memory_slots
    try:
        packed = decode_packed(row.packed_memory, shots=program.shots, num_bits=num_bits)
    except ValueError as exc:
        raise VendorJobError(
            f"the server sent a result that cannot be read: {exc}; retrieve the job again, "
            "and report it to the vendor if it persists"
        ) from None
    memory = PackedMemory(packed, num_bits)
    row.memory = memory
    row.packed_memory = None  # its text is a third larger than the bytes it held
    if row.counts is None:
        row.counts = (
            counts_of(packed) if program.shots <= EAGER_COUNTS_SHOTS else (PackedCounts(memory))
        )


def unpack_result(result: JobResult) -> JobResult:
    """``result`` with every packed row unpacked (:func:`unpack_row`): what the client reads.

    Raises:
        VendorJobError: a packed row is not ``shots`` shots of its program's clbits.
    """
    for program in result.results:
        for row in program.data:
            unpack_row(program, row)
    return result
