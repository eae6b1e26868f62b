"""Aer noise models derived from a device's calibration, and nothing else.

Each calibrated gate gets thermal relaxation over its duration (from the qubits' T1 and
T2) followed by the depolarizing error that brings its average gate infidelity to the
calibrated ``error``; each qubit gets a symmetric readout error. The client's Target is
built from the same calibration, so what the transpiler optimises for is what the
emulator simulates.
"""

from __future__ import annotations

from collections.abc import Iterable

from qiskit.quantum_info import average_gate_fidelity
from qiskit_aer.noise import (
    NoiseModel,
    QuantumError,
    ReadoutError,
    depolarizing_error,
    thermal_relaxation_error,
)

from qiskit_vendor_provider.api.models import DeviceSpec, GateCalibration, QubitCalibration

_MODEL_CACHE_SIZE = 64
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


class DeviceNoise:
    """A device's noise, built gate by gate on first use and restricted to what a job touches.

    Aer serialises the whole noise model on every run (about a second for the 27- and
    11-qubit devices, even for a one-qubit circuit), so each job gets a model of only the
    qubits its programs use; the errors themselves are computed once per gate and qubits.
    """

    def __init__(self, spec: DeviceSpec) -> None:
        self._spec = spec
        self._errors: dict[tuple[str, tuple[int, ...]], QuantumError | None] = {}
        self._models: dict[frozenset[int], NoiseModel] = {}

    def _error(self, gate: GateCalibration) -> QuantumError | None:
        key = (gate.name, tuple(gate.qubits))
        if key not in self._errors:
            qubits = self._spec.calibration.qubits if self._spec.calibration else []
            self._errors[key] = gate_error(gate, qubits)
        return self._errors[key]

    def model(self, qubits: Iterable[int] | None = None) -> NoiseModel | None:
        """The noise model of the given qubits (all by default); None without calibration."""
        calibration = self._spec.calibration
        if calibration is None:
            return None
        active = frozenset(range(self._spec.num_qubits) if qubits is None else qubits)
        if active in self._models:
            return self._models[active]
        basis = [op.name for op in self._spec.native_operations if op.name not in _NON_GATES]
        model = NoiseModel(basis_gates=basis)
        for gate in calibration.gates:
            if gate.name in _NON_GATES or not active.issuperset(gate.qubits):
                continue
            error = self._error(gate)
            if error is not None:
                model.add_quantum_error(error, gate.name, gate.qubits)
        for index in sorted(active):
            p = calibration.qubits[index].readout_error
            if p > 0:
                model.add_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]), [index])
        if len(self._models) >= _MODEL_CACHE_SIZE:
            self._models.pop(next(iter(self._models)))
        self._models[active] = model
        return model
