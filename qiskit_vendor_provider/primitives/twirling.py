"""Pauli twirling written as parameter rows: one circuit, one row of frame angles per variant.

A twirled variant of a circuit puts a random Pauli ``P`` before each twirled 2-qubit gate
``G`` and ``G P G†`` after it (a Pauli again, ``G`` being Clifford), so the ideal circuit
is unchanged while a coherent error of ``G`` becomes, averaged over variants, a Pauli
channel. A measurement is twirled by an ``X`` (or not) just before it, the recorded bit
being flipped back afterwards (TREX's twirl).

Here every place a Pauli may go holds a **frame** whose angles are parameters, so
``num_randomizations`` variants are one wire program and a table of rows: bytes grow with
the rows only, as parameter sweeps do. A frame costs gates, and gates cost noise, so a
frame is not written as gates of its own: it is multiplied into the run of 1-qubit gates
it sits in (the transpiler puts such runs around every 2-qubit gate), and the run is
rewritten, per row, in the fewest native gates that hold every row's product. On devices
with ``sx`` that is ``rz`` alone, ``rz sx rz`` or ``rz sx rz sx rz``: a run with one
``sx`` keeps one under any Pauli, a run with two keeps two, so only a frame with no
``sx`` run beside it costs two. (``r rz`` on the trapped ion, ``u`` where ``u`` is
native.) Angles equal in every row are written as numbers; the others are the
parameters. Frames that meet on a qubit with nothing between them merge (the Paulis
multiply).

Gates twirled: bound 2-qubit gates whose matrix is Clifford (``ecr``, ``cx``, ``cz``,
``rxx(pi/2)``...) get the full Pauli twirl; other bound 2-qubit gates get the Paulis that
commute with them (``P`` before and after); 2-qubit gates with a parameter are left as
they are.

>>> import numpy as np
>>> from qiskit import QuantumCircuit
>>> qc = QuantumCircuit(2, 2)
>>> _ = qc.sx([0, 1]), qc.cx(0, 1), qc.sx([0, 1]), qc.measure([0, 1], [0, 1])
>>> from qiskit_vendor_provider.primitives.twirling import Frame, twirl
>>> out = twirl(qc, Frame.for_operations({"sx", "rz", "cx"}), gates=True,
...             measured=qc.clbits, count=4, rng=np.random.default_rng(1))
>>> out.values.shape[0], out.flips.shape, out.circuit.count_ops()["sx"]  # still 4 sx
(4, (4,), 4)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import (
    CircuitInstruction,
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
from qiskit.dagcircuit import DAGCircuit, DAGOpNode
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
            qubits any 2-qubit gate touches) or "all" (every qubit the circuit operates
            on). Idle qubits get the same Pauli before and after the layer, and barriers
            around the layer keep those frames there.
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

    layers = _layers(dag, gates)
    if strategy == "active-circuit":
        circuit_active = {
            index[q]
            for layer in layers
            for node in layer
            if len(node.qargs) == 2 and gates
            for q in node.qargs
        }
    # "all" means the circuit's qubits, not the device's: an ISA circuit spans the whole
    # device, and a frame on a qubit nothing else touches would only add it to the run.
    used = {
        index[q]
        for node in dag.op_nodes()
        if node.op.name not in ("barrier", "delay")
        for q in node.qargs
    }
    accumulated: set[int] = set()
    for nodes in layers:
        twirled_nodes = [node for node in nodes if gates and _twirlable(node)]
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
            extra = used - active
        busy = {index[q] for node in nodes for q in node.qargs}
        extra -= busy  # qubits the layer uses otherwise are not idle
        idle_paulis = {q: rng.integers(0, 4, count) for q in sorted(extra)}
        for q, paulis in idle_paulis.items():
            add(q, paulis)
            flush(q)
        # The Paulis before every twirled gate of the layer, then the gates.
        choices = {}
        for node in twirled_nodes:
            qubits = [index[q] for q in node.qargs]
            table = pauli_table(node.op)
            assert table is not None
            allowed = np.flatnonzero(table[:, 0] >= 0)
            choice = choices[node] = allowed[rng.integers(0, len(allowed), count)]
            add(qubits[0], choice % 4)
            add(qubits[1], choice // 4)
            flush(qubits[0])
            flush(qubits[1])
        # An idle qubit's frame twirls what happens to it while the layer runs, so it is
        # held there by barriers around the layer; without them the frames before and
        # after it, with nothing between them on that qubit, would cancel.
        anchored = [circuit.qubits[q] for q in sorted(active | set(idle_paulis))]
        if idle_paulis:
            out.barrier(anchored)
        for node in twirled_nodes:
            qubits = [index[q] for q in node.qargs]
            table = pauli_table(node.op)
            assert table is not None
            out.append(node.op, node.qargs, node.cargs)
            pending[qubits[0]] = table[choices[node], 0].astype(np.int64)
            pending[qubits[1]] = table[choices[node], 1].astype(np.int64)
        if idle_paulis:
            out.barrier(anchored)
        for node in nodes:
            qubits = [index[q] for q in node.qargs]
            if node in choices:
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
    return _assemble(
        out,
        frame=frame,
        frames=frames,
        placeholders=placeholders,
        count=count,
        name=name,
        flips=flips,
    )


def _twirlable(node: DAGOpNode) -> bool:
    """Whether a node is a 2-qubit gate the twirl frames (bound, with a Pauli table)."""
    return (
        len(node.qargs) == 2
        and not node.cargs
        and isinstance(node.op, Gate)
        and pauli_table(node.op) is not None
    )


def _layers(dag: DAGCircuit, gates: bool) -> list[list[DAGOpNode]]:
    """The circuit as layers of twirled 2-qubit gates and, between them, everything else.

    A twirled gate's layer is one past the last layer of either of its qubits, counted
    over twirled gates only (as IBM's boxing layers 2-qubit gates): the 1-qubit gates
    the transpiler staggers between them do not split gates that run side by side into
    layers of their own, which the idle qubits' frames and barriers of ``active-accum``
    would then run one after another. Every other operation goes between the layers,
    after the last layer of its qubits, and brings its qubits level (a barrier or a
    gate that is not twirled keeps its place with respect to every qubit it spans).

    Returns:
        Alternately the operations between layers (in topological order) and a layer
        of twirled gates, starting and ending with the former (either may be empty).
    """
    level: dict[Any, int] = {}
    between: list[list[DAGOpNode]] = [[]]
    twirled: list[list[DAGOpNode]] = []
    for node in dag.topological_op_nodes():
        depth = max((level.get(q, 0) for q in node.qargs), default=0)
        if gates and _twirlable(node):
            depth += 1
            while len(twirled) < depth:
                twirled.append([])
                between.append([])
            twirled[depth - 1].append(node)
        else:
            between[depth].append(node)
        for q in node.qargs:
            level[q] = depth
    out: list[list[DAGOpNode]] = [between[0]]
    for layer, after in zip(twirled, between[1:], strict=True):
        out.extend([layer, after])
    return out


@dataclass
class _Run:
    """A run of bound 1-qubit gates and frames on one qubit, nothing else between them."""

    qubit: Qubit
    items: list[CircuitInstruction | int]  # a gate, or the number of a frame


def _mergeable(operation: Instruction) -> bool:
    """Whether a 1-qubit operation can be multiplied into a frame (a bound, untimed gate)."""
    return (
        isinstance(operation, Gate)
        and operation.num_qubits == 1
        and operation.name not in _TIMED
        and not operation.is_parameterized()
        and _matrix(operation) is not None
    )


# Gates that stand for idle time on hardware: merging them away would shorten the circuit.
_TIMED = frozenset({"id", "delay"})

_PAULIS = np.array([Pauli(label).to_matrix() for label in _LABELS])


def _matrix(operation: Instruction) -> NDArray[np.complex128] | None:
    key = (operation.name, tuple(float(p) for p in operation.params))
    if key not in _MATRICES:
        try:
            _MATRICES[key] = Operator(operation).data
        except Exception:  # a gate without a matrix is simply not merged
            _MATRICES[key] = None
    return _MATRICES[key]


_MATRICES: dict[tuple[str, tuple[float, ...]], NDArray[np.complex128] | None] = {}


def _assemble(
    out: QuantumCircuit,
    *,
    frame: Frame,
    frames: list[tuple[int, NDArray[np.int64]]],
    placeholders: list[tuple[int, int]],
    count: int,
    name: str,
    flips: NDArray[np.int64],
) -> Twirled:
    """``out`` with each frame multiplied into the run of 1-qubit gates around it.

    A frame next to gates the circuit has anyway (the 1-qubit gates a transpiler puts
    around each 2-qubit gate) is not written as gates of its own: the run's product,
    Pauli included, is one 1-qubit unitary per row, written in the fewest native gates
    that every row's unitary fits (on ``sx`` devices: ``rz`` only, ``rz sx rz`` or
    ``rz sx rz sx rz``). A run of one ``sx`` (a Hadamard-like gate) stays one ``sx``
    under any Pauli, so such a frame costs no pulse at all.
    """
    by_position = {position: number for number, position in placeholders}
    slots: list[CircuitInstruction | _Run] = []
    open_runs: dict[Qubit, _Run] = {}
    for position, instruction in enumerate(out.data):
        number = by_position.get(position)
        if number is not None or (not instruction.clbits and _mergeable(instruction.operation)):
            qubit = instruction.qubits[0]
            run = open_runs.get(qubit)
            if run is None:
                run = open_runs[qubit] = _Run(qubit, [])
                slots.append(run)
            run.items.append(instruction if number is None else number)
            continue
        for qubit in instruction.qubits:
            open_runs.pop(qubit, None)
        slots.append(instruction)
    # Per run with a frame: its gates (angles as column numbers or floats) and columns.
    written: list[list[tuple[str, list[int | float]]] | None] = []
    columns: list[NDArray[np.float64]] = []
    for slot in slots:
        if isinstance(slot, _Run) and any(isinstance(item, int) for item in slot.items):
            unitaries = np.broadcast_to(np.eye(2, dtype=complex), (count, 2, 2))
            for item in slot.items:
                if isinstance(item, int):
                    step = _PAULIS[frames[item][1]]
                else:
                    matrix = _matrix(item.operation)
                    assert matrix is not None
                    step = np.broadcast_to(matrix, (count, 2, 2))
                unitaries = step @ unitaries
            gates: list[tuple[str, list[int | float]]] = []
            for gate_name, angles in _synthesis(frame.kind, unitaries):
                params: list[int | float] = []
                for angle in angles:
                    if np.allclose(angle, angle[0], atol=1e-12):
                        params.append(float(angle[0]))  # the same in every row: a number
                    else:
                        params.append(len(columns))
                        columns.append(angle)
                gates.append((gate_name, params))
            written.append(gates)
        else:
            written.append(None)
    parameters = ParameterVector(name, len(columns))
    values = np.column_stack(columns) if columns else np.zeros((count, 0), dtype=np.float64)
    final = out.copy_empty_like()
    for slot, rewritten in zip(slots, written, strict=True):
        if not isinstance(slot, _Run):
            final.append(slot)
        elif rewritten is None:
            for item in slot.items:
                assert not isinstance(item, int)
                final.append(item)
        else:
            for gate_name, params in rewritten:
                if gate_name == "rz" and isinstance(params[0], float) and params[0] == 0.0:
                    continue  # the identity
                arguments = [parameters[p] if isinstance(p, int) else p for p in params]
                final.append(_GATES[gate_name](*arguments), [slot.qubit])
    return Twirled(final, tuple(parameters), values, flips)


_GATES: dict[str, Callable[..., Gate]] = {
    "rz": RZGate,
    "sx": SXGate,
    "r": RGate,
    "u": UGate,
}


def _synthesis(
    kind: str, unitaries: NDArray[np.complex128]
) -> list[tuple[str, list[NDArray[np.float64]]]]:
    """The fewest native gates writing every row's 1-qubit unitary, with angles per row.

    Every row gets the same gates (one circuit for all rows); only angles differ. With
    ``U(theta, phi, lam)`` the unitary up to a phase: ``rz(phi + lam)`` when every row
    is diagonal; on ``sx`` devices ``rz(lam - pi/2) sx rz(phi + pi/2)`` when every row
    has ``theta = pi/2``, else ``rz(lam) sx rz(theta + pi) sx rz(phi + pi)``; on ``r``
    devices ``r(theta, pi/2 - lam) rz(phi + lam)``; where ``u`` is native, ``u`` itself.
    """
    theta, phi, lam = _u_angles(unitaries)
    half = math.pi / 2
    if kind == "u":
        return [("u", [theta, phi, lam])]
    if np.all(np.abs(unitaries[:, 1, 0]) < 1e-9):
        return [("rz", [_wrap(phi + lam)])]
    if kind == "r":
        return [("r", [theta, _wrap(half - lam)]), ("rz", [_wrap(phi + lam)])]
    if np.allclose(theta, half, atol=1e-9):
        return [("rz", [_wrap(lam - half)]), ("sx", []), ("rz", [_wrap(phi + half)])]
    return [
        ("rz", [_wrap(lam)]),
        ("sx", []),
        ("rz", [_wrap(theta + math.pi)]),
        ("sx", []),
        ("rz", [_wrap(phi + math.pi)]),
    ]


def _u_angles(
    unitaries: NDArray[np.complex128],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per row, ``(theta, phi, lam)`` of ``U`` equal to the unitary up to a global phase."""
    a, b = unitaries[:, 0, 0], unitaries[:, 0, 1]
    c, d = unitaries[:, 1, 0], unitaries[:, 1, 1]
    theta = 2 * np.arctan2(np.abs(c), np.abs(a))
    diagonal = np.abs(c) < 1e-9
    anti = np.abs(a) < 1e-9
    # Phases relative to a (or, when a is 0, to -b with lam = 0): the global phase drops.
    phi = np.where(
        diagonal, 0.0, np.where(anti, np.angle(c) - np.angle(-b), np.angle(c) - np.angle(a))
    )
    lam = np.where(
        diagonal, np.angle(d) - np.angle(a), np.where(anti, 0.0, np.angle(-b) - np.angle(a))
    )
    return theta, phi, lam


def _wrap(angles: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angles in ``(-pi, pi]`` (rows that differ by 2 pi are one value)."""
    wrapped = np.asarray(np.angle(np.exp(1j * angles)), dtype=np.float64)
    return np.where(np.isclose(wrapped, -math.pi, atol=1e-12), math.pi, wrapped)


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
