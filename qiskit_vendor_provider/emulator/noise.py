"""Aer noise models derived from a device's calibration, and nothing else.

Each calibrated gate gets the depolarizing error that, composed with thermal relaxation
over the gate's duration (from its qubits' T1 and T2), brings the average gate
infidelity to the calibrated ``error``; a reset relaxes over its duration; each qubit
gets a symmetric readout error; a qubit that waits (a delay, or idling while others are
gated, see :mod:`~qiskit_vendor_provider.emulator.scheduling`) relaxes over the wait.

Three errors are not Markovian, and :mod:`~qiskit_vendor_provider.emulator.scheduling`
places them in the timed program: a gate's calibrated ``over_rotation`` (a unitary
right after the gate, inside this module's gate error, see :func:`coherent_infidelity`),
the always-on ZZ of coupled qubits, and a slow detuning (drawn once per group of shots)
whose spread gives the Ramsey ``t2_star``.

The errors are built exactly as ``qiskit_aer.noise.NoiseModel.from_backend`` builds them
from the client's Target (depolarizing first, then the qubits' relaxations side by
side), so a user's own ``AerSimulator.from_backend(backend)`` and the emulator agree
gate by gate. That shape also matters for Aer itself: see :func:`gate_error`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from qiskit.circuit import ControlFlowOp, Gate, Parameter, QuantumCircuit, Reset
from qiskit.circuit.library import RXGate, RXXGate, RZXGate, RZZGate, XGate, YGate, ZGate
from qiskit.quantum_info import average_gate_fidelity
from qiskit_aer.noise import (
    NoiseModel,
    QuantumError,
    ReadoutError,
    depolarizing_error,
    thermal_relaxation_error,
)
from qiskit_aer.noise.noise_model import QuantumErrorLocation

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


def coherent_infidelity(angle: float, num_qubits: int) -> float:
    """Average gate infidelity of a rotation by ``angle`` about an n-qubit Pauli.

    ``U = exp(-i angle P / 2)`` has ``Tr U = d cos(angle / 2)``, so its process
    fidelity is ``cos^2(angle / 2)`` and its average gate fidelity
    ``(d cos^2(angle / 2) + 1) / (d + 1)``; the infidelity is
    ``d / (d + 1) * sin^2(angle / 2)`` (``0.8 sin^2(angle / 2)`` for two qubits).

    >>> round(coherent_infidelity(0.1, 2), 8), round(coherent_infidelity(math.pi, 1), 6)
    (0.00199833, 0.666667)
    """
    dim = 1 << num_qubits
    return dim / (dim + 1) * math.sin(angle / 2) ** 2


def over_rotation_gate(name: str, num_qubits: int, angle: float) -> Gate:
    """The unitary error of a gate over-rotated by ``angle`` about its own axis.

    A cross-resonance gate (``ecr``, ``cx``) turns about ZX, a Mølmer–Sørensen gate
    (``rxx``, ``ms``) about XX, any other two-qubit gate is taken to turn about ZZ, and a
    one-qubit gate about X. Any Pauli axis gives the same infidelity
    (:func:`coherent_infidelity`); the axis decides how repetitions add up.
    """
    if num_qubits == 1:
        return RXGate(angle)
    if name in {"ecr", "cx", "rzx"}:
        return RZXGate(angle)
    if name in {"rxx", "ms"}:
        return RXXGate(angle)
    return RZZGate(angle)


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


def _pauli_reset_error(
    depolarizing: float, relaxations: list[dict[str, float]], first: Gate | None = None
) -> QuantumError:
    """Depolarizing then per-qubit {identity, Z, reset} relaxation, as one short mixture.

    The same channel as ``depolarizing_error(p, n).compose(relaxation)``, whose product
    form has ``4^n * 3^n`` branches (144 for a two-qubit gate); merged, a Pauli followed
    by Z is another Pauli and a Pauli followed by a reset is the reset, which leaves at
    most 25. Aer converts every branch of every error on every run, so this is what
    makes jobs with many two-qubit gates fast. ``first``, a coherent over-rotation, opens
    every branch.
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
        if first is not None:
            circuit.append(first, list(range(n)))
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

    A calibrated ``over_rotation`` comes first of all, as a unitary; the depolarizing
    part is then what brings the total to the calibrated ``error``, so that RB still
    measures that figure.
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
    coherent = None
    if gate.name not in _NON_GATES and gate.over_rotation:
        coherent = over_rotation_gate(gate.name, len(gate.qubits), gate.over_rotation)
    if gate.name not in _NON_GATES and (gate.error or coherent is not None):
        fidelity = _fidelity(coherent, relaxation, len(gate.qubits))
        p = depolarizing_parameter(gate.error or 0.0, len(gate.qubits), fidelity)
        if p > 0 or coherent is not None:
            mixtures = [] if relaxation is None else _relaxation_mixtures(gate, qubits)
            if mixtures:
                return _pauli_reset_error(p, mixtures, coherent)
            error = depolarizing_error(p, len(gate.qubits))
            if coherent is not None:
                error = QuantumError(_on_all(coherent)).compose(error)
            return error if relaxation is None else error.compose(relaxation)
    return relaxation


def _on_all(gate: Gate) -> QuantumCircuit:
    circuit = QuantumCircuit(gate.num_qubits)
    circuit.append(gate, list(range(gate.num_qubits)))
    return circuit


def _fidelity(coherent: Gate | None, relaxation: QuantumError | None, num_qubits: int) -> float:
    """Average gate fidelity of the over-rotation followed by relaxation (1: neither)."""
    if relaxation is None:
        if coherent is None:
            return 1.0
        return 1.0 - coherent_infidelity(float(coherent.params[0]), num_qubits)
    if coherent is None:
        return float(average_gate_fidelity(relaxation))
    channel = QuantumError(_on_all(coherent)).compose(relaxation)
    return float(average_gate_fidelity(channel))


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


class IdleError(QuantumErrorLocation):  # type: ignore[misc]  # Aer is untyped
    """Where a circuit waits: Aer applies the noise model's error of this label there.

    Aer's ``qerror_loc`` instruction (labelled with the error's id) that also keeps its
    error, so a job's noise model can be given exactly the idle errors its circuits use.
    """

    def __init__(self, error: QuantumError) -> None:
        super().__init__(error)
        self.error = error


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
        self._idle: dict[tuple[int, float], IdleError | None] = {}
        self._noisy_gates: frozenset[tuple[str, tuple[int, ...]]] | None = None
        self._detuning: dict[int, Parameter] = {}
        self.detuning_qubits: dict[Parameter, int] = {}
        """The qubit of each detuning parameter :meth:`detuning_parameter` handed out."""
        self._zz: dict[tuple[int, int], float] | None = None
        self._models: dict[
            tuple[frozenset[int], frozenset[tuple[str, tuple[int, ...]]] | None, frozenset[str]],
            NoiseModel,
        ] = {}

    @property
    def calibrated(self) -> bool:
        """Whether the device has a calibration (else it is ideal)."""
        return self._spec.calibration is not None

    def readout_error(self, qubit: int) -> float:
        """The qubit's readout error: the chance its measurement reads the other bit."""
        calibration = self._spec.calibration
        return 0.0 if calibration is None else calibration.qubits[qubit].readout_error

    def detuning_width(self, qubit: int) -> float:
        """Half width (rad/s) of the Lorentzian the qubit's slow detuning is drawn from.

        A static detuning ``delta`` turns a Ramsey fringe by ``delta t``; averaged over a
        Lorentzian of half width ``gamma`` it decays as ``exp(-gamma t)``. With the
        Markovian ``exp(-t / T2)`` of relaxation, the Ramsey decay is ``exp(-t / t2_star)``
        when ``gamma = 1 / t2_star - 1 / T2``, and an echo, which undoes any static
        detuning, still decays with ``T2``. Zero without ``t2_star`` (or with one not
        below T2).
        """
        calibration = self._spec.calibration
        if calibration is None:
            return 0.0
        q = calibration.qubits[qubit]
        if q.t2_star is None or q.t1 is None or q.t2 is None:
            return 0.0
        t2 = min(q.t2, 2 * q.t1)  # as relaxation_error bounds it
        return max(0.0, 1.0 / q.t2_star - 1.0 / t2)

    def detuning_parameter(self, qubit: int) -> Parameter:
        """The parameter a timed program's detuning phases of ``qubit`` are written in.

        The simulation binds it once per group of shots (see
        :func:`~qiskit_vendor_provider.emulator.simulation.simulate`).
        """
        if qubit not in self._detuning:
            parameter = Parameter(f"_vendor_detuning_{qubit}")
            self._detuning[qubit] = parameter
            self.detuning_qubits[parameter] = qubit
        return self._detuning[qubit]

    def zz_couplings(self) -> dict[tuple[int, int], float]:
        """Each coupled pair (lower qubit first) with a non-zero ZZ rate, in hertz."""
        if self._zz is None:
            calibration = self._spec.calibration
            pairs = calibration.couplings if calibration is not None else []
            self._zz = {}
            for coupling in pairs:
                if coupling.zz_hz:
                    a, b = sorted(coupling.qubits)
                    self._zz[(a, b)] = coupling.zz_hz
        return self._zz

    def _error(self, gate: GateCalibration) -> QuantumError | None:
        key = (gate.name, tuple(gate.qubits))
        if key not in self._errors:
            qubits = self._spec.calibration.qubits if self._spec.calibration else []
            self._errors[key] = gate_error(gate, qubits)
        return self._errors[key]

    def idle_error(self, qubit: int, duration: float) -> IdleError | None:
        """Relaxation of ``qubit`` waiting ``duration`` seconds, as a circuit instruction.

        The instruction is a reference to the error (Aer's ``qerror_loc``, labelled with
        the error's id), and the error itself goes into the job's noise model (see
        :meth:`model` and :meth:`idle_errors`). Handing Aer the error inside the circuit
        instead makes Aer deep-copy the whole noise model and every such circuit on every
        run (a tenth of a grouped job's time), and Aer looks for such errors only at a
        circuit's top level, never inside control-flow blocks. One instruction per qubit
        and duration, reused, so a job's model stays small.
        """
        calibration = self._spec.calibration
        if calibration is None:
            return None
        key = (qubit, duration)
        if key not in self._idle:
            if len(self._idle) >= _IDLE_CACHE_SIZE:
                self._idle.clear()
            error = relaxation_error(calibration.qubits[qubit], duration)
            self._idle[key] = None if error is None else IdleError(error)
        return self._idle[key]

    @staticmethod
    def idle_errors(circuits: Iterable[QuantumCircuit]) -> list[QuantumError]:
        """The idle errors (of :meth:`idle_error`'s instructions) the circuits use."""
        found: dict[str, QuantumError] = {}
        for circuit in circuits:
            for item in circuit.data:
                if isinstance(item.operation, IdleError):
                    found[item.operation.error.id] = item.operation.error
                elif isinstance(item.operation, ControlFlowOp):
                    for error in DeviceNoise.idle_errors(item.operation.blocks):
                        found[error.id] = error
        return list(found.values())

    def is_noisy(self, name: str, qubits: tuple[int, ...]) -> bool:
        """Whether the operation has a calibrated error (or over-rotation) on ``qubits``."""
        if self._noisy_gates is None:
            calibration = self._spec.calibration
            gates = calibration.gates if calibration is not None else []
            self._noisy_gates = frozenset(
                (g.name, tuple(g.qubits)) for g in gates if g.error or g.over_rotation
            )
        return (name, qubits) in self._noisy_gates

    def model(
        self,
        qubits: Iterable[int] | None = None,
        operations: Iterable[tuple[str, tuple[int, ...]]] | None = None,
        idle: Iterable[QuantumError] | None = None,
    ) -> NoiseModel | None:
        """The noise model of a job; None without calibration.

        Args:
            qubits: The qubits whose readout errors (and, without ``operations``, whose
                gate errors) it holds; all by default.
            operations: The (name, qubits) pairs the job's circuits use; when given,
                only their errors are in the model. Aer converts every error of a model
                on every run, so a model of what is used is the fastest one.
            idle: The idle errors the job's circuits use (:meth:`idle_errors`); by
                default every one :meth:`idle_error` has handed out and still caches.
        """
        calibration = self._spec.calibration
        if calibration is None:
            return None
        active = frozenset(range(self._spec.num_qubits) if qubits is None else qubits)
        used = None if operations is None else frozenset(operations)
        if idle is None:
            idle = [wait.error for wait in self._idle.values() if wait is not None]
        waits = {error.id: error for error in idle}
        key = (active, used, frozenset(waits))
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
        for label, error in sorted(waits.items()):
            # Aer matches a qerror_loc instruction to the error filed under its label.
            model.add_all_qubit_quantum_error(error, label, warnings=False)
        if len(self._models) >= _MODEL_CACHE_SIZE:
            self._models.pop(next(iter(self._models)))
        self._models[key] = model
        return model


def markovian(spec: DeviceSpec) -> DeviceSpec:
    """``spec`` with every non-Markovian figure at zero: no T2*, ZZ or over-rotation.

    What the device was before those figures existed; its gate errors keep their
    calibrated totals (all stochastic now). For comparisons with models that have only
    Markovian noise, such as ``AerSimulator.from_backend``.
    """
    calibration = spec.calibration
    if calibration is None:
        return spec
    bare = calibration.model_copy(
        update={
            "qubits": [q.model_copy(update={"t2_star": None}) for q in calibration.qubits],
            "gates": [g.model_copy(update={"over_rotation": 0.0}) for g in calibration.gates],
            "couplings": [],
        }
    )
    return spec.model_copy(update={"calibration": bare})
