"""The rules a submitted program must meet on a device, before anything is stored.

In this order, each cheaper than the next and each guarding the next:

1. the device's limits, by the rule book every side uses
   (:func:`qiskit_vendor_provider.rules.check`);
2. sizes and shapes, before anything is built from a program (a program that declares a
   billion qubits would exhaust memory while being built);
3. the device's operations, on the wire program itself: each plain operation is native,
   on qubits the device couples, with the right number of angles (a table built once
   per device, a few dictionary lookups per operation, so a job at the payload limit is
   checked in well under a second);
4. a program with control flow (or written in the object form) is read back as a
   circuit and checked by the same ``validate_circuit`` the client runs before sending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit.exceptions import CircuitError
from qiskit.transpiler import Target

from qiskit_vendor_provider import rules
from qiskit_vendor_provider.api.models import (
    CONTROL_FLOW_NAMES,
    DeviceSpec,
    Instruction,
    JobSubmission,
    Op,
    ParameterExpression,
    WireProgram,
    nested_instructions,
)
from qiskit_vendor_provider.api.op_columns import OpColumns
from qiskit_vendor_provider.emulator.problems import ProblemError
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.serialization.decoding import wire_to_circuit
from qiskit_vendor_provider.target import (
    FAULTY_HINT,
    FaultyElements,
    device_faulty_elements,
    target_memo,
)
from qiskit_vendor_provider.validation import TRANSPILE_HINT, validate_circuit

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
    stack: list[tuple[str, list[Instruction]]] = [("", program.instructions)]
    while stack:
        prefix, items = stack.pop()
        for position, inst in enumerate(items):
            if type(inst) is Op and inst.name not in _SHAPED:
                continue
            problem = _shape_problem(inst, prefix.count(".block"))
            if problem is not None:
                return f"instruction {prefix}{position} ({inst.name}): {problem}"
            stack.extend(
                (f"{prefix}{position}.block{number}.", block)
                for number, block in enumerate(inst.blocks)
            )
    return None


_SHAPED = frozenset({"delay", "barrier"})


def _shape_problem(inst: Instruction, depth: int) -> str | None:
    if depth > MAX_BLOCK_NESTING:
        # Far above any device's limit (the rule book's): only stops a hostile program
        # before reading it back recurses that deep.
        return f"blocks nest more than {MAX_BLOCK_NESTING} deep"
    if inst.unit is not None and inst.name != "delay":
        return "only a delay has a time unit"
    if inst.name == "barrier" and (inst.clbits or inst.params):
        return "a barrier takes qubits only"
    if inst.name == "delay":
        if len(inst.params) > 1 or any(not isinstance(p, float | int) for p in inst.params):
            return "a delay takes one duration, a number"
        if any(not 0 <= p < 2**63 for p in inst.params):  # type: ignore[operator]
            # Checked here, not left to Qiskit: how it treats such durations differs
            # between its versions.
            return "a delay lasts from 0 to 2**63 - 1 units"
        if inst.unit is None:
            return _fractional_dt(inst.params)  # type: ignore[arg-type]
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
    if program.ops is not None:
        expressions += [program.ops.params[position] for position in program.ops.expressions]
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


@dataclass(frozen=True)
class _Native:
    """What a plain operation must look like on one device."""

    qubits: int
    clbits: int
    angles: int
    qargs: frozenset[tuple[int, ...]] | None  # None: any distinct qubits
    radix: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    keys: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """``qargs`` as one integer each (``qargs @ radix``), for array lookups."""


class NativeTable:
    """A device's native operations as :func:`native_problem` checks them, built once."""

    def __init__(self, target: Target) -> None:
        self.natives: dict[str, _Native] = {}
        for name in target.operation_names:
            operation = target.operation_from_name(name)
            if isinstance(operation, type) or name in CONTROL_FLOW_NAMES or name == "delay":
                continue
            qargs = target.qargs_for_operation_name(name)
            allowed = None if qargs is None else frozenset(tuple(q) for q in qargs)
            width = operation.num_qubits
            radix = np.array(
                [(target.num_qubits or 1) ** (width - 1 - i) for i in range(width)],
                dtype=np.int64,
            )
            keys = np.array(sorted(int(np.dot(q, radix)) for q in allowed or ()), dtype=np.int64)
            self.natives[name] = _Native(
                width, operation.num_clbits, len(operation.params), allowed, radix, keys
            )
        self.names = ", ".join(sorted(target.operation_names))
        self.faulty = device_faulty_elements(target)
        """Left out of ``natives``; kept to name them when a program uses one."""


def native_table(target: Target) -> NativeTable:
    """The table of ``target``, kept with it (the catalog keeps one Target per device)."""
    return target_memo(target, "native_table", NativeTable)


def columns_problem(
    program: WireProgram, columns: OpColumns, table: NativeTable, device: str
) -> str | None:
    """What keeps a program of plain operations from running on the device, if anything.

    The checks of ``wire_to_circuit`` and ``validate_circuit`` for plain operations, on
    the columns, an array operation per kind: native name, arity, qubits the device
    couples (distinct), angles, parameters the program declares.
    """
    qubit_starts, _, angle_starts = columns.starts()
    code = columns.code
    for kind, (name, nq, nc, na) in enumerate(columns.kinds):
        positions = np.flatnonzero(code == kind)
        if not len(positions):
            continue
        where = f"instruction {int(positions[0])} ({name})"
        if name in ("barrier", "delay"):
            problem = _directive_problem(name, (nq, nc, na), columns, angle_starts[positions])
            if problem is not None:
                return f"{where}: {problem}"
            if name == "delay" and table.faulty.qubits:
                # As the Target has no delay there: nothing may act on a faulty qubit.
                qargs = columns.qubits[qubit_starts[positions][:, None] + np.arange(nq)]
                hits = np.flatnonzero(np.isin(qargs, table.faulty.qubits).any(axis=1))
                if len(hits):
                    return _faulty_problem(
                        name, qargs[hits[:1]], positions[hits[:1]], table.faulty, device
                    )
            continue
        native = table.natives.get(name)
        if native is None:
            return (
                f"{where}: {name!r} is not a native operation of device {device!r} "
                f"(natives: {table.names}); {TRANSPILE_HINT}"
            )
        if (nq, nc) != (native.qubits, native.clbits):
            return (
                f"{where}: acts on {native.qubits} qubits and {native.clbits} clbits, got "
                f"{nq} and {nc}"
            )
        if na != native.angles:
            return f"{where}: takes {native.angles} angles, got {na}"
        qargs = columns.qubits[qubit_starts[positions][:, None] + np.arange(nq)]
        problem = _qargs_problem(name, qargs, positions, native, device)
        if problem is not None:
            return _faulty_problem(name, qargs, positions, table.faulty, device) or problem
    declared = set(program.parameters)
    for position in columns.expressions:
        undeclared = set(columns.params[position].terms) - declared
        if undeclared:
            return (
                f"an angle uses parameters {sorted(undeclared)} that the program does not "
                "declare in parameters"
            )
    return None


def _directive_problem(
    name: str,
    shape: tuple[int, int, int],
    columns: OpColumns,
    angle_starts: NDArray[np.int64],
) -> str | None:
    """What is wrong with a kind of barrier or delay, if anything."""
    nq, nc, na = shape
    if name == "barrier":
        return "a barrier takes qubits only" if nc or na else None
    if (nq, nc, na) != (1, 0, 1):
        return "a delay takes one qubit and one duration"
    expressions = set(columns.expressions)
    durations = [columns.params[start] for start in angle_starts.tolist()]
    if any(start in expressions for start in angle_starts.tolist()):
        return "a delay takes one duration, a number"
    if any(not 0 <= duration < 2**63 for duration in durations):
        # Checked here, not left to Qiskit: how it treats such durations differs
        # between its versions.
        return "a delay lasts from 0 to 2**63 - 1 units"
    return _fractional_dt(durations)


def _fractional_dt(durations: list[float]) -> str | None:
    """A delay in ``dt`` (the unit of a delay without one) of a fractional length.

    >>> _fractional_dt([3.0, 0.5])
    'a delay in dt lasts a whole number of dt (Integer duration), got 0.5'
    """
    for duration in durations:
        if not float(duration).is_integer():
            return f"a delay in dt lasts a whole number of dt (Integer duration), got {duration}"
    return None


def _qargs_problem(
    name: str,
    qargs: NDArray[np.int64],
    positions: NDArray[np.int64],
    native: _Native,
    device: str,
) -> str | None:
    """Operations of one kind on repeated or uncoupled qubits (``qargs``: one row each)."""
    if qargs.shape[1] > 1:
        ordered = np.sort(qargs, axis=1)
        repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if len(repeats):
            return f"instruction {int(positions[repeats[0]])} ({name}): repeats a qubit"
    if native.qargs is None:
        return None
    allowed = native.keys
    keys = qargs @ native.radix
    outside = np.flatnonzero(~np.isin(keys, allowed))
    if not len(outside):
        return None
    first = int(outside[0])
    on = tuple(int(q) for q in qargs[first])
    return (
        f"instruction {int(positions[first])} ({name} on qubits {on}): device {device!r} "
        f"cannot apply {name!r} to qubits {on} (not coupled, or out of range); "
        f"{TRANSPILE_HINT}"
    )


def _faulty_problem(
    name: str,
    qargs: NDArray[np.int64],
    positions: NDArray[np.int64],
    faulty: FaultyElements,
    device: str,
) -> str | None:
    """The first operation of one kind (``qargs``: one row each) on a faulty element.

    The emulator does not trust the client's check: a job that touches a qubit or
    coupler out of service is refused with what is out, whoever sent it.
    """
    if not faulty:
        return None
    for row, qubits in enumerate(qargs.tolist()):
        on = tuple(int(q) for q in qubits)
        problem = faulty.problem(name, on, device)
        if problem is not None:
            return (
                f"instruction {int(positions[row])} ({name} on qubits {on}): {problem}; "
                f"{FAULTY_HINT}"
            )
    return None


def check_programs(
    submission: JobSubmission, spec: DeviceSpec, target: Target, *, size: int | None = None
) -> None:
    """The device's limits and rules on a job's programs, or a 4xx :class:`ProblemError`.

    Args:
        submission: The job as received.
        spec: Its device.
        target: The device's Target.
        size: The job's bytes as received (encoded again here when not given).
    """
    try:
        rules.check(submission, spec.limits, size=size)
    except rules.DeviceLimitError as exc:
        status = 413 if exc.rule == "max_payload_bytes" else 422
        title = "Payload Too Large" if status == 413 else "Invalid Job"
        raise ProblemError(status, title, str(exc)) from None
    table = native_table(target)
    for index, program in enumerate(submission.programs):
        problem = program_shape_problem(program, spec.num_qubits)
        columns = program.ops
        if columns is None and all(type(inst) is Op for inst in program.instructions):
            # Plain operations as arrays: checked as the columns they make.
            columns = OpColumns.of(op[:4] for op in program.instructions)
        if problem is None and columns is not None:
            problem = columns_problem(program, columns, table, spec.name)
            if problem is None:
                continue
        if problem is not None:
            raise ProblemError(422, "Invalid Program", f"program {index}: {problem}")
        _check_as_circuit(program, index, spec, target)


def _check_as_circuit(program: WireProgram, index: int, spec: DeviceSpec, target: Target) -> None:
    """Read a program back as a circuit and check it as the client does."""
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
