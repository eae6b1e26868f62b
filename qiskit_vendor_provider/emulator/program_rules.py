"""The rules a submitted program must meet on a device, before anything is stored.

Sizes and shapes come first, before a circuit is built from a program (a program that
declares a billion qubits would exhaust memory while being built); then the program is
read back as a circuit and checked by the same ``validate_circuit`` the client runs
before sending, so the two sides cannot disagree about what a device accepts.
"""

from __future__ import annotations

import math

from qiskit.circuit.exceptions import CircuitError
from qiskit.transpiler import Target

from qiskit_vendor_provider.api.models import (
    DeviceSpec,
    JobSubmission,
    ParameterExpression,
    WireProgram,
    nested_instructions,
)
from qiskit_vendor_provider.emulator.problems import ProblemError, within
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.serialization import wire_to_circuit
from qiskit_vendor_provider.validation import validate_circuit

MAX_CLBITS = 10_000
"""Most classical bits one program may declare (every shot's memory holds all of them)."""


MAX_BLOCK_NESTING = 16
"""How deep control-flow blocks may nest in any program, whatever the device."""


def program_shape_problem(program: WireProgram, device_qubits: int) -> str | None:
    """What is wrong with a program's sizes and instruction shapes, before it is built.

    These are the checks that must come before a circuit is made from the program: a
    program declaring a billion qubits would exhaust memory while being built, and a
    header whose sizes disagree with the program would break result formatting.

    >>> from qiskit_vendor_provider.api.models import ProgramHeader, WireProgram
    >>> header = ProgramHeader(name="p", memory_slots=3)
    >>> program_shape_problem(WireProgram(num_qubits=2, num_clbits=2, instructions=[],
    ...                                   header=header), 5)
    'header.memory_slots is 3, but the program has 2 clbits'
    >>> program_shape_problem(WireProgram(num_qubits=9, num_clbits=0, instructions=[],
    ...                                   header=ProgramHeader(name="p")), 5)
    'it has 9 qubits, but the device has 5'

    Returns:
        The problem, or None when the shape is fine.
    """
    if program.num_qubits > device_qubits:
        return f"it has {program.num_qubits} qubits, but the device has {device_qubits}"
    if program.num_clbits > MAX_CLBITS:
        return f"it has {program.num_clbits} clbits; the most a program may have is {MAX_CLBITS}"
    header = program.header
    if header.memory_slots > program.num_clbits:
        return (
            f"header.memory_slots is {header.memory_slots}, but the program has "
            f"{program.num_clbits} clbits"
        )
    creg_sizes = [size for _, size in header.creg_sizes]
    if any(size < 0 for size in creg_sizes) or sum(creg_sizes) > program.num_clbits:
        return (
            f"header.creg_sizes {creg_sizes} do not fit in the program's "
            f"{program.num_clbits} clbits"
        )
    if any(not 0 <= size <= program.num_qubits for _, size in header.qreg_sizes):
        return (
            f"header.qreg_sizes {[size for _, size in header.qreg_sizes]} do not fit in the "
            f"program's {program.num_qubits} qubits"
        )
    if len(set(program.parameters)) != len(program.parameters):
        return f"parameters {program.parameters} name a parameter twice"
    return _instruction_problem(program) or _binding_problem(program)


def _instruction_problem(program: WireProgram) -> str | None:
    # Blocks of control flow included: a block holds instructions like the program does.
    for position, inst in nested_instructions(program.instructions):
        where = f"instruction {position} ({inst.name})"
        if position.count(".block") > MAX_BLOCK_NESTING:
            # Far above any device's limit (checked later, by validate_circuit): only
            # stops a hostile program before reading it back recurses that deep.
            return f"{where}: blocks nest more than {MAX_BLOCK_NESTING} deep"
        if inst.unit is not None and inst.name != "delay":
            return f"{where}: only a delay has a time unit"
        if inst.name == "barrier" and (inst.clbits or inst.params):
            return f"{where}: a barrier takes qubits only"
        if inst.name == "delay" and (
            len(inst.params) > 1 or any(not isinstance(p, float | int) for p in inst.params)
        ):
            return f"{where}: a delay takes one duration, a number"
        if inst.name == "delay" and any(
            isinstance(p, float | int) and not 0 <= p < 2**63 for p in inst.params
        ):
            # Checked here, not left to Qiskit: how it treats such durations differs
            # between its versions.
            return f"{where}: a delay lasts from 0 to 2**63 - 1 units"
    return None


def _binding_problem(program: WireProgram) -> str | None:
    """An angle that some row of the parameter table makes infinite."""
    if not program.parameter_values:
        return None
    expressions = [
        angle
        for _, inst in nested_instructions(program.instructions)
        for angle in inst.params
        if isinstance(angle, ParameterExpression)
    ]
    # |constant| + sum |coefficient| * max |value| bounds every bound angle: when it is
    # finite, no row can give an infinite angle (each value is finite already).
    largest = [
        max(abs(row[index]) for row in program.parameter_values)
        for index in range(len(program.parameters))
    ]
    column = {name: index for index, name in enumerate(program.parameters)}
    for angle in expressions:
        bound = abs(angle.constant) + sum(
            abs(coefficient) * largest[column[name]] if name in column else 0.0
            for name, coefficient in angle.terms.items()
        )
        if not math.isfinite(bound):
            return (
                f"an angle ({angle.constant} + {angle.terms}) overflows to infinity for some "
                "row of parameter_values"
            )
    return None


def check_programs(submission: JobSubmission, spec: DeviceSpec, target: Target) -> None:
    """The device's limits and rules on a job's programs, or a 422 :class:`ProblemError`.

    Sizes and shapes are checked before a circuit is built from a program; then the
    program is read back and checked by the same ``validate_circuit`` the client runs.
    """
    limits = spec.limits
    within(submission.shots, limits.max_shots, "Invalid Job", f"shots on {spec.name!r}")
    within(len(submission.programs), limits.max_circuits, "Invalid Job", "programs in one job")
    for index, program in enumerate(submission.programs):
        where = f"program {index}"
        within(
            len(program.instructions),
            limits.max_operations,
            "Invalid Program",
            f"operations in {where}",
        )
        within(
            len(program.parameter_values),
            limits.max_parameter_rows,
            "Invalid Program",
            f"parameter rows in {where}",
        )
        problem = program_shape_problem(program, spec.num_qubits)
        if problem is not None:
            raise ProblemError(422, "Invalid Program", f"program {index}: {problem}")
        try:
            circuit = wire_to_circuit(program, target)
            validate_circuit(
                circuit,
                target,
                device=spec.name,
                index=index,
                allow_parameters=bool(program.parameters),
            )
        except VendorValidationError as exc:
            raise ProblemError(422, "Invalid Program", str(exc)) from None
        except (CircuitError, ValueError, TypeError, OverflowError) as exc:
            # Qiskit's own checks (a negative or fractional delay, say): still the
            # sender's mistake, so a 4xx that says what Qiskit said, never a 500.
            raise ProblemError(
                422, "Invalid Program", f"program {index} is not a valid circuit: {exc}"
            ) from None
