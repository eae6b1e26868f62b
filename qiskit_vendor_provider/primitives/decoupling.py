"""Dynamical decoupling with Qiskit's own passes and the device's calibrated durations.

The circuit is scheduled (``ALAPScheduleAnalysis`` or ``ASAPScheduleAnalysis``) with the
Target's durations and every idle period is padded by ``PadDynamicalDecoupling`` with
IBM's sequences: ``XX``, ``XpXm`` (an X and an X of opposite phase) and ``XY4``. The
pulses are then written in the device's native gates with the same timing: on a device
with ``x``, ``Y`` is ``rz(-pi/2) x rz(pi/2)`` and ``Xm`` is ``rz(pi) x rz(-pi)`` (``rz``
takes no time); on the trapped ion, ``X``, ``Y`` and ``Xm`` are ``r(pi, 0)``,
``r(pi, pi/2)`` and ``r(-pi, 0)``. The padded circuit's delays are operations of their
own, so the emulator, which schedules ALAP, keeps this timing.
"""

from __future__ import annotations

import math

from qiskit.circuit import Gate, QuantumCircuit
from qiskit.circuit.library import RGate, RXGate, RZGate, XGate, YGate
from qiskit.transpiler import InstructionDurations, PassManager, Target
from qiskit.transpiler.passes import (
    ALAPScheduleAnalysis,
    ASAPScheduleAnalysis,
    PadDynamicalDecoupling,
)

from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.primitives.options import DynamicalDecouplingOptions

__all__ = ["decouple"]

_SEQUENCES: dict[str, list[Gate]] = {
    "XX": [XGate(), XGate()],
    "XpXm": [XGate(), RXGate(-math.pi)],
    "XY4": [XGate(), YGate(), XGate(), YGate()],
}


def _pulse(target: Target) -> str:
    for name in ("x", "r"):
        if name in target.operation_names:
            return name
    raise VendorValidationError(
        "dynamical_decoupling needs a calibrated pi pulse (x or r) on the device; it has "
        f"{sorted(target.operation_names)}; set dynamical_decoupling.enable=False"
    )


def _durations(target: Target, pulse: str) -> InstructionDurations:
    durations = target.durations()
    extra = []
    for qargs, properties in (target[pulse] or {}).items():
        if properties is None or properties.duration is None or qargs is None:
            continue
        for name in ("x", "y", "rx"):
            extra.append((name, qargs, properties.duration, "s"))
    if not extra:
        raise VendorValidationError(
            "dynamical_decoupling needs gate durations, and the device's Target has none "
            "(ideal_simulator has no timing); set dynamical_decoupling.enable=False"
        )
    durations.update(extra)
    return durations


def _native(circuit: QuantumCircuit, pulse: str) -> QuantumCircuit:
    """The DD pulses written in the device's gates, with the same timing."""
    out = circuit.copy_empty_like()
    for instruction in circuit.data:
        name = instruction.operation.name
        qubits = instruction.qubits
        if name == "y":
            if pulse == "x":
                out.append(RZGate(-math.pi / 2), qubits)
                out.append(XGate(), qubits)
                out.append(RZGate(math.pi / 2), qubits)
            else:
                out.append(RGate(math.pi, math.pi / 2), qubits)
        elif name == "rx":
            if pulse == "x":
                out.append(RZGate(math.pi), qubits)
                out.append(XGate(), qubits)
                out.append(RZGate(-math.pi), qubits)
            else:
                out.append(RGate(-math.pi, 0.0), qubits)
        elif name == "x" and pulse == "r":
            out.append(RGate(math.pi, 0.0), qubits)
        else:
            out.append(instruction)
    return out


def decouple(
    circuit: QuantumCircuit, target: Target, options: DynamicalDecouplingOptions
) -> QuantumCircuit:
    """``circuit`` scheduled and its idle periods padded with the chosen DD sequence.

    Raises:
        VendorValidationError: the device has no durations or no pi pulse to decouple with.
    """
    pulse = _pulse(target)
    durations = _durations(target, pulse)
    schedule = (
        ALAPScheduleAnalysis(durations)
        if options.scheduling_method == "alap"
        else ASAPScheduleAnalysis(durations)
    )
    active = _active_qubits(circuit)
    padding = PadDynamicalDecoupling(
        durations=durations,
        dd_sequence=_SEQUENCES[options.sequence_type],
        # As IBM's: the qubits the circuit uses. Pulses on the device's unused qubits
        # would only add error, and make the whole device part of the simulation.
        qubits=sorted(active),
        skip_reset_qubits=options.skip_reset_qubits,
        extra_slack_distribution=options.extra_slack_distribution,
    )
    padded = PassManager([schedule, padding]).run(circuit)
    return _native(_without_idle_delays(padded, active), pulse)


def _active_qubits(circuit: QuantumCircuit) -> set[int]:
    """The indices of the qubits an operation other than a barrier or delay acts on."""
    return {
        circuit.find_bit(qubit).index
        for instruction in circuit.data
        if instruction.operation.name not in ("barrier", "delay")
        for qubit in instruction.qubits
    }


def _without_idle_delays(circuit: QuantumCircuit, active: set[int]) -> QuantumCircuit:
    """``circuit`` without the delays the scheduler put on qubits nothing uses."""
    out = circuit.copy_empty_like()
    for instruction in circuit.data:
        if instruction.operation.name == "delay" and all(
            circuit.find_bit(qubit).index not in active for qubit in instruction.qubits
        ):
            continue
        out.append(instruction)
    return out


def check_device(target: Target) -> None:
    """Raise :class:`VendorValidationError` if DD cannot be done on the device."""
    _durations(target, _pulse(target))
