"""Measure a device's readout, single-qubit gate errors, T1 and T2, against its calibration.

Vendor engineers use this to check that a (fake or real) device behaves as its
calibration says; the tests use it to check that the emulator's noise models do.

T1 is measured by inversion recovery (a π pulse, a wait, a measurement) and T2 by a
Hahn echo (π/2, half the wait, π, the other half, π/2), each fitted to
``P(t) = a exp(-t / τ) + b`` (see :func:`fit_decay`); the echo undoes any static
detuning, so it measures the T2 that relaxation models use.

With ``python -m qiskit_vendor_provider.characterization`` (without ``--quick``) it
also measures what :mod:`~qiskit_vendor_provider.characterization_experiments` does:
T2*, echo T2, ZZ, two-qubit gate error and the coherent-error amplification.

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
from typing import Any

import numpy as np
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


def _pi(circuit: QuantumCircuit, qubit: int, natives: frozenset[str]) -> None:
    """A π rotation about X, in the device's operations."""
    if "x" in natives:
        circuit.x(qubit)
    else:
        _pulse(circuit, qubit, 0.0, natives)
        _pulse(circuit, qubit, 0.0, natives)


def t1_circuits(
    num_qubits: int,
    qubits: Sequence[int],
    waits_dt: Sequence[Sequence[int]],
    natives: Sequence[str],
) -> list[QuantumCircuit]:
    """Inversion recovery: each qubit excited, left waiting, then measured.

    ``waits_dt[j]`` lists the waits (in dt) of ``qubits[j]``; circuit ``i`` gives each
    qubit its ``i``-th wait, so qubits of very different T1 share circuits. The qubits
    are measured side by side (clbit ``j`` is ``qubits[j]``).
    """
    names = frozenset(natives)
    circuits = []
    for i in range(len(waits_dt[0])):
        circuit = QuantumCircuit(num_qubits, len(qubits), name=f"t1-{i}")
        for qubit, waits in zip(qubits, waits_dt, strict=True):
            _pi(circuit, qubit, names)
            circuit.delay(int(waits[i]), qubit)
        circuit.measure(list(qubits), list(range(len(qubits))))
        circuits.append(circuit)
    return circuits


def t2_echo_circuits(
    num_qubits: int,
    qubits: Sequence[int],
    waits_dt: Sequence[Sequence[int]],
    natives: Sequence[str],
) -> list[QuantumCircuit]:
    """Hahn echo: π/2, half the wait, π, the other half, π/2 (ideally back to ``|1>``).

    Arranged as in :func:`t1_circuits`; ``P(1)`` decays from about 1 to 1/2 as
    ``exp(-wait / T2)``.
    """
    names = frozenset(natives)
    circuits = []
    for i in range(len(waits_dt[0])):
        circuit = QuantumCircuit(num_qubits, len(qubits), name=f"t2-{i}")
        for qubit, waits in zip(qubits, waits_dt, strict=True):
            half = int(waits[i]) // 2
            _pulse(circuit, qubit, 0.0, names)
            circuit.delay(half, qubit)
            _pi(circuit, qubit, names)
            circuit.delay(int(waits[i]) - half, qubit)
            _pulse(circuit, qubit, 0.0, names)
        circuit.measure(list(qubits), list(range(len(qubits))))
        circuits.append(circuit)
    return circuits


def _weighted_line(
    x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], w: np.ndarray[Any, Any]
) -> tuple[float, float, float]:
    """Weighted least squares ``y ≈ a x + b``: ``a``, ``b`` and the chi-square."""
    design = np.stack([x, np.ones_like(x)], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
    residual = y - (coef[0] * x + coef[1])
    return float(coef[0]), float(coef[1]), float(np.sum(w * residual**2))


def fit_decay(times: Sequence[float], probabilities: Sequence[float], shots: int) -> Estimate:
    """The time constant τ of ``P(t) = a exp(-t / τ) + b``, with its 1σ error.

    For a given τ the model is linear in ``a`` and ``b``, which weighted least squares
    (binomial variances) solve exactly; τ itself minimises the remaining chi-square,
    found by a log-spaced scan refined by golden-section search. Its error comes from
    the curvature of that profiled chi-square (``Δχ² = 1``). Needs numpy only.

    >>> t = [0, 1, 2, 4, 8]
    >>> round(fit_decay(t, [0.9 * math.exp(-x / 3) + 0.05 for x in t], 10**6).value, 4)
    3.0
    """
    x = np.asarray(times, dtype=float)
    y = np.asarray(probabilities, dtype=float)
    w = 1.0 / np.maximum(y * (1 - y), 1.0 / shots) * shots

    def chi2(log_tau: float) -> float:
        return _weighted_line(np.exp(-x / math.exp(log_tau)), y, w)[2]

    span = float(np.max(x)) or 1.0
    grid = np.linspace(math.log(span / 100), math.log(span * 100), 200)
    best = int(np.argmin([chi2(g) for g in grid]))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(80):
        m1, m2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if chi2(m1) < chi2(m2):
            hi = m2
        else:
            lo = m1
    log_tau = (lo + hi) / 2
    tau = math.exp(log_tau)
    step = 1e-3
    curvature = (chi2(log_tau + step) - 2 * chi2(log_tau) + chi2(log_tau - step)) / step**2
    sigma_log = math.sqrt(2 / curvature) if curvature > 0 else math.inf
    return Estimate(tau, tau * sigma_log)


@dataclass(frozen=True)
class Coherence:
    """T1 and T2 of one qubit, measured."""

    qubit: int
    t1: Estimate
    t2: Estimate


def measure_coherence(
    backend: Any,
    qubits: Sequence[int],
    *,
    shots: int = 2000,
    points: int = 10,
    seed: int = 3,
) -> list[Coherence]:
    """T1 and T2 of ``qubits`` on ``backend``, the qubits measured side by side.

    Each qubit's waits run from 0 to three times its calibrated T1 (T2), so that both
    its decay and its floor are sampled; they are whole ``dt``.

    Args:
        backend: A calibrated vendor backend (its ``properties()`` give the scale).
        qubits: The qubits to measure.
        shots: Shots per wait.
        points: Waits per curve.
        seed: ``seed_simulator`` of the runs.
    """
    properties = backend.properties()
    dt = backend.dt
    natives = backend.operation_names
    results = []
    for kind in ("t1", "t2"):
        waits = [
            [round(t / dt) for t in np.linspace(0, 3 * getattr(properties, kind)(q), points)]
            for q in qubits
        ]
        make = t1_circuits if kind == "t1" else t2_echo_circuits
        circuits = make(backend.num_qubits, qubits, waits, natives)
        result = backend.run(circuits, shots=shots, seed_simulator=seed).result()
        per_qubit = []
        for index in range(len(qubits)):
            p1 = []
            for i in range(len(circuits)):
                counts = result.get_counts(i)
                p1.append(sum(v for k, v in counts.items() if k[::-1][index] == "1") / shots)
            per_qubit.append(fit_decay([w * dt for w in waits[index]], p1, shots))
        results.append(per_qubit)
    return [Coherence(q, t1, t2) for q, t1, t2 in zip(qubits, results[0], results[1], strict=True)]


def report(
    backend_names: Sequence[str] | None = None, *, shots: int = 10_000, length: int = 200
) -> str:
    """Measured against calibrated figures for each calibrated device, as a Markdown table.

    Runs on ``VendorProvider()`` (the embedded emulator unless a server is configured):
    for each device, the readout error of qubit 0 and of the worst-read qubit, the
    error of the π/2 pulse (``sx`` or ``r``) on qubit 0, and T1 and T2 of qubits 0, 1
    and the worst-read one.
    """
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
        for found in measure_coherence(backend, sorted({0, 1, worst}), shots=min(run_shots, 4000)):
            for kind, estimate in (("T1", found.t1), ("T2", found.t2)):
                calibrated = getattr(properties, kind.lower())(found.qubit)
                lines.append(
                    f"| {name} | {kind}, qubit {found.qubit} | {_seconds(calibrated)} "
                    f"| {_seconds(estimate.value)} ± {_seconds(estimate.std)} |"
                )
    return "\n".join(lines)


def _seconds(value: float) -> str:
    """A time for the report, in s, ms or µs."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(value) >= scale:
            return f"{value / scale:.4g} {unit}"
    return f"{value * 1e9:.4g} ns"


if __name__ == "__main__":
    import sys

    print(report())
    if "--quick" not in sys.argv[1:]:
        # T2*, ZZ, two-qubit error and amplification (qiskit-experiments, ~a few minutes).
        from qiskit_vendor_provider import characterization_experiments

        print()
        print(characterization_experiments.report())
