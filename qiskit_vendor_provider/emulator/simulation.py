"""Runs one validated job on Aer and shapes Aer's answer as the API's result model."""

from __future__ import annotations

import math
import random
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import InstructionDurations, Target
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qiskit_vendor_provider.api.models import (
    BindingResult,
    DeviceSpec,
    JobSubmission,
    ProgramResult,
    ResultHeader,
    WireProgram,
)
from qiskit_vendor_provider.api.shots import encode_packed, pack_hex, shot_ints
from qiskit_vendor_provider.emulator.final_sampling import (
    PROBABILITIES,
    clbit_values,
    probability_circuit,
    sample_group,
    terminal_measurements,
    with_readout_errors,
)
from qiskit_vendor_provider.emulator.lowering import lower_circuit
from qiskit_vendor_provider.emulator.noise import DeviceNoise
from qiskit_vendor_provider.emulator.scheduling import (
    has_loop_of_unknown_length,
    instruction_durations,
    scheduler,
    with_block_noise,
    with_idle_noise,
)
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.qiskit_internals import append_unchecked
from qiskit_vendor_provider.serialization.decoding import parameter_columns, wire_to_circuit
from qiskit_vendor_provider.target import build_target

PREPARED_DEVICES_KEPT = 8
"""Devices (a device under each calibration it ran with) a simulator process keeps ready."""

PARALLEL_QUBITS = 14
"""Circuits narrower than this run on one thread (Aer's statevector threshold)..."""
PARALLEL_EXPERIMENTS = 16
"""... unless the job runs at least this many experiments."""


def make_simulator(*, max_memory_mb: int = 4096) -> AerSimulator:
    """The Aer simulator the emulator runs every job on (noise is given per job).

    ``max_memory_mb`` caps each simulation, so one oversized program fails (alone, with
    Aer's message) instead of exhausting the machine the emulator runs on.
    """
    return AerSimulator(max_memory_mb=max_memory_mb)


def flat_operations(
    circuit: QuantumCircuit, qubit_map: list[int] | None = None
) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Each operation's name and qubits (the circuit's indices), inside blocks too.

    A block's qubits stand, in order, for the qubits of the instruction that holds it.
    """
    where = qubit_map if qubit_map is not None else list(range(circuit.num_qubits))
    index = {bit: where[position] for position, bit in enumerate(circuit.qubits)}
    for item in circuit.data:
        # item.name, not item.operation: the latter builds a gate object per instruction.
        qubits = tuple(index[q] for q in item.qubits)
        if item.name in CONTROL_FLOW_OP_NAMES:
            for block in item.operation.blocks:
                yield from flat_operations(block, list(qubits))
            continue
        yield item.name, qubits


def has_control_flow(circuit: QuantumCircuit) -> bool:
    """Whether the circuit is dynamic (holds if_else, switch_case or a loop)."""
    # count_ops counts in Qiskit's Rust core, without an object per instruction.
    return not CONTROL_FLOW_OP_NAMES.isdisjoint(circuit.count_ops())


@dataclass(frozen=True)
class Survey:
    """What the cost estimate and the noise model need of one circuit Aer runs."""

    operations: int
    """Its operations, inside blocks too, barriers included."""
    active: frozenset[int]
    """The qubits its operations other than barriers act on."""
    dynamic: bool
    """Whether it has control flow."""


def survey(circuit: QuantumCircuit) -> Survey:
    """One pass over ``circuit`` for :class:`Survey`."""
    if has_control_flow(circuit):
        operations = list(flat_operations(circuit))
        active = {q for name, qubits in operations if name != "barrier" for q in qubits}
        return Survey(len(operations), frozenset(active), True)
    index = {bit: position for position, bit in enumerate(circuit.qubits)}
    found: set[int] = set()
    count = 0
    for item in circuit.data:
        count += 1
        if item.name != "barrier":
            found.update(map(index.__getitem__, item.qubits))
    return Survey(count, frozenset(found), False)


def _method(experiment: Any) -> str | None:
    """The simulation method Aer used for one experiment (None if it does not say)."""
    metadata = getattr(experiment, "metadata", None)
    return metadata.get("method") if isinstance(metadata, dict) else None


def active_qubits(circuits: list[QuantumCircuit]) -> set[int]:
    """The qubits any of the circuits operates on (their noise is all a job needs).

    Barriers are left out: they act on no state, so the qubits they span need no noise.
    """
    return set().union(*(survey(circuit).active for circuit in circuits))


def used_operations(circuits: list[QuantumCircuit]) -> set[tuple[str, tuple[int, ...]]]:
    """Every (operation name, qubits) the circuits use: the gate errors a job needs."""
    return {operation for circuit in circuits for operation in flat_operations(circuit)}


def _bindings(program: WireProgram, circuit: QuantumCircuit) -> dict[Any, list[float]]:
    columns = parameter_columns(program, circuit)
    return {
        parameter: [
            row[program.parameters.index(parameter.name)] for row in program.parameter_values
        ]
        for parameter in columns
    }


def _binding_result(
    raw: dict[str, Any], submission: JobSubmission, num_clbits: int
) -> BindingResult:
    # Aer leaves out counts and memory of a circuit without measurements; every shot of
    # such a circuit still happened and read all-zero clbits.
    counts = {key: int(value) for key, value in raw.get("counts", {}).items()}
    return _row(
        counts or {"0x0": submission.shots},
        raw.get("memory") or ["0x0"] * submission.shots if submission.memory else None,
        num_clbits,
    )


def _row(counts: dict[str, int], memory: list[str] | None, num_clbits: int) -> BindingResult:
    """A row: its counts, and its memory packed (result format 2) when asked for.

    The counts stay beside packed memory here, for whoever runs the simulation; the
    worker leaves them out of what it stores (:func:`.result_format.stored_result`).
    """
    if memory is None:
        return BindingResult(counts=counts)
    packed = pack_hex(memory, num_clbits, outcomes=counts)
    return BindingResult(counts=counts, packed_memory=encode_packed(packed))


def _grouped_result(
    raws: list[dict[str, Any]], submission: JobSubmission, num_clbits: int
) -> BindingResult:
    """One binding's result from its groups of shots (see :func:`detuning_groups`).

    Each group ran ``ceil(shots / groups)`` shots; group ``g`` gives its first
    ``shots // groups`` (one more for the first ``shots % groups``), so the binding has
    exactly ``shots``. Aer returned memory whenever that takes fewer than all.
    """
    groups = len(raws)
    base, extra = divmod(submission.shots, groups)
    memory: list[str] = []
    counts: dict[str, int] = {}
    for group, raw in enumerate(raws):
        take = base + (1 if group < extra else 0)
        shots = raw.get("memory")
        if shots is None:  # every shot of the group is used: its counts are enough
            for key, value in (raw.get("counts") or {"0x0": take}).items():
                counts[key] = counts.get(key, 0) + int(value)
            continue
        for key in list(shots)[:take]:
            counts[key] = counts.get(key, 0) + 1
            memory.append(key)
    memory_asked = memory or ["0x0"] * submission.shots if submission.memory else None
    return _row(counts or {"0x0": submission.shots}, memory_asked, num_clbits)


DETUNING_GROUPS = 32
"""Groups of shots a job with slow dephasing is split into, each with its own detunings."""


DETUNING_CUTOFF = 100.0
"""Largest slow detuning drawn, in half widths of its Lorentzian.

The cut takes ``1 - 2 atan(K) / pi`` of the weight off (0.6% at 100), the draws that
dephase a Ramsey fringe within its first ``1 / (K width)``; without them the fringe is
that much too high afterwards, which ``T2Ramsey`` reads as a longer T2* (1.1% longer at
a cut of 30, 0.3% at 100, on a fit of the exact curve over three T2*)."""


SHOTS_PER_DRAW = 125
"""Shots that share one draw of a pooled row: a 4,000-shot program's 32 groups' size."""


def detuning_groups(shots: int, block: int = 1) -> int:
    """How many groups of shots each row of a job with slow dephasing runs as.

    A row alone takes ``DETUNING_GROUPS``, or the largest number of groups down to half
    of it that divides ``shots`` evenly (1,000 shots: 25 groups of 40), which spares Aer
    returning every shot's memory for the cut; never more than one per shot. Rows the
    client pools in blocks of ``block`` (:attr:`WireProgram.row_block`: the twirled
    randomizations of one binding) share the draws: each takes one group per
    ``SHOTS_PER_DRAW`` shots (at most ``DETUNING_GROUPS``), and at least
    ``DETUNING_GROUPS / block``, so a block is covered by ``DETUNING_GROUPS`` strata or
    more, and its pooled figure by a draw per 125 shots at least, as a 4,000-shot row
    alone is (see :func:`detuning_draws`).

    >>> detuning_groups(4096), detuning_groups(1000), detuning_groups(997), detuning_groups(5)
    (32, 25, 32, 5)
    >>> [detuning_groups(s, block=b) for s, b in ((64, 32), (1000, 32), (100, 8))]
    [1, 8, 4]
    """
    wanted = DETUNING_GROUPS
    if block > 1:
        by_shots = min(DETUNING_GROUPS, -(-shots // SHOTS_PER_DRAW))
        wanted = max(-(-DETUNING_GROUPS // block), by_shots, 1)
    if shots <= wanted:
        return max(1, shots)
    for groups in range(wanted, (wanted + 1) // 2 - 1, -1):
        if shots % groups == 0:
            return groups
    return wanted


def detuning_draws(
    widths: list[float], rows: int, groups: int, rng: np.random.Generator, block: int = 1
) -> list[list[float]]:
    """Each qubit's detuning (rad/s) for each row and group, row by row.

    Per qubit and block of ``block`` rows (a row alone, by default), the block's
    ``block * groups`` groups take one draw from each of as many equal-probability
    strata of the Lorentzian of half width ``width`` (stratified sampling: every draw is
    a draw from the distribution, and together they cover it evenly), in a random order
    of their own so that qubits are independent. The Lorentzian is cut at
    ``DETUNING_CUTOFF`` half widths, as the slow noise of a device is bounded: its
    far tail (0.6% of the weight) would only dephase within the first
    ``1 / (100 width)``.
    """
    # The truncated Lorentzian's quantile: u in (0, 1) -> tan((u - 1/2) 2 atan(K)).
    span = 2 * math.atan(DETUNING_CUTOFF)
    block = max(1, min(block, rows))
    size = block * groups
    out: list[list[float]] = []
    for width in widths:
        values: list[float] = []
        for _ in range(-(-rows // block)):
            strata = (rng.permutation(size) + rng.random(size)) / size
            values.extend((width * np.tan((strata - 0.5) * span)).tolist())
        out.append(values[: rows * groups])
    return out


def detuning_binds(
    circuit: QuantumCircuit, noise: DeviceNoise, groups: int = DETUNING_GROUPS, seed: int = 0
) -> dict[Any, list[float]]:
    """Values for a prepared circuit's detuning parameters: one row per group of shots.

    For running :meth:`PreparedDevice.prepare`'s output on Aer directly: pass
    ``parameter_binds=[detuning_binds(...)]`` and pool the groups' counts.
    """
    own = [p for p in circuit.parameters if p in noise.detuning_qubits]
    widths = [noise.detuning_width(noise.detuning_qubits[p]) for p in own]
    draws = detuning_draws(widths, 1, groups, np.random.default_rng(seed))
    return dict(zip(own, draws, strict=True))


Prepare = Callable[[QuantumCircuit], QuantumCircuit]


SECONDS_PER_AMPLITUDE_OPERATION = 4e-9
"""Aer's time per operation and amplitude (per density-matrix entry), noisy: 3-6 ns
measured for 14-18 qubits on the development machine; a rough figure by design."""

MAX_ESTIMATED_SECONDS = 3600.0
"""A job estimated to simulate for longer than this is refused before it starts."""


class SimulationTooLongError(VendorValidationError, ValueError):
    """A job would keep a simulator busy for hours; the message gives the estimate.

    A ``ValueError`` too, so the simulator process reports it as the job's failure.
    """


def estimated_seconds(
    circuits: list[QuantumCircuit],
    experiments: list[int],
    *,
    shots: int,
    noisy: bool,
    max_memory_mb: int = 4096,
) -> float:
    """Roughly how long Aer takes to run ``circuits``, each ``experiments`` times.

    Aer simulates only the qubits a circuit operates on (``n``). A noisy circuit runs on
    a density matrix (``4^n`` entries, once) when it has more shots than ``2^n``, can be
    sampled at its end and fits in ``max_memory_mb``; otherwise one state vector
    (``2^n`` amplitudes) per shot. An ideal static circuit is run once and sampled.
    Each of its operations costs ``SECONDS_PER_AMPLITUDE_OPERATION`` per amplitude. A
    circuit whose state vector does not fit in ``max_memory_mb`` costs nothing: Aer
    fails that program at once, alone.

    >>> one = QuantumCircuit(2, 2); _ = one.h(0); _ = one.cx(0, 1); _ = one.measure([0, 1], [0, 1])
    >>> estimated_seconds([one], [1], shots=100, noisy=True) < 1e-5
    True
    """
    return _estimate(
        [survey(circuit) for circuit in circuits],
        experiments,
        shots=shots,
        noisy=noisy,
        max_memory_mb=max_memory_mb,
    )


def _estimate(
    surveys: list[Survey], experiments: list[int], *, shots: int, noisy: bool, max_memory_mb: int
) -> float:
    """:func:`estimated_seconds` of circuits already surveyed."""
    total = 0.0
    for facts, count in zip(surveys, experiments, strict=True):
        n = len(facts.active)
        dynamic = facts.dynamic
        if 16 * 2.0**n > max_memory_mb * 2**20:
            continue  # Aer refuses it at once, alone, for want of memory
        if noisy and not dynamic and shots > 2**n and 16 * 4.0**n <= max_memory_mb * 2**20:
            size = 4.0**n
        elif noisy or dynamic:
            size = shots * 2.0**n
        else:
            size = 2.0**n
        total += count * facts.operations * size * SECONDS_PER_AMPLITUDE_OPERATION
    return total


def _refuse_if_too_long(seconds: float, circuits: list[QuantumCircuit]) -> None:
    if seconds <= MAX_ESTIMATED_SECONDS:
        return
    widest = max(
        len({q for name, qs in flat_operations(c) if name != "barrier" for q in qs})
        for c in circuits
    )
    raise SimulationTooLongError(
        f"the job would take about {seconds / 3600:.1f} hours to simulate (its widest "
        f"program acts on {widest} qubits, each simulated with idle noise for every shot); "
        f"the limit is {MAX_ESTIMATED_SECONDS / 3600:g} hour. Use fewer shots, act on "
        "fewer qubits (qubits that are only measured cost nothing), or split the job"
    )


def split_untouched(
    circuit: QuantumCircuit, noise: DeviceNoise | NoiseModel | None
) -> tuple[QuantumCircuit, list[tuple[int, float]]]:
    """``circuit`` without the measurements of qubits nothing else acts on, and those.

    Such a qubit is in ``|0>`` when measured: relaxation at zero temperature leaves
    ``|0>`` alone, a slow detuning only turns its phase, and ZZ (the energy of ``|11>``)
    does nothing to it. Its measurement reads 1 with the qubit's readout error, which
    :func:`sample_untouched` draws classically: Aer cannot drop a measured qubit, so a
    transpiled circuit with ``measure_all()`` on 27 qubits would otherwise be simulated
    on all 27 (about 30 s per shot with noise). Only for static circuits whose clbits
    are each written once; otherwise ``circuit`` is returned as it is.
    """
    if has_control_flow(circuit):
        return circuit, []
    # One pass, with the bits' indices from dicts (find_bit per bit took twice as long).
    qubit_index = {bit: position for position, bit in enumerate(circuit.qubits)}
    clbit_index = {bit: position for position, bit in enumerate(circuit.clbits)}
    touched: set[int] = set()
    writes: dict[int, int] = {}
    measures: list[tuple[int, int]] = []
    for item in circuit.data:
        name = item.name
        if name in {"barrier", "delay"}:
            continue
        for clbit in item.clbits:
            index = clbit_index[clbit]
            writes[index] = writes.get(index, 0) + 1
        if name == "measure":
            measures.append((qubit_index[item.qubits[0]], clbit_index[item.clbits[0]]))
        else:
            touched.update(map(qubit_index.__getitem__, item.qubits))
    untouched = [
        (qubit, clbit)
        for qubit, clbit in measures
        if qubit not in touched and writes.get(clbit) == 1
    ]
    if not untouched:
        return circuit, []
    skip = set(untouched)
    out = circuit.copy_empty_like()
    for item in circuit.data:
        if item.name == "measure":
            key = (qubit_index[item.qubits[0]], clbit_index[item.clbits[0]])
            if key in skip:
                continue
        append_unchecked(out, item)
    calibration = noise._spec.calibration if isinstance(noise, DeviceNoise) else None
    extra = [
        (clbit, calibration.qubits[qubit].readout_error if calibration else 0.0)
        for qubit, clbit in untouched
    ]
    return out, extra


def sample_untouched(
    raw: dict[str, Any],
    extra: list[tuple[int, float]],
    rng: np.random.Generator,
    *,
    shots: int,
    memory: bool,
) -> dict[str, Any]:
    """Aer's data of one ``shots``-shot experiment with the sampled clbits filled in.

    ``memory``: whether Aer was asked for per-shot memory.
    """
    flips = [(1 << clbit, p) for clbit, p in extra if p > 0]
    if not flips:
        return raw
    if not raw.get("counts"):  # nothing measured on Aer's side: every shot read zeros
        raw = {**raw, "counts": {"0x0": shots}}
        if memory:
            raw["memory"] = ["0x0"] * shots
    stored = raw.get("memory")
    if stored is not None:
        values = np.array(shot_ints(stored), dtype=object)
        for mask, p in flips:
            hits = rng.random(len(values)) < p
            values[hits] = values[hits] | mask
        keys = [hex(int(v)) for v in values]
        counts: dict[str, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        return {**raw, "memory": keys, "counts": counts}
    # Counts only: split each outcome's count binomially, clbit by clbit.
    outcomes = raw.get("counts", {})
    table = dict(zip(shot_ints(outcomes), map(int, outcomes.values()), strict=True))
    for mask, p in flips:
        split: dict[int, int] = {}
        for value, count in table.items():
            ones = int(rng.binomial(count, p))
            for target, number in ((value | mask, ones), (value, count - ones)):
                if number:
                    split[target] = split.get(target, 0) + number
        table = split
    return {**raw, "counts": {hex(value): count for value, count in table.items()}}


@dataclass
class _Experiments:
    """The circuits Aer runs, their parameter tables, and how results map back."""

    circuits: list[QuantumCircuit]
    binds: list[dict[Any, list[float]]]
    rows_per_program: list[int]
    groups: int = 1
    classical: list[list[tuple[int, float]]] = field(default_factory=list)
    """Per program: the clbits measured from qubits no operation touches, and their
    readout error (see :func:`split_untouched`)."""


def _experiments(
    submission: JobSubmission,
    circuits: list[QuantumCircuit],
    prepare: Prepare,
    noise: DeviceNoise | NoiseModel | None,
    seed: int,
) -> _Experiments:
    """The circuits Aer runs, with their parameter tables, and the rows of each program.

    A parametrized program is sent to Aer once with its whole table of values (Aer binds
    each row itself), so a sweep costs one circuit, not one per row. (A delay's duration
    is never a parameter: the wire carries it as a number.) With slow dephasing, each
    row runs as :func:`detuning_groups` experiments, each binding the qubits' detuning
    parameters to its own draw.
    """
    prepared = []
    classical = []
    for circuit in circuits:
        reduced, extra = split_untouched(prepare(circuit), noise)
        prepared.append(reduced)
        classical.append(extra)
    detuning = noise.detuning_qubits if isinstance(noise, DeviceNoise) else {}
    slow = [[p for p in c.parameters if p in detuning] for c in prepared]
    # One number of groups for the job (Aer runs every experiment with the same shots):
    # the one its least pooled program with slow dephasing needs.
    pooled = zip(submission.programs, slow, strict=True)
    block = min((program.row_block for program, own in pooled if own), default=1)
    groups = detuning_groups(submission.shots, block) if any(slow) else 1
    rng = np.random.default_rng(seed)
    out = _Experiments([], [], [], groups, classical)
    for program, circuit, timed, own in zip(
        submission.programs, circuits, prepared, slow, strict=True
    ):
        rows = len(program.parameter_values) or 1
        out.rows_per_program.append(rows)
        bind = _bindings(program, circuit)
        if groups > 1:
            bind = {key: [v for v in values for _ in range(groups)] for key, values in bind.items()}
        if own:  # one group too (a one-shot job): its parameters need values
            widths = [noise.detuning_width(detuning[p]) for p in own]  # type: ignore[union-attr]
            draws = detuning_draws(widths, rows, groups, rng, block=program.row_block)
            bind.update(zip(own, draws, strict=True))
        # A table whose parameters no instruction uses (a global phase, say) still asks
        # for one experiment per row: Aer binds nothing then, so the circuit is repeated.
        copies = 1 if bind else rows * groups
        out.circuits.extend([timed] * copies)
        out.binds.extend([bind] * copies)
    return out


def _check_whole(aer_result: Any, expected: int) -> None:
    """Refuse an Aer result without one experiment per row and group, with Aer's reason.

    Aer answers a job it cannot load (a circuit it cannot parse, for one) with no
    experiments at all and the reason in its status: that is the job's error, not a
    result to read.
    """
    if len(aer_result.results) != expected:
        raise RuntimeError(
            f"the simulator returned {len(aer_result.results)} of {expected} experiments: "
            f"{aer_result.status}"
        )


def runs_as_density_matrix(
    circuits: list[QuantumCircuit], shots: int, *, max_memory_mb: int = 4096
) -> bool:
    """Whether Aer's automatic method runs every one of these noisy circuits as a density matrix.

    It does for a static circuit of ``n`` active qubits with more shots than ``2^n``,
    whose density matrix fits in ``max_memory_mb`` and whose measurements all come
    last (so that the final state is sampled). A foresight only: the caller checks
    the method Aer reports.

    >>> bell = QuantumCircuit(2, 2); _ = bell.h(0); _ = bell.cx(0, 1)
    >>> _ = bell.measure([0, 1], [0, 1])
    >>> runs_as_density_matrix([bell], 5), runs_as_density_matrix([bell], 4)
    (True, False)
    """
    for circuit in circuits:
        if has_control_flow(circuit):
            return False
        n = len(active_qubits([circuit]))
        if shots <= 2**n or 16 * 4.0**n > max_memory_mb * 2**20:
            return False
        measured: set[Any] = set()
        for item in circuit.data:
            if item.name == "measure":
                measured.update(item.qubits)
            elif item.name in {"reset", "initialize"} or (
                item.name != "barrier" and measured.intersection(item.qubits)
            ):
                return False
    return True


def aer_seed(seed: int, groups: int) -> int:
    """The ``seed_simulator`` Aer runs a job of seed ``seed`` with, its rows in ``groups``.

    Aer seeds a run's experiments ``seed``, ``seed + 1``, ... in order. A job whose rows
    run as groups of shots (slow dephasing: up to 32 alike experiments per row) under
    consecutive seeds therefore shared all but one of its experiments' streams with the
    next seed's job, and sampled nearly the same counts (a Bell pair waiting 20 us: P(00)
    1183, 1184, 1191, 1185 of 4,000 for seeds 10 to 13, a third of the shot noise
    apart). Such a job's seed is spread by ``SeedSequence`` (into ``[0, 2**31)``), so
    nearby seeds give independent samples. A job Aer runs as it is (one group: the ideal
    device, a device without slow dephasing) keeps Aer's own seeding, so it samples as
    ``AerSimulator`` does at that seed. Either way the same seed gives the same counts.

    >>> aer_seed(10, 1), aer_seed(10, 32) == aer_seed(10, 25), aer_seed(10, 32) != 10
    (10, True, True)
    >>> abs(aer_seed(10, 32) - aer_seed(11, 32)) > 10**5
    True
    """
    if groups <= 1:
        return seed
    state = np.random.SeedSequence([seed, 0xAE5]).generate_state(1, np.uint32)[0]
    return int(state >> 1)


def _run_on_aer(
    simulator: AerSimulator,
    circuits: list[QuantumCircuit],
    run_options: dict[str, Any],
    *,
    grouped: bool,
    noise: DeviceNoise | None,
    seed: int,
) -> tuple[Any, list[dict[str, Any]]]:
    """Aer's result for the job's circuits, and each experiment's data as Aer gives it.

    ``grouped``: the job's rows run as groups of shots on a noisy device, whose
    ``noise`` gives the readout errors when the shots are drawn here.
    """
    bind_at_run_time = grouped and runs_as_density_matrix(
        circuits,
        run_options["shots"],
        max_memory_mb=int(simulator.options.max_memory_mb or 4096),
    )
    if bind_at_run_time:
        measured = [terminal_measurements(circuit) for circuit in circuits]
        if noise is not None and all(m is not None for m in measured):
            return _sampled_here(
                simulator,
                circuits,
                [m or [] for m in measured],
                run_options,
                noise=noise,
                seed=seed,
            )
        # Aer binds each row while running its circuit, instead of building, noising and
        # optimising one circuit per row and group: a third less time for the groups of
        # the slow draw. Only for jobs Aer runs wholly as density matrices, where the
        # counts are the same to the shot (with statevector, Aer draws in another
        # order, and it bound rows wrongly in jobs that mixed methods).
        run_options = {**run_options, "runtime_parameter_bind_enable": True}
    aer_result = simulator.run(circuits, **run_options).result()
    methods = {_method(r) for r in aer_result.results}
    if bind_at_run_time and methods != {"density_matrix"}:
        # Aer chose otherwise than foreseen: run it as before, row by row.
        del run_options["runtime_parameter_bind_enable"]
        aer_result = simulator.run(circuits, **run_options).result()
        methods = {_method(r) for r in aer_result.results}
    if "parameter_binds" in run_options and "density_matrix" in methods and len(methods) > 1:
        # Aer 0.18's "automatic" method picks one per experiment, and where a job mixes
        # them, a density-matrix experiment with a parameter table that follows a
        # statevector one is run with wrong values (a twirled TREX calibration sent
        # after a twirled Ising circuit read the opposite bits in every row:
        # tests/test_simulation_method.py). Such a job runs again on one method; any
        # other job keeps its result (an ideal device's stabilizer and statevector
        # experiments, say).
        aer_result = simulator.run(circuits, **run_options, method="statevector").result()
    return aer_result, [experiment.data.to_dict() for experiment in aer_result.results]


def _sampled_here(
    simulator: AerSimulator,
    circuits: list[QuantumCircuit],
    measured: list[list[tuple[int, int]]],
    run_options: dict[str, Any],
    *,
    noise: DeviceNoise,
    seed: int,
) -> tuple[Any, list[dict[str, Any]]]:
    """Groups whose measurements all come last: probabilities from Aer, shots from numpy.

    Aer evolves each group's density matrix (binding the rows at run time) and saves
    the measured qubits' probabilities; each group's shots are then drawn from them
    with the qubits' readout errors applied (see :mod:`.final_sampling`), a quarter
    less time in Aer than Aer's own sampling of every group.
    """
    probing: dict[int, QuantumCircuit] = {}
    for circuit, pairs in zip(circuits, measured, strict=True):
        if id(circuit) not in probing:  # a circuit repeated per row is rewritten once
            probing[id(circuit)] = probability_circuit(circuit, pairs)
    options = {
        **run_options,
        "shots": 1,
        "memory": False,
        "method": "density_matrix",
        "runtime_parameter_bind_enable": True,
    }
    aer_result = simulator.run([probing[id(c)] for c in circuits], **options).result()
    binds = run_options.get("parameter_binds") or [{}] * len(circuits)
    expected = sum(len(b[next(iter(b))]) if b else 1 for b in binds)
    _check_whole(aer_result, expected)
    rng = np.random.default_rng([seed, 2])
    experiments = iter(aer_result.results)
    out: list[dict[str, Any]] = []
    for pairs, bind in zip(measured, binds, strict=True):
        values = clbit_values(pairs)
        errors = [noise.readout_error(qubit) for qubit, _ in pairs]
        saved = [
            next(experiments).data.to_dict().get(PROBABILITIES)
            for _ in range(len(bind[next(iter(bind))]) if bind else 1)
        ]
        if not pairs or any(p is None for p in saved):  # nothing measured, or Aer failed
            out.extend({} for _ in saved)
            continue
        for probabilities in with_readout_errors(np.array(saved, dtype=float), errors):
            out.append(
                sample_group(
                    probabilities, values, run_options["shots"], rng, memory=run_options["memory"]
                )
            )
    return aer_result, out


def simulate(
    simulator: AerSimulator,
    submission: JobSubmission,
    circuits: list[QuantumCircuit],
    noise: DeviceNoise | NoiseModel | None = None,
    prepare: Prepare | None = None,
) -> tuple[list[ProgramResult], float]:
    """Run the circuits of one job; return one result per program and the time taken.

    Args:
        simulator: The device's simulator.
        submission: The job, for shots, memory, seed and parameter tables.
        circuits: The job's programs read back as circuits, in order.
        noise: The device's noise (a model of the qubits the prepared circuits use is
            built from it), or a ready noise model, or None for none.
        prepare: What turns a (bound or unbound) program into the circuit Aer runs:
            lowering, scheduling and idle noise. Default: the circuit as it is.
    """
    seed = submission.seed_simulator
    if seed is None:  # the service fixes seeds at submission; kept for direct callers
        seed = random.SystemRandom().randrange(2**31)
    started = time.perf_counter()
    plan = _experiments(submission, circuits, prepare or (lambda circuit: circuit), noise, seed)
    aer_circuits, binds, rows_per_program, groups = (
        plan.circuits,
        plan.binds,
        plan.rows_per_program,
        plan.groups,
    )
    run_options: dict[str, Any] = {
        "shots": -(-submission.shots // groups),
        # Memory when a group's shots must be cut to the job's number.
        "memory": submission.memory or submission.shots % groups != 0,
        "seed_simulator": aer_seed(seed, groups),
    }
    if any(binds):
        run_options["parameter_binds"] = binds
    noisy = noise is not None and (not isinstance(noise, DeviceNoise) or noise.calibrated)
    # Each distinct circuit surveyed once (a sweep's rows share theirs).
    surveyed: dict[int, Survey] = {}
    for circuit in aer_circuits:
        if id(circuit) not in surveyed:
            surveyed[id(circuit)] = survey(circuit)
    surveys = [surveyed[id(circuit)] for circuit in aer_circuits]
    _refuse_if_too_long(
        _estimate(
            surveys,
            [len(b[next(iter(b))]) if b else 1 for b in binds],
            shots=run_options["shots"],
            noisy=noisy,
            max_memory_mb=int(simulator.options.max_memory_mb or 4096),
        ),
        aer_circuits,
    )
    active = set().union(*(facts.active for facts in surveyed.values()))
    noise_model = noise
    if isinstance(noise, DeviceNoise):
        # Uncalibrated: an ideal device, with no model and nothing to list for one.
        noise_model = (
            noise.model(active, used_operations(aer_circuits), noise.idle_errors(aer_circuits))
            if noise.calibrated
            else None
        )
    if noise_model is not None:
        run_options["noise_model"] = noise_model
    experiments_count = sum(rows_per_program) * groups
    if len(active) < PARALLEL_QUBITS and experiments_count < PARALLEL_EXPERIMENTS:
        # Below Aer's own threshold for a parallel state update, and with few
        # experiments, its thread pool only adds start-up and contention: 7 ms instead
        # of 0.3 ms for a 2-qubit job on a busy machine. (Many experiments do gain from
        # it: 200 five-qubit circuits took 0.15 s with it and 0.18 s without.)
        run_options["max_parallel_threads"] = 1
    elif experiments_count >= PARALLEL_EXPERIMENTS:
        # Many experiments: one per thread, as many at once as Aer finds room for in
        # max_memory_mb (1,400 six-qubit experiments: 0.96 s, against 1.29 s with Aer's
        # default of one experiment at a time and 1.88 s on one thread).
        run_options["max_parallel_experiments"] = 0
    aer_result, datas = _run_on_aer(
        simulator,
        aer_circuits,
        run_options,
        grouped=groups > 1 and noisy,
        noise=noise if isinstance(noise, DeviceNoise) else None,
        seed=seed,
    )
    _check_whole(aer_result, expected=sum(rows_per_program) * groups)
    experiments = iter(zip(aer_result.results, datas, strict=True))
    programs = []
    rng = np.random.default_rng([seed, 1])
    for program, rows, extra in zip(
        submission.programs, rows_per_program, plan.classical, strict=True
    ):
        data = []
        success = True
        status = ""
        for _ in range(rows):
            raws = []
            for _ in range(groups):
                experiment, raw = next(experiments)
                success = success and bool(experiment.success)
                status = status or str(getattr(experiment, "status", ""))
                raws.append(
                    sample_untouched(
                        raw,
                        extra,
                        rng,
                        shots=run_options["shots"],
                        memory=run_options["memory"],
                    )
                )
            if groups == 1:
                data.append(_binding_result(raws[0], submission, program.num_clbits))
            else:
                data.append(_grouped_result(raws, submission, program.num_clbits))
        programs.append(
            ProgramResult(
                header=ResultHeader.model_validate(program.header.model_dump()),
                shots=submission.shots,
                success=success,
                status=status,
                data=data,
                seed_simulator=seed,
                num_clbits=program.num_clbits,
            )
        )
    return programs, time.perf_counter() - started


@dataclass(frozen=True)
class PreparedDevice:
    """What a runner keeps per device: its Target, noise and schedule durations."""

    target: Target
    noise: DeviceNoise
    durations: InstructionDurations | None
    max_loop_iterations: int = 100

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> PreparedDevice:
        """Build everything a device's jobs need from its spec, once."""
        target = build_target(spec)
        return cls(
            target,
            DeviceNoise(spec),
            instruction_durations(target),
            spec.limits.max_loop_iterations,
        )

    def prepare(self, circuit: QuantumCircuit) -> QuantumCircuit:
        """The circuit as Aer runs it on this device: lowered, timed, idle noise added.

        A dynamic circuit (with control flow) is timed with each control-flow operation
        as long as its longest block, and gets idle relaxation around and inside its
        blocks (see :func:`~qiskit_vendor_provider.emulator.scheduling.with_block_noise`);
        one with a ``while_loop``, whose length is the shot's, gets gate and readout noise
        only (see ``docs/fake-devices.md``).
        """
        lowered = lower_circuit(circuit, max_loop_iterations=self.max_loop_iterations)
        if not self.noise.calibrated or self.durations is None:
            return lowered
        dt = self.target.dt
        if has_control_flow(lowered):
            if has_loop_of_unknown_length(circuit) or dt is None:
                return lowered
            return with_block_noise(lowered, self.noise, dt, self.durations)
        with warnings.catch_warnings():
            # A delay in s/ms/us/ns is rounded to whole dt, as the device's clock does;
            # Qiskit says so once per delay, which is noise in a worker's output.
            warnings.filterwarnings("ignore", "Duration is rounded", UserWarning)
            timed = scheduler(self.durations).run(lowered)
        return with_idle_noise(timed, self.noise, dt, self.durations)


class JobRunner:
    """What one simulator process keeps warm between jobs: Aer, and each device's noise.

    This is the whole of what a worker process does with a job: read its programs back
    as circuits, rewrite what Aer does not run, time them as the device would (see
    :mod:`~qiskit_vendor_provider.emulator.scheduling`), build the noise of the qubits
    they use and run them on Aer. It runs only in worker processes, never in the
    process that serves the API, so whatever Aer does costs one job at most.

    Args:
        max_memory_mb: Memory one simulation may take; a larger program fails alone.
    """

    def __init__(self, *, max_memory_mb: int = 4096) -> None:
        self._simulator = make_simulator(max_memory_mb=max_memory_mb)
        self._devices: OrderedDict[str, PreparedDevice] = OrderedDict()

    def _device(self, spec: DeviceSpec) -> PreparedDevice:
        # Keyed by the whole spec: one process may serve emulators with other devices
        # under the same name, and a device has a new calibration every day. The least
        # recently used are let go, so a worker that lives for weeks keeps a few.
        key = spec.model_dump_json()
        if key in self._devices:
            self._devices.move_to_end(key)
        else:
            self._devices[key] = PreparedDevice.from_spec(spec)
            while len(self._devices) > PREPARED_DEVICES_KEPT:
                self._devices.popitem(last=False)
        return self._devices[key]

    def target(self, spec: DeviceSpec) -> Target:
        """The device's Target, as this process built it for simulating."""
        return self._device(spec).target

    def circuits(self, submission: JobSubmission, spec: DeviceSpec) -> list[QuantumCircuit]:
        """A job's programs read back as circuits on the device's Target."""
        target = self._device(spec).target
        return [wire_to_circuit(p, target) for p in submission.programs]

    def run(
        self,
        submission: JobSubmission,
        spec: DeviceSpec,
        circuits: list[QuantumCircuit] | None = None,
    ) -> tuple[list[ProgramResult], float]:
        """Simulate one validated job on its device; one result per program, and the time.

        Args:
            submission: The job.
            spec: Its device.
            circuits: Its programs as :meth:`circuits` reads them (read here if None).
        """
        device = self._device(spec)
        if circuits is None:
            circuits = self.circuits(submission, spec)
        return simulate(self._simulator, submission, circuits, device.noise, device.prepare)
