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

from qiskit.circuit import CircuitInstruction, Delay, QuantumCircuit
from qiskit.circuit.controlflow import CONTROL_FLOW_OP_NAMES
from qiskit.transpiler import InstructionDurations, PassManager, Target
from qiskit.transpiler.passes import ALAPScheduleAnalysis, PadDelay, TimeUnitConversion

from qiskit_vendor_provider.emulator.noise import DeviceNoise
from qiskit_vendor_provider.qiskit_internals import append_unchecked

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
    circuit: QuantumCircuit, noise: DeviceNoise, dt: float | None
) -> QuantumCircuit:
    """Each delay on an operated qubit replaced by that qubit's relaxation over its time.

    Delays on qubits nothing else touches are dropped, with the barriers: neither
    changes the outcome, and both would make Aer simulate those qubits. So are waits
    before a qubit's first operation: it is still in ``|0>``, which relaxation (at zero
    temperature) leaves as it is.
    """
    used = {circuit.qubits[index] for index in operated_qubits(circuit)}
    started: set[object] = set()
    out = circuit.copy_empty_like()
    for item in circuit.data:
        operation = item.operation
        if operation.name == "barrier":
            continue
        if isinstance(operation, Delay):
            (qubit,) = item.qubits
            if qubit in used and qubit in started:
                error = noise.idle_error(
                    circuit.find_bit(qubit).index, delay_seconds(operation, dt)
                )
                if error is not None:
                    # Unchecked: the item's bits are the circuit's own, checked on the way in.
                    append_unchecked(out, CircuitInstruction(error, item.qubits, ()))
            continue
        started.update(item.qubits)
        append_unchecked(out, item)
    return out
