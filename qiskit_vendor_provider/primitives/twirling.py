"""Pauli twirling written as parameter rows: one circuit, one row of frame angles per variant.

A twirled variant of a circuit puts a random Pauli ``P`` before each twirled 2-qubit gate
``G`` and ``G P G†`` after it (a Pauli again, ``G`` being Clifford), so the ideal circuit
is unchanged while a coherent error of ``G`` becomes, averaged over variants, a Pauli
channel. A measurement is twirled by an ``X`` (or not) just before it, the recorded bit
being flipped back afterwards (TREX's twirl).

Here every place a Pauli may go holds a **frame**: native 1-qubit gates whose angles are
parameters (``sx rz(a) sx rz(b)`` on devices with ``sx``, ``r(a, 0) rz(b)`` on the
trapped ion, ``u(a, 0, b)`` where ``u`` is native). Each variant is then one row of
angles, all multiples of pi, so ``num_randomizations`` variants are one wire program and
a table of rows: bytes grow with the rows only, as parameter sweeps do. Frames that meet
on a qubit with nothing between them are merged (the Paulis multiply).

Gates twirled: bound 2-qubit gates whose matrix is Clifford (``ecr``, ``cx``, ``cz``,
``rxx(pi/2)``...) get the full Pauli twirl; other bound 2-qubit gates get the Paulis that
commute with them (``P`` before and after); 2-qubit gates with a parameter are left as
they are.

>>> import numpy as np
>>> from qiskit import QuantumCircuit
>>> qc = QuantumCircuit(2, 2)
>>> _ = qc.cx(0, 1), qc.measure([0, 1], [0, 1])
>>> from qiskit_vendor_provider.primitives.twirling import Frame, twirl
>>> out = twirl(qc, Frame.for_operations({"sx", "rz", "cx"}), gates=True,
...             measured=qc.clbits, count=4, rng=np.random.default_rng(1))
>>> out.values.shape, len(out.circuit.parameters), out.flips.shape
((4, 8), 8, (4,))
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import (
    Clbit,
    Gate,
    Instruction,
    Parameter,
    ParameterVector,
    QuantumCircuit,
    Qubit,
)
from qiskit.circuit.library import RGate, RZGate, SXGate, UGate
from qiskit.converters import circuit_to_dag
from qiskit.quantum_info import Clifford, Operator, Pauli

from qiskit_vendor_provider.errors import VendorValidationError

__all__ = ["Frame", "Twirled", "balanced_masks", "pauli_table", "twirl", "twirl_counts"]

# A 1-qubit Pauli up to phase: bit 0 is X, bit 1 is Z (0 I, 1 X, 2 Z, 3 Y).
_LABELS = ("I", "X", "Z", "Y")


@dataclass(frozen=True)
class Frame:
    """How a Pauli frame is written in one device's native 1-qubit gates.

    Attributes:
        kind: "sx" (``sx rz(a) sx rz(b)``), "r" (``r(a, 0) rz(b)``) or "u" (``u(a, 0, b)``).
        angles: Per Pauli index (I, X, Z, Y), the two angles ``(a, b)``.
    """

    kind: str
    angles: tuple[tuple[float, float], ...]

    @classmethod
    def for_operations(cls, names: Collection[str]) -> Frame:
        """The frame a device with these operations can run.

        Raises:
            VendorValidationError: the device has no parametrisable 1-qubit gates to write it.
        """
        for kind, needed in (("u", {"u"}), ("sx", {"sx", "rz"}), ("r", {"r", "rz"})):
            if needed <= set(names):
                return cls(kind, _angles(kind))
        raise VendorValidationError(
            "twirling needs parametrisable 1-qubit gates (u, or rz with sx or r) on the "
            f"device; it has {sorted(names)}; turn twirling off"
        )

    def append(self, circuit: QuantumCircuit, qubit: Qubit, a: Parameter, b: Parameter) -> None:
        """Append the frame with angles ``a`` and ``b`` on ``qubit``."""
        for operation in _frame_gates(self.kind, a, b):
            circuit.append(operation, [qubit])


def _frame_gates(kind: str, a: float | Parameter, b: float | Parameter) -> list[Gate]:
    if kind == "u":
        return [UGate(a, 0.0, b)]
    if kind == "sx":
        return [SXGate(), RZGate(a), SXGate(), RZGate(b)]
    return [RGate(a, 0.0), RZGate(b)]


@cache
def _angles(kind: str) -> tuple[tuple[float, float], ...]:
    """Per Pauli, the frame angles (multiples of pi) that make it, up to a phase."""
    found: dict[int, tuple[float, float]] = {}
    for a in (0.0, math.pi):
        for b in (0.0, math.pi):
            frame = QuantumCircuit(1)
            for gate in _frame_gates(kind, a, b):
                frame.append(gate, [0])
            matrix = Operator(frame).data
            for index, label in enumerate(_LABELS):
                pauli = Pauli(label).to_matrix()
                overlap = abs(np.trace(pauli.conj().T @ matrix)) / 2
                if math.isclose(overlap, 1.0, abs_tol=1e-9):
                    found.setdefault(index, (a, b))
    assert len(found) == 4, kind
    return tuple(found[index] for index in range(4))


def _pauli_index(label: str) -> int:
    return _LABELS.index(label)


def pauli_table(operation: Instruction) -> NDArray[np.int64] | None:
    """For a bound 2-qubit gate, the Pauli after it for each Pauli before it.

    Row ``4 * p1 + p0`` (``p0`` on the gate's first qubit) gives ``(q0, q1)``. For a
    Clifford gate it is ``G P G†``; for another gate only the Paulis that commute with it
    are listed (the others are -1), and each maps to itself.

    Returns:
        The 16 x 2 table, or None for a gate with parameters.
    """
    if operation.is_parameterized():
        return None
    key = (operation.name, tuple(float(p) for p in operation.params))
    return _cached_table(key, operation)


_TABLES: dict[tuple[str, tuple[float, ...]], NDArray[np.int64]] = {}


def _cached_table(key: tuple[str, tuple[float, ...]], operation: Instruction) -> NDArray[np.int64]:
    if key in _TABLES:
        return _TABLES[key]
    table = np.full((16, 2), -1, dtype=np.int64)
    try:
        clifford: Clifford | None = Clifford(operation)
    except Exception:
        clifford = None
    matrix = Operator(operation).data
    for p1 in range(4):
        for p0 in range(4):
            before = Pauli(_LABELS[p1] + _LABELS[p0])  # qubit 0 is the rightmost letter
            if clifford is not None:
                after = before.evolve(clifford, frame="s")
                label = after.to_label().lstrip("-i")
                table[4 * p1 + p0] = (_pauli_index(label[1]), _pauli_index(label[0]))
            else:
                pm = before.to_matrix()
                if np.allclose(pm @ matrix, matrix @ pm):
                    table[4 * p1 + p0] = (p0, p1)
    _TABLES[key] = table
    return table


@dataclass(frozen=True)
class Twirled:
    """A circuit with parametrised Pauli frames and its randomisations.

    Attributes:
        circuit: The circuit, frames written as parametrised native gates.
        parameters: The frame parameters, in the column order of ``values``.
        values: One row of frame angles per randomisation.
        flips: Per randomisation, the twirled measurements' bits (bit ``k``: the ``k``-th
            clbit of ``measured``) whose outcome is to be flipped back.
    """

    circuit: QuantumCircuit
    parameters: tuple[Parameter, ...]
    values: NDArray[np.float64]
    flips: NDArray[np.int64]


def twirl(  # noqa: PLR0915 - one walk over the layers; split, it would share all its state
    circuit: QuantumCircuit,
    frame: Frame,
    *,
    gates: bool,
    measured: Sequence[Clbit],
    count: int,
    rng: np.random.Generator,
    strategy: str = "active",
    name: str = "_twirl",
    close: bool = False,
    masks: NDArray[np.int64] | None = None,
) -> Twirled:
    """Twirl ``circuit``'s 2-qubit gates (if ``gates``) and its measurements into ``measured``.

    Args:
        circuit: An ISA circuit.
        frame: How frames are written on the device.
        gates: Twirl 2-qubit gates.
        measured: Clbits whose measurements are twirled (empty: none).
        count: Randomisations (rows).
        rng: Source of the random Paulis.
        strategy: Which qubits of a layer of 2-qubit gates get frames: "active" (the
            layer's), "active-accum" (those of the layers so far), "active-circuit" (all
            qubits any 2-qubit gate touches) or "all" (every qubit of the circuit). Idle
            qubits get the same Pauli before and after the layer.
        name: Name of the frame parameters (a vector).
        close: Write the frames still pending at the end (the circuit is then the same
            unitary for every row); without, they are dropped, which changes no
            measured outcome.
        masks: Per row, which of ``measured`` get an ``X`` (bit ``k``: ``measured[k]``);
            None: each at random.
    """
    dag = circuit_to_dag(circuit)
    index = {qubit: position for position, qubit in enumerate(circuit.qubits)}
    measured_bits = {clbit: position for position, clbit in enumerate(measured)}
    out = circuit.copy_empty_like()
    # Per qubit, the Pauli (per row) waiting to be written as a frame, or None.
    pending: dict[int, NDArray[np.int64]] = {}
    frames: list[tuple[int, NDArray[np.int64]]] = []  # (qubit, Pauli per row), in order
    flips = np.zeros(count, dtype=np.int64)
    placeholders: list[tuple[int, int]] = []  # (frame number, position in out.data)

    def flush(qubit: int) -> None:
        paulis = pending.pop(qubit, None)
        if paulis is None:
            return
        frames.append((qubit, paulis))
        placeholders.append((len(frames) - 1, len(out.data)))
        out.barrier(circuit.qubits[qubit], label="_frame")  # replaced below

    def add(qubit: int, paulis: NDArray[np.int64]) -> None:
        pending[qubit] = pending[qubit] ^ paulis if qubit in pending else paulis.copy()

    layers = list(dag.layers())
    if strategy == "active-circuit":
        circuit_active = {
            index[q]
            for layer in layers
            for node in layer["graph"].op_nodes()
            if len(node.qargs) == 2 and gates
            for q in node.qargs
        }
    accumulated: set[int] = set()
    for layer in layers:
        nodes = list(layer["graph"].op_nodes())
        twirled_nodes = []
        if gates:
            for node in nodes:
                if (
                    len(node.qargs) == 2
                    and not node.cargs
                    and isinstance(node.op, Gate)
                    and pauli_table(node.op) is not None
                ):
                    twirled_nodes.append(node)
        active = {index[q] for node in twirled_nodes for q in node.qargs}
        accumulated |= active
        if not twirled_nodes:
            extra: set[int] = set()
        elif strategy == "active":
            extra = set()
        elif strategy == "active-accum":
            extra = accumulated - active
        elif strategy == "active-circuit":
            extra = circuit_active - active
        else:
            extra = set(range(circuit.num_qubits)) - active
        busy = {index[q] for node in nodes for q in node.qargs}
        extra -= busy  # qubits the layer uses otherwise are not idle
        idle_paulis = {q: rng.integers(0, 4, count) for q in sorted(extra)}
        for q, paulis in idle_paulis.items():
            add(q, paulis)
            flush(q)
        for node in nodes:
            qubits = [index[q] for q in node.qargs]
            if node in twirled_nodes:
                table = pauli_table(node.op)
                assert table is not None
                allowed = np.flatnonzero(table[:, 0] >= 0)
                choice = allowed[rng.integers(0, len(allowed), count)]
                before0, before1 = choice % 4, choice // 4
                add(qubits[0], before0)
                add(qubits[1], before1)
                flush(qubits[0])
                flush(qubits[1])
                out.append(node.op, node.qargs, node.cargs)
                pending[qubits[0]] = table[choice, 0].astype(np.int64)
                pending[qubits[1]] = table[choice, 1].astype(np.int64)
                continue
            if node.op.name == "measure" and node.cargs[0] in measured_bits:
                bit = measured_bits[node.cargs[0]]
                x = (
                    rng.integers(0, 2, count)
                    if masks is None
                    else (masks >> bit & 1).astype(np.int64)
                )
                add(qubits[0], x)  # index 1 is X
                flips |= x << bit
            for q in qubits:
                flush(q)
            out.append(node.op, node.qargs, node.cargs)
        for q, paulis in idle_paulis.items():
            add(q, paulis)
    # Frames still pending at the end act after everything: they change no outcome.
    if close:
        for q in sorted(pending):
            flush(q)
    parameters = ParameterVector(name, 2 * len(frames))
    values = np.zeros((count, 2 * len(frames)), dtype=np.float64)
    angles = np.array(frame.angles)
    final = out.copy_empty_like()
    by_position = {position: number for number, position in placeholders}
    for position, instruction in enumerate(out.data):
        number = by_position.get(position)
        if number is None:
            final.append(instruction)
            continue
        qubit, paulis = frames[number]
        a, b = parameters[2 * number], parameters[2 * number + 1]
        frame.append(final, circuit.qubits[qubit], a, b)
        values[:, 2 * number] = angles[paulis, 0]
        values[:, 2 * number + 1] = angles[paulis, 1]
    return Twirled(final, tuple(parameters), values, flips)


def balanced_masks(num_bits: int, count: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Which of ``num_bits`` measurements get an ``X`` in each of ``count`` variants.

    With few bits (``2**num_bits <= count``) the subsets cycle, so every subset is used
    equally often when ``count`` is a multiple of ``2**num_bits`` (the twirl average is
    then exact); otherwise random subsets come in complementary pairs, which flips every
    bit in half the variants.

    >>> balanced_masks(2, 8, np.random.default_rng(0)).tolist()
    [0, 1, 2, 3, 0, 1, 2, 3]
    """
    subsets = 1 << num_bits
    if subsets <= count:
        return np.arange(count, dtype=np.int64) % subsets
    full = subsets - 1
    masks = np.empty(count, dtype=np.int64)
    for start in range(0, count, 2):
        mask = int(rng.integers(0, subsets)) if num_bits < 63 else 0
        masks[start] = mask
        if start + 1 < count:
            masks[start + 1] = mask ^ full
    return masks


def twirl_counts(shots: int, num: int | str, per: int | str) -> tuple[int, int]:
    """IBM's ``(num_randomizations, shots_per_randomization)`` for ``shots`` shots.

    Both "auto": ``per = max(64, ceil(shots / 32))`` and ``num = ceil(shots / per)``;
    one "auto": it is ``ceil(shots / other)``.

    >>> twirl_counts(4096, "auto", "auto"), twirl_counts(1000, 10, "auto")
    ((32, 128), (10, 100))
    """
    if num == "auto" and per == "auto":
        per_shots = max(64, math.ceil(shots / 32))
        return math.ceil(shots / per_shots), per_shots
    if num == "auto":
        assert isinstance(per, int)
        return math.ceil(shots / per), per
    assert isinstance(num, int)
    if per == "auto":
        return num, math.ceil(shots / num)
    assert isinstance(per, int)
    return num, per
