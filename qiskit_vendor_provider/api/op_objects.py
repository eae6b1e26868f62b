"""A program's operations as objects: the layout for control flow and time-unit delays.

Two layouts carry a program's operations (``docs/design.md``, "The wire"): columns for a
plain circuit (:mod:`.op_columns`) and, in ``instructions``, one object per operation
for a program with control flow or with a delay in a time unit (``s``, ``ns``, ...)::

    {"name": "rz", "qubits": [0], "params": [0.5]}
    {"name": "if_else", "qubits": [0], "clbits": [0], "condition": {...}, "blocks": [[...]]}

This module owns that layout and the types it is made of (:class:`WireInstruction`,
:class:`WireExpr`, :data:`Angle`, ...), so :mod:`.models` imports them and nothing here
imports :mod:`.models`. A plain operation is held as an :class:`Op` however it came.

Clients of API 1.2 and before also wrote a plain operation as an array,
``[name, qubits, clbits, params]``; the SDK no longer writes it, and a server keeps
reading it for those clients (the API's minor versions only add).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple, Union

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from qiskit_vendor_provider.api.model_base import FiniteFloat, RequestModel

__all__ = [
    "CONTROL_FLOW_NAMES",
    "Angle",
    "CompactOp",
    "ControlFlowName",
    "Instruction",
    "Instructions",
    "Op",
    "ParameterExpression",
    "SwitchCaseValue",
    "WireExpr",
    "WireInstruction",
    "WireType",
    "check_bits",
    "column_angle",
    "dump_instructions",
    "expression_clbits",
    "nested_instructions",
    "parse_instructions",
    "read_angle",
]


ControlFlowName = Literal["if_else", "switch_case", "for_loop", "while_loop"]
"""The classical control-flow operations a device may support, named as in Qiskit."""
CONTROL_FLOW_NAMES: tuple[ControlFlowName, ...] = (
    "if_else",
    "switch_case",
    "for_loop",
    "while_loop",
)


SMALLEST_COEFFICIENT = 1e-12
"""The smallest magnitude of a parameter's coefficient in an angle (besides 0).

Qiskit 2.6 cannot hash an expression whose every coefficient is below about 1e-14 and
whose constant is negative (``-1 + 1e-15*a``), and Aer's binding hashes it, so such a
job could only fail in the simulator; a coefficient this small moves the angle by less
than a picoradian per unit of its parameter. The SDK never sends one (Qiskit's own
gradient rounds such a coefficient to 0); a hand-made request gets a 422.
"""


def coefficient_problem(name: str, coefficient: float) -> str | None:
    """Why ``coefficient`` of parameter ``name`` cannot be in an angle (None: it can).

    >>> print(coefficient_problem("a", 4.4e-107).split(";")[0])
    parameter 'a' has the coefficient 4.4e-107 in an angle
    >>> coefficient_problem("a", 0.0) is None and coefficient_problem("a", -2.5) is None
    True
    """
    if coefficient == 0 or abs(coefficient) >= SMALLEST_COEFFICIENT:
        return None
    return (
        f"parameter {name!r} has the coefficient {coefficient:g} in an angle; a coefficient "
        f"must be 0 or at least {SMALLEST_COEFFICIENT:g} in magnitude (Qiskit cannot hold "
        "smaller ones): drop the term or rescale the parameter"
    )


class ParameterExpression(RequestModel):
    """An affine angle: ``constant + sum(coefficient * parameter)``."""

    constant: FiniteFloat = 0.0
    terms: dict[str, FiniteFloat]

    @field_validator("terms")
    @classmethod
    def _check_coefficients(cls, terms: dict[str, float]) -> dict[str, float]:
        for name, coefficient in terms.items():
            if (problem := coefficient_problem(name, coefficient)) is not None:
                raise ValueError(problem)
        return terms


Angle = FiniteFloat | ParameterExpression


class WireType(RequestModel):
    """The type of a classical expression: a boolean, or an unsigned integer of a width."""

    kind: Literal["bool", "uint"]
    width: int | None = Field(default=None, ge=1, le=64)
    """Bits of a ``uint``; absent for a ``bool``."""


class WireExpr(RequestModel):
    """A classical expression on clbits, as Qiskit's ``qiskit.circuit.classical.expr``.

    ``kind`` says which fields count:

    * ``bit``: the clbit ``clbits[0]`` (a bool);
    * ``register``: the clbits ``clbits``, least significant first (a uint);
    * ``value``: the literal ``value`` of type ``type``;
    * ``unary``: ``op`` (``BIT_NOT``, ``LOGIC_NOT``) of ``operands[0]``;
    * ``binary``: ``op`` (``BIT_AND``, ``EQUAL``, ``LESS``, ...) of ``operands[0]`` and
      ``operands[1]``;
    * ``cast``: ``operands[0]`` converted to ``type``.

    Clbit indices are the program's own, also inside blocks.
    """

    kind: Literal["bit", "register", "value", "unary", "binary", "cast"]
    clbits: list[Annotated[int, Field(ge=0)]] = []
    value: int | None = Field(default=None, ge=0, lt=2**64)
    op: str | None = Field(default=None, max_length=32)
    type: WireType | None = None
    operands: list[WireExpr] = Field(default=[], max_length=2)


SwitchCaseValue = Annotated[int, Field(ge=0, lt=2**64)] | Literal["default"]


class Op(NamedTuple):
    """A plain operation of a wire program as held in memory: a light :class:`WireInstruction`.

    On the wire it is an object with ``name``, ``qubits`` and, when not empty, ``clbits``
    and ``params``; a server also reads the array ``[name, qubits, clbits, params]`` that
    clients of API 1.2 and before wrote. Read either way it becomes an ``Op``, a tuple,
    not a pydantic model per operation (ten times the memory). The remaining fields are
    always empty; they let code read an ``Op`` and a :class:`WireInstruction` alike.
    """

    name: str
    qubits: list[int]
    # Shared empty defaults are safe: an Op is never changed in place.
    clbits: list[int] = []
    params: list[Angle] = []
    unit: None = None
    blocks: tuple[()] = ()
    condition: None = None
    target: None = None
    cases: tuple[()] = ()
    indexset: None = None
    loop_parameter: None = None


Instruction = Union[Op, "WireInstruction"]
"""One instruction of a program: a plain :class:`Op`, or a :class:`WireInstruction` object."""

_Index = Annotated[int, Field(ge=0)]
_OpName = Annotated[str, Field(min_length=1, max_length=64)]
CompactOp = (
    tuple[_OpName, list[_Index]]
    | tuple[_OpName, list[_Index], list[_Index]]
    | tuple[_OpName, list[_Index], list[_Index], list[Angle]]
)
"""The schema of a plain operation: ``[name, qubits]``, ``[name, qubits, clbits]`` or
``[name, qubits, clbits, params]`` (documentation only: :func:`parse_instructions` reads it)."""


def _index_list(value: Any, position: int, what: str) -> list[int]:
    if type(value) is not list:
        raise ValueError(
            f"instructions[{position}]: {what} must be an array of indices, got "
            f"{type(value).__name__}"
        )
    for index in value:
        # type() is exact on purpose: a bool is an int to isinstance, and never an index.
        if type(index) is not int or index < 0:
            raise ValueError(
                f"instructions[{position}]: {what} must hold non-negative integers, got {index!r}"
            )
    return value


_EXPRESSION = TypeAdapter(ParameterExpression)


def read_angle(value: Any, position: int, field: str = "instructions") -> Angle:
    """One angle as read from JSON (or built in Python), checked; the one angle reader.

    ``field[position]`` says where it is, in messages only.
    """
    kind = type(value)
    if kind is float:
        if value - value != 0.0:  # inf or nan: both give nan here
            raise ValueError(f"{field}[{position}]: angles must be finite numbers, got {value}")
        return value  # type: ignore[no-any-return]
    if kind is int:
        try:
            return float(value)
        except OverflowError:  # JSON integers have no bound; a float has
            raise ValueError(
                f"{field}[{position}]: the angle is an integer of {value.bit_length()} bits, "
                "too large for a float; angles must be finite numbers"
            ) from None
    if kind is dict:
        try:
            return _EXPRESSION.validate_python(value, strict=True)
        except ValidationError as exc:
            raise ValueError(f"{field}[{position}]: not a parameter expression: {exc}") from None
    if isinstance(value, ParameterExpression):
        return value
    raise ValueError(
        f"{field}[{position}]: an angle is a number or a parameter expression, got {value!r}"
    )


def column_angle(value: Any, position: int) -> Angle:
    """An angle of a program's ``ops.params`` (the columns), read as :func:`read_angle` reads."""
    return read_angle(value, position, "ops.params")


def _op(item: Any, position: int) -> Op:
    """A compact operation, checked: what ``pydantic`` would check, at a fraction of its cost.

    (Messages are written only on failure: this runs for every operation of every job.)
    """
    size = len(item)
    if not 2 <= size <= 4:
        raise ValueError(
            f"instructions[{position}]: a compact operation is [name, qubits, clbits, params] "
            f"with clbits and params optional; got {size} items"
        )
    name = item[0]
    if type(name) is not str or not 1 <= len(name) <= 64:
        raise ValueError(
            f"instructions[{position}]: the name must be a string of 1 to 64 characters"
        )
    qubits = _index_list(item[1], position, "qubits")
    if size == 2:
        return Op(name, qubits)
    clbits = _index_list(item[2], position, "clbits")
    if size == 3:
        return Op(name, qubits, clbits)
    angles = item[3]
    if type(angles) is not list:
        raise ValueError(f"instructions[{position}]: params must be an array")
    return Op(name, qubits, clbits, [read_angle(value, position) for value in angles])


_PLAIN_KEYS = frozenset({"name", "qubits", "clbits", "params"})


def _plain_fields(item: dict[str, Any], position: int) -> list[Any]:
    """``[name, qubits, clbits, params]`` of a plain operation written as an object.

    >>> _plain_fields({"name": "x", "qubits": [0]}, 0)
    ['x', [0], [], []]
    """
    return [item["name"], item.get("qubits", []), item.get("clbits", []), item.get("params", [])]


def parse_instructions(value: Any) -> list[Instruction]:
    """Read a program's instructions, checking each strictly.

    An object is a plain :class:`Op` when it has only ``name``, ``qubits``, ``clbits``
    and ``params`` (and is no control flow), else a :class:`WireInstruction` (control
    flow, delays with a time unit). An array is a plain :class:`Op` as clients of API 1.2
    and before wrote it.

    >>> parse_instructions([["cx", [0, 1]], ["rz", [1], [], [0.5]]])
    [Op(name='cx', qubits=[0, 1], ...), Op(name='rz', qubits=[1], clbits=[], params=[0.5], ...)]
    >>> parse_instructions([["x", [True]]])
    Traceback (most recent call last):
    ...
    ValueError: instructions[0]: qubits must hold non-negative integers, got True
    """
    if type(value) is not list:
        raise ValueError("instructions must be an array")
    parsed: list[Instruction] = []
    append = parsed.append
    for position, item in enumerate(value):
        kind = type(item)
        if kind is list:
            append(_op(item, position))
        elif kind is Op:  # built in Python: its four fields are checked like an array
            append(_op(item[:4], position))
        elif kind is dict:
            name = item.get("name")
            if type(name) is str and name not in CONTROL_FLOW_NAMES and item.keys() <= _PLAIN_KEYS:
                # A plain operation in the object form (older clients): kept as an Op,
                # checked as its array would be. A pydantic object per operation took
                # ten times the memory, and sent the program down the slow checks.
                append(_op(_plain_fields(item, position), position))
                continue
            try:
                append(WireInstruction.model_validate(item, strict=True))
            except ValidationError as exc:
                raise ValueError(f"instructions[{position}]: {exc}") from None
        elif kind is WireInstruction:
            append(item)
        else:
            raise ValueError(
                f"instructions[{position}]: an instruction is an array (a plain operation) "
                f"or an object, got {kind.__name__}"
            )
    return parsed


def _angle_json(angle: Angle) -> Any:
    if isinstance(angle, ParameterExpression):
        return angle.model_dump(exclude_defaults=True)
    return angle


def dump_instructions(instructions: list[Instruction]) -> list[Any]:
    """Instructions as the wire carries them: one object each, empty fields left out.

    >>> dump_instructions([Op("cx", [0, 1]), Op("rz", [0], [], [0.5])])
    [{'name': 'cx', 'qubits': [0, 1]}, {'name': 'rz', 'qubits': [0], 'params': [0.5]}]
    """
    dumped: list[Any] = []
    append = dumped.append
    for inst in instructions:
        if type(inst) is Op:
            name, qubits, clbits, params = inst[:4]
            item: dict[str, Any] = {"name": name, "qubits": qubits}
            if clbits:
                item["clbits"] = clbits
            if params:
                item["params"] = [_angle_json(p) for p in params]
            append(item)
        else:
            append(inst.model_dump(mode="json", exclude_defaults=True))  # type: ignore[union-attr]
    return dumped


Instructions = Annotated[
    list[Any],
    PlainValidator(
        parse_instructions, json_schema_input_type=list[Union[CompactOp, "WireInstruction"]]
    ),
    PlainSerializer(dump_instructions),
]
"""A list of instructions: one object each (arrays for plain operations read too)."""


class WireInstruction(RequestModel):
    """One operation of a wire program, on flat qubit and clbit indices: the object form.

    A plain operation is usually sent in the compact form (:class:`Op`); the object form
    is what control flow and delays with a time unit need, and is accepted for any
    operation. A control-flow operation (``if_else``, ``switch_case``, ``for_loop``,
    ``while_loop``) also has ``blocks``: each a list of instructions on the program's own
    indices, using only the qubits and clbits the control-flow instruction lists.
    ``if_else`` has one or two blocks (true, false) and a ``condition``; ``while_loop``
    one block and a ``condition``; ``for_loop`` one block, an ``indexset`` and an
    optional ``loop_parameter`` its angles may use; ``switch_case`` a ``target`` and one
    block per entry of ``cases`` (the values that select it, ``"default"`` for any other).
    """

    name: str = Field(min_length=1, max_length=64)
    qubits: list[Annotated[int, Field(ge=0)]] = []
    clbits: list[Annotated[int, Field(ge=0)]] = []
    params: list[Angle] = []
    unit: Literal["s", "ms", "us", "ns", "ps"] | None = None
    """Time unit of a ``delay``; absent means ``dt``."""
    blocks: list[Instructions] = []
    condition: WireExpr | None = None
    target: WireExpr | None = None
    cases: list[list[SwitchCaseValue]] = []
    indexset: list[Annotated[int, Field(ge=-(2**31), lt=2**31)]] | None = None
    loop_parameter: str | None = Field(default=None, min_length=1, max_length=256)


def expression_clbits(expression: WireExpr) -> list[int]:
    """Every clbit index an expression reads, in the order they appear."""
    found = list(expression.clbits)
    for operand in expression.operands:
        found.extend(expression_clbits(operand))
    return found


def nested_instructions(
    instructions: list[Instruction],
) -> list[tuple[str, Instruction]]:
    """Every instruction, blocks included, with where it is (``"3"``, ``"3.block0.1"``)."""
    found: list[tuple[str, Instruction]] = []
    stack: list[tuple[str, list[Instruction]]] = [("", instructions)]
    while stack:
        prefix, items = stack.pop()
        for position, inst in enumerate(items):
            where = f"{prefix}{position}"
            found.append((where, inst))
            for number, block in enumerate(inst.blocks):
                stack.append((f"{where}.block{number}.", block))
    return found


def check_bits(
    instructions: list[Instruction], num_qubits: int, num_clbits: int, prefix: str
) -> None:
    """Every qubit and clbit an instruction names is in the program (blocks included)."""
    for position, inst in enumerate(instructions):
        # One max() per instruction: this runs over every operation of every job.
        if inst.qubits and max(inst.qubits) >= num_qubits:
            raise ValueError(
                f"instruction {prefix}{position} ({inst.name}) uses qubit {max(inst.qubits)}, "
                f"but the program has {num_qubits} qubits"
            )
        read = inst.clbits
        if type(inst) is not Op:
            read = [
                *inst.clbits,
                *(expression_clbits(inst.condition) if inst.condition else []),
                *(expression_clbits(inst.target) if inst.target else []),
            ]
            for number, block in enumerate(inst.blocks):
                check_bits(block, num_qubits, num_clbits, f"{prefix}{position}.block{number}.")
        if read and max(read) >= num_clbits:
            raise ValueError(
                f"instruction {prefix}{position} ({inst.name}) uses clbit {max(read)}, but "
                f"the program has {num_clbits} clbits"
            )
