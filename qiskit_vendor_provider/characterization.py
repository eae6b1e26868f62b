"""Measure a device's readout and single-qubit gate errors, to compare with its calibration.

Vendor engineers use this to check that a (fake or real) device behaves as its
calibration says; the tests use it to check that the emulator's noise models do.

Single-qubit error is measured as the decay of survival over a long sequence of π/2
pulses that composes to the identity, averaged over the six Pauli eigenstates (which
averages state fidelity into average gate fidelity). Dividing by the survival of the
empty sequence cancels state preparation and readout::

    (2 S(L) - 1) / (2 S(0) - 1) = (1 - 2 r) ** L
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qiskit import QuantumCircuit

# Preparation of the six Pauli eigenstates by π/2 pulses about the axis at angle φ in
# the XY plane: |0>, |1>, then the Y and X eigenstates.
_PREPARATIONS: tuple[tuple[float, ...], ...] = (
    (),
    (0.0, 0.0),
    (0.0,),
    (math.pi,),
    (math.pi / 2,),
    (-math.pi / 2,),
)


def _pulse(circuit: QuantumCircuit, qubit: int, axis: float, natives: frozenset[str]) -> None:
    """A π/2 rotation about the axis at angle ``axis``, in the device's operations."""
    if "r" in natives:
        circuit.r(math.pi / 2, axis, qubit)
    else:
        circuit.rz(-axis, qubit)
        circuit.sx(qubit)
        circuit.rz(axis, qubit)


def readout_circuits(num_qubits: int, qubit: int, natives: Sequence[str]) -> list[QuantumCircuit]:
    """Two circuits: measure ``qubit`` in ``|0>``, and in ``|1>`` (two π/2 pulses)."""
    zero = QuantumCircuit(num_qubits, 1, name="readout-0")
    zero.measure(qubit, 0)
    one = QuantumCircuit(num_qubits, 1, name="readout-1")
    names = frozenset(natives)
    for _ in range(2):
        _pulse(one, qubit, 0.0, names)
    one.measure(qubit, 0)
    return [zero, one]


def survival_circuits(
    num_qubits: int, qubit: int, length: int, natives: Sequence[str]
) -> list[QuantumCircuit]:
    """Six circuits: a Pauli eigenstate, ``length`` π/2 pulses, the preparation undone.

    Args:
        num_qubits: Width of the device.
        qubit: The qubit to measure.
        length: Number of pulses; a multiple of 4, so that they compose to the identity.
        natives: The device's operation names (``r`` pulses if it has ``r``, else rz/sx).
    """
    if length % 4:
        raise ValueError(f"length must be a multiple of 4, got {length}")
    names = frozenset(natives)
    circuits = []
    for state, preparation in enumerate(_PREPARATIONS):
        circuit = QuantumCircuit(num_qubits, 1, name=f"survival-{state}-{length}")
        for axis in preparation:
            _pulse(circuit, qubit, axis, names)
        for _ in range(length):
            _pulse(circuit, qubit, 0.0, names)
        for axis in reversed(preparation):
            _pulse(circuit, qubit, axis + math.pi, names)
        circuit.measure(qubit, 0)
        circuits.append(circuit)
    return circuits


@dataclass(frozen=True)
class Estimate:
    """A measured figure and its standard deviation from shot noise."""

    value: float
    std: float


def readout_error(p1_given_0: float, shots: int) -> Estimate:
    """The readout error read off ``P(1 | prepared 0)``."""
    return Estimate(p1_given_0, math.sqrt(max(p1_given_0 * (1 - p1_given_0), 1 / shots) / shots))


def gate_error(survival_0: float, survival_l: float, length: int, shots: int) -> Estimate:
    """Per-gate average infidelity from survivals averaged over the six states.

    Args:
        survival_0: Mean survival of the six circuits of length 0.
        survival_l: Mean survival of the six circuits of length ``length``.
        length: Pulses in the long sequence.
        shots: Shots of each circuit.

    >>> survival_l = 0.5 + 0.5 * 0.96 * (1 - 2 * 0.001) ** 100   # r = 0.001, S(0) = 0.98
    >>> round(gate_error(0.98, survival_l, 100, 10**6).value, 6)
    0.001
    """
    ratio = (2 * survival_l - 1) / (2 * survival_0 - 1)
    value = (1 - ratio ** (1 / length)) / 2
    sd0 = math.sqrt(survival_0 * (1 - survival_0) / (6 * shots))
    sdl = math.sqrt(survival_l * (1 - survival_l) / (6 * shots))
    d_ratio = math.hypot(
        2 * sdl / (2 * survival_0 - 1), 2 * (2 * survival_l - 1) * sd0 / (2 * survival_0 - 1) ** 2
    )
    std = ratio ** (1 / length - 1) * d_ratio / (2 * length)
    return Estimate(value, std)


def report(
    backend_names: Sequence[str] | None = None, *, shots: int = 10_000, length: int = 200
) -> str:
    """Measured against calibrated figures for each calibrated device, as a Markdown table.

    Runs on ``VendorProvider()`` (the embedded emulator unless a server is configured):
    for each device, the readout error of qubit 0 and of the worst-read qubit, and the
    error of the π/2 pulse (``sx`` or ``r``) on qubit 0.
    """
    import numpy as np  # noqa: PLC0415 - only the report needs these

    from qiskit_vendor_provider.provider import VendorProvider  # noqa: PLC0415

    provider = VendorProvider()
    lines = [
        "| device | figure | calibrated | measured ± 1σ |",
        "|---|---|---|---|",
    ]
    names = backend_names or [b.name for b in provider.backends() if b.properties() is not None]
    for name in names:
        backend = provider.get_backend(name)
        properties = backend.properties()
        if properties is None:
            continue
        run_shots = min(shots, backend.limits.max_shots)
        natives = backend.operation_names
        worst = max(range(backend.num_qubits), key=properties.readout_error)
        for qubit in sorted({0, worst}):
            circuits = readout_circuits(backend.num_qubits, qubit, natives)
            counts = backend.run(circuits, shots=run_shots, seed_simulator=1).result().get_counts(0)
            measured = readout_error(counts.get("1", 0) / run_shots, run_shots)
            lines.append(
                f"| {name} | readout error, qubit {qubit} | {properties.readout_error(qubit):.4g} "
                f"| {measured.value:.4g} ± {measured.std:.2g} |"
            )
        pulse = "r" if "r" in natives else "sx"
        survival = []
        for n in (0, length):
            circuits = survival_circuits(backend.num_qubits, 0, n, natives)
            result = backend.run(circuits, shots=run_shots, seed_simulator=2).result()
            survival.append(
                float(np.mean([result.get_counts(i).get("0", 0) / run_shots for i in range(6)]))
            )
        measured = gate_error(survival[0], survival[1], length, run_shots)
        lines.append(
            f"| {name} | {pulse} error, qubit 0 | {properties.gate_error(pulse, 0):.4g} "
            f"| {measured.value:.4g} ± {measured.std:.2g} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
