"""QuantumCircuit ⇄ wire program, and wire result → :class:`qiskit.result.Result`.

Bit order: a wire instruction names clbits by their index in the circuit, and the server
keys counts and memory by hex integers whose bit *i* is clbit *i* — Qiskit's own order,
so no bit is ever reordered on the way. Register mapping lives in one function,
:func:`register_layout`, which says how those keys split into classical registers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import (
    Barrier,
    Delay,
    Instruction,
    Parameter,
    ParameterExpression,
    QuantumCircuit,
)
from qiskit.result import Result
from qiskit.transpiler import Target

from qiskit_vendor_provider.api import models
from qiskit_vendor_provider.errors import VendorValidationError

__all__ = [
    "WireFormatError",
    "circuit_to_wire",
    "register_layout",
    "to_qiskit_result",
    "wire_to_circuit",
]


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


def _json_safe(value: Any) -> Any:
    """Metadata as JSON: numpy scalars and arrays become numbers and lists, others text."""
    return json.loads(json.dumps(value, default=_json_default))


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
    number = float(value)
    if not math.isfinite(number):
        raise WireFormatError(
            f"circuit {circuit_name!r}: {op_name} has the angle {number}; angles must be "
            "finite numbers"
        )
    return number


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
        WireFormatError: an angle is not finite or not affine in the parameters.
    """
    creg_sizes, memory_slots = register_layout(circuit)
    instructions = []
    for item in circuit.data:
        op = item.operation
        params = [] if isinstance(op, Barrier) else op.params
        if isinstance(op, Delay):
            params = [op.duration]
        instructions.append(
            models.WireInstruction(
                name=op.name,
                qubits=[circuit.find_bit(q).index for q in item.qubits],
                clbits=[circuit.find_bit(c).index for c in item.clbits],
                params=[_wire_angle(p, circuit.name, op.name) for p in params],
                unit=op.unit if isinstance(op, Delay) and op.unit != "dt" else None,
            )
        )
    order = list(parameters if parameters is not None else circuit.parameters)
    return models.WireProgram(
        num_qubits=circuit.num_qubits,
        num_clbits=circuit.num_clbits,
        instructions=instructions,
        header=models.ProgramHeader(
            name=circuit.name,
            creg_sizes=creg_sizes,
            qreg_sizes=[(qreg.name, qreg.size) for qreg in circuit.qregs],
            memory_slots=memory_slots,
            metadata=_json_safe(circuit.metadata or {}),
        ),
        parameters=[p.name for p in order],
        parameter_values=[list(map(float, row)) for row in parameter_values or []],
    )


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
    symbols = {name: Parameter(name) for name in program.parameters}
    for index, inst in enumerate(program.instructions):
        where = f"program {program.header.name!r}, instruction {index} ({inst.name})"
        if inst.name == "barrier":
            circuit.barrier(*inst.qubits)
            continue
        op = _native_operation(target, inst.name, where)
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
        if len(set(inst.qubits)) != len(inst.qubits):
            raise WireFormatError(f"{where}: repeats a qubit in {inst.qubits}")
        circuit.append(op, inst.qubits, inst.clbits, copy=False)
    return circuit


def _native_operation(target: Target, name: str, where: str) -> Instruction:
    if name not in target.operation_names:
        raise WireFormatError(
            f"{where}: {name!r} is not a native operation of this device "
            f"(natives: {', '.join(sorted(target.operation_names))})"
        )
    operation: Instruction = target.operation_from_name(name)
    return operation


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
        experiment["data"]["counts"] = dict(data.counts)
        if data.memory is not None:
            experiment["data"]["memory"] = list(data.memory)
    if program.seed_simulator is not None:
        experiment["seed_simulator"] = program.seed_simulator
    return experiment


def to_qiskit_result(
    job_result: models.JobResult,
    *,
    backend_name: str,
    backend_version: str,
    metadata: Iterable[dict[str, Any] | None] | None = None,
) -> Result:
    """Build a Qiskit Result: one experiment per program and parameter row, in order.

    Args:
        job_result: The server's answer.
        backend_name: Name reported in the Result.
        backend_version: Version reported in the Result.
        metadata: Per program, the original circuit metadata, when the caller still has it
            (exact objects instead of their JSON copies).
    """
    originals = list(metadata) if metadata is not None else []
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
        }
    )
