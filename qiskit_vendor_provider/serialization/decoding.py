"""Server side: a received wire program → a ``QuantumCircuit`` of the device's operations.

The emulator reads every program with :func:`wire_to_circuit` before it simulates or
checks it; only the Target's own operations can come out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from qiskit.circuit.controlflow import CASE_DEFAULT
from qiskit.circuit.exceptions import CircuitError
from qiskit.transpiler import Target

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.api.op_columns import OpColumns
from qiskit_vendor_provider.qiskit_internals import append_unchecked
from qiskit_vendor_provider.serialization.common import (
    BINARY_OPERATIONS,
    UNARY_OPERATIONS,
    WireFormatError,
)

__all__ = ["parameter_columns", "wire_to_circuit"]


def _angle_value(angle: models.Angle, symbols: dict[str, Parameter]) -> float | ParameterExpression:
    if isinstance(angle, models.ParameterExpression):
        value: float | ParameterExpression = angle.constant
        for name, coefficient in angle.terms.items():
            if name not in symbols:
                raise WireFormatError(f"angle uses parameter {name!r}, which is not declared")
            if coefficient != 0:
                # A term times zero would leave a constant expression, whose hash Qiskit
                # 2.6 cannot take when it is negative (Aer's binding then fails the job).
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


@dataclass(frozen=True)
class _Kind:
    """How :meth:`_Reader.fill_columns` appends the operations of one column kind."""

    counts: tuple[int, int, int]
    make: Any
    """The operation (no angles) or what makes it from its angles (see :func:`_maker`)."""
    special: Callable[[list[Any]], Instruction] | None
    """Makes a barrier or delay from its angles; appended with checks."""


class _Reader:
    """Reads instructions, blocks included, into circuits over one program's bits."""

    def __init__(self, program: models.WireProgram, target: Target, top: QuantumCircuit):
        self.target = target
        self.top = top
        self.symbols = {name: Parameter(name) for name in program.parameters}
        # One register per distinct tuple of clbits a condition reads as an integer.
        self.registers: dict[tuple[int, ...], ClassicalRegister] = {}
        self.makers: dict[str, tuple[Any, tuple[int, int, int]]] = {}
        # Qiskit builds these lists anew on each access.
        self.qubit_bits, self.clbit_bits = top.qubits, top.clbits

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
        # Each kind's name and counts are checked once, at its first operation: every
        # operation of a kind has the kind's counts (parse_columns saw to that).
        kinds: list[_Kind | None] = [None] * len(columns.kinds)
        qubit_bits, clbit_bits = self.qubit_bits, self.clbit_bits
        qubits, clbits, params = columns.qubits.tolist(), columns.clbits.tolist(), columns.params
        symbols = self.symbols
        q = c = p = 0
        for index, code in enumerate(columns.code.tolist()):
            kind = kinds[code]
            on = qubits[q : q + columns.kinds[code][1]]
            if kind is None:
                kind = kinds[code] = self.column_kind(columns.kinds[code], on, label, index)
            nq, nc, na = kind.counts
            q += nq
            if nq > 1 and len(set(on)) != nq:
                name = columns.kinds[code][0]
                raise WireFormatError(
                    f"{label}, instruction {index} ({name}): repeats a qubit or clbit"
                )
            angles = params[p : p + na]
            p += na
            reads = clbits[c : c + nc]
            c += nc
            if kind.special is not None:
                operation = kind.special(angles)
                circuit.append(operation, [qubit_bits[i] for i in on], copy=False)
                continue
            operation = kind.make
            if na:
                operation = operation(*[_angle_value(a, symbols) for a in angles])
            append_unchecked(
                circuit,
                CircuitInstruction(
                    operation,
                    tuple([qubit_bits[i] for i in on]),
                    tuple([clbit_bits[i] for i in reads]),
                ),
            )

    def column_kind(
        self, kind: tuple[str, int, int, int], first: list[int], label: str, index: int
    ) -> _Kind:
        """How to append operations of one column kind, checked as :meth:`fill` checks them.

        Args:
            kind: ``(name, qubits, clbits, angles)`` as ``ops.kinds`` lists it.
            first: The qubits of the kind's first operation, for messages.
            label: The program, for messages.
            index: The kind's first operation, for messages.
        """
        name, nq, nc, na = kind
        where = f"{label}, instruction {index} ({name})"
        if name in {"barrier", "delay"}:
            expected = 1 if name == "delay" else 0
            if nc or na != expected:
                raise WireFormatError(f"{where}: takes no clbits and {expected} angles")
            symbols = self.symbols

            def special(angles: list[Any]) -> Instruction:
                if name == "barrier":
                    return Barrier(nq)
                return Delay(_angle_value(angles[0], symbols), unit="dt")

            return _Kind((nq, nc, na), None, special)
        make = self.makers.get(name)
        if make is None:
            make = self.makers[name] = _maker(self.target, name, f"{label}, instruction {index}")
        operation, arity = make
        if (nq, nc, na) != arity:
            if na != arity[2]:
                raise WireFormatError(f"{where}: takes {arity[2]} angles, got {na}")
            if len(set(first)) != len(first):
                raise WireFormatError(f"{where}: repeats a qubit or clbit")
            raise WireFormatError(
                f"{where}: acts on {arity[0]} qubits and {arity[1]} clbits, got {nq} and {nc}"
            )
        return _Kind(arity, operation, None)

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
        table = UNARY_OPERATIONS if wire.kind == "unary" else BINARY_OPERATIONS
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
    ``params`` would give, at a fraction of the cost. (Making a standard gate's
    instruction without a gate object, with ``CircuitInstruction.from_standard``, read
    the circuits 10 ms faster but cost Aer 20 ms more: it then asks each instruction for
    its operation several times, and Qiskit makes a new gate object each time.)
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
