"""Aer noise models derived from a device's calibration, and nothing else.

Each calibrated gate gets thermal relaxation over its duration (from the qubits' T1 and
T2) followed by the depolarizing error that brings its average gate infidelity to the
calibrated ``error``; each qubit gets a symmetric readout error. The client's Target is
built from the same calibration, so what the transpiler optimises for is what the
emulator simulates.
"""

from __future__ import annotations

from qiskit.quantum_info import average_gate_fidelity
from qiskit_aer.noise import (
    NoiseModel,
    QuantumError,
    ReadoutError,
    depolarizing_error,
    thermal_relaxation_error,
)

from qiskit_vendor_provider.api.models import DeviceSpec, GateCalibration, QubitCalibration

# Operations that are not unitary gates: their noise is not a gate error.
_NON_GATES = frozenset({"measure", "reset", "delay", "barrier"})


def depolarizing_parameter(infidelity: float, num_qubits: int) -> float:
    """The depolarizing parameter whose average gate infidelity is ``infidelity``.

    For ``E(rho) = (1 - p) rho + p I/d`` the average gate infidelity is ``p (d - 1) / d``.

    >>> depolarizing_parameter(0.001, 1), round(depolarizing_parameter(0.0075, 2), 6)
    (0.002, 0.01)
    """
    dim = 1 << num_qubits
    return min(max(infidelity, 0.0) * dim / (dim - 1), dim * dim / (dim * dim - 1))


def _relaxation(qubit: QubitCalibration, duration: float) -> QuantumError | None:
    if qubit.t1 is None or qubit.t2 is None or duration <= 0:
        return None
    t2 = min(qubit.t2, 2 * qubit.t1)  # the physical bound; calibration data may exceed it
    return thermal_relaxation_error(qubit.t1, t2, duration)


def gate_error(gate: GateCalibration, qubits: list[QubitCalibration]) -> QuantumError | None:
    """The quantum error of one calibrated gate on its qubits, or None if it is ideal."""
    relaxations = [_relaxation(qubits[q], gate.duration or 0.0) for q in gate.qubits]
    relaxation: QuantumError | None = None
    if all(r is not None for r in relaxations) and relaxations:
        relaxation = relaxations[0]
        for other in relaxations[1:]:
            # tensor puts its argument on the lower qubit: qargs[0] stays on qubit 0.
            relaxation = other.tensor(relaxation)  # type: ignore[union-attr]
    relaxation_infidelity = (
        0.0 if relaxation is None else 1.0 - average_gate_fidelity(relaxation.to_quantumchannel())
    )
    remaining = (gate.error or 0.0) - relaxation_infidelity
    error = relaxation
    if remaining > 0:
        depol = depolarizing_error(
            depolarizing_parameter(remaining, len(gate.qubits)), len(gate.qubits)
        )
        error = depol if error is None else error.compose(depol)
    return error


def noise_model_for(spec: DeviceSpec) -> NoiseModel | None:
    """The Aer noise model of a device, or None for a device without calibration."""
    calibration = spec.calibration
    if calibration is None:
        return None
    basis = [op.name for op in spec.native_operations if op.name not in _NON_GATES]
    model = NoiseModel(basis_gates=basis)
    for gate in calibration.gates:
        if gate.name in _NON_GATES:
            continue
        error = gate_error(gate, calibration.qubits)
        if error is not None:
            model.add_quantum_error(error, gate.name, gate.qubits)
    for index, qubit in enumerate(calibration.qubits):
        p = qubit.readout_error
        if p > 0:
            model.add_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]), [index])
    return model
