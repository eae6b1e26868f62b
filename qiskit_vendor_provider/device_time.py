"""Device time: the one formula behind ``backend.estimate()`` and ``job.usage()``.

A job occupies a device for::

    job_overhead_seconds
      + sum over programs of  shots * rows * (program duration + repetition delay)

* ``job_overhead_seconds`` is the device spec's fixed cost of one job (loading,
  calibration checks), charged once whatever the job holds.
* ``rows`` is the number of rows in the program's parameter table (1 without one):
  every row is run ``shots`` times. (A delay's length cannot be swept: the device
  takes a number.)
* The **program duration** is the length of its as-soon-as-possible schedule on the
  device's clock: each operation starts when all its qubits and clbits are free and
  lasts its calibrated duration in the Target (``target[name][qargs].duration``).
  Measurements, resets and delays count; barriers take no time but make their qubits
  wait for each other. (ALAP gives the same length: only the placement differs.)
  Control flow counts the longest way through it: an ``if_else`` or ``switch_case`` its
  longest branch, a ``for_loop`` its body times the number of iterations, a
  ``while_loop`` its body times the device's ``max_loop_iterations``, an upper bound.
* The **repetition delay** is the job's ``rep_delay``, else the device's
  ``default_rep_delay`` (0 if it has none).

An operation without a calibrated duration (the ideal simulator has none) counts as
taking no time, so such a device is charged its overhead plus shots × rows × the
repetition delay. A delay in ``dt`` on a device without ``dt`` counts as no time too.

The client computes the estimate and the emulator the usage with
:func:`submission_device_time` on the same wire submission, so the two agree exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qiskit.circuit import (
    CircuitInstruction,
    Delay,
    ForLoopOp,
    QuantumCircuit,
    WhileLoopOp,
)
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import Target

from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.qiskit_internals import append_unchecked
from qiskit_vendor_provider.serialization.decoding import wire_to_circuit
from qiskit_vendor_provider.target import target_memo

__all__ = [
    "DeviceTimeEstimate",
    "ProgramTime",
    "circuit_duration",
    "device_seconds",
    "submission_device_time",
]

_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


@dataclass(frozen=True)
class ProgramTime:
    """The device time of one program of a job.

    Attributes:
        duration: Seconds one shot of the program takes on the device.
        rep_delay: Seconds the device waits after each shot.
        shots: Shots per parameter row.
        rows: Rows of its parameter table (1 without one).
        seconds: ``shots * rows * (duration + rep_delay)``.
    """

    duration: float
    rep_delay: float
    shots: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class DeviceTimeEstimate:
    """What a job would cost before it is submitted, and the device's queue now.

    Attributes:
        device_seconds: The predicted device time of the job (or jobs), in seconds:
            what :meth:`VendorJob.usage <qiskit_vendor_provider.job.VendorJob.usage>`
            reports once it is done on the emulator.
        overhead_seconds: The per-job overhead included in ``device_seconds`` (once
            per planned job).
        per_program: Each program's share, in submission order.
        pending_jobs: Jobs queued on the device when the estimate was made, ahead of
            one submitted now (``GET /v1/devices/{name}/status``).
        num_jobs: How many jobs the estimate covers (the primitives may plan several).
    """

    device_seconds: float
    overhead_seconds: float
    per_program: tuple[ProgramTime, ...]
    pending_jobs: int
    num_jobs: int = 1


def device_seconds(overhead: float, programs: Iterable[ProgramTime]) -> float:
    """The job's device time: the overhead plus each program's time.

    >>> p = ProgramTime(duration=1e-6, rep_delay=2.5e-4, shots=100, rows=2, seconds=0.0502)
    >>> round(device_seconds(0.5, [p, p]), 6)
    0.6004
    """
    return overhead + sum(program.seconds for program in programs)


def _durations(target: Target) -> dict[tuple[str, tuple[int, ...]], float]:
    """Every calibrated duration of a Target by (name, qubits), read once per Target."""
    return target_memo(target, "durations", _read_durations)


def _read_durations(target: Target) -> dict[tuple[str, tuple[int, ...]], float]:
    return {
        (name, tuple(qargs)): float(properties.duration)
        for name in target.operation_names
        if name not in CONTROL_FLOW_OP_NAMES
        for qargs, properties in (target[name] or {}).items()
        if qargs is not None and properties is not None and properties.duration is not None
    }


def _delay_seconds(operation: Delay, target: Target) -> float:
    if operation.unit == "dt":
        return float(operation.duration) * target.dt if target.dt is not None else 0.0
    return float(operation.duration) * _UNIT_SECONDS[operation.unit]


def circuit_duration(circuit: QuantumCircuit, target: Target, max_loop_iterations: int) -> float:
    """Seconds one shot of ``circuit`` takes: the length of its ASAP schedule.

    Args:
        circuit: A circuit in the device's native operations, all parameters bound
            (delays' durations in particular).
        target: The device's Target, whose durations time each operation.
        max_loop_iterations: What a ``while_loop`` counts as (its iterations are not
            known before it runs): the device's limit, so the figure is an upper bound.

    Returns:
        The time from the first operation's start to the last one's end.

    >>> from qiskit.circuit import QuantumCircuit
    >>> from qiskit.circuit.library import SXGate, CXGate, Measure
    >>> from qiskit.transpiler import Target, InstructionProperties
    >>> t = Target(num_qubits=2, dt=1e-9)
    >>> t.add_instruction(SXGate(), {(0,): InstructionProperties(duration=3e-8),
    ...                              (1,): InstructionProperties(duration=3e-8)})
    >>> t.add_instruction(CXGate(), {(0, 1): InstructionProperties(duration=3e-7)})
    >>> t.add_instruction(Measure(), {(0,): InstructionProperties(duration=1e-6),
    ...                               (1,): InstructionProperties(duration=1e-6)})
    >>> qc = QuantumCircuit(2, 2)
    >>> _ = qc.sx(0); _ = qc.sx(0); _ = qc.sx(1); _ = qc.cx(0, 1); _ = qc.measure([0, 1], [0, 1])
    >>> round(circuit_duration(qc, t, 100) * 1e9)  # 2 sx + cx + measure = 60 + 300 + 1000 ns
    1360
    """
    # Busy-until time per qubit and per clbit: an operation starts when all its wires
    # are free, which is what an ASAP schedule does. Names and indices are read without
    # item.operation, which would build a gate object per instruction.
    durations = _durations(target)
    if not durations and _timeless(circuit):
        # A device without durations (the ideal simulator) times only delays, inside
        # blocks too: without either, every operation takes no time (counted in Qiskit's
        # Rust core instead of walking the circuit).
        return 0.0
    index = {bit: position for position, bit in enumerate(circuit.qubits)}
    free: dict[object, float] = {}
    for item in circuit.data:
        name = item.name
        wires = (*item.qubits, *item.clbits)
        start = max([free.get(wire, 0.0) for wire in wires], default=0.0)
        if name in CONTROL_FLOW_OP_NAMES:
            length = _control_flow_seconds(item, circuit, target, max_loop_iterations)
        elif name == "delay":
            length = _delay_seconds(item.operation, target)
        else:
            length = durations.get((name, tuple(index[q] for q in item.qubits)), 0.0)
        for wire in wires:
            free[wire] = start + length
    return max(free.values(), default=0.0)


def _block_seconds(
    block: QuantumCircuit,
    item: CircuitInstruction,
    outer: QuantumCircuit,
    target: Target,
    max_loop_iterations: int,
) -> float:
    # A block's qubits are its own; map them to the device qubits they stand for, so
    # each operation is timed by the calibration of the qubits it really acts on.
    mapped = QuantumCircuit(outer.num_qubits, block.num_clbits)
    qubit_map = {
        inner: mapped.qubits[outer.find_bit(actual).index]
        for inner, actual in zip(block.qubits, item.qubits, strict=True)
    }
    clbit_map = dict(zip(block.clbits, mapped.clbits, strict=True))
    for inner_item in block.data:
        append_unchecked(
            mapped,
            inner_item.replace(
                qubits=tuple(qubit_map[q] for q in inner_item.qubits),
                clbits=tuple(clbit_map[c] for c in inner_item.clbits),
            ),
        )
    return circuit_duration(mapped, target, max_loop_iterations)


def _control_flow_seconds(
    item: CircuitInstruction, circuit: QuantumCircuit, target: Target, max_loop_iterations: int
) -> float:
    operation = item.operation
    blocks = [
        _block_seconds(block, item, circuit, target, max_loop_iterations)
        for block in operation.blocks
    ]
    longest = max(blocks, default=0.0)
    if isinstance(operation, ForLoopOp):
        return longest * len(operation.params[0])
    if isinstance(operation, WhileLoopOp):
        return longest * max_loop_iterations
    return longest


def _timeless(circuit: QuantumCircuit) -> bool:
    """Whether ``circuit`` has neither delays nor control flow (so no delay in a block)."""
    names = circuit.count_ops()
    return "delay" not in names and CONTROL_FLOW_OP_NAMES.isdisjoint(names)


def _has_symbolic_delay(circuit: QuantumCircuit) -> bool:
    """Whether a delay's duration is a parameter, at any depth of control flow."""
    if _timeless(circuit):
        return False
    for item in circuit.data:
        if item.name == "delay" and item.operation.is_parameterized():
            return True
        if item.name in CONTROL_FLOW_OP_NAMES and any(
            _has_symbolic_delay(block) for block in item.operation.blocks
        ):
            return True
    return False


def submission_device_time(
    submission: JobSubmission,
    spec: DeviceSpec,
    target: Target,
    circuits: Sequence[QuantumCircuit] | None = None,
) -> tuple[float, list[ProgramTime]]:
    """The device time of a job as submitted, and each program's share of it.

    Args:
        submission: The job as it goes on the wire.
        spec: The device's spec (overhead, repetition delay, loop limit).
        target: The device's Target (durations, ``dt``).
        circuits: The programs already read back as circuits (the simulator process
            has them), else they are read here.

    Returns:
        ``(device seconds, one ProgramTime per program)``.

    Raises:
        VendorValidationError: a delay whose duration is a parameter.
    """
    rep_delay = (
        submission.rep_delay if submission.rep_delay is not None else spec.default_rep_delay or 0.0
    )
    programs: list[ProgramTime] = []
    for index, program in enumerate(submission.programs):
        circuit = wire_to_circuit(program, target) if circuits is None else circuits[index]
        rows = len(program.parameter_values) or 1
        loops = spec.limits.max_loop_iterations
        if _has_symbolic_delay(circuit):
            # The server refuses it too ("a delay takes one duration, a number"):
            # refused here, an estimate never passes a job that run() cannot submit.
            raise VendorValidationError(
                f"program {index} ({program.header.name!r}): a delay's duration is a "
                "parameter; the device needs a number: bind it with "
                "circuit.assign_parameters(...) before estimate() or run()"
            )
        duration = circuit_duration(circuit, target, loops)
        programs.append(
            ProgramTime(
                duration=duration,
                rep_delay=rep_delay,
                shots=submission.shots,
                rows=rows,
                seconds=submission.shots * rows * (duration + rep_delay),
            )
        )
    return device_seconds(spec.job_overhead_seconds, programs), programs
