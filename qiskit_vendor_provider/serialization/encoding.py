"""Client side: a ``QuantumCircuit`` in native operations → a wire program.

Bit order: a wire instruction names clbits by their index in the circuit, and the server
keys counts and memory by integers whose bit *i* is clbit *i*: Qiskit's own order, so
no bit is ever reordered on the way. Plain circuits go as columns
(:class:`~qiskit_vendor_provider.api.op_columns.OpColumns`), control flow and delays with
a time unit as instruction objects.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError
from qiskit.circuit import (
    Barrier,
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

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.api.op_columns import OpColumns
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.serialization.common import (
    BINARY_OPERATIONS,
    MAX_CIRCUIT_NAME_LENGTH,
    UNARY_OPERATIONS,
    WireFormatError,
    register_layout,
    shown_name,
)

__all__ = ["circuit_to_wire"]

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
            f"circuit {shown_name(circuit_name)}: its metadata contains itself or is nested "
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


def _api_limit_error(circuit_name: str, exc: ValidationError) -> WireFormatError:
    """The typed error for a circuit the API's models refuse: the field and its limit."""
    error = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in error["loc"])
    return WireFormatError(
        f"circuit {shown_name(circuit_name)} cannot be sent: {exc.title} field {field!r}: "
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
            f"the circuit named {shown_name(circuit.name)} has a name of {len(circuit.name)} "
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
    if isinstance(node, expr.Unary) and node.op.name in UNARY_OPERATIONS:
        return models.WireExpr(
            kind="unary",
            op=node.op.name,
            operands=[_wire_expr(circuit, node.operand, clbit_map, name)],
        )
    if isinstance(node, expr.Binary) and node.op.name in BINARY_OPERATIONS:
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
        f"evaluate; use {', '.join(sorted({*UNARY_OPERATIONS, *BINARY_OPERATIONS}))}"
    )
