"""Checks that a circuit can run on a device as it is, before anything is sent.

The same function guards both sides: the backend runs it on the user's circuits before
any HTTP call, and the emulator runs it on every program it receives (read back with
:func:`~qiskit_vendor_provider.serialization.wire_to_circuit`), so the client and the
server cannot disagree about what a device accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qiskit.circuit import (
    ControlFlowOp,
    ForLoopOp,
    ParameterExpression,
    QuantumCircuit,
    WhileLoopOp,
)
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import Target

from qiskit_vendor_provider.api.models import CONTROL_FLOW_NAMES, DeviceLimits
from qiskit_vendor_provider.errors import CircuitValidationError
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.target import device_limits

TRANSPILE_HINT = (
    "transpile first: generate_preset_pass_manager(backend=backend, optimization_level=1)"
    ".run(circuit)"
)

# Directives the device executes as no-ops or scheduling marks, never as gates.
_DIRECTIVES = frozenset({"barrier"})


@dataclass
class _Walk:
    """What one check of a circuit carries into its blocks."""

    target: Target
    device: str
    label: str
    limits: DeviceLimits


def validate_circuit(
    circuit: QuantumCircuit,
    target: Target,
    *,
    device: str,
    index: int = 0,
    allow_parameters: bool = False,
    limits: DeviceLimits | None = None,
) -> None:
    """Raise :class:`CircuitValidationError` unless the circuit runs on the device as is.

    Control-flow blocks are checked like the circuit itself, on the qubits they stand
    for; the device's limits bound how deep blocks nest, how many times a ``for_loop``
    runs, and how many operations a shot may execute at most (a ``while_loop`` counted
    at its limit of iterations), so no program can keep a device busy without end.

    Args:
        circuit: The circuit.
        target: The device's Target.
        device: Device name, for messages.
        index: Position of the circuit in the job, for messages.
        allow_parameters: Whether free parameters are allowed (a sweep binds them).
        limits: The device's limits (default: those the Target carries, see
            :class:`~qiskit_vendor_provider.target.VendorTarget`).

    Raises:
        CircuitValidationError: naming the circuit, the instruction and the fix.
    """
    label = f"circuit {index} ({circuit.name!r})"
    if circuit.num_qubits > target.num_qubits:
        raise CircuitValidationError(
            f"{label} has {circuit.num_qubits} qubits but device {device!r} has "
            f"{target.num_qubits}; use a smaller circuit or a larger device "
            "(provider.backends(min_num_qubits=...))"
        )
    unbound = free_parameters(circuit)
    if unbound and not allow_parameters:
        names = ", ".join(sorted(p.name for p in unbound))
        raise CircuitValidationError(
            f"{label} has unbound parameters: {names}; bind them with "
            "circuit.assign_parameters({...}) or run the circuit with parameter values "
            "through VendorSampler/VendorEstimator"
        )
    walk = _Walk(target, device, label, limits or device_limits(target))
    executed = _check_block(walk, circuit, list(range(circuit.num_qubits)), 0)
    if executed > walk.limits.max_operations:
        raise CircuitValidationError(
            f"{label} may execute {executed} operations in one shot (loops counted at "
            f"their iterations, a while_loop at the limit of {walk.limits.max_loop_iterations}); "
            f"device {device!r} allows {walk.limits.max_operations}: run fewer iterations"
        )


def _check_block(walk: _Walk, circuit: QuantumCircuit, qubit_map: list[int], depth: int) -> int:
    """Check one circuit or block; return the most operations one shot may run in it."""
    natives = walk.target.operation_names
    device = walk.device
    executed = 0
    for position, item in enumerate(circuit.data):
        op = item.operation
        qargs = tuple(qubit_map[q] for q in _qargs(circuit, item))
        inside = f" (in a block {depth} deep)" if depth else ""
        where = f"{walk.label}, instruction {position}{inside} ({op.name} on qubits {qargs})"
        if op.name in _DIRECTIVES:
            continue
        if op.name in CONTROL_FLOW_OP_NAMES:
            executed += _check_control_flow(walk, op, qargs, where, depth)
            continue
        executed += 1
        if op.name not in natives:
            raise CircuitValidationError(
                f"{where}: {op.name!r} is not a native operation of device {device!r} "
                f"(natives: {', '.join(sorted(natives))}); {TRANSPILE_HINT}"
            )
        if not walk.target.instruction_supported(op.name, qargs):
            raise CircuitValidationError(
                f"{where}: device {device!r} cannot apply {op.name!r} to qubits {qargs} "
                f"(not coupled, or out of range); {TRANSPILE_HINT}"
            )
        for param in op.params:
            if isinstance(param, ParameterExpression) and param.parameters:
                continue
            if isinstance(param, (int, float, complex, ParameterExpression)) and not (
                math.isfinite(abs(complex(param)))
            ):
                raise CircuitValidationError(
                    f"{where}: the angle {param} is not a finite number; fix the value "
                    "bound to this gate"
                )
    return executed


def _check_control_flow(
    walk: _Walk, op: object, qargs: tuple[int, ...], where: str, depth: int
) -> int:
    """Check a control-flow operation and its blocks; return the most it may execute."""
    name = getattr(op, "name", "")
    supported = [n for n in CONTROL_FLOW_NAMES if n in walk.target.operation_names]
    if name not in supported:
        what = (
            f"runs dynamic circuits with {', '.join(supported)} only"
            if supported
            else "does not support classical control flow (dynamic circuits)"
        )
        raise CircuitValidationError(
            f"{where}: device {walk.device!r} {what}; rewrite the circuit without "
            f"{name!r}, or run on a device that lists it (qiskit-vendor devices)"
        )
    assert isinstance(op, ControlFlowOp)
    limits = walk.limits
    if depth + 1 > limits.max_nesting_depth:
        raise CircuitValidationError(
            f"{where}: control flow nests {depth + 1} deep; device {walk.device!r} allows "
            f"{limits.max_nesting_depth}: move the inner blocks out, or unroll them"
        )
    repeats = 1
    if isinstance(op, ForLoopOp):
        repeats = len(op.params[0])
        if repeats > limits.max_loop_iterations:
            raise CircuitValidationError(
                f"{where}: the for_loop runs {repeats} times; device {walk.device!r} runs a "
                f"loop at most {limits.max_loop_iterations} times: split it into shorter "
                "loops, one after another"
            )
    elif isinstance(op, WhileLoopOp):
        # The device stops a while_loop at its limit; that is the worst case of a shot.
        repeats = limits.max_loop_iterations
    costs = [_check_block(walk, block, list(qargs), depth + 1) for block in op.blocks]
    # One block runs per pass (the branch the condition picks); count the longest.
    return 1 + repeats * max(costs, default=0)


def _qargs(circuit: QuantumCircuit, item: object) -> tuple[int, ...]:
    return tuple(circuit.find_bit(q).index for q in item.qubits)  # type: ignore[attr-defined]
