"""Readout-error mitigation: TREX for the Estimator, inverse assignment for the Sampler.

**Estimator: twirled readout-error extinction (TREX).**

A readout error turns a measured ``Z_S`` (the parity of the qubits in ``S``) into
``lambda_S * <Z_S>`` plus, for an asymmetric error, a bias. TREX removes both:

1. **Twirl.** Each measurement circuit is run in several variants; in each, a subset of the
   measured qubits gets an ``X`` just before its measurement and the recorded bit is
   flipped back in post-processing. Averaged over the variants, the readout error becomes
   a channel that only scales each ``<Z_S>`` (the bias averages out).
2. **Calibrate.** The same twirled measurement after doing nothing (all qubits in
   ``|0>``, whose ``<Z_S>`` is exactly 1) measures ``lambda_S`` itself.
3. **Divide.** The mitigated value is ``<Z_S>_twirled / lambda_S``.

When the measured qubits are few (``2**n <= max_twirls``), every subset is used equally, so
the average is exact; otherwise the subsets are random (seeded) and come in complementary
pairs, which flips every qubit in exactly half the variants.

**Sampler: inverse assignment matrices.** Each classical bit's counts are corrected with
the inverse of its qubit's assignment matrix ``[[1-e, e], [e, 1-e]]``, ``e`` being the
readout error the device's Target holds for ``measure`` on that qubit (the calibration
the vendor publishes, no extra shots). See :func:`quasi_probabilities`.

>>> import numpy as np
>>> twirl_masks(2, np.random.default_rng(0))
[0, 1, 2, 3, 0, 1, 2, 3]
>>> masks = twirl_masks(5, np.random.default_rng(0), max_twirls=4)
>>> len(masks), masks[0] ^ masks[1]
(4, 31)
>>> value, variance = mitigate(np.array([0.5]), np.array([0.75]), np.array([0.8]), np.array([0.36]))
>>> round(float(value[0]), 4), round(float(variance[0]), 4)
(0.625, 1.3916)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister

__all__ = [
    "DEFAULT_TWIRLS",
    "MAX_MITIGATED_BITS",
    "assignment_inverse",
    "calibration_circuit",
    "mitigate",
    "quasi_probabilities",
    "twirl_masks",
    "with_twirl",
]

DEFAULT_TWIRLS = 8
"""Twirl variants per measurement circuit (and per calibration); each gets 1/8 of the shots."""


def twirl_masks(
    num_measured: int, rng: np.random.Generator, max_twirls: int = DEFAULT_TWIRLS
) -> list[int]:
    """Which measured qubits get an ``X`` in each twirl variant (bit ``k``: clbit ``k``).

    Args:
        num_measured: Qubits measured by the circuit.
        rng: Source of the random subsets (seed it for reproducible runs).
        max_twirls: Number of variants; a power of two.

    Returns:
        ``max_twirls`` masks: every subset equally often when there are at most
        ``max_twirls`` of them, else random subsets in complementary pairs.
    """
    subsets = 1 << num_measured
    if subsets <= max_twirls:
        # Every subset, equally often: the twirl average is exact.
        return list(range(subsets)) * (max_twirls // subsets)
    full = subsets - 1
    masks: list[int] = []
    for _ in range(max_twirls // 2):
        mask = int(rng.integers(0, full + 1))
        masks.extend((mask, mask ^ full))
    return masks


def with_twirl(circuit: QuantumCircuit, qubits: tuple[int, ...], mask: int) -> QuantumCircuit:
    """``circuit`` with an ``X`` just before the measurement of each flipped qubit.

    Args:
        circuit: A measurement suffix (basis changes and measurements).
        qubits: The measured qubits; bit ``k`` of ``mask`` is ``qubits[k]``.
        mask: Which of them are flipped.

    Returns:
        A new circuit; ``circuit`` is left as it was.
    """
    flipped = {circuit.qubits[qubit] for clbit, qubit in enumerate(qubits) if mask >> clbit & 1}
    twirled = circuit.copy_empty_like()
    for instruction in circuit.data:
        if instruction.operation.name == "measure" and instruction.qubits[0] in flipped:
            twirled.x(instruction.qubits[0])
        twirled.append(instruction)
    return twirled


def calibration_circuit(
    num_qubits: int, qubits: tuple[int, ...], register_name: str
) -> QuantumCircuit:
    """The measurement of ``|0...0>`` on ``qubits``, to be twirled like the circuits it calibrates.

    Clbit ``k`` of the one classical register holds ``qubits[k]``, as in the measurement
    circuits, so the same term masks apply.

    Args:
        num_qubits: Width of the circuit (the device's qubits).
        qubits: The measured qubits, ascending.
        register_name: Name of the classical register.
    """
    register = ClassicalRegister(len(qubits), register_name)
    circuit = QuantumCircuit(QuantumRegister(num_qubits, "q"), register)
    for clbit, qubit in enumerate(qubits):
        circuit.measure(qubit, register[clbit])
    return circuit


def mitigate(
    expectations: NDArray[np.float64],
    variances: NDArray[np.float64],
    scales: NDArray[np.float64],
    scale_variances: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Divide twirled expectations by their calibrated scale factors.

    Both were measured with the same number of shots, so the single-shot variance of the
    ratio ``n / d`` is, to first order, ``(Var n + (n/d)**2 Var d) / d**2``; with it the
    Estimator's usual ``sum |c| sqrt(Var) / sqrt(shots)`` gives the standard error.

    A scale factor that is not positive (a qubit read out no better than a coin, or too
    few shots to tell) cannot be divided by: that term is left unmitigated.

    Args:
        expectations: Twirled ``<Z_S>`` per term.
        variances: Their single-shot variances.
        scales: Calibrated ``lambda_S`` per term.
        scale_variances: Their single-shot variances.

    Returns:
        ``(mitigated expectations, single-shot variances)``.
    """
    usable = scales > 0.0
    safe = np.where(usable, scales, 1.0)
    ratio = expectations / safe
    variance = (variances + ratio**2 * np.where(usable, scale_variances, 0.0)) / safe**2
    return np.where(usable, ratio, expectations), np.where(usable, variance, variances)


MAX_MITIGATED_BITS = 16
"""Most classical bits the Sampler's correction handles: it holds ``2**bits`` numbers."""


def assignment_inverse(error: float) -> NDArray[np.float64]:
    """Inverse of the symmetric assignment matrix ``[[1-e, e], [e, 1-e]]`` of one qubit.

    >>> assignment_inverse(0.25).tolist()
    [[1.5, -0.5], [-0.5, 1.5]]
    """
    scale = 1.0 - 2.0 * error
    return np.array([[1.0 - error, -error], [-error, 1.0 - error]]) / scale


def quasi_probabilities(
    counts: Mapping[int, int], inverses: Sequence[NDArray[np.float64]]
) -> dict[int, float]:
    """Counts corrected by per-bit inverse assignment matrices: a quasi-distribution.

    The readout errors of different qubits are taken as independent, so the inverse of
    the whole assignment matrix is the tensor product of the per-bit inverses, applied
    one bit at a time. Entries may be negative; they sum to 1.

    Args:
        counts: Outcome (bit ``k``: classical bit ``k``) to shots.
        inverses: Per classical bit, its 2x2 inverse assignment matrix.

    Returns:
        Outcome to quasi-probability, entries smaller than ``1e-12`` in size dropped.

    >>> counts = {0b00: 81, 0b01: 9, 0b10: 9, 0b11: 1}  # |00> read with 10% flips
    >>> q = quasi_probabilities(counts, [assignment_inverse(0.1)] * 2)
    >>> {key: round(value, 6) for key, value in q.items()}
    {0: 1.0}
    """
    width = len(inverses)
    total = sum(counts.values())
    vector = np.zeros(1 << width, dtype=np.float64)
    for outcome, count in counts.items():
        vector[outcome] += count / total
    tensor = vector.reshape((2,) * width)
    for bit, inverse in enumerate(inverses):
        axis = width - 1 - bit  # C order: the last axis is bit 0
        tensor = np.moveaxis(np.tensordot(inverse, tensor, axes=([1], [axis])), 0, axis)
    flat = tensor.reshape(-1)
    return {int(i): float(flat[i]) for i in np.flatnonzero(np.abs(flat) > 1e-12)}
