"""Measuring Pauli terms: grouping into bases, basis-change circuits, and the arithmetic.

The Estimator estimates ``<O> = sum_i c_i <P_i>`` for an observable given as Pauli terms
``P_i`` with real coefficients ``c_i``. Three pure steps, owned here rather than borrowed
from ``BackendEstimatorV2``'s private methods:

1. **Grouping.** Terms that commute qubit by qubit (on every qubit, at most one letter
   other than ``I``) are measured by one circuit. :func:`qubitwise_groups` colours the
   conflict graph greedily, most conflicted term first, as Qiskit's
   ``PauliList.group_commuting(qubit_wise=True)`` does. Identity terms need no circuit:
   their value is exactly 1.
2. **Basis change.** :func:`basis_change_circuit` rotates each measured qubit so that the
   Pauli letter becomes ``Z`` (``X``: ``H``; ``Y``: ``Sdg`` then ``H``) and measures it.
3. **Arithmetic.** With clbit ``k`` holding measured qubit ``k``, the eigenvalue of a
   term in one shot is ``(-1)**popcount(outcome & mask)``, where ``mask`` marks the clbits
   of the qubits the term acts on (:func:`pauli_expectations`). The standard error of
   ``<O>`` follows ``BackendEstimatorV2``: ``sum_i |c_i| sqrt(Var P_i) / sqrt(shots)``
   (:func:`combine`).

Labels are Qiskit's: the last character is qubit 0.

>>> bases = measurement_bases(["ZZ", "XX", "IZ", "II"])
>>> [(basis.label, basis.terms) for basis in bases]
[('XX', ('XX',)), ('ZZ', ('IZ', 'ZZ'))]
>>> basis = bases[1]
>>> basis.qubits, basis.masks
((0, 1), (1, 3))
>>> evs, variances = pauli_expectations({0b00: 60, 0b11: 40}, basis.masks)
>>> evs.tolist(), variances.tolist()
([0.2, 1.0], [0.96, 0.0])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister

__all__ = [
    "MeasurementBasis",
    "basis_change_circuit",
    "combine",
    "free_register_name",
    "is_identity",
    "measurement_bases",
    "pauli_expectations",
    "qubitwise_groups",
]

_CODES = {"I": 0, "X": 1, "Y": 2, "Z": 3}
_LETTERS = "IXYZ"


@dataclass(frozen=True)
class MeasurementBasis:
    """One measurement circuit's basis and the terms it measures.

    Attributes:
        label: Per qubit, the basis letter (``I``: not measured), Qiskit order.
        qubits: The measured qubits, ascending; clbit ``k`` of the measurement holds
            ``qubits[k]``.
        terms: The Pauli labels this basis measures, sorted.
        masks: Per term, the clbits whose parity is its eigenvalue (bit ``k``: clbit ``k``).
    """

    label: str
    qubits: tuple[int, ...]
    terms: tuple[str, ...]
    masks: tuple[int, ...]


def is_identity(label: str) -> bool:
    """Whether a Pauli label is the identity (its value is 1 in every state).

    >>> is_identity("III"), is_identity("IZI"), is_identity("")
    (True, False, True)
    """
    return set(label) <= {"I"}


def _codes(labels: Sequence[str]) -> NDArray[np.uint8]:
    """One row per label, one column per qubit (qubit 0 first): 0=I, 1=X, 2=Y, 3=Z."""
    return np.array(
        [[_CODES[letter] for letter in reversed(label)] for label in labels], dtype=np.uint8
    ).reshape(len(labels), len(labels[0]) if labels else 0)


def _fits(basis: NDArray[np.uint8], term: NDArray[np.uint8]) -> bool:
    return bool(np.all((basis == 0) | (term == 0) | (basis == term)))


def qubitwise_groups(labels: Iterable[str]) -> list[tuple[str, ...]]:
    """Distinct labels split into groups that commute qubit by qubit.

    Greedy colouring of the conflict graph, the term with the most conflicts first (ties:
    label order). Each term joins the first group it commutes with qubit-wise; every
    group is sorted. Deterministic: the same labels give the same groups.

    Args:
        labels: Pauli labels of one width (duplicates are ignored).

    Returns:
        The groups, in the order they were opened.

    >>> qubitwise_groups(["XX", "ZZ", "ZI", "IX"])
    [('IX', 'XX'), ('ZI', 'ZZ')]
    """
    distinct = sorted(set(labels))
    if not distinct:
        return []
    codes = _codes(distinct)
    acting = codes != 0
    conflicts = np.empty(len(distinct), dtype=np.int64)
    for row in range(len(distinct)):
        # One row at a time keeps memory linear in the number of terms.
        clash = acting & acting[row] & (codes != codes[row])
        conflicts[row] = int(np.count_nonzero(clash.any(axis=1)))
    order = sorted(range(len(distinct)), key=lambda row: (-conflicts[row], row))
    bases: list[NDArray[np.uint8]] = []
    members: list[list[str]] = []
    for row in order:
        for basis, group in zip(bases, members, strict=True):
            if _fits(basis, codes[row]):
                np.maximum(basis, codes[row], out=basis)  # fills the term's I positions only
                group.append(distinct[row])
                break
        else:
            bases.append(codes[row].copy())
            members.append([distinct[row]])
    return [tuple(sorted(group)) for group in members]


def _basis(terms: Sequence[str]) -> MeasurementBasis:
    codes = _codes(terms)
    letters = codes.max(axis=0)  # qubit-wise commuting: one non-I letter per qubit
    qubits = tuple(int(qubit) for qubit in np.flatnonzero(letters))
    label = "".join(_LETTERS[code] for code in reversed(letters.tolist()))
    masks = tuple(
        sum(1 << clbit for clbit, qubit in enumerate(qubits) if row[qubit]) for row in codes
    )
    return MeasurementBasis(label, qubits, tuple(terms), masks)


def measurement_bases(
    labels: Iterable[str], *, abelian_grouping: bool = True
) -> list[MeasurementBasis]:
    """The bases that measure every non-identity label.

    Args:
        labels: Pauli labels of one width; identities and duplicates are dropped.
        abelian_grouping: Group qubit-wise commuting terms (False: one basis per term).

    Returns:
        The bases, each with the terms it measures.

    >>> [basis.label for basis in measurement_bases(["ZZ", "ZI"], abelian_grouping=False)]
    ['ZI', 'ZZ']
    >>> measurement_bases(["II"])
    []
    """
    wanted = sorted({label for label in labels if not is_identity(label)})
    groups = qubitwise_groups(wanted) if abelian_grouping else [(label,) for label in wanted]
    return [_basis(group) for group in groups]


def free_register_name(circuit: QuantumCircuit, stem: str = "meas_basis") -> str:
    """A classical register name the circuit does not use yet.

    >>> free_register_name(QuantumCircuit(ClassicalRegister(1, "meas_basis")))
    'meas_basis_1'
    """
    taken = {register.name for register in circuit.cregs}
    name, suffix = stem, 0
    while name in taken:
        suffix += 1
        name = f"{stem}_{suffix}"
    return name


def basis_change_circuit(
    num_qubits: int, basis: MeasurementBasis, register_name: str = "meas_basis"
) -> QuantumCircuit:
    """Rotate each measured qubit into its basis and measure it.

    The circuit has ``num_qubits`` qubits (register ``q``) and one classical register of
    ``len(basis.qubits)`` clbits; clbit ``k`` holds qubit ``basis.qubits[k]``. The gates
    are ``h`` and ``sdg``; translate them to a device's operations afterwards.

    >>> basis = measurement_bases(["YIX"])[0]
    >>> [instruction.name for instruction in basis_change_circuit(3, basis).data]
    ['h', 'measure', 'sdg', 'h', 'measure']
    """
    register = ClassicalRegister(len(basis.qubits), register_name)
    circuit = QuantumCircuit(QuantumRegister(num_qubits, "q"), register)
    letters = basis.label[::-1]
    for clbit, qubit in enumerate(basis.qubits):
        if letters[qubit] == "Y":
            circuit.sdg(qubit)  # S† then H takes the Y eigenbasis to the Z eigenbasis
        if letters[qubit] in "XY":
            circuit.h(qubit)
        circuit.measure(qubit, register[clbit])
    return circuit


def pauli_expectations(
    counts: Mapping[int, int], masks: Sequence[int]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each term's mean eigenvalue and its single-shot variance, from basis counts.

    Args:
        counts: Outcome (bit ``k``: clbit ``k`` of the measurement) to number of shots.
        masks: Per term, the clbits whose parity is its eigenvalue.

    Returns:
        ``(expectations, variances)``, with ``variance = 1 - expectation**2``.

    Raises:
        ValueError: no shots at all.
    """
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("no shots to estimate expectation values from")
    sums = np.zeros(len(masks), dtype=np.float64)
    for outcome, count in counts.items():
        for index, mask in enumerate(masks):
            sums[index] += -count if (outcome & mask).bit_count() & 1 else count
    expectations = sums / total
    return expectations, 1.0 - expectations**2


def combine(
    terms: Mapping[str, float], values: Mapping[str, tuple[float, float]], shots: int
) -> tuple[float, float]:
    """An observable's estimate and standard error from its terms' values.

    Args:
        terms: Pauli label to (real) coefficient.
        values: Pauli label to ``(expectation, variance)``; identity labels may be
            missing (their value is exactly 1, variance 0).
        shots: Shots each term was measured with.

    Returns:
        ``(sum c * <P>, sum |c| * sqrt(Var P) / sqrt(shots))``.

    >>> combine({"II": 2.0, "ZZ": -0.5}, {"ZZ": (0.5, 0.75)}, 100)
    (1.75, 0.04330127018922193)
    """
    estimate = 0.0
    spread = 0.0
    for label, coefficient in terms.items():
        expectation, variance = (1.0, 0.0) if is_identity(label) else values[label]
        estimate += float(coefficient) * expectation
        spread += abs(float(coefficient)) * variance**0.5
    return estimate, spread / shots**0.5
