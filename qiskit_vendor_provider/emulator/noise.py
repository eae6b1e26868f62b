"""Aer noise models derived from a device's calibration, and nothing else.

Each calibrated gate gets the depolarizing error that, composed with thermal relaxation
over the gate's duration (from its qubits' T1 and T2), brings the average gate
infidelity to the calibrated ``error``; a reset relaxes over its duration; each qubit
gets a symmetric readout error; a qubit that waits (a delay, or idling while others are
gated, see :mod:`~qiskit_vendor_provider.emulator.scheduling`) relaxes over the wait.

The errors are built exactly as ``qiskit_aer.noise.NoiseModel.from_backend`` builds them
from the client's Target (depolarizing first, then the qubits' relaxations side by
side), so a user's own ``AerSimulator.from_backend(backend)`` and the emulator agree
gate by gate. That shape also matters for Aer itself: see :func:`gate_error`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from qiskit.circuit import Instruction, QuantumCircuit, Reset
from qiskit.circuit.library import XGate, YGate, ZGate
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
# Operations that are not unitary gates: their calibrated error is not a gate error.
_NON_GATES = frozenset({"measure", "reset", "delay", "barrier"})
# Idle errors are cached by duration; a job's delays come in few distinct lengths.
_IDLE_CACHE_SIZE = 4096


def depolarizing_parameter(infidelity: float, num_qubits: int, relaxation_fidelity: float) -> float:
    """The depolarizing parameter that, followed by relaxation, gives ``infidelity``.

    For ``D_p(rho) = (1 - p) rho + p I/d`` followed by a channel of average gate
    fidelity ``F_r``, the average gate fidelity is ``F_r - p (d F_r - 1) / d``; solved
    for ``p`` and capped at the largest physical value.

    >>> depolarizing_parameter(0.001, 1, 1.0), round(depolarizing_parameter(0.0075, 2, 1.0), 6)
    (0.002, 0.01)
    """
    dim = 1 << num_qubits
    wanted = min(max(infidelity, 0.0), dim / (dim + 1))
    p = dim * (wanted - (1.0 - relaxation_fidelity)) / (dim * relaxation_fidelity - 1)
    return min(max(p, 0.0), dim * dim / (dim * dim - 1))


def relaxation_error(qubit: QubitCalibration, duration: float) -> QuantumError | None:
    """Thermal relaxation of one qubit over ``duration`` seconds; None if there is none."""
    if qubit.t1 is None or qubit.t2 is None or duration <= 0:
        return None
    t2 = min(qubit.t2, 2 * qubit.t1)  # the physical bound; calibration data may exceed it
    return thermal_relaxation_error(qubit.t1, t2, duration)


# One-qubit Pauli labels times Z, up to phase: what a dephasing Z does to a Pauli.
_TIMES_Z = {"i": "z", "x": "y", "y": "x", "z": "i"}
_PAULI_GATES = {"x": XGate(), "y": YGate(), "z": ZGate()}


def _mixture(error: QuantumError) -> dict[str, float] | None:
    """A one-qubit relaxation as {"i", "z", "reset"} weights, or None if it is not one.

    Thermal relaxation with T2 <= T1 is a mixture of identity, a Z flip and a reset;
    with T2 > T1 it needs a Kraus map and this returns None.
    """
    weights: dict[str, float] = {}
    for circuit, probability in zip(error.circuits, error.probabilities, strict=True):
        names = [item.operation.name for item in circuit.data]
        label = {(): "i", ("id",): "i", ("z",): "z", ("reset",): "reset"}.get(tuple(names))
        if label is None:
            return None
        weights[label] = weights.get(label, 0.0) + float(probability)
    return weights


def _pauli_reset_error(depolarizing: float, relaxations: list[dict[str, float]]) -> QuantumError:
    """Depolarizing then per-qubit {identity, Z, reset} relaxation, as one short mixture.

    The same channel as ``depolarizing_error(p, n).compose(relaxation)``, whose product
    form has ``4^n * 3^n`` branches (144 for a two-qubit gate); merged, a Pauli followed
    by Z is another Pauli and a Pauli followed by a reset is the reset, which leaves at
    most 25. Aer converts every branch of every error on every run, so this is what
    makes jobs with many two-qubit gates fast.
    """
    n = len(relaxations)
    dim2 = 4**n
    branches: dict[tuple[str, ...], float] = {}
    for pauli in itertools.product("ixyz", repeat=n):
        weight = depolarizing / dim2 + (1 - depolarizing if set(pauli) == {"i"} else 0.0)
        for outcome in itertools.product(("i", "z", "reset"), repeat=n):
            probability = weight
            ops = []
            for p_k, r_k, mix in zip(pauli, outcome, relaxations, strict=True):
                probability *= mix.get(r_k, 0.0)
                ops.append("reset" if r_k == "reset" else p_k if r_k == "i" else _TIMES_Z[p_k])
            if probability > 0:
                key = tuple(ops)
                branches[key] = branches.get(key, 0.0) + probability
    noise = []
    for labels, probability in branches.items():
        circuit = QuantumCircuit(n)
        for qubit, op in enumerate(labels):
            if op == "reset":
                circuit.append(Reset(), [qubit])
            elif op != "i":
                circuit.append(_PAULI_GATES[op], [qubit])
        noise.append((circuit, probability))
    return QuantumError(noise)


def gate_error(gate: GateCalibration, qubits: list[QubitCalibration]) -> QuantumError | None:
    """The quantum error of one calibrated operation on its qubits, or None if it is ideal.

    Depolarizing comes first and relaxation last, each qubit's relaxation being its own
    factor of a tensor product. The earlier model (relaxation first, then depolarizing)
    is the same channel up to the order, but Aer receives it as 48 circuits that each
    hold a 3-operator Kraus instruction followed by a two-qubit Pauli; that model made
    Aer's statevector method fail in its Hermitian eigensolver or crash on the testers'
    machines. This is the channel ``NoiseModel.from_backend`` builds; where every qubit's
    relaxation is a mixture (T2 <= T1) it is sent as Paulis and resets only, without
    any Kraus map (see :func:`_pauli_reset_error`).
    """
    duration = gate.duration or 0.0
    relaxation: QuantumError | None = None
    for index in gate.qubits:
        single = relaxation_error(qubits[index], duration)
        if single is None:
            relaxation = None
            break
        # expand puts the new factor on the higher qubit: qargs[0] stays qubit 0.
        relaxation = single if relaxation is None else relaxation.expand(single)
    if gate.name not in _NON_GATES and gate.error:
        fidelity = 1.0 if relaxation is None else float(average_gate_fidelity(relaxation))
        p = depolarizing_parameter(gate.error, len(gate.qubits), fidelity)
        if p > 0:
            mixtures = [] if relaxation is None else _relaxation_mixtures(gate, qubits)
            if mixtures:
                return _pauli_reset_error(p, mixtures)
            depol = depolarizing_error(p, len(gate.qubits))
            return depol if relaxation is None else depol.compose(relaxation)
    return relaxation


def _relaxation_mixtures(
    gate: GateCalibration, qubits: list[QubitCalibration]
) -> list[dict[str, float]]:
    """Each qubit's relaxation over the gate as mixture weights; empty if one is not."""
    mixtures = []
    for index in gate.qubits:
        single = relaxation_error(qubits[index], gate.duration or 0.0)
        mixture = None if single is None else _mixture(single)
        if mixture is None:
            return []
        mixtures.append(mixture)
    return mixtures


class DeviceNoise:
    """A device's noise, built gate by gate on first use and restricted to what a job uses.

    Aer converts the whole noise model on every run (about a second for the 27- and
    11-qubit devices, even for a one-qubit circuit), so each job gets a model of only the
    operations and qubits its programs use; the errors themselves are computed once per
    gate and qubits.
    """

    def __init__(self, spec: DeviceSpec) -> None:
        self._spec = spec
        self._errors: dict[tuple[str, tuple[int, ...]], QuantumError | None] = {}
        self._idle: dict[tuple[int, float], Instruction | None] = {}
        self._models: dict[
            tuple[frozenset[int], frozenset[tuple[str, tuple[int, ...]]] | None], NoiseModel
        ] = {}

    @property
    def calibrated(self) -> bool:
        """Whether the device has a calibration (else it is ideal)."""
        return self._spec.calibration is not None

    def _error(self, gate: GateCalibration) -> QuantumError | None:
        key = (gate.name, tuple(gate.qubits))
        if key not in self._errors:
            qubits = self._spec.calibration.qubits if self._spec.calibration else []
            self._errors[key] = gate_error(gate, qubits)
        return self._errors[key]

    def idle_error(self, qubit: int, duration: float) -> Instruction | None:
        """Relaxation of ``qubit`` waiting ``duration`` seconds, as a circuit instruction.

        One instruction per qubit and duration, reused: Aer files every error
        instruction of a circuit under its error's id, so reuse keeps a job's noise
        model small (and building the instruction is not free).
        """
        calibration = self._spec.calibration
        if calibration is None:
            return None
        key = (qubit, duration)
        if key not in self._idle:
            if len(self._idle) >= _IDLE_CACHE_SIZE:
                self._idle.clear()
            error = relaxation_error(calibration.qubits[qubit], duration)
            self._idle[key] = None if error is None else error.to_instruction()
        return self._idle[key]

    def model(
        self,
        qubits: Iterable[int] | None = None,
        operations: Iterable[tuple[str, tuple[int, ...]]] | None = None,
    ) -> NoiseModel | None:
        """The noise model of a job; None without calibration.

        Args:
            qubits: The qubits whose readout errors (and, without ``operations``, whose
                gate errors) it holds; all by default.
            operations: The (name, qubits) pairs the job's circuits use; when given,
                only their errors are in the model. Aer converts every error of a model
                on every run, so a model of what is used is the fastest one.
        """
        calibration = self._spec.calibration
        if calibration is None:
            return None
        active = frozenset(range(self._spec.num_qubits) if qubits is None else qubits)
        used = None if operations is None else frozenset(operations)
        key = (active, used)
        if key in self._models:
            return self._models[key]
        basis = [op.name for op in self._spec.native_operations if op.name not in _NON_GATES]
        model = NoiseModel(basis_gates=basis)
        for gate in calibration.gates:
            if gate.name in {"measure", "delay"}:
                continue
            if used is None and not active.issuperset(gate.qubits):
                continue
            if used is not None and (gate.name, tuple(gate.qubits)) not in used:
                continue
            error = self._error(gate)
            if error is not None:
                model.add_quantum_error(error, gate.name, gate.qubits, warnings=False)
        for index in sorted(active):
            p = calibration.qubits[index].readout_error
            if p > 0:
                model.add_readout_error(ReadoutError([[1 - p, p], [p, 1 - p]]), [index])
        if len(self._models) >= _MODEL_CACHE_SIZE:
            self._models.pop(next(iter(self._models)))
        self._models[key] = model
        return model
