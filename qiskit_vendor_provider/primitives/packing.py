"""Fit the programs of one ``run()`` into as few jobs as the device's limits allow.

A device limits what one job may hold: shots (``max_shots``), programs
(``max_circuits``), request bytes (``max_payload_bytes``), parameter rows per program
(``max_parameter_rows``) and operations per program (``max_operations``). This module
turns a list of :class:`Program` objects and a shot count into :class:`JobPlan` objects
that each respect every limit, or raises before anything is sent:

* shots over ``max_shots`` are split into chunks of ``max_shots`` and a remainder; every
  program runs once per chunk, and the caller merges the chunks' samples in order;
* a parameter table longer than ``max_parameter_rows``, or too large for the payload
  limit, is split into consecutive row ranges;
* programs are packed greedily, in order, into jobs of at most ``max_circuits`` programs
  and ``max_payload_bytes`` bytes. Keeping the order makes results easy to reassemble,
  and for consecutive segments the greedy cut is also the one with the fewest jobs.

Sizes are the exact byte counts of the JSON the API client sends, computed with the same
serializer (pydantic-core) and the client's one size function
(:func:`~qiskit_vendor_provider.api.client.payload_size`, UTF-8 bytes, as the server
counts them), so a planned job is never refused for its size, whatever the characters
of its names and metadata. For a bound
circuit, writing the wire program only to measure it would double the client's work
(``backend.run`` writes it again), so such a program first carries a cheap upper bound of
its size; exact sizes are computed only when the bounds would make the payload limit
cost an extra job.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pydantic_core
from numpy.typing import NDArray
from qiskit.circuit import Barrier, Delay, Parameter, ParameterExpression, QuantumCircuit

from qiskit_vendor_provider.api.client import payload_size
from qiskit_vendor_provider.api.models import (
    DeviceLimits,
    JobSubmission,
    ProgramHeader,
    WireProgram,
)
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.serialization import circuit_to_wire

__all__ = [
    "JobPlan",
    "Program",
    "chunk_seed",
    "make_program",
    "plan_jobs",
    "split_shots",
]

# Slack for what the envelope estimate cannot know exactly (digits of derived seeds).
_ENVELOPE_SLACK = 32


@dataclass(frozen=True)
class Program:
    """One circuit to send, with an optional table of parameter values.

    Attributes:
        circuit: The circuit, in the device's native operations.
        parameters: Column order of ``rows`` (empty for a bound circuit).
        rows: One row of values per binding, or None for a bound circuit.
        tag: The primitive's bookkeeping: which PUB (and which part of it) this is.
        first_row: Index of ``rows[0]`` (or of the bound circuit) in the tag's bindings.
        size: Bytes of the program in a request; an upper bound when ``exact`` is False.
        row_bytes: Bytes of each row of ``rows`` in a request (computed when needed).
        exact: Whether ``size`` is exact.
    """

    circuit: QuantumCircuit
    parameters: tuple[Parameter, ...] = ()
    rows: NDArray[np.float64] | None = None
    tag: Hashable = None
    first_row: int = 0
    size: int = 0
    row_bytes: NDArray[np.int64] | None = field(default=None, repr=False)
    exact: bool = True

    @property
    def num_experiments(self) -> int:
        """Experiments this program gives: one per row, or one for a bound circuit."""
        return 1 if self.rows is None else len(self.rows)

    def binds(self) -> dict[Parameter, NDArray[np.float64]]:
        """The ``parameter_binds`` entry for ``backend.run`` (empty for a bound circuit)."""
        if self.rows is None:
            return {}
        return {parameter: self.rows[:, i] for i, parameter in enumerate(self.parameters)}


@dataclass(frozen=True)
class JobPlan:
    """One job to submit: its programs, shots and seed.

    Attributes:
        programs: The programs, in order.
        shots: Shots of every program in the job.
        seed: Simulator seed (None: the server chooses).
        chunk: Which shot chunk this job runs (0 for the first ``max_shots`` shots).
    """

    programs: tuple[Program, ...]
    shots: int
    seed: int | None
    chunk: int


def _json_size(value: Any) -> int:
    # to_json gives the UTF-8 bytes themselves: their length is the wire size.
    return len(pydantic_core.to_json(value))


def make_program(
    circuit: QuantumCircuit,
    *,
    parameters: Sequence[Parameter] = (),
    rows: NDArray[np.float64] | None = None,
    tag: Hashable = None,
    first_row: int = 0,
) -> Program:
    """A program with its size in a request (exact, or an upper bound for a bound circuit).

    Raises:
        WireFormatError: the circuit cannot be written as a wire program (an angle that is
            not affine in the parameters, or not finite).
    """
    if rows is None:
        bound = size_bound(circuit)
        if bound is not None:
            return Program(circuit, tag=tag, first_row=first_row, size=bound, exact=False)
        wire = circuit_to_wire(circuit)
        return Program(circuit, tag=tag, first_row=first_row, size=_wire_size(wire))
    rows = np.asarray(rows, dtype=float)
    # One zero row stands in for the table: a program declaring parameters must have
    # values, and the real table's bytes are added to the bytes of the rest.
    zero_row = [0.0] * len(parameters)
    wire = circuit_to_wire(circuit, parameters=parameters, parameter_values=[zero_row])
    base = _wire_size(wire) - _json_size([zero_row])
    size = base + _json_size(rows.tolist())
    return Program(circuit, tuple(parameters), rows, tag=tag, first_row=first_row, size=size)


def _text_bound(text: str) -> int:
    # A character is at most six bytes: escaped (\uXXXX), or up to four of UTF-8;
    # quotes add two.
    return 6 * len(text) + 2


def _index_bytes(indices: Sequence[int]) -> int:
    return sum(len(str(index)) + 1 for index in indices)


def _is_finite_number(value: object) -> bool:
    if isinstance(value, ParameterExpression):
        if value.parameters:
            return False
        value = float(value)
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def size_bound(circuit: QuantumCircuit) -> int | None:
    """An upper bound of a bound circuit's wire program size, or None to measure it.

    Every instruction is at most its name (escaped), its qubit and clbit indices, 26
    bytes per number (the longest shortest-repr of a double is 24 characters) and the
    fixed keys; the header its names and register sizes. Metadata, free parameters or
    angles that are not finite numbers make it None: those need the real wire program.
    """
    if circuit.metadata:
        return None
    total = 160 + _text_bound(circuit.name)
    for register in (*circuit.qregs, *circuit.cregs):
        total += _text_bound(register.name) + len(str(register.size)) + 4
    find_bit = circuit.find_bit
    for item in circuit.data:
        op = item.operation
        params = [] if isinstance(op, Barrier) else op.params
        if isinstance(op, Delay):
            params = [op.duration]
        for param in params:
            if not _is_finite_number(param):
                return None
        total += 80 + _text_bound(op.name) + 26 * len(params)
        total += _index_bytes([find_bit(qubit).index for qubit in item.qubits])
        total += _index_bytes([find_bit(clbit).index for clbit in item.clbits])
    return total


def _exact(program: Program) -> Program:
    """The program with its exact size (a no-op for one that has it)."""
    if program.exact:
        return program
    wire = circuit_to_wire(program.circuit)
    return replace(program, size=_wire_size(wire), exact=True)


def _wire_size(wire: WireProgram) -> int:
    return payload_size(wire.model_dump_json(exclude_defaults=True))


def _with_rows(program: Program, start: int, stop: int) -> Program:
    """The program restricted to rows ``start:stop``, with its size."""
    assert program.rows is not None
    row_bytes = _row_bytes(program)
    all_rows = int(row_bytes.sum()) + len(row_bytes) - 1 + 2
    fixed = program.size - all_rows
    part = int(row_bytes[start:stop].sum()) + (stop - start - 1) + 2
    return replace(
        program,
        rows=program.rows[start:stop],
        first_row=program.first_row + start,
        size=fixed + part,
        row_bytes=row_bytes[start:stop],
    )


def _row_bytes(program: Program) -> NDArray[np.int64]:
    if program.row_bytes is not None:
        return program.row_bytes
    assert program.rows is not None
    return np.array([_json_size(row) for row in program.rows.tolist()], dtype=np.int64)


def split_shots(shots: int, max_shots: int) -> list[int]:
    """Shots per job: chunks of ``max_shots`` and the remainder, in that order.

    >>> split_shots(250_000, 100_000), split_shots(100, 100_000)
    ([100000, 100000, 50000], [100])
    """
    full, rest = divmod(shots, max_shots)
    return [max_shots] * full + ([rest] if rest else [])


def chunk_seed(seed: int | None, chunk: int) -> int | None:
    """The seed of shot chunk ``chunk``: the user's seed first, derived seeds after.

    Chunks of one program with one seed would repeat the same samples, so each later
    chunk gets its own seed, derived deterministically from the user's.

    >>> chunk_seed(7, 0), chunk_seed(None, 3)
    (7, None)
    >>> chunk_seed(7, 1) == chunk_seed(7, 1) != chunk_seed(7, 2)
    True
    """
    if seed is None or chunk == 0:
        return seed
    state = np.random.SeedSequence([seed, chunk]).generate_state(1, np.uint64)[0]
    return int(state) >> 1  # the API takes seeds below 2**63


def envelope_size(device: str, shots: int, settings: dict[str, Any], memory: bool) -> int:
    """Bytes of a job request apart from its programs (and the commas between them)."""
    empty = WireProgram(num_qubits=0, num_clbits=0, instructions=[], header=ProgramHeader(name=""))
    seed = settings.get("seed_simulator")
    submission = JobSubmission(
        device=device,
        programs=[empty],
        shots=shots,
        memory=memory,
        seed_simulator=None if seed is None else 2**63 - 1,
        name=settings.get("job_name"),
        tags=settings.get("job_tags") or [],
    )
    return (
        payload_size(submission.model_dump_json(exclude_defaults=True))
        - _wire_size(empty)
        + _ENVELOPE_SLACK
    )


def _fit_rows(program: Program, limits: DeviceLimits, budget: int) -> list[Program]:
    """Split a program's table so every part has few enough rows and fits ``budget`` bytes."""
    if program.rows is None:
        if program.size > budget:
            program = _exact(program)
        if program.size > budget:
            raise VendorValidationError(
                f"circuit {program.circuit.name!r} alone is {program.size} bytes; with the job "
                f"envelope that exceeds the {limits.max_payload_bytes}-byte payload limit of "
                "the device. Use a shorter circuit"
            )
        return [program]
    total = len(program.rows)
    if total <= limits.max_parameter_rows and program.size <= budget:
        return [program]
    row_bytes = _row_bytes(program)
    program = replace(program, row_bytes=row_bytes)
    fixed = program.size - (int(row_bytes.sum()) + total - 1 + 2)
    parts = []
    start = 0
    while start < total:
        stop = start
        used = fixed + 2
        while stop < total and stop - start < limits.max_parameter_rows:
            extra = int(row_bytes[stop]) + (1 if stop > start else 0)
            if used + extra > budget:
                break
            used += extra
            stop += 1
        if stop == start:
            raise VendorValidationError(
                f"circuit {program.circuit.name!r} with a single row of parameter values is "
                f"over the {limits.max_payload_bytes}-byte payload limit of the device"
            )
        parts.append(_with_rows(program, start, stop))
        start = stop
    return parts


def _pack(programs: Sequence[Program], limits: DeviceLimits, envelope: int) -> list[list[Program]]:
    batches: list[list[Program]] = []
    current: list[Program] = []
    used = envelope
    for program in programs:
        extra = program.size + (1 if current else 0)
        if current and (
            len(current) >= limits.max_circuits or used + extra > limits.max_payload_bytes
        ):
            batches.append(current)
            current, used = [], envelope
            extra = program.size
        current.append(program)
        used += extra
    if current:
        batches.append(current)
    return batches


def plan_jobs(
    programs: Sequence[Program],
    shots: int,
    *,
    device: str,
    limits: DeviceLimits,
    settings: dict[str, Any],
    memory: bool,
) -> list[JobPlan]:
    """The jobs that run every program for ``shots`` shots within the device's limits.

    Args:
        programs: The programs, in the order their results are wanted.
        shots: Shots per program (may exceed the device's ``max_shots``).
        device: Device name (part of the request).
        limits: The device's limits.
        settings: ``seed_simulator``, ``job_name``, ``job_tags`` of the jobs.
        memory: Whether per-shot memory is asked for (part of the request).

    Returns:
        The jobs, shot chunk by shot chunk; within a chunk, the programs in order.

    Raises:
        VendorValidationError: a program that cannot fit any job (too many operations,
            or too many bytes on its own).
    """
    for program in programs:
        operations = len(program.circuit.data)
        if operations > limits.max_operations:
            raise VendorValidationError(
                f"circuit {program.circuit.name!r} has {operations} operations; the device "
                f"allows {limits.max_operations} per circuit"
            )
    chunks = split_shots(shots, limits.max_shots)
    envelope = envelope_size(device, max(chunks), settings, memory)
    budget = limits.max_payload_bytes - envelope
    fitted = [part for program in programs for part in _fit_rows(program, limits, budget)]
    batches = _pack(fitted, limits, envelope)
    if len(batches) > math.ceil(len(fitted) / limits.max_circuits) and not all(
        program.exact for program in fitted
    ):
        # The payload limit, not max_circuits, set the number of jobs: bounds may have
        # overstated it, so measure and pack again.
        fitted = [_exact(program) for program in fitted]
        batches = _pack(fitted, limits, envelope)
    seed = settings.get("seed_simulator")
    return [
        JobPlan(tuple(batch), chunk_shots, chunk_seed(seed, index), index)
        for index, chunk_shots in enumerate(chunks)
        for batch in batches
    ]
