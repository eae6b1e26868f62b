"""QuantumCircuit ⇄ wire program, and wire result → :class:`qiskit.result.Result`.

Bit order: a wire instruction names clbits by their index in the circuit, and the server
keys counts and memory by hex integers whose bit *i* is clbit *i* — Qiskit's own order,
so no bit is ever reordered on the way. Register mapping lives in one function,
:func:`register_layout`, which says how those keys split into classical registers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import ValidationError
from qiskit.circuit import (
    Barrier,
    CircuitInstruction,
    ClassicalRegister,
    Clbit,
    Delay,
    ForLoopOp,
    IfElseOp,
    Instruction,
    Parameter,
    ParameterExpression,
    QuantumCircuit,
    SwitchCaseOp,
    WhileLoopOp,
)
from qiskit.circuit.classical import expr, types
from qiskit.circuit.controlflow import CASE_DEFAULT, CONTROL_FLOW_OP_NAMES
from qiskit.circuit.exceptions import CircuitError
from qiskit.result import Result
from qiskit.transpiler import Target

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.api.op_columns import OpColumns
from qiskit_vendor_provider.api.shots import PackedCounts, PackedMemory, decode_packed
from qiskit_vendor_provider.errors import VendorJobError, VendorValidationError
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.qiskit_internals import append_unchecked

__all__ = [
    "WireFormatError",
    "circuit_to_wire",
    "register_layout",
    "to_qiskit_result",
    "wire_to_circuit",
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
    expected = 0
    for creg in circuit.cregs:
        for offset, clbit in enumerate(creg):
            if circuit.find_bit(clbit).index != expected + offset:
                return [], circuit.num_clbits
        expected += creg.size
    if expected != circuit.num_clbits:
        return [], circuit.num_clbits
    return [(creg.name, creg.size) for creg in circuit.cregs], circuit.num_clbits


# --------------------------------------------------------------------------- circuits


def _json_safe(value: Any, circuit_name: str = "") -> Any:
    """Metadata as JSON: numpy scalars and arrays become numbers and lists, others text.

    A key JSON cannot have (a tuple, say) becomes its ``str``; Qiskit allows any key.

    Raises:
        WireFormatError: the metadata contains itself, or is nested too deep to write.
    """
    try:
        return json.loads(json.dumps(_plain_keys(value, set()), default=_json_default))
    except (ValueError, RecursionError):
        raise WireFormatError(
            f"circuit {_shown_name(circuit_name)}: its metadata contains itself or is nested "
            "too deeply to be sent; give circuit.metadata plain values (numbers, strings, "
            "lists and dicts)"
        ) from None


def _plain_keys(value: Any, open_containers: set[int]) -> Any:
    """``value`` with every dict key JSON cannot hold turned into text; cycles refused."""
    if isinstance(value, (dict, list, tuple)):
        if id(value) in open_containers:
            raise ValueError("circular reference")
        open_containers.add(id(value))
        try:
            if isinstance(value, dict):
                return {
                    key if isinstance(key, (str, int, float, bool)) or key is None else str(key): (
                        _plain_keys(item, open_containers)
                    )
                    for key, item in value.items()
                }
            return [_plain_keys(item, open_containers) for item in value]
        finally:
            open_containers.discard(id(value))
    return value


def _shown_name(name: str, limit: int = 40) -> str:
    """A circuit name for a message: quoted, and cut short if long.

    >>> _shown_name("bell"), _shown_name("x" * 300, limit=8)
    ("'bell'", "'xxxxxxxx...' (300 characters)")
    """
    if len(name) <= limit:
        return repr(name)
    return f"{name[:limit]!r}"[:-1] + f"...' ({len(name)} characters)"


def _api_limit_error(circuit_name: str, exc: ValidationError) -> WireFormatError:
    """The typed error for a circuit the API's models refuse: the field and its limit."""
    error = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    return WireFormatError(
        f"circuit {_shown_name(circuit_name)} cannot be sent: {exc.title} field {field!r}: "
        f"{error['msg']} (a limit of the vendor API). Change the circuit to fit it"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def _wire_angle(value: Any, circuit_name: str, op_name: str) -> models.Angle:
    if isinstance(value, ParameterExpression):
        if not value.parameters:
            return float(value)
        return _affine(value, circuit_name, op_name)
    try:
        number = float(value)
    except OverflowError:  # a Python int past the largest float: 10**309
        number = math.inf
    if not math.isfinite(number):
        raise WireFormatError(
            f"circuit {circuit_name!r}: {op_name} has the angle {_shown(value)}; angles "
            "must be finite numbers"
        )
    return number


def _shown(value: Any) -> str:
    """An angle for a message; a huge integer by its size (``str`` refuses past 4300 digits).

    >>> _shown(10**309), _shown(0.5)
    ('an integer of 1027 bits', '0.5')
    """
    if isinstance(value, int) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    return str(value)


def _affine(expr: ParameterExpression, circuit_name: str, op_name: str) -> models.Angle:
    """``expr`` as constant + sum(coefficient * parameter), or an error if it is not affine."""
    terms: dict[str, float] = {}
    for parameter in expr.parameters:
        gradient = expr.gradient(parameter)
        if isinstance(gradient, ParameterExpression) and gradient.parameters:
            raise WireFormatError(
                f"circuit {circuit_name!r}: the angle {expr} of {op_name} is not affine in "
                f"{parameter}; bind the parameters before running"
            )
        terms[parameter.name] = float(gradient)
    constant = float(expr.bind(dict.fromkeys(expr.parameters, 0.0)))
    return models.ParameterExpression(constant=constant, terms=terms)


def circuit_to_wire(
    circuit: QuantumCircuit,
    *,
    parameter_values: Sequence[Sequence[float]] | None = None,
    parameters: Sequence[Parameter] | None = None,
) -> models.WireProgram:
    """Write a circuit in native operations as a wire program.

    Args:
        circuit: The circuit, already in the device's operations.
        parameter_values: One row of values per binding, for a server-side sweep.
        parameters: The column order of ``parameter_values`` (default: ``circuit.parameters``).

    Returns:
        The wire program; its header records the register layout, name and metadata.

    Raises:
        WireFormatError: an angle is not finite or not affine in the parameters; the
            circuit's name is longer than :data:`MAX_CIRCUIT_NAME_LENGTH`; its metadata
            contains itself; or a value is past one of the API's limits (the message
            names the field and the limit).
    """
    if len(circuit.name) > MAX_CIRCUIT_NAME_LENGTH:
        raise WireFormatError(
            f"the circuit named {_shown_name(circuit.name)} has a name of {len(circuit.name)} "
            f"characters; the most the vendor API takes is {MAX_CIRCUIT_NAME_LENGTH}: give it "
            "a shorter one (circuit.name = ...)"
        )
    try:
        return _circuit_to_wire(circuit, parameter_values, parameters)
    except ValidationError as exc:
        # A value past one of the API's limits (a loop parameter's name, an index, a
        # register width): named, not pydantic's own report.
        raise _api_limit_error(circuit.name, exc) from None


def _circuit_to_wire(
    circuit: QuantumCircuit,
    parameter_values: Sequence[Sequence[float]] | None,
    parameters: Sequence[Parameter] | None,
) -> models.WireProgram:
    creg_sizes, memory_slots = register_layout(circuit)
    columns = _wire_columns(circuit)
    instructions = (
        []
        if columns is not None
        else _wire_instructions(
            circuit, list(range(circuit.num_qubits)), list(range(circuit.num_clbits)), circuit.name
        )
    )
    order = list(parameters if parameters is not None else free_parameters(circuit))
    header = models.ProgramHeader(
        name=circuit.name,
        creg_sizes=creg_sizes,
        qreg_sizes=[(qreg.name, qreg.size) for qreg in circuit.qregs],
        memory_slots=memory_slots,
        metadata=_json_safe(circuit.metadata, circuit.name) if circuit.metadata else {},
    )
    values = np.asarray(parameter_values if parameter_values is not None else [], dtype=float)
    if values.size and not np.isfinite(values).all():
        raise WireFormatError(
            f"circuit {circuit.name!r}: a parameter value is not a finite number; bind "
            "finite values"
        )
    # Not validated again: every field is built here from a circuit, so it holds by
    # construction what the model checks (the server checks it all on arrival).
    return models.WireProgram.model_construct(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        instructions=instructions,
        ops=columns,
        header=header,
        parameters=[p.name for p in order],
        parameter_values=values.tolist() if len(values) else [],
    )


def _wire_columns(circuit: QuantumCircuit) -> OpColumns | None:
    """The circuit's operations as columns, or None if it needs the instruction form.

    Control flow (blocks, conditions) and delays in a unit other than ``dt`` need it;
    everything else is a plain operation, which the columns carry compactly.
    """
    qubit_index = {bit: i for i, bit in enumerate(circuit.qubits)}
    clbit_index = {bit: i for i, bit in enumerate(circuit.clbits)}
    operations = []
    label = circuit.name
    for item in circuit.data:
        # The name and params are read without item.operation, which would build a
        # Python gate object for every standard gate of the circuit.
        name = item.name
        if name in _PLAIN_SPECIAL:
            if name == "barrier":
                angles: list[models.Angle] = []
            elif name == "delay" and item.operation.unit == "dt":
                angles = [_wire_delay_duration(item.operation, label)]
            else:
                return None
        else:
            angles = [_wire_angle(p, label, name) for p in item.params] if item.params else []
        operations.append(
            (
                name,
                [qubit_index[q] for q in item.qubits],
                [clbit_index[c] for c in item.clbits] if item.clbits else [],
                angles,
            )
        )
    return OpColumns.of(operations)


def _wire_instructions(
    circuit: QuantumCircuit, qubit_map: list[int], clbit_map: list[int], label: str
) -> list[models.Instruction]:
    """The circuit's instructions on the program's own indices (blocks map their bits)."""
    qubit_index = {bit: qubit_map[i] for i, bit in enumerate(circuit.qubits)}
    clbit_index = {bit: clbit_map[i] for i, bit in enumerate(circuit.clbits)}
    instructions: list[models.Instruction] = []
    append = instructions.append
    for item in circuit.data:
        # The instruction's name and params are read without item.operation, which
        # would build a Python gate object for every standard gate of the circuit.
        name = item.name
        qubits = [qubit_index[q] for q in item.qubits]
        clbits = [clbit_index[c] for c in item.clbits] if item.clbits else []
        if name in _PLAIN_SPECIAL:
            append(
                _wire_special(
                    circuit,
                    item.operation,
                    qubits=qubits,
                    clbits=clbits,
                    clbit_map=clbit_map,
                    label=label,
                )
            )
            continue
        params = item.params
        if not params:
            append(models.Op(name, qubits, clbits))
        else:
            angles = [_wire_angle(p, label, name) for p in params]
            append(models.Op(name, qubits, clbits, angles))
    return instructions


# Operations that are not written as [name, qubits, clbits, params] from their fields.
_PLAIN_SPECIAL = frozenset(
    {"barrier", "delay", "store", "break_loop", "continue_loop", *CONTROL_FLOW_OP_NAMES}
)


def _wire_special(
    circuit: QuantumCircuit,
    op: Instruction,
    *,
    qubits: list[int],
    clbits: list[int],
    clbit_map: list[int],
    label: str,
) -> models.Instruction:
    """A barrier, delay or control-flow operation on the wire (or the error it is)."""
    if isinstance(op, Barrier):
        return models.Op("barrier", qubits)
    if isinstance(op, Delay):
        return _wire_delay(op, qubits, label)
    if op.name == "store":
        raise WireFormatError(
            f"circuit {label!r}: it stores to a classical variable; the devices take "
            "conditions on clbits and classical registers only: measure into a "
            "ClassicalRegister and test that"
        )
    return _wire_control_flow(
        circuit, op, qubits=qubits, clbits=clbits, clbit_map=clbit_map, name=label
    )


def _wire_delay(op: Delay, qubits: list[int], name: str) -> models.Instruction:
    duration = _wire_delay_duration(op, name)
    if op.unit == "dt":
        return models.Op("delay", qubits, [], [duration])
    return models.WireInstruction(name="delay", qubits=qubits, params=[duration], unit=op.unit)


def _wire_delay_duration(op: Delay, name: str) -> models.Angle:
    if isinstance(op.duration, ParameterExpression) and op.duration.parameters:
        # A device's schedule is fixed per program: its delays are numbers.
        raise WireFormatError(
            f"circuit {name!r}: a delay lasts {op.duration}, a parameter; the wire "
            "carries a delay's duration as a number only: bind it first "
            "(circuit.assign_parameters), one circuit per duration"
        )
    return _wire_angle(op.duration, name, op.name)


def _wire_control_flow(
    circuit: QuantumCircuit,
    op: Instruction,
    *,
    qubits: list[int],
    clbits: list[int],
    clbit_map: list[int],
    name: str,
) -> models.WireInstruction:
    """A control-flow operation: its blocks use the instruction's bits, positionally."""
    if not isinstance(op, (IfElseOp, WhileLoopOp, SwitchCaseOp, ForLoopOp)):
        raise WireFormatError(
            f"circuit {name!r}: {op.name!r} cannot be sent; the devices run if_else, "
            "switch_case, for_loop and while_loop (no break_loop or continue_loop): end a "
            "loop with its condition instead"
        )
    blocks = [_wire_instructions(block, qubits, clbits, name) for block in op.blocks]
    fields: dict[str, Any] = {}
    if isinstance(op, (IfElseOp, WhileLoopOp)):
        fields["condition"] = _wire_condition(circuit, op.condition, clbit_map, name)
    elif isinstance(op, SwitchCaseOp):
        fields["target"] = _wire_condition(circuit, op.target, clbit_map, name)
        fields["cases"] = [
            ["default" if value is CASE_DEFAULT else int(value) for value in values]
            for values, _ in op.cases_specifier()
        ]
    elif isinstance(op, ForLoopOp):
        indexset, loop_parameter, _ = op.params
        fields["indexset"] = [int(index) for index in indexset]
        if loop_parameter is not None:
            fields["loop_parameter"] = loop_parameter.name
    return models.WireInstruction(
        name=op.name, qubits=qubits, clbits=clbits, blocks=blocks, **fields
    )


def _wire_condition(
    circuit: QuantumCircuit, condition: Any, clbit_map: list[int], name: str
) -> models.WireExpr:
    """A condition or switch target (a tuple, a bit, a register or an expression) on the wire."""
    if isinstance(condition, tuple):
        bits, value = condition
        if isinstance(bits, Clbit):
            node = expr.lift(bits)
            condition = node if value else expr.logic_not(node)
        else:
            condition = expr.equal(bits, int(value))
    elif isinstance(condition, (Clbit, ClassicalRegister)):
        condition = expr.lift(condition)
    return _wire_expr(circuit, condition, clbit_map, name)


def _wire_type(kind: types.Type, name: str) -> models.WireType:
    if isinstance(kind, types.Bool):
        return models.WireType(kind="bool")
    if isinstance(kind, types.Uint):
        return models.WireType(kind="uint", width=kind.width)
    raise WireFormatError(
        f"circuit {name!r}: a condition uses the type {kind}; the devices take bool and "
        "uint conditions on clbits and registers"
    )


def _wire_expr(
    circuit: QuantumCircuit, node: expr.Expr, clbit_map: list[int], name: str
) -> models.WireExpr:
    if isinstance(node, expr.Var):
        if isinstance(node.var, Clbit):
            return models.WireExpr(kind="bit", clbits=[clbit_map[circuit.find_bit(node.var).index]])
        if isinstance(node.var, ClassicalRegister):
            return models.WireExpr(
                kind="register",
                clbits=[clbit_map[circuit.find_bit(bit).index] for bit in node.var],
            )
        raise WireFormatError(
            f"circuit {name!r}: a condition uses the classical variable {node.name!r}; the "
            "devices take conditions on clbits and classical registers only: measure into a "
            "ClassicalRegister and test that"
        )
    if isinstance(node, expr.Value):
        return models.WireExpr(
            kind="value", value=int(node.value), type=_wire_type(node.type, name)
        )
    if isinstance(node, expr.Cast):
        if node.implicit:  # the reader's expression builders put it back
            return _wire_expr(circuit, node.operand, clbit_map, name)
        return models.WireExpr(
            kind="cast",
            type=_wire_type(node.type, name),
            operands=[_wire_expr(circuit, node.operand, clbit_map, name)],
        )
    if isinstance(node, expr.Unary) and node.op.name in _UNARY:
        return models.WireExpr(
            kind="unary",
            op=node.op.name,
            operands=[_wire_expr(circuit, node.operand, clbit_map, name)],
        )
    if isinstance(node, expr.Binary) and node.op.name in _BINARY:
        return models.WireExpr(
            kind="binary",
            op=node.op.name,
            operands=[
                _wire_expr(circuit, node.left, clbit_map, name),
                _wire_expr(circuit, node.right, clbit_map, name),
            ],
        )
    raise WireFormatError(
        f"circuit {name!r}: the condition {node} uses an operation the devices do not "
        f"evaluate; use {', '.join(sorted({*_UNARY, *_BINARY}))}"
    )


# The classical operations the devices evaluate (Aer's set), by Qiskit's enum names.
_UNARY: dict[str, Any] = {"BIT_NOT": expr.bit_not, "LOGIC_NOT": expr.logic_not}
_BINARY: dict[str, Any] = {
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


def _angle_value(angle: models.Angle, symbols: dict[str, Parameter]) -> float | ParameterExpression:
    if isinstance(angle, models.ParameterExpression):
        value: float | ParameterExpression = angle.constant
        for name, coefficient in angle.terms.items():
            if name not in symbols:
                raise WireFormatError(f"angle uses parameter {name!r}, which is not declared")
            value = value + coefficient * symbols[name]
        return value
    return angle


def wire_to_circuit(program: models.WireProgram, target: Target) -> QuantumCircuit:
    """Read a wire program back as a circuit, using only the Target's operations.

    Args:
        program: The program as received.
        target: The device's Target: the only operations a program may use (and barriers).

    Returns:
        A circuit on flat registers ``q`` and ``c``, with free parameters named as on
        the wire. Validate it with :func:`~qiskit_vendor_provider.validation.validate_circuit`.

    Raises:
        WireFormatError: an operation that the device does not have, or with the wrong
            number of qubits, clbits or angles.
    """
    circuit = QuantumCircuit(program.num_qubits, program.num_clbits, name=program.header.name)
    reader = _Reader(program, target, circuit)
    label = f"program {program.header.name!r}"
    if program.ops is not None:
        reader.fill_columns(circuit, program.ops, label)
    else:
        reader.fill(circuit, program.instructions, reader.symbols, label)
    return circuit


class _Reader:
    """Reads instructions, blocks included, into circuits over one program's bits."""

    def __init__(self, program: models.WireProgram, target: Target, top: QuantumCircuit):
        self.target = target
        self.top = top
        self.symbols = {name: Parameter(name) for name in program.parameters}
        # One register per distinct tuple of clbits a condition reads as an integer.
        self.registers: dict[tuple[int, ...], ClassicalRegister] = {}
        self.makers: dict[str, tuple[Any, tuple[int, int, int]]] = {}

    def fill(
        self,
        circuit: QuantumCircuit,
        instructions: list[models.Instruction],
        symbols: dict[str, Parameter],
        label: str,
    ) -> None:
        top_level = circuit is self.top
        for index, inst in enumerate(instructions):
            if top_level and type(inst) is models.Op and inst.name not in ("barrier", "delay"):
                # The common case, kept lean: a plain gate on the program's own bits.
                self.append_gate(circuit, inst, symbols, label, index)
                continue
            where = f"{label}, instruction {index} ({inst.name})"
            qubits = [self.top.qubits[q] for q in inst.qubits]
            clbits = [self.top.clbits[c] for c in inst.clbits]
            outside = [
                q for q, bit in zip(inst.qubits, qubits, strict=True) if bit not in circuit.qubits
            ]
            outside_c = [
                c for c, bit in zip(inst.clbits, clbits, strict=True) if bit not in circuit.clbits
            ]
            if outside or outside_c:
                raise WireFormatError(
                    f"{where}: uses qubits {outside} / clbits {outside_c} that the enclosing "
                    "control-flow instruction does not list; list every bit a block uses"
                )
            if len(set(inst.qubits)) != len(inst.qubits) or len(set(inst.clbits)) != len(
                inst.clbits
            ):
                raise WireFormatError(f"{where}: repeats a qubit or clbit")
            if inst.name in _CONTROL_FLOW_READERS:
                if isinstance(inst, models.Op):  # the compact form has no blocks
                    raise WireFormatError(f"{where}: {_CONTROL_FLOW_READERS[inst.name]}")
                op = self.control_flow(circuit, inst, symbols, where)
                circuit.append(op, qubits, clbits, copy=False)
                continue
            if (
                inst.blocks
                or inst.condition
                or inst.target
                or inst.cases
                or (inst.indexset is not None or inst.loop_parameter is not None)
            ):
                raise WireFormatError(
                    f"{where}: only control-flow operations have blocks, conditions, "
                    "targets, cases or loops"
                )
            if inst.name == "barrier":
                circuit.barrier(*qubits)
                continue
            op = _native_operation(self.target, inst.name, where)
            params = [_angle_value(a, symbols) for a in inst.params]
            if inst.name == "delay":
                op = Delay(params[0] if params else 0, unit=inst.unit or "dt")
            elif len(params) != len(op.params):
                raise WireFormatError(f"{where}: takes {len(op.params)} angles, got {len(params)}")
            elif params:
                op = op.to_mutable()
                op.params = params
            if len(inst.qubits) != op.num_qubits or len(inst.clbits) != op.num_clbits:
                raise WireFormatError(
                    f"{where}: acts on {op.num_qubits} qubits and {op.num_clbits} clbits, got "
                    f"{len(inst.qubits)} and {len(inst.clbits)}"
                )
            circuit.append(op, qubits, clbits, copy=False)

    def fill_columns(self, circuit: QuantumCircuit, columns: OpColumns, label: str) -> None:
        """Append a program's column operations, checked as :meth:`fill` checks them."""
        for index, (name, qubits, clbits, angles) in enumerate(columns.operations()):
            if name in {"barrier", "delay"}:
                where = f"{label}, instruction {index} ({name})"
                expected = 1 if name == "delay" else 0
                if clbits or len(angles) != expected:
                    raise WireFormatError(f"{where}: takes no clbits and {expected} angles")
                if len(set(qubits)) != len(qubits):
                    raise WireFormatError(f"{where}: repeats a qubit or clbit")
                operation: Instruction = (
                    Barrier(len(qubits))
                    if name == "barrier"
                    else Delay(_angle_value(angles[0], self.symbols), unit="dt")
                )
                circuit.append(operation, [self.top.qubits[q] for q in qubits], copy=False)
                continue
            self.append_gate(
                circuit, models.Op(name, qubits, clbits, angles), self.symbols, label, index
            )

    def append_gate(
        self,
        circuit: QuantumCircuit,
        inst: models.Op,
        symbols: dict[str, Parameter],
        label: str,
        index: int,
    ) -> None:
        """Append one plain operation of the top-level circuit, checked as :meth:`fill` does."""
        name, qubits, clbits, angles = inst[:4]
        make = self.makers.get(name)
        if make is None:
            make = self.makers[name] = _maker(self.target, name, f"{label}, instruction {index}")
        operation, arity = make
        if (len(qubits), len(clbits), len(angles)) != arity or (
            len(qubits) > 1 and len(set(qubits)) != len(qubits)
        ):
            where = f"{label}, instruction {index} ({name})"
            if len(angles) != arity[2]:
                raise WireFormatError(f"{where}: takes {arity[2]} angles, got {len(angles)}")
            if len(set(qubits)) != len(qubits):
                raise WireFormatError(f"{where}: repeats a qubit or clbit")
            raise WireFormatError(
                f"{where}: acts on {arity[0]} qubits and {arity[1]} clbits, got "
                f"{len(qubits)} and {len(clbits)}"
            )
        if angles:
            operation = operation(*[_angle_value(a, symbols) for a in angles])
        all_qubits, all_clbits = self.top.qubits, self.top.clbits
        append_unchecked(
            circuit,
            CircuitInstruction(
                operation,
                tuple(all_qubits[q] for q in qubits),
                tuple(all_clbits[c] for c in clbits),
            ),
        )

    def block(
        self,
        circuit: QuantumCircuit,
        inst: models.WireInstruction,
        number: int,
        symbols: dict[str, Parameter],
        where: str,
    ) -> QuantumCircuit:
        """Block ``number`` of ``inst`` as a circuit over the instruction's bits."""
        body = QuantumCircuit(
            [self.top.qubits[q] for q in inst.qubits], [self.top.clbits[c] for c in inst.clbits]
        )
        self.fill(body, inst.blocks[number], symbols, f"{where}, block {number}")
        return body

    def control_flow(
        self,
        circuit: QuantumCircuit,
        inst: models.WireInstruction,
        symbols: dict[str, Parameter],
        where: str,
    ) -> Instruction:
        if inst.name not in self.target.operation_names:
            raise WireFormatError(
                f"{where}: this device does not run {inst.name!r} (dynamic circuits it "
                f"runs: {', '.join(_control_flow_names(self.target)) or 'none'})"
            )
        expected = _CONTROL_FLOW_READERS[inst.name]
        if inst.params or inst.unit is not None:
            raise WireFormatError(f"{where}: a control-flow operation takes no angles or unit")
        count = len(inst.blocks)
        if inst.name == "if_else":
            if count not in (1, 2) or inst.condition is None:
                raise WireFormatError(f"{where}: {expected}")
            condition = self.expression(circuit, inst.condition, where)
            bodies = [self.block(circuit, inst, n, symbols, where) for n in range(count)]
            return IfElseOp(condition, bodies[0], bodies[1] if count == 2 else None)
        if inst.name == "while_loop":
            if count != 1 or inst.condition is None:
                raise WireFormatError(f"{where}: {expected}")
            condition = self.expression(circuit, inst.condition, where)
            return WhileLoopOp(condition, self.block(circuit, inst, 0, symbols, where))
        if inst.name == "for_loop":
            if count != 1 or inst.indexset is None:
                raise WireFormatError(f"{where}: {expected}")
            loop_parameter = None
            inner = symbols
            if inst.loop_parameter is not None:
                if inst.loop_parameter in symbols:
                    raise WireFormatError(
                        f"{where}: the loop parameter {inst.loop_parameter!r} is already a "
                        "parameter of the program; give it another name"
                    )
                loop_parameter = Parameter(inst.loop_parameter)
                inner = {**symbols, inst.loop_parameter: loop_parameter}
            body = self.block(circuit, inst, 0, inner, where)
            return ForLoopOp(tuple(inst.indexset), loop_parameter, body)
        # switch_case
        if inst.target is None or count == 0 or len(inst.cases) != count:
            raise WireFormatError(f"{where}: {expected}")
        switch_target = self.expression(circuit, inst.target, where)
        if isinstance(switch_target, expr.Var) and isinstance(
            switch_target.var, (Clbit, ClassicalRegister)
        ):
            switch_target = switch_target.var
        cases = [
            (
                tuple(CASE_DEFAULT if value == "default" else value for value in values),
                self.block(circuit, inst, n, symbols, where),
            )
            for n, values in enumerate(inst.cases)
        ]
        return SwitchCaseOp(switch_target, cases)

    def expression(self, circuit: QuantumCircuit, wire: models.WireExpr, where: str) -> expr.Expr:
        """A wire expression as Qiskit's, over bits and registers of ``circuit``."""
        try:
            return self._expression(circuit, wire)
        except (CircuitError, TypeError, ValueError) as exc:
            raise WireFormatError(f"{where}: the condition is not valid: {exc}") from None

    def _expression(self, circuit: QuantumCircuit, wire: models.WireExpr) -> expr.Expr:
        operands = [self._expression(circuit, operand) for operand in wire.operands]
        arity = {"bit": 0, "register": 0, "value": 0, "unary": 1, "binary": 2, "cast": 1}
        if len(operands) != arity[wire.kind]:
            raise ValueError(f"{wire.kind} takes {arity[wire.kind]} operands, got {len(operands)}")
        if wire.kind in ("bit", "register"):
            bits = [self.top.clbits[c] for c in wire.clbits]
            missing = [
                c for c, bit in zip(wire.clbits, bits, strict=True) if bit not in circuit.clbits
            ]
            if missing:
                raise ValueError(
                    f"it reads clbits {missing}, which the enclosing control-flow "
                    "instruction does not list"
                )
            if wire.kind == "bit":
                if len(bits) != 1:
                    raise ValueError(f"a bit is one clbit, got {wire.clbits}")
                return expr.lift(bits[0])
            if not bits or len(set(wire.clbits)) != len(bits):
                raise ValueError(f"a register is distinct clbits, got {wire.clbits}")
            return expr.lift(self.register(circuit, tuple(wire.clbits)))
        if wire.kind == "value":
            if wire.value is None or wire.type is None:
                raise ValueError("a value needs a value and a type")
            width = 1 if wire.type.kind == "bool" else wire.type.width or 0
            if wire.value >= 1 << width:
                raise ValueError(f"the value {wire.value} does not fit in its type ({width} bits)")
            return expr.Value(
                bool(wire.value) if wire.type.kind == "bool" else wire.value,
                _qiskit_type(wire.type),
            )
        if wire.kind == "cast":
            if wire.type is None:
                raise ValueError("a cast needs a type")
            return expr.cast(operands[0], _qiskit_type(wire.type))
        table = _UNARY if wire.kind == "unary" else _BINARY
        if wire.op not in table:
            raise ValueError(f"unknown {wire.kind} operation {wire.op!r}; use {sorted(table)}")
        node: expr.Expr = table[wire.op](*operands)
        return node

    def register(self, circuit: QuantumCircuit, clbits: tuple[int, ...]) -> ClassicalRegister:
        """The register over ``clbits``, added to ``circuit`` if it is not there yet."""
        register = self.registers.get(clbits)
        if register is None:
            register = ClassicalRegister(
                bits=[self.top.clbits[c] for c in clbits], name=f"cond{len(self.registers)}"
            )
            self.registers[clbits] = register
        if register not in circuit.cregs:
            circuit.add_register(register)
        return register


def _qiskit_type(wire: models.WireType) -> types.Type:
    if wire.kind == "bool":
        if wire.width is not None:
            raise ValueError("a bool has no width")
        return types.Bool()
    if wire.width is None:
        raise ValueError("a uint needs a width")
    return types.Uint(wire.width)


# What each control-flow operation needs on the wire, for messages.
_CONTROL_FLOW_READERS = {
    "if_else": "if_else takes a condition and one or two blocks (true, false)",
    "while_loop": "while_loop takes a condition and one block",
    "for_loop": "for_loop takes an indexset and one block",
    "switch_case": "switch_case takes a target and one block per entry of cases",
}


def _control_flow_names(target: Target) -> list[str]:
    return sorted(name for name in target.operation_names if name in _CONTROL_FLOW_READERS)


def _native_operation(target: Target, name: str, where: str) -> Instruction:
    if name not in target.operation_names:
        raise WireFormatError(
            f"{where}: {name!r} is not a native operation of this device "
            f"(natives: {', '.join(sorted(target.operation_names))})"
        )
    operation: Instruction = target.operation_from_name(name)
    return operation


def _maker(target: Target, name: str, where: str) -> tuple[Any, tuple[int, int, int]]:
    """How to make native ``name`` from its angles, and its (qubits, clbits, angles).

    A gate without angles is shared (the Target's own, immutable); one with angles is
    made by its class from the angles, which is what ``to_mutable`` and setting
    ``params`` would give, at a fraction of the cost.
    """
    operation = _native_operation(target, name, where)
    arity = (operation.num_qubits, operation.num_clbits, len(operation.params))
    if not operation.params:
        return operation, arity
    if type(operation)(*operation.params) == operation:
        return type(operation), arity

    def rebuilt(*angles: Any) -> Instruction:
        copy = operation.to_mutable()
        copy.params = list(angles)
        return copy

    return rebuilt, arity


def parameter_columns(program: models.WireProgram, circuit: QuantumCircuit) -> list[Parameter]:
    """The circuit's parameters in the column order of ``program.parameter_values``."""
    by_name = {p.name: p for p in circuit.parameters}
    return [by_name[name] for name in program.parameters if name in by_name]


# --------------------------------------------------------------------------- results


def _experiment(
    program: models.ProgramResult,
    data: models.BindingResult | None,
    header: dict[str, Any],
) -> dict[str, Any]:
    experiment: dict[str, Any] = {
        "shots": program.shots,
        "success": program.success,
        "status": program.status or ("DONE" if program.success else "ERROR"),
        "header": header,
        "data": {},
    }
    if data is not None:
        experiment["data"] = _row_data(program, data)
    if program.seed_simulator is not None:
        experiment["seed_simulator"] = program.seed_simulator
    return experiment


def _row_data(program: models.ProgramResult, data: models.BindingResult) -> dict[str, Any]:
    """A row's ``counts`` and ``memory``, from either result format.

    Packed memory (format 2) stays packed: ``memory`` reads as Qiskit's hex strings and
    ``counts`` is counted from it when first read, so a million shots cost their bytes,
    not a million strings, until someone asks for them.

    Raises:
        VendorJobError: the row has neither counts nor memory, or its packed memory
            does not hold ``shots`` shots.
    """
    if data.packed_memory is not None:
        num_bits = program.num_clbits
        if num_bits is None:
            num_bits = program.header.memory_slots
        try:
            packed = decode_packed(data.packed_memory, shots=program.shots, num_bits=num_bits)
        except ValueError as exc:
            raise VendorJobError(
                f"the server sent a result that cannot be read: {exc}; retrieve the job again, "
                "and report it to the vendor if it persists"
            ) from None
        memory = PackedMemory(packed, num_bits)
        counts: Mapping[str, int] = (
            PackedCounts(memory) if data.counts is None else dict(data.counts)
        )
        return {"counts": counts, "memory": memory}
    if data.counts is None:
        raise VendorJobError(
            "the server sent a result row with neither counts nor memory; upgrade "
            "qiskit-vendor-provider (pip install -U qiskit-vendor-provider)"
        )
    row: dict[str, Any] = {"counts": dict(data.counts)}
    if data.memory is not None:
        row["memory"] = list(data.memory)
    return row


def to_qiskit_result(
    job_result: models.JobResult,
    *,
    backend_name: str,
    backend_version: str,
    metadata: Iterable[dict[str, Any] | None] | None = None,
    ended_at: datetime | None = None,
) -> Result:
    """Build a Qiskit Result: one experiment per program and parameter row, in order.

    Args:
        job_result: The server's answer.
        backend_name: Name reported in the Result.
        backend_version: Version reported in the Result.
        metadata: Per program, the original circuit metadata, when the caller still has it
            (exact objects instead of their JSON copies).
        ended_at: When the job ended, if the answer does not say (an older server).
            ``Result.date`` is that moment in ISO 8601, as Aer's results give it.
    """
    originals = list(metadata) if metadata is not None else []
    ended = job_result.ended_at or ended_at
    experiments: list[dict[str, Any]] = []
    for index, program in enumerate(job_result.results):
        header = program.header.model_dump()
        header["creg_sizes"] = [list(pair) for pair in header["creg_sizes"]]
        header["qreg_sizes"] = [list(pair) for pair in header["qreg_sizes"]]
        if index < len(originals) and originals[index] is not None:
            header["metadata"] = originals[index]
        rows: Sequence[models.BindingResult | None] = program.data or [None]
        experiments.extend(_experiment(program, data, header) for data in rows)
    return Result.from_dict(
        {
            "backend_name": backend_name,
            "backend_version": backend_version,
            "job_id": job_result.job_id,
            "qobj_id": job_result.job_id,
            "success": job_result.success,
            "status": job_result.status,
            "results": experiments,
            "time_taken": job_result.time_taken,
            "date": None if ended is None else ended.isoformat(),
        }
    )
