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

Sizes are exact and come from the wire module (:mod:`qiskit_vendor_provider.api.wire`),
which also writes the bytes the client sends, so a planned job is never refused for its
size. Whether a program fits a device at all is the rule book's to say
(:func:`qiskit_vendor_provider.rules.check_program`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import Parameter, QuantumCircuit

from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import DeviceLimits, JobSubmission, WireProgram
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.rules import check_program
from qiskit_vendor_provider.serialization import circuit_to_wire

__all__ = [
    "JobPlan",
    "Program",
    "chunk_seed",
    "make_program",
    "plan_jobs",
    "plan_run",
    "split_shots",
]


@dataclass(frozen=True)
class Program:
    """One circuit to send, with an optional table of parameter values.

    Attributes:
        circuit: The circuit, in the device's native operations.
        parameters: Column order of ``rows`` (empty for a bound circuit).
        rows: One row of values per binding, or None for a bound circuit.
        tag: The primitive's bookkeeping: which PUB (and which part of it) this is.
        first_row: Index of ``rows[0]`` (or of the bound circuit) in the tag's bindings.
        size: Exact bytes of the program in a request.
        wire: The program as sent, without its table of values.
        row_bytes: Bytes of each row of ``rows`` in a request.

    The wire program's ``row_block`` says how many consecutive rows the primitive pools
    (the twirled randomizations of one binding).
    """

    circuit: QuantumCircuit
    parameters: tuple[Parameter, ...] = ()
    rows: NDArray[np.float64] | None = None
    tag: Hashable = None
    first_row: int = 0
    size: int = 0
    wire: WireProgram | None = field(default=None, repr=False)
    row_bytes: NDArray[np.int64] | None = field(default=None, repr=False)

    @property
    def num_experiments(self) -> int:
        """Experiments this program gives: one per row, or one for a bound circuit."""
        return 1 if self.rows is None else len(self.rows)

    def program(self) -> WireProgram:
        """The program as it is sent: its wire form with its rows of values."""
        assert self.wire is not None
        if self.rows is None:
            return self.wire
        return self.wire.model_copy(update={"parameter_values": self.rows.tolist()})

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


def make_program(
    circuit: QuantumCircuit,
    *,
    parameters: Sequence[Parameter] = (),
    rows: NDArray[np.float64] | None = None,
    tag: Hashable = None,
    first_row: int = 0,
    row_block: int = 1,
) -> Program:
    """A program with its exact size in a request.

    ``row_block``: consecutive rows pooled into one figure (the randomizations of one
    binding), which the server may share work between (:attr:`WireProgram.row_block`).

    Raises:
        WireFormatError: the circuit cannot be written as a wire program (an angle that is
            not affine in the parameters, or not finite).
    """
    if rows is None:
        program = circuit_to_wire(circuit)
        return Program(
            circuit, tag=tag, first_row=first_row, size=wire.program_size(program), wire=program
        )
    rows = np.asarray(rows, dtype=float)
    program = circuit_to_wire(circuit, parameters=parameters)
    if row_block > 1 and len(rows) % row_block == 0:
        program = program.model_copy(update={"row_block": row_block})
    row_bytes = np.array(wire.row_sizes(rows.tolist()), dtype=np.int64)
    return Program(
        circuit,
        tuple(parameters),
        rows,
        tag=tag,
        first_row=first_row,
        size=wire.program_size(program, table_rows=row_bytes.tolist()),
        wire=program,
        row_bytes=row_bytes,
    )


def _with_rows(program: Program, start: int, stop: int) -> Program:
    """The program restricted to rows ``start:stop``, with its size."""
    assert program.rows is not None
    assert program.row_bytes is not None
    assert program.wire is not None
    row_bytes = program.row_bytes[start:stop]
    # Whole blocks stay blocks; a cut through one leaves the largest blocks both parts hold.
    block = math.gcd(program.wire.row_block, start, stop - start)
    template = program.wire.model_copy(update={"row_block": block})
    return replace(
        program,
        rows=program.rows[start:stop],
        first_row=program.first_row + start,
        size=wire.program_size(template, table_rows=row_bytes.tolist()),
        wire=template,
        row_bytes=row_bytes,
    )


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


def envelope_size(
    device: str,
    shots: int,
    settings: dict[str, Any],
    memory: bool,
    session_id: str | None = None,
) -> int:
    """Bytes of a job request apart from its programs, at the most its seed can take."""
    seed = settings.get("seed_simulator")
    envelope = JobSubmission.model_construct(
        device=device,
        programs=[],
        shots=shots,
        memory=memory,
        # Later shot chunks get derived seeds: the largest seed has the most digits.
        seed_simulator=None if seed is None else 2**63 - 1,
        name=settings.get("job_name"),
        tags=settings.get("job_tags") or [],
        session_id=session_id,
    )
    return wire.envelope_size(envelope)


def _fit_rows(program: Program, limits: DeviceLimits, budget: int) -> list[Program]:
    """Split a program's table so every part has few enough rows and fits ``budget`` bytes."""
    if program.size > budget and program.rows is None:
        raise VendorValidationError(
            f"circuit {program.circuit.name!r} alone is {program.size} bytes; with the job "
            f"envelope that exceeds the {limits.max_payload_bytes}-byte payload limit of "
            "the device. Use a shorter circuit"
        )
    if program.rows is None or (
        len(program.rows) <= limits.max_parameter_rows and program.size <= budget
    ):
        return [program]
    assert program.wire is not None
    assert program.row_bytes is not None
    sizes = program.row_bytes.tolist()
    parts = []
    start = 0
    while start < len(sizes):
        stop = wire.rows_that_fit(
            program.wire, sizes, start, budget=budget, max_rows=limits.max_parameter_rows
        )
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
    session_id: str | None = None,
) -> list[JobPlan]:
    """The jobs that run every program for ``shots`` shots within the device's limits.

    Args:
        programs: The programs, in the order their results are wanted.
        shots: Shots per program (may exceed the device's ``max_shots``).
        device: Device name (part of the request).
        limits: The device's limits.
        settings: ``seed_simulator``, ``job_name``, ``job_tags`` of the jobs.
        memory: Whether per-shot memory is asked for (part of the request).
        session_id: The session or batch the jobs run in (part of the request).

    Returns:
        The jobs, shot chunk by shot chunk; within a chunk, the programs in order.

    Raises:
        VendorValidationError: a program that cannot fit any job (too many operations,
            or too many bytes on its own).
    """
    for index, program in enumerate(programs):
        if program.wire is not None:
            check_program(program.wire, limits, index, device)
    chunks = split_shots(shots, limits.max_shots)
    envelope = envelope_size(device, max(chunks), settings, memory, session_id)
    budget = limits.max_payload_bytes - envelope
    fitted = [part for program in programs for part in _fit_rows(program, limits, budget)]
    batches = _pack(fitted, limits, envelope)
    seed = settings.get("seed_simulator")
    return [
        JobPlan(tuple(batch), chunk_shots, chunk_seed(seed, index), index)
        for index, chunk_shots in enumerate(chunks)
        for batch in batches
    ]


def plan_run(
    programs_by_shots: Mapping[int, Sequence[Program]],
    *,
    device: str,
    limits: DeviceLimits,
    settings: dict[str, Any],
    memory: bool,
    session_id: str | None,
    max_jobs: int,
    remedy: str,
) -> list[JobPlan]:
    """Every job of one primitive run (programs grouped by their shots), within ``max_jobs``.

    Args:
        programs_by_shots: The run's programs, keyed by the shots each runs.
        device: Device name (part of each request).
        limits: The device's limits.
        settings: ``seed_simulator``, ``job_name``, ``job_tags`` of the jobs.
        memory: Whether per-shot memory is asked for.
        session_id: The session or batch the jobs run in.
        max_jobs: The primitive's ``max_jobs`` option.
        remedy: What the user can ask for instead, said after why the run is too large
            (``max_jobs`` can always be raised, which the message adds).

    Returns:
        The jobs, shot group by shot group.

    Raises:
        VendorValidationError: the run needs more than ``max_jobs`` jobs, or a program fits
            no job.
    """
    plans = [
        plan
        for shots, programs in programs_by_shots.items()
        for plan in plan_jobs(
            programs,
            shots,
            device=device,
            limits=limits,
            settings=settings,
            memory=memory,
            session_id=session_id,
        )
    ]
    if len(plans) > max_jobs:
        raise VendorValidationError(
            f"this run needs {len(plans)} jobs on {device!r} (at most {limits.max_shots} "
            f"shots and {limits.max_circuits} circuits per job), over max_jobs={max_jobs}"
            f"{remedy}, or raise max_jobs with set_options()"
        )
    return plans
