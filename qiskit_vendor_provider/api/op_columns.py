"""A program's plain operations as columns: the wire's compact form for large jobs.

A program without control flow sends its operations as five flat arrays instead of one
object or array per operation::

    "ops": {"kinds": [["rz", 1, 0, 1], ["cx", 2, 0, 0], ["measure", 1, 1, 0]],
            "code": [0, 1, 2],            one entry per operation: its kind
            "qubits": [0, 0, 1, 1],       the operations' qubits, one after another
            "clbits": [1],                ... their clbits
            "params": [0.5]}              ... their angles (numbers or expressions)

A kind is ``[name, qubits, clbits, angles]``: how many of each an operation of that kind
takes, so the arrays split without any per-operation punctuation. Such a program is
about a third of the bytes of the object form, and a server checks it with a few array
operations instead of a Python step per operation: a job at a 50 MB payload limit is
read and checked in about a second.

>>> columns = parse_columns({"kinds": [["rz", 1, 0, 1], ["cx", 2, 0, 0]], "code": [0, 1],
...                          "qubits": [0, 0, 1], "clbits": [], "params": [0.5]}, 2, 0,
...                         angle=lambda value, position: value)
>>> [tuple(op) for op in columns.operations()]
[('rz', [0], [], [0.5]), ('cx', [0, 1], [], [])]
>>> dump_columns(columns)["code"]
[0, 1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["OpColumns", "dump_columns", "parse_columns"]

Operation = tuple[str, Sequence[int], Sequence[int], Sequence[Any]]
"""One plain operation: ``(name, qubits, clbits, angles)``."""

MAX_KINDS = 4096
"""Most distinct kinds one program may declare."""
MAX_OPERATIONS = 1 << 22
"""Most operations one program may list, whatever the device (its own limit is lower):
arrays this long are already tens of megabytes, and the check comes before any is made."""


@dataclass(frozen=True, eq=False)
class OpColumns:
    """The plain operations of one program, column by column (see the module's text).

    Attributes:
        kinds: ``(name, qubits, clbits, angles)`` of each kind.
        code: The kind of each operation.
        qubits: Every operation's qubits, in order.
        clbits: Every operation's clbits, in order.
        params: Every operation's angles, in order: floats, with expressions (any object
            with ``terms``) where an angle depends on parameters.
        expressions: Positions in ``params`` that hold an expression.
    """

    kinds: list[tuple[str, int, int, int]]
    code: NDArray[np.int64]
    qubits: NDArray[np.int64]
    clbits: NDArray[np.int64]
    params: list[Any]
    expressions: list[int]

    @classmethod
    def of(
        cls, operations: Iterable[tuple[str, Sequence[int], Sequence[int], Sequence[Any]]]
    ) -> OpColumns:
        """Columns of ``(name, qubits, clbits, angles)`` operations, in order.

        An angle that is not a float is taken as an expression.

        >>> columns = OpColumns.of([("rz", [0], [], [0.5]), ("cx", [0, 1], [], [])])
        >>> columns.kinds, columns.code.tolist(), columns.qubits.tolist()
        ([('rz', 1, 0, 1), ('cx', 2, 0, 0)], [0, 1], [0, 0, 1])
        """
        kinds: dict[tuple[str, int, int, int], int] = {}
        code: list[int] = []
        qubits: list[int] = []
        clbits: list[int] = []
        params: list[Any] = []
        expressions: list[int] = []
        for name, operation_qubits, operation_clbits, angles in operations:
            key = (name, len(operation_qubits), len(operation_clbits), len(angles))
            kind = kinds.get(key)
            if kind is None:
                kind = kinds[key] = len(kinds)
            code.append(kind)
            qubits.extend(operation_qubits)
            clbits.extend(operation_clbits)
            for angle in angles:
                if type(angle) is not float:
                    expressions.append(len(params))
                params.append(angle)
        return cls(
            list(kinds),
            np.array(code, dtype=np.int64),
            np.array(qubits, dtype=np.int64),
            np.array(clbits, dtype=np.int64),
            params,
            expressions,
        )

    def __len__(self) -> int:
        return len(self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OpColumns) and dump_columns(self) == dump_columns(other)

    def __hash__(self) -> int:  # pragma: no cover - never hashed; defined with __eq__
        return id(self)

    def starts(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Where each operation's qubits, clbits and angles start in their arrays."""
        shape = np.array([kind[1:] for kind in self.kinds], dtype=np.int64).reshape(-1, 3)
        # One column at a time: an (operations x 3) array would triple the peak memory.
        begins = []
        for column in range(3):
            counts = shape[:, column][self.code]
            begin = np.cumsum(counts)
            begin -= counts
            begins.append(begin)
        return begins[0], begins[1], begins[2]

    def operations(self) -> Iterator[tuple[str, list[int], list[int], list[Any]]]:
        """Each operation as ``(name, qubits, clbits, angles)``, in order."""
        qubits, clbits = self.qubits.tolist(), self.clbits.tolist()
        params = self.params
        q = c = p = 0
        for kind in self.code.tolist():
            name, nq, nc, na = self.kinds[kind]
            yield name, qubits[q : q + nq], clbits[c : c + nc], params[p : p + na]
            q, c, p = q + nq, c + nc, p + na


def _ints(value: Any, what: str) -> NDArray[np.int64]:
    if type(value) is not list:
        raise ValueError(f"ops.{what} must be an array of integers")
    # Exact types: a bool is an int to isinstance and to numpy, and never an index.
    if value and not set(map(type, value)) <= {int}:
        raise ValueError(f"ops.{what} must hold integers only")
    try:
        array = np.array(value, dtype=np.int64)
    except OverflowError:
        raise ValueError(f"ops.{what} holds an integer out of range") from None
    if len(array) and array.min() < 0:
        raise ValueError(f"ops.{what} must hold non-negative integers")
    return array


def _kinds(value: Any, num_qubits: int, num_clbits: int) -> list[tuple[str, int, int, int]]:
    if type(value) is not list or len(value) > MAX_KINDS:
        raise ValueError(f"ops.kinds must be an array of at most {MAX_KINDS} kinds")
    kinds = []
    for index, kind in enumerate(value):
        if (
            type(kind) is not list
            or len(kind) != 4
            or type(kind[0]) is not str
            or not 1 <= len(kind[0]) <= 64
            or any(type(count) is not int or count < 0 for count in kind[1:])
        ):
            raise ValueError(
                f"ops.kinds[{index}] must be [name, qubits, clbits, angles]: a name of 1 to 64 "
                "characters and three non-negative integers"
            )
        name, nq, nc, na = kind
        if nq > max(num_qubits, 1) or nc > num_clbits or na > 64:
            raise ValueError(
                f"ops.kinds[{index}] ({name}) takes {nq} qubits, {nc} clbits and {na} angles; "
                f"the program has {num_qubits} qubits and {num_clbits} clbits"
            )
        kinds.append((name, nq, nc, na))
    return kinds


def parse_columns(
    value: Any, num_qubits: int, num_clbits: int, angle: Callable[[Any, int], Any]
) -> OpColumns:
    """Read and check a program's ``ops`` object.

    Args:
        value: The object as parsed from JSON (or an :class:`OpColumns`).
        num_qubits: The program's qubits: every qubit index must be below.
        num_clbits: The program's clbits: every clbit index must be below.
        angle: Reads one angle that is not a plain number (the API models' reader),
            given it and its position in ``params``.

    Raises:
        ValueError: what is wrong, by field.
    """
    if isinstance(value, OpColumns):
        value = dump_columns(value)
    if type(value) is not dict or set(value) != {"kinds", "code", "qubits", "clbits", "params"}:
        raise ValueError("ops must be an object of kinds, code, qubits, clbits and params")
    kinds = _kinds(value["kinds"], num_qubits, num_clbits)
    if type(value["code"]) is list and len(value["code"]) > MAX_OPERATIONS:
        raise ValueError(
            f"ops.code lists {len(value['code'])} operations; a program may have at most "
            f"{MAX_OPERATIONS}: split it"
        )
    code = _ints(value["code"], "code")
    qubits = _ints(value["qubits"], "qubits")
    clbits = _ints(value["clbits"], "clbits")
    params, expressions = _angles(value["params"], angle)
    if len(code) and code.max() >= len(kinds):
        raise ValueError(f"ops.code uses kind {int(code.max())}; there are {len(kinds)} kinds")
    shape = np.array([kind[1:] for kind in kinds], dtype=np.int64).reshape(-1, 3)
    totals = np.bincount(code, minlength=len(kinds)) @ shape
    found = {"qubits": len(qubits), "clbits": len(clbits), "params": len(params)}
    for total, (what, count) in zip(totals.tolist(), found.items(), strict=True):
        if total != count:
            raise ValueError(f"the kinds of ops.code take {total} {what}; ops.{what} has {count}")
    if len(qubits) and qubits.max() >= num_qubits:
        raise ValueError(
            f"ops uses qubit {int(qubits.max())}, but the program has {num_qubits} qubits"
        )
    if len(clbits) and clbits.max() >= num_clbits:
        raise ValueError(
            f"ops uses clbit {int(clbits.max())}, but the program has {num_clbits} clbits"
        )
    return OpColumns(kinds, code, qubits, clbits, params, expressions)


def _angles(value: Any, angle: Callable[[Any, int], Any]) -> tuple[list[Any], list[int]]:
    if type(value) is not list:
        raise ValueError("ops.params must be an array")
    if set(map(type, value)) <= {float, int}:  # the common case, checked as one array
        try:
            array = np.array(value, dtype=float)
        except OverflowError:  # an integer past the largest float (JSON allows it)
            raise ValueError("ops.params must be finite numbers") from None
        if not np.isfinite(array).all():
            raise ValueError("ops.params must be finite numbers")
        return array.tolist(), []
    params = [angle(item, position) for position, item in enumerate(value)]
    return params, [position for position, item in enumerate(params) if type(item) is not float]


def dump_columns(columns: OpColumns) -> dict[str, Any]:
    """The ``ops`` object as the wire carries it."""
    params = columns.params
    if columns.expressions:
        params = list(params)
        for position in columns.expressions:
            params[position] = params[position].model_dump(exclude_defaults=True)
    return {
        "kinds": [list(kind) for kind in columns.kinds],
        "code": columns.code.tolist(),
        "qubits": columns.qubits.tolist(),
        "clbits": columns.clbits.tolist(),
        "params": params,
    }
