"""Checks that a circuit can run on a device as it is, before anything is sent.

The same function guards both sides: the backend runs it on the user's circuits before
any HTTP call, and the emulator runs it on every program it receives (read back with
:func:`~qiskit_vendor_provider.serialization.wire_to_circuit`), so the client and the
server cannot disagree about what a device accepts.
"""

from __future__ import annotations

import math

from qiskit.circuit import ParameterExpression, QuantumCircuit
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import Target

from qiskit_vendor_provider.errors import CircuitValidationError

TRANSPILE_HINT = (
    "transpile first: generate_preset_pass_manager(backend=backend, optimization_level=1)"
    ".run(circuit)"
)

# Directives the device executes as no-ops or scheduling marks, never as gates.
_DIRECTIVES = frozenset({"barrier"})


def validate_circuit(
    circuit: QuantumCircuit,
    target: Target,
    *,
    device: str,
    index: int = 0,
    allow_parameters: bool = False,
) -> None:
    """Raise :class:`CircuitValidationError` unless the circuit runs on the device as is.

    Args:
        circuit: The circuit.
        target: The device's Target.
        device: Device name, for messages.
        index: Position of the circuit in the job, for messages.
        allow_parameters: Whether free parameters are allowed (a sweep binds them).

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
    if circuit.parameters and not allow_parameters:
        names = ", ".join(sorted(p.name for p in circuit.parameters))
        raise CircuitValidationError(
            f"{label} has unbound parameters: {names}; bind them with "
            "circuit.assign_parameters({...}) or run the circuit with parameter values "
            "through VendorSampler/VendorEstimator"
        )
    natives = target.operation_names
    for position, item in enumerate(circuit.data):
        op = item.operation
        where = f"{label}, instruction {position} ({op.name} on qubits {_qargs(circuit, item)})"
        if op.name in _DIRECTIVES:
            continue
        if op.name in CONTROL_FLOW_OP_NAMES and op.name not in natives:
            raise CircuitValidationError(
                f"{where}: device {device!r} does not support classical control flow; "
                "remove it, or run on a device that lists it"
            )
        if op.name not in natives:
            raise CircuitValidationError(
                f"{where}: {op.name!r} is not a native operation of device {device!r} "
                f"(natives: {', '.join(sorted(natives))}); {TRANSPILE_HINT}"
            )
        qargs = _qargs(circuit, item)
        if not target.instruction_supported(op.name, qargs):
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


def _qargs(circuit: QuantumCircuit, item: object) -> tuple[int, ...]:
    return tuple(circuit.find_bit(q).index for q in item.qubits)  # type: ignore[attr-defined]
