"""The rule book: whether a job fits a device's limits, decided in one place.

``backend.run`` checks a job with :func:`check` before it sends anything, the
primitives' packing checks each program with :func:`check_program` before it plans
jobs, and the emulator checks every job it receives with :func:`check`, so the three
cannot disagree. The rules read the wire program, the form all three have, and each is
one function below; :data:`RULES` lists them, one test each.

>>> from qiskit_vendor_provider.api.models import (
...     DeviceLimits, JobSubmission, Op, ProgramHeader, WireProgram)
>>> program = WireProgram(num_qubits=1, num_clbits=0, header=ProgramHeader(name="p"),
...                       instructions=[Op("x", [0])] * 3)
>>> check(JobSubmission(device="d", shots=10, programs=[program]), DeviceLimits())
>>> check_program(program, DeviceLimits(max_operations=2))
Traceback (most recent call last):
...
qiskit_vendor_provider.rules.ProgramLimitError: circuit 0 ('p') has 3 operations; ...
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import (
    DeviceLimits,
    Instruction,
    JobSubmission,
    Op,
    WireProgram,
)
from qiskit_vendor_provider.errors import CircuitValidationError, VendorValidationError

__all__ = [
    "RULES",
    "DeviceLimitError",
    "ProgramLimitError",
    "check",
    "check_loop_iterations",
    "check_operation_count",
    "check_payload_size",
    "check_program",
    "execution_time_problem",
    "refuse",
    "rep_delay_problem",
    "shots_problem",
]


class DeviceLimitError(VendorValidationError):
    """A job is over one of the device's limits; ``rule`` names the limit."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class ProgramLimitError(DeviceLimitError, CircuitValidationError):
    """One program (circuit) of a job is over one of the device's limits."""


# --------------------------------------------------------------------------- job rules


def shots_problem(shots: int, limits: DeviceLimits, device: str | None = None) -> str | None:
    """What is wrong with a whole number of shots per job on a device, if anything.

    The one ``max_shots`` check: ``backend.run``'s option check and the job rule (so the
    emulator) both ask this.

    >>> shots_problem(101, DeviceLimits(max_shots=100), "d")[:55]
    'shots=101 is out of range: 101 shots exceed the maximum'
    >>> shots_problem(100, DeviceLimits(max_shots=100)) is None
    True
    """
    if shots < 1:
        return (
            f"shots={shots} is out of range: give a whole number from 1 to "
            f"{limits.max_shots} (the device's maximum per job)"
        )
    if shots > limits.max_shots:
        named = "the device" if device is None else f"device {device!r}"
        return (
            f"shots={shots} is out of range: {shots} shots exceed the maximum of "
            f"{limits.max_shots} per job on {named}; ask for 1 to {limits.max_shots}, or "
            "use VendorSampler, which splits shots over jobs"
        )
    return None


def refuse(rule: str, problem: str | None) -> None:
    """Raise :class:`DeviceLimitError` for ``rule`` if a ``*_problem`` check found one."""
    if problem is not None:
        raise DeviceLimitError(rule, problem)


def _shots(submission: JobSubmission, limits: DeviceLimits, size: int | None) -> None:
    refuse("max_shots", shots_problem(submission.shots, limits, submission.device))


def _circuits(submission: JobSubmission, limits: DeviceLimits, size: int | None) -> None:
    if len(submission.programs) > limits.max_circuits:
        raise DeviceLimitError(
            "max_circuits",
            f"{len(submission.programs)} circuits exceed the {limits.max_circuits} per job "
            f"that device {submission.device!r} allows; split them over several run() "
            "calls, or use VendorSampler, which splits for you",
        )


def check_payload_size(
    size: int, limits: DeviceLimits, device: str, *, at_least: bool = False
) -> None:
    """The ``max_payload_bytes`` rule on a job's size in bytes.

    Also what a server asks of a body's declared length, or of the bytes it has read so
    far (``at_least``), before it parses the body.
    """
    if size > limits.max_payload_bytes:
        raise DeviceLimitError(
            "max_payload_bytes",
            f"the job is {'more than ' if at_least else ''}{size} bytes, over the "
            f"{limits.max_payload_bytes}-byte limit of device {device!r}; split the "
            "circuits over several jobs",
        )


def _payload(submission: JobSubmission, limits: DeviceLimits, size: int | None) -> None:
    if size is None:
        size = len(wire.encode_submission(submission))
    check_payload_size(size, limits, submission.device)


def execution_time_problem(seconds: object, limits: DeviceLimits) -> str | None:
    """What is wrong with a job's ``max_execution_time`` on a device, if anything.

    The backend's option check and the rule book (so the emulator) both ask this.

    >>> execution_time_problem(7200, DeviceLimits(max_execution_time=3600))[:52]
    'max_execution_time=7200 is out of range: give second'
    >>> execution_time_problem(None, DeviceLimits()) is None
    True
    """
    if seconds is None:
        return None
    if (
        not isinstance(seconds, numbers.Real)
        or isinstance(seconds, bool)
        or not 0 < float(seconds) <= limits.max_execution_time
    ):
        return (
            f"max_execution_time={seconds!r} is out of range: give seconds above 0 and at "
            f"most {limits.max_execution_time:g} (the device's limit, "
            "backend.limits.max_execution_time), or leave it out for that limit"
        )
    return None


def _execution_time(submission: JobSubmission, limits: DeviceLimits, size: int | None) -> None:
    refuse("max_execution_time", execution_time_problem(submission.max_execution_time, limits))


JobRule = Callable[[JobSubmission, DeviceLimits, "int | None"], None]

# --------------------------------------------------------------------------- program rules


def _label(program: WireProgram, index: int) -> str:
    return f"circuit {index} ({program.header.name!r})"


def check_operation_count(count: int, limits: DeviceLimits, label: str, device: str) -> None:
    """The ``max_operations`` rule on a count: what a circuit's checks ask before reading it.

    ``label`` names the circuit (``circuit 0 ('bell')``), ``device`` the device
    (``device 'x'``). A circuit's count is known at once (``len(circuit.data)``): a
    circuit of a million operations is refused before any of them is read or written.
    """
    if count > limits.max_operations:
        raise ProgramLimitError(
            "max_operations",
            f"{label} has {count} operations; {device} allows "
            f"{limits.max_operations} per circuit: split it, or reduce its depth "
            "(generate_preset_pass_manager(optimization_level=3))",
        )


def check_loop_iterations(repeats: int, limits: DeviceLimits, where: str, device: str) -> None:
    """The ``max_loop_iterations`` rule on one ``for_loop``'s number of iterations.

    Asked with ``len()`` of the loop's index set, never with the set itself: a
    ``range(10**9)`` is refused without being written out.
    """
    if repeats > limits.max_loop_iterations:
        raise ProgramLimitError(
            "max_loop_iterations",
            f"{where}: the for_loop runs {repeats} times; {device} runs a loop at "
            f"most {limits.max_loop_iterations} times: split it into shorter loops, "
            "one after another",
        )


def _operations(program: WireProgram, limits: DeviceLimits, index: int, device: str) -> None:
    check_operation_count(program.num_operations, limits, _label(program, index), device)


def _parameter_rows(program: WireProgram, limits: DeviceLimits, index: int, device: str) -> None:
    rows = len(program.parameter_values)
    if rows > limits.max_parameter_rows:
        raise ProgramLimitError(
            "max_parameter_rows",
            f"{_label(program, index)} has {rows} rows of parameter values; {device} "
            f"takes {limits.max_parameter_rows} per circuit: split the values over several "
            "jobs (VendorSampler and VendorEstimator do)",
        )


def _control_flow(program: WireProgram, limits: DeviceLimits, index: int, device: str) -> None:
    """Nesting depth, for_loop iterations and the operations one shot may execute."""
    if all(type(inst) is Op or not inst.blocks for inst in program.instructions):
        return  # no blocks: a shot executes each operation once, as _operations counts
    executed = _executed(program.instructions, limits, _label(program, index), device)
    if executed > limits.max_operations:
        raise ProgramLimitError(
            "max_operations",
            f"{_label(program, index)} may execute {executed} operations in one shot (loops "
            "counted at their iterations, a while_loop at the limit of "
            f"{limits.max_loop_iterations}); {device} allows {limits.max_operations}: "
            "run fewer iterations",
        )


def _executed(
    instructions: list[Instruction],
    limits: DeviceLimits,
    label: str,
    device: str,
    *,
    prefix: str = "",
    depth: int = 0,
) -> int:
    """The most operations one shot may execute in ``instructions`` (barriers excluded)."""
    total = 0
    for position, inst in enumerate(instructions):
        if inst.name == "barrier":
            continue
        if type(inst) is Op or not inst.blocks:
            total += 1
            continue
        where = f"{label}, instruction {prefix}{position} ({inst.name})"
        if depth + 1 > limits.max_nesting_depth:
            raise ProgramLimitError(
                "max_nesting_depth",
                f"{where}: control flow nests {depth + 1} deep; {device} allows "
                f"{limits.max_nesting_depth}: move the inner blocks out, or unroll them",
            )
        repeats = 1
        if inst.name == "for_loop":
            repeats = len(inst.indexset or [])
            check_loop_iterations(repeats, limits, where, device)
        elif inst.name == "while_loop":
            # The device stops a while_loop at its limit: the worst case of a shot.
            repeats = limits.max_loop_iterations
        # One block runs per pass (the branch the condition picks): the longest counts.
        costs = [
            _executed(
                block,
                limits,
                label,
                device,
                prefix=f"{prefix}{position}.block{number}.",
                depth=depth + 1,
            )
            for number, block in enumerate(inst.blocks)
        ]
        total += 1 + repeats * max(costs, default=0)
    return total


ProgramRule = Callable[[WireProgram, DeviceLimits, int, str], None]

RULES: dict[str, JobRule | ProgramRule] = {
    "max_shots": _shots,
    "max_circuits": _circuits,
    "max_payload_bytes": _payload,
    "max_operations": _operations,
    "max_parameter_rows": _parameter_rows,
    "max_nesting_depth, max_loop_iterations": _control_flow,
    "max_execution_time": _execution_time,
}
"""Every rule, by the limits it enforces (the last also bounds executed operations)."""

_JOB_RULES: tuple[JobRule, ...] = (_shots, _circuits, _payload, _execution_time)
_PROGRAM_RULES: tuple[ProgramRule, ...] = (_operations, _parameter_rows, _control_flow)


def check_program(
    program: WireProgram, limits: DeviceLimits, index: int = 0, device: str | None = None
) -> None:
    """Raise :class:`ProgramLimitError` unless one program is within the device's limits.

    Args:
        program: The program (its parameter table counts if it has one).
        limits: The device's limits.
        index: Where the program is in its job, for messages.
        device: The device's name, for messages.
    """
    named = "the device" if device is None else f"device {device!r}"
    for rule in _PROGRAM_RULES:
        rule(program, limits, index, named)


def rep_delay_problem(rep_delay: object, allowed: tuple[float, float] | None) -> str | None:
    """What is wrong with a ``rep_delay`` for a device whose range is ``allowed``, if anything.

    The backend's option check and the emulator both ask this.

    >>> rep_delay_problem(1e-3, (0.0, 5e-4))[:60]
    'rep_delay=0.001 is out of range: give seconds from 0 to 0.00'
    >>> rep_delay_problem(2e-4, (0.0, 5e-4)) is None, rep_delay_problem(None, None) is None
    (True, True)
    """
    if rep_delay is None:
        return None
    if allowed is None:
        return (
            f"rep_delay={rep_delay!r}: this device has no wait between shots to set; "
            "leave rep_delay out"
        )
    low, high = allowed
    if (
        not isinstance(rep_delay, numbers.Real)
        or isinstance(rep_delay, bool)
        or not low <= float(rep_delay) <= high
    ):
        return (
            f"rep_delay={rep_delay!r} is out of range: give seconds from {low:g} to "
            f"{high:g} (backend.spec.rep_delay_range), or leave it out"
        )
    return None


def check(submission: JobSubmission, limits: DeviceLimits, *, size: int | None = None) -> None:
    """Raise :class:`DeviceLimitError` unless a whole job is within the device's limits.

    Args:
        submission: The job.
        limits: The device's limits.
        size: The job's bytes on the wire, when the caller has them (else encoded here).
    """
    for rule in _JOB_RULES:
        rule(submission, limits, size)
    for index, program in enumerate(submission.programs):
        check_program(program, limits, index, submission.device)
