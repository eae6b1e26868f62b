"""Checks that a circuit can run on a device as it is, before anything is sent.

The same function guards both sides: the backend runs it on the user's circuits before
any HTTP call, and the emulator runs it on every program it receives (read back with
:func:`~qiskit_vendor_provider.serialization.wire_to_circuit`), so the client and the
server cannot disagree about what a device accepts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from qiskit.circuit import (
    ParameterExpression,
    QuantumCircuit,
)
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import Target

from qiskit_vendor_provider import rules
from qiskit_vendor_provider.api.models import CONTROL_FLOW_NAMES
from qiskit_vendor_provider.errors import CircuitValidationError, FaultyElementError
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.target import (
    FAULTY_HINT,
    FaultyElements,
    device_faulty_elements,
    device_limits,
    target_memo,
    unknown_operation_message,
)

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


def validate_circuit(
    circuit: QuantumCircuit,
    target: Target,
    *,
    device: str,
    index: int = 0,
    allow_parameters: bool = False,
) -> None:
    """Raise :class:`CircuitValidationError` unless the circuit runs on the device as is.

    Control-flow blocks are checked like the circuit itself, on the qubits they stand
    for. How deep blocks nest, how long loops run and how many operations a shot may
    execute are device limits: the rule book (:mod:`qiskit_vendor_provider.rules`)
    checks those on the wire program.

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
    # The device's size limits first, on what is known without reading the circuit:
    # a million operations, or a loop over range(10**9), is refused at once.
    limits = device_limits(target)
    rules.check_operation_count(len(circuit.data), limits, label, f"device {device!r}")
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
    _check_block(_Walk(target, device, label), circuit, list(range(circuit.num_qubits)), 0)


def _check_block(walk: _Walk, circuit: QuantumCircuit, qubit_map: list[int], depth: int) -> None:
    """Check one circuit or block, its nested blocks included."""
    natives = walk.target.operation_names
    device = walk.device
    supported = _supported(walk.target)
    index_of = {bit: qubit_map[i] for i, bit in enumerate(circuit.qubits)}
    for position, item in enumerate(circuit.data):
        # Names and angles are read without item.operation, which would build a gate
        # object for every standard gate: this runs on every circuit of every job.
        name = item.name
        if name in _DIRECTIVES:
            continue
        qargs = tuple(index_of[q] for q in item.qubits)
        if name in CONTROL_FLOW_OP_NAMES:
            op = item.operation
            where = _where(walk, position, depth, name, qargs)
            _check_control_flow(walk, op, qargs, where)
            if name == "for_loop":
                # len() of the index set, which may be a range: never written out here.
                rules.check_loop_iterations(
                    len(op.params[0]), device_limits(walk.target), where, f"device {device!r}"
                )
            for block in op.blocks:
                _check_block(walk, block, list(qargs), depth + 1)
            continue
        if name not in natives:
            _check_known(walk, name, _where(walk, position, depth, name, qargs))
            raise CircuitValidationError(
                f"{_where(walk, position, depth, name, qargs)}: {name!r} is not a native "
                f"operation of device {device!r} (natives: {', '.join(sorted(natives))}); "
                f"{TRANSPILE_HINT}"
            )
        if not supported(name, qargs):
            _check_faulty_instruction(walk, name, qargs, position, depth)
            raise CircuitValidationError(
                f"{_where(walk, position, depth, name, qargs)}: device {device!r} cannot "
                f"apply {name!r} to qubits {qargs} (not coupled, or out of range); "
                f"{TRANSPILE_HINT}"
            )
        for param in item.params:
            if type(param) is float:
                if param - param == 0.0:  # finite; inf and nan give nan
                    continue
            elif isinstance(param, ParameterExpression) and param.parameters:
                continue
            if isinstance(param, (int, float, complex, ParameterExpression)) and not (
                _is_finite(param)
            ):
                raise CircuitValidationError(
                    f"{_where(walk, position, depth, name, qargs)}: the angle "
                    f"{_shown_angle(param)} is not a finite number; fix the value bound to "
                    "this gate"
                )


def _check_faulty_instruction(
    walk: _Walk, name: str, qargs: tuple[int, ...], position: int, depth: int
) -> None:
    """Refuse, naming the element, an instruction on a qubit or coupler out of service."""
    problem = device_faulty_elements(walk.target).problem(name, qargs, walk.device)
    if problem is not None:
        raise FaultyElementError(
            f"{_where(walk, position, depth, name, qargs)}: {problem}; {FAULTY_HINT}"
        )


def check_faulty(
    circuit: QuantumCircuit, faulty: FaultyElements, *, device: str, index: int = 0
) -> None:
    """Raise :class:`FaultyElementError` if ``circuit`` uses a faulty qubit or gate.

    IBM's ``check_faulty``: each instruction but barriers, on the circuit's qubit
    indices taken as the device's, is checked against what the calibration marks out
    of service (see :class:`~qiskit_vendor_provider.target.FaultyElements`); for control
    flow, the instructions of its blocks, on the qubits they stand for.

    Args:
        circuit: The circuit, laid out on the device (qubit ``i`` is device qubit ``i``).
        faulty: What the calibration marks out of service.
        device: Device name, for messages.
        index: Position of the circuit in the job, for messages.
    """
    if not faulty:
        return
    label = f"circuit {index} ({circuit.name!r})"
    stack = [(circuit, list(range(circuit.num_qubits)), 0)]
    while stack:
        block, qubit_map, depth = stack.pop()
        index_of = {bit: qubit_map[i] for i, bit in enumerate(block.qubits)}
        for position, item in enumerate(block.data):
            if item.name in _DIRECTIVES:
                continue
            qargs = tuple(index_of[q] for q in item.qubits)
            if item.name in CONTROL_FLOW_OP_NAMES:
                # What its blocks do is checked, as validate_circuit does: the operation
                # itself spans every qubit of its blocks, used or not.
                stack.extend((inner, list(qargs), depth + 1) for inner in item.operation.blocks)
                continue
            problem = faulty.problem(item.name, qargs, device)
            if problem is not None:
                raise FaultyElementError(
                    f"{_at(label, position, depth, item.name, qargs)}: {problem}; {FAULTY_HINT}"
                )


def _is_finite(value: int | float | complex | ParameterExpression) -> bool:
    """Whether an angle is a finite number (an int past the largest float is not).

    >>> _is_finite(10**309), _is_finite(2), _is_finite(float("nan"))
    (False, True, False)
    """
    try:
        return math.isfinite(abs(complex(value)))
    except OverflowError:
        return False


def _shown_angle(value: object) -> str:
    """An angle for a message: a huge int by its size (``str`` refuses past 4300 digits)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"(an integer of {value.bit_length()} bits)"
    return str(value)


def _supported(target: Target) -> Callable[[str, tuple[int, ...]], bool]:
    """``target.instruction_supported``, its answers kept with the Target.

    A job of 200 circuits asks it thousands of times about a handful of (name, qubits).
    """
    answers: dict[tuple[str, tuple[int, ...]], bool] = target_memo(
        target, "instruction_supported", lambda _: {}
    )

    def supported(name: str, qargs: tuple[int, ...]) -> bool:
        key = (name, qargs)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = bool(target.instruction_supported(name, qargs))
        return answer

    return supported


def _where(walk: _Walk, position: int, depth: int, name: str, qargs: tuple[int, ...]) -> str:
    return _at(walk.label, position, depth, name, qargs)


def _at(label: str, position: int, depth: int, name: str, qargs: tuple[int, ...]) -> str:
    inside = f" (in a block {depth} deep)" if depth else ""
    return f"{label}, instruction {position}{inside} ({name} on qubits {qargs})"


def _check_control_flow(walk: _Walk, op: object, qargs: tuple[int, ...], where: str) -> None:
    """Check that the device runs this control-flow operation at all."""
    name = getattr(op, "name", "")
    supported = [n for n in CONTROL_FLOW_NAMES if n in walk.target.operation_names]
    if name not in supported:
        _check_known(walk, name, where)
        what = (
            f"runs dynamic circuits with {', '.join(supported)} only"
            if supported
            else "does not support classical control flow (dynamic circuits)"
        )
        raise CircuitValidationError(
            f"{where}: device {walk.device!r} {what}; rewrite the circuit without "
            f"{name!r}, or run on a device that lists it (qiskit-vendor devices)"
        )


def _check_known(walk: _Walk, name: str, where: str) -> None:
    """Refuse, in its own words, an operation the device lists but this package cannot use."""
    unknown: dict[str, str] = getattr(walk.target, "unknown_operations", {})
    if name in unknown:
        raise CircuitValidationError(
            f"{where}: {unknown_operation_message(walk.device, name, unknown[name])}"
        )
