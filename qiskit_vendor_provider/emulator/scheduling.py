"""Programs timed as the device would run them, and relaxation while a qubit waits.

A device runs a program on a clock: each operation takes its calibrated duration and a
qubit that is not being operated on waits, decaying with its T1 and T2. The emulator
therefore schedules every program before simulating it:

* **ALAP**, as IBM devices do: each operation starts as late as its successors allow,
  so a qubit is prepared as close as possible to its use. Measurements, resets and
  barriers take part in the schedule (a measurement takes the qubit's readout
  duration; other qubits wait meanwhile).
* A delay is an operation like any other, of its own duration (``dt`` or s, ms, us, ns
  on the wire). A program the user scheduled (delays already placed, dynamical
  decoupling inserted) is therefore kept as it is: ALAP moves nothing whose every gap
  is already filled.
* Every wait, the user's delays and the padding the schedule adds, becomes the
  waiting qubit's thermal relaxation over that time. Qubits the program never
  operates on are left out: they would only make the simulation larger.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from qiskit.circuit import (
    Barrier,
    CircuitInstruction,
    Clbit,
    ControlFlowOp,
    Delay,
    ForLoopOp,
    Instruction,
    QuantumCircuit,
    Qubit,
)
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.circuit.library import CPhaseGate, PhaseGate, RZGate
from qiskit.circuit.parameterexpression import ParameterValueType
from qiskit.transpiler import InstructionDurations, PassManager, Target, TranspilerError
from qiskit.transpiler.passes import ALAPScheduleAnalysis, PadDelay, TimeUnitConversion

from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.qiskit_internals import append_unchecked

if TYPE_CHECKING:  # noise imports Aer, which the catalog's checks here need not load
    from qiskit_vendor_provider.emulator.noise import DeviceNoise

# Operations that take no time on any device, whatever the Target says.
_INSTANT = frozenset({"barrier"})
_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12}


def instruction_durations(target: Target) -> InstructionDurations | None:
    """The Target's durations in whole ``dt``; None if it cannot be scheduled.

    A device can be scheduled when it has a ``dt`` and every operation on every qubit
    tuple has a duration. Control flow has none and is left out: a program that uses it
    is not scheduled (see :meth:`PreparedDevice.prepare
    <qiskit_vendor_provider.emulator.simulation.PreparedDevice.prepare>`). Durations
    are rounded to ``dt`` here, once, as the device's own clock would, instead of by
    Qiskit (which warns on every use).
    """
    dt = target.dt
    if dt is None:
        return None
    entries: list[tuple[str, tuple[int, ...] | None, float, str]] = []
    for name, by_qargs in target.items():
        if name in {"delay", *_INSTANT} or name in CONTROL_FLOW_OP_NAMES:
            continue
        if by_qargs is None:
            return None
        for qargs, props in by_qargs.items():
            if qargs is None or props is None or props.duration is None:
                return None
            entries.append((name, qargs, round(props.duration / dt), "dt"))
    return InstructionDurations(entries, dt=dt)


# How far from a whole number of dt a duration may be (float noise of seconds / dt).
_DT_TOLERANCE = 1e-6


def off_clock_durations(spec: DeviceSpec) -> list[str]:
    """Each calibrated duration of ``spec`` that is not a whole number of ``dt``.

    A device's clock runs in ``dt``: a gate of 159.9975 dt makes every scheduled
    transpile and timeline warn "Duration is rounded". Empty without ``dt``.

    >>> from qiskit_vendor_provider.api.models import NativeOperation
    >>> off_clock_durations(DeviceSpec(name="d", num_qubits=1, dt=1e-9,
    ...     native_operations=[NativeOperation(name="x", num_qubits=1)]))
    []
    """
    dt = spec.dt
    calibration = spec.calibration
    if dt is None or calibration is None:
        return []
    found = [(f"{g.name} on {g.qubits}", g.duration) for g in calibration.gates]
    found += [
        (f"readout of qubit {i}", q.readout_duration) for i, q in enumerate(calibration.qubits)
    ]
    problems = []
    for what, duration in found:
        if duration is not None and abs(duration / dt - round(duration / dt)) > _DT_TOLERANCE:
            problems.append(
                f"{what}: {duration:g} s is {duration / dt:.4f} dt, not a whole number of dt "
                f"({dt:g} s); give {round(duration / dt)} dt = {round(duration / dt) * dt!r} s"
            )
    return problems


def scheduler(durations: InstructionDurations) -> PassManager:
    """Delays converted to ``dt``, ALAP scheduling, every gap padded with a delay."""
    return PassManager(
        [
            TimeUnitConversion(inst_durations=durations),
            ALAPScheduleAnalysis(durations=durations),
            PadDelay(durations=durations, fill_very_end=False),
        ]
    )


def delay_seconds(delay: Delay, dt: float | None) -> float:
    """How long ``delay`` lasts, in seconds."""
    duration = float(delay.duration)
    if delay.unit == "dt":
        return duration * dt if dt is not None else 0.0
    return duration * _UNIT_SECONDS[delay.unit]


def operated_qubits(circuit: QuantumCircuit) -> set[int]:
    """The qubits an operation other than a delay or a barrier acts on."""
    return {
        circuit.find_bit(qubit).index
        for item in circuit.data
        if item.operation.name not in {"delay", "barrier"}
        for qubit in item.qubits
    }


def with_idle_noise(
    circuit: QuantumCircuit,
    noise: DeviceNoise,
    dt: float | None,
    durations: InstructionDurations | None = None,
    *,
    qubit_map: list[int] | None = None,
) -> QuantumCircuit:
    """Each delay on an operated qubit replaced by that qubit's relaxation over its time.

    Delays on qubits nothing else touches are dropped, with the barriers: neither
    changes the outcome, and both would make Aer simulate those qubits. So are waits
    before a qubit's first operation: it is still in ``|0>``, which relaxation (at zero
    temperature) leaves as it is.

    Where the device has always-on ZZ or slow dephasing on the qubits the program uses
    (and ``durations`` are given), the program is also rewritten in time order with
    those added: see :func:`with_slow_noise`. Otherwise the instructions keep their
    order, exactly as a device without those figures always ran.

    ``qubit_map`` marks ``circuit`` as a control-flow block: the device qubit of each of
    its qubits. Every qubit of a block relaxes over every wait, from the block's start
    (it holds whatever state the program left it in).
    """
    if qubit_map is not None:
        return _delays_as_relaxation(circuit, noise, dt, qubit_map, used=None)
    used = {circuit.qubits[index] for index in operated_qubits(circuit)}
    if durations is not None and dt is not None:
        indices = {circuit.find_bit(q).index for q in used}
        zz = {pair: hz for pair, hz in noise.zz_couplings().items() if indices.issuperset(pair)}
        if zz or any(noise.detuning_width(q) for q in indices):
            return with_slow_noise(circuit, noise, dt=dt, durations=durations, used=used, zz=zz)
    return _delays_as_relaxation(circuit, noise, dt, list(range(circuit.num_qubits)), used=used)


def _delays_as_relaxation(
    circuit: QuantumCircuit,
    noise: DeviceNoise,
    dt: float | None,
    qubit_map: list[int],
    *,
    used: set[Qubit] | None,
) -> QuantumCircuit:
    """``circuit`` without barriers, each delay replaced by its qubit's relaxation.

    ``qubit_map``: the device qubit of each of the circuit's qubits. ``used``: the qubits
    that relax, each only once an operation has started it; None for a control-flow
    block, whose every qubit relaxes over every wait (it holds what the program left).
    """
    started: set[Qubit] = set()
    out = circuit.copy_empty_like()
    for item in circuit.data:
        operation = item.operation
        if operation.name == "barrier":
            continue
        if isinstance(operation, Delay):
            (qubit,) = item.qubits
            if used is None or (qubit in used and qubit in started):
                device_qubit = qubit_map[circuit.find_bit(qubit).index]
                error = noise.idle_error(device_qubit, delay_seconds(operation, dt))
                if error is not None:
                    # Unchecked: the item's bits are the circuit's own, checked on the way in.
                    append_unchecked(out, CircuitInstruction(error, item.qubits, ()))
            continue
        started.update(item.qubits)
        append_unchecked(out, item)
    return out


# Sort keys of what with_slow_noise emits at one time: accumulated ZZ first, then the
# operations starting then, in their order.
_BEFORE = 0
_AT = 1
# Operations after which a qubit's phase no longer matters (it is in a Z eigenstate).
_PHASE_RESETTING = frozenset({"measure", "reset"})
# Diagonal operations: a detuning phase commutes with them, so it need not be written
# out before them.
_DIAGONAL = frozenset({"rz", "z", "s", "sdg", "t", "tdg", "p", "u1", "cz", "cp", "rzz"})


def _runs(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching intervals merged (a qubit's delays, in time order, into idle runs)."""
    runs: list[tuple[int, int]] = []
    for begin, end in intervals:
        if runs and runs[-1][1] == begin:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((begin, end))
    return runs


def _overlaps(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where two sorted lists of disjoint intervals overlap."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        begin, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if begin < end:
            out.append((begin, end))
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return out


def with_slow_noise(  # noqa: PLR0915 (one pass over time, one over events)
    circuit: QuantumCircuit,
    noise: DeviceNoise,
    *,
    dt: float,
    durations: InstructionDurations,
    used: set[Qubit],
    zz: dict[tuple[int, int], float],
) -> QuantumCircuit:
    """The timed program with relaxation, always-on ZZ and slow detuning, in time order.

    ``circuit`` is scheduled and padded (every qubit's time is covered by operations and
    delays), so each instruction's start is its qubits' clock. Then:

    * **ZZ.** A pair with rate ``zz_hz`` (``ζ``) whose qubits are both waiting over
      ``[s, e)`` gains ``exp(-2 pi i ζ (e - s) |11><11|)``, a ``cp(-2 pi ζ (e - s))``
      placed at ``e``: the shift of either qubit's frequency when the other is in
      ``|1>``, qubit frequencies being calibrated with their neighbours in ``|0>``. ZZ
      while either qubit is being operated on is not simulated (it is part of a gate's
      calibrated error).
    * **Slow detuning.** A qubit with a detuning width (see
      :meth:`DeviceNoise.detuning_width`) turns by ``delta t`` over every wait and every
      gate of duration ``t``, ``delta`` being its detuning parameter (drawn per group of
      shots). The phase is summed while it commutes with what the qubit does (waits,
      diagonal gates) and written out as one ``rz`` just before the next operation that
      does not commute with it; a measurement or reset forgets it.

    The instructions are emitted in order of start time, which keeps every qubit's own
    order (ties keep the circuit's order), so every ``cp`` sits inside both qubits'
    waits.
    """
    index = {bit: position for position, bit in enumerate(circuit.qubits)}
    clock = dict.fromkeys(circuit.qubits, 0)
    started: set[Qubit] = set()
    idle: dict[int, list[tuple[int, int]]] = {}
    events: list[tuple[int, int, int, CircuitInstruction, int]] = []
    for order, item in enumerate(circuit.data):
        name = item.name
        if name == "barrier":
            continue
        qubits = [index[q] for q in item.qubits]
        begin = max(clock[q] for q in item.qubits)
        if name == "delay":
            length = round(float(item.operation.duration))
            (qubit,) = item.qubits
            clock[qubit] = begin + length
            if qubit in used and qubit in started and length > 0:
                idle.setdefault(qubits[0], []).append((begin, begin + length))
                events.append((begin, _AT, order, item, length))
            continue
        length = 0
        if name not in CONTROL_FLOW_OP_NAMES:  # a block's stand-in has its length here
            try:
                length = round(durations.get(item.operation, qubits, unit="dt"))
            except TranspilerError:
                length = 0
        for qubit in item.qubits:
            clock[qubit] = begin + length
        started.update(item.qubits)
        events.append((begin, _AT, order, item, length))
    runs = {qubit: _runs(intervals) for qubit, intervals in idle.items()}
    for (a, b), hz in zz.items():
        for begin, end in _overlaps(runs.get(a, []), runs.get(b, [])):
            gate = CPhaseGate(-2 * math.pi * hz * (end - begin) * dt)
            item = CircuitInstruction(gate, (circuit.qubits[a], circuit.qubits[b]), ())
            events.append((end, _BEFORE, -1, item, 0))
    events.sort(key=lambda event: event[:3])
    widths = {index[q]: noise.detuning_width(index[q]) for q in used}
    pending = dict.fromkeys(widths, 0)
    out = circuit.copy_empty_like()
    turns = _Turns(out, noise)
    for _, _, _, item, length in events:
        name = item.name
        qubits = [index[q] for q in item.qubits]
        if name == "delay":  # relaxation commutes with turns about Z: none is written out
            qubit = qubits[0]
            error = noise.idle_error(qubit, length * dt)
            if error is not None:
                append_unchecked(out, CircuitInstruction(error, item.qubits, ()))
            pending[qubit] += length
            continue
        if name in _PHASE_RESETTING:
            for qubit in qubits:
                pending[qubit] = 0
                turns.forget(qubit)
        elif name not in _DIAGONAL or noise.is_noisy(name, tuple(qubits)):
            # A gate error's Paulis would flip a turn about Z taken past it.
            for qubit in qubits:
                if pending.get(qubit) and widths[qubit]:
                    phase = noise.detuning_parameter(qubit) * (pending[qubit] * dt)
                    turns.add(qubit, phase, detuning=True)
                    pending[qubit] = 0
                turns.write(qubit)
        if not (name == "rz" and turns.add(qubits[0], item.operation.params[0], detuning=False)):
            append_unchecked(out, item)
        if name not in _PHASE_RESETTING and not name.startswith(_STAND_IN):
            for qubit in qubits:
                if qubit in pending:
                    pending[qubit] += length
    for qubit in list(turns.held):
        turns.write(qubit)
    return out


class _Turns:
    """Turns about Z held back per qubit and written out as one ``rz``, when needed.

    A turn about Z commutes with waiting (relaxation), with the ZZ ``cp`` and with
    noiseless diagonal gates, so the program's own ``rz`` and the slow detuning's phases
    are summed until the qubit meets anything else and written there as one ``rz`` (its
    angle an expression of the detuning parameter): a third fewer operations in each of a
    grouped job's many Aer experiments. Before a measurement or a reset a turn changes
    nothing and is dropped. Where the device calibrates an error for ``rz`` on the qubit,
    nothing is merged (each ``rz`` keeps its error) and the detuning is written as ``p``,
    which has none.
    """

    def __init__(self, out: QuantumCircuit, noise: DeviceNoise) -> None:
        self._out = out
        self._noise = noise
        self.held: dict[int, ParameterValueType] = {}

    def add(self, qubit: int, angle: ParameterValueType, *, detuning: bool) -> bool:
        """Hold ``angle`` back on ``qubit``; False if the program's own rz must stay.

        Args:
            qubit: Where the turn is.
            angle: The turn.
            detuning: Whether it is the slow detuning's phase (else the program's rz).
        """
        if self._noise.is_noisy("rz", (qubit,)):
            if not detuning:
                return False  # the program's own rz: it keeps its place and its error
            bit = self._out.qubits[qubit]
            append_unchecked(self._out, CircuitInstruction(PhaseGate(angle), (bit,), ()))
            return True
        self.held[qubit] = self.held[qubit] + angle if qubit in self.held else angle
        return True

    def forget(self, qubit: int) -> None:
        """Drop what is held on ``qubit`` (it is measured or reset next)."""
        self.held.pop(qubit, None)

    def write(self, qubit: int) -> None:
        """Write what is held on ``qubit`` out as one ``rz``."""
        angle = self.held.pop(qubit, None)
        if angle is not None:
            bit = self._out.qubits[qubit]
            append_unchecked(self._out, CircuitInstruction(RZGate(angle), (bit,), ()))


def has_loop_of_unknown_length(circuit: QuantumCircuit) -> bool:
    """Whether ``circuit`` holds a ``while_loop`` (at any depth): its length is the shot's."""
    for item in circuit.data:
        if item.name == "while_loop":
            return True
        if item.name in CONTROL_FLOW_OP_NAMES and any(
            has_loop_of_unknown_length(block) for block in item.operation.blocks
        ):
            return True
    return False


# Stand-ins for control-flow operations while the program around them is scheduled.
_STAND_IN = "_vendor_block_"


def with_block_noise(
    circuit: QuantumCircuit, noise: DeviceNoise, dt: float, durations: InstructionDurations
) -> QuantumCircuit:
    """A dynamic program timed, with idle noise around and inside its blocks.

    A control-flow operation takes as long as its longest block (a ``for_loop``: its
    body times its iterations), as the branches of a dynamic circuit are padded to one
    length on hardware; a qubit of a shorter block, or one a block leaves alone, waits
    for the rest. Each block is scheduled on its own (ALAP, padded to that length) and
    its waits relax its qubits like any other wait; the program around it is scheduled
    with the operation as one opaque step of that length, so the qubits outside relax
    meanwhile. Slow detuning and ZZ act outside blocks only: a block's qubits gain no
    detuning phase and no ZZ while it runs (the phase gathered before it is written out
    first). The classical latency of feed-forward is not simulated. A program with a
    ``while_loop`` cannot be timed (see :func:`has_loop_of_unknown_length`).
    """
    padded, timing, stand_ins = _schedule(circuit, noise, dt, durations, inside=False)
    return _with_noise(padded, noise, dt, timing, stand_ins, qubit_map=None)


def _schedule(
    circuit: QuantumCircuit,
    noise: DeviceNoise,
    dt: float,
    durations: InstructionDurations,
    *,
    inside: bool,
    qubit_map: list[int] | None = None,
) -> tuple[QuantumCircuit, InstructionDurations, dict[str, ControlFlowOp]]:
    """``circuit`` scheduled and padded, each control-flow operation a timed stand-in.

    Returns the padded circuit, the durations that time it (the stand-ins' too) and
    each stand-in's operation, its blocks already timed and noisy. ``inside``: the
    circuit is a block, padded to its end on every qubit. ``qubit_map``: the device
    qubit of each of the circuit's qubits (a block's qubits are its operation's).
    """
    where = qubit_map if qubit_map is not None else list(range(circuit.num_qubits))
    stand_ins: dict[str, ControlFlowOp] = {}
    extra: list[tuple[str, list[int], int, str]] = []
    opaque = circuit.copy_empty_like()
    # The qubits of the last operation that wrote each clbit: Qiskit's scheduler orders
    # a block after the measurement its condition reads only through them.
    writers: dict[Clbit, tuple[Qubit, ...]] = {}
    for item in circuit.data:
        operation = item.operation
        if not isinstance(operation, ControlFlowOp):
            append_unchecked(opaque, item)
            writers.update(dict.fromkeys(item.clbits, item.qubits))
            continue
        waited = {q for c in item.clbits for q in writers.get(c, ())} - set(item.qubits)
        if waited:
            synced = (*item.qubits, *sorted(waited, key=circuit.find_bit))
            append_unchecked(opaque, CircuitInstruction(Barrier(len(synced)), synced, ()))
        writers.update(dict.fromkeys(item.clbits, item.qubits))
        qubits = [circuit.find_bit(q).index for q in item.qubits]
        inner_map = [where[q] for q in qubits]
        scheduled = [
            _schedule(block, noise, dt, durations, inside=True, qubit_map=inner_map)
            for block in operation.blocks
        ]
        lengths = [_length(padded, timing) for padded, timing, _ in scheduled]
        longest = max(lengths, default=0)
        blocks = []
        for (padded, timing, inner), length in zip(scheduled, lengths, strict=True):
            if longest > length:
                for qubit in padded.qubits:
                    padded.delay(longest - length, qubit, unit="dt")
            blocks.append(_with_noise(padded, noise, dt, timing, inner, qubit_map=inner_map))
        repeats = len(operation.params[0]) if isinstance(operation, ForLoopOp) else 1
        name = f"{_STAND_IN}{len(stand_ins)}"
        stand_ins[name] = operation.replace_blocks(blocks)
        extra.append((name, qubits, longest * repeats, "dt"))
        stand_in = Instruction(name, len(item.qubits), len(item.clbits), [])
        append_unchecked(opaque, CircuitInstruction(stand_in, item.qubits, item.clbits))
    timing = InstructionDurations(dt=dt)
    timing.update(durations)
    timing.update(extra)
    passes = PassManager(
        [
            TimeUnitConversion(inst_durations=timing),
            ALAPScheduleAnalysis(durations=timing),
            PadDelay(durations=timing, fill_very_end=inside),
        ]
    )
    return _run_on_own_bits(passes, opaque, copy=inside), timing, stand_ins


def _run_on_own_bits(passes: PassManager, circuit: QuantumCircuit, *, copy: bool) -> QuantumCircuit:
    """``passes`` run on ``circuit``; with ``copy``, on a copy with bits of its own.

    Qiskit schedules only circuits on one register of physical qubits, and a block's
    bits are its operation's: it is scheduled on a copy with its own bits, mapped back.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Duration is rounded", UserWarning)
        if not copy:
            return passes.run(circuit)
        physical = QuantumCircuit(circuit.num_qubits, circuit.num_clbits)
        there: dict[Qubit | Clbit, Qubit | Clbit] = dict(
            zip(circuit.qubits, physical.qubits, strict=True)
        )
        there.update(zip(circuit.clbits, physical.clbits, strict=True))
        for item in circuit.data:
            qubits = tuple(there[q] for q in item.qubits)
            clbits = tuple(there[c] for c in item.clbits)
            append_unchecked(physical, item.replace(qubits=qubits, clbits=clbits))
        timed = passes.run(physical)
    back = {new: old for old, new in there.items()}
    out = circuit.copy_empty_like()
    for item in timed.data:
        qubits = tuple(back[q] for q in item.qubits)
        clbits = tuple(back[c] for c in item.clbits)
        append_unchecked(out, item.replace(qubits=qubits, clbits=clbits))
    return out


def _length(padded: QuantumCircuit, timing: InstructionDurations) -> int:
    """How long a scheduled, padded circuit runs, in ``dt`` (its longest qubit)."""
    clock = dict.fromkeys(padded.qubits, 0)
    for item in padded.data:
        if item.name == "barrier":
            continue
        begin = max((clock[q] for q in item.qubits), default=0)
        if item.name == "delay":
            length = round(float(item.operation.duration))
        else:
            qubits = [padded.find_bit(q).index for q in item.qubits]
            length = round(timing.get(item.operation, qubits, unit="dt"))
        for qubit in item.qubits:
            clock[qubit] = begin + length
    return max(clock.values(), default=0)


def _with_noise(
    padded: QuantumCircuit,
    noise: DeviceNoise,
    dt: float,
    timing: InstructionDurations,
    stand_ins: dict[str, ControlFlowOp],
    *,
    qubit_map: list[int] | None,
) -> QuantumCircuit:
    """Idle noise on a padded circuit, its stand-ins replaced by their operations.

    A block (``qubit_map`` given) gets relaxation on every wait, from its start: its
    qubits hold whatever state the program gave them before.
    """
    if qubit_map is None:
        noisy = with_idle_noise(padded, noise, dt, timing)
    else:
        noisy = with_idle_noise(padded, noise, dt, None, qubit_map=qubit_map)
    out = noisy.copy_empty_like()
    for item in noisy.data:
        if item.name in stand_ins:
            operation = stand_ins[item.name]
            append_unchecked(out, CircuitInstruction(operation, item.qubits, item.clbits))
        else:
            append_unchecked(out, item)
    return out
