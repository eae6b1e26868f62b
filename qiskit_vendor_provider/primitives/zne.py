"""Zero-noise extrapolation: 2-qubit gate folding and numpy/scipy fits.

**Folding.** Noise factor ``lam`` replaces 2-qubit gates ``G`` by ``G (G† G)^k``: every
gate is folded ``floor((lam - 1) / 2)`` times, and when ``lam`` is not an odd integer a
share of the gates once more (chosen at random, from the front or from the back, as
IBM's ``gate_folding``, ``gate_folding_front`` and ``gate_folding_back``), so the number
of 2-qubit gates is ``lam`` times the original, rounded.

**Fits**, per Pauli term of an observable, as IBM's (qiskit-mitigation's) are: each
term's values at the noise factors are extrapolated on their own and the observable's
zero-noise value is the coefficients' sum of the terms' (so two terms of one observable
may use different extrapolators). ``linear`` and ``polynomial_degree_k`` are weighted
least squares (``numpy.polyfit``); ``exponential`` is ``A exp(-x / tau)`` and
``double_exponential`` ``A exp(-x / t1) + B exp(-x / t2)``
(``scipy.optimize.curve_fit``); ``fallback`` is the value at the lowest noise factor.
Standard errors come from the data's by the delta method (the fit's derivative with
respect to each point, times that point's error: IBM's covariance with absolute
weights, where IBM rescales by the fit's residuals). An extrapolator that cannot fit
(too few points, no convergence) gives NaN; which one's zero-noise value is used is
IBM's rule, see :func:`extrapolate`.

>>> import numpy as np
>>> x = np.array([1.0, 3.0, 5.0]); y = 0.9 * np.exp(-x / 10)
>>> round(float(fit("exponential", x, y, np.full(3, 1e-3), np.array([0.0]))[0][0]), 6)
0.9
>>> fit("polynomial_degree_3", x, y, np.full(3, 1e-3), np.array([0.0])) is None
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from qiskit.circuit import QuantumCircuit

__all__ = ["REQUIRED_POINTS", "extrapolate", "fit", "fold"]

Array = NDArray[np.float64]


def fold(
    circuit: QuantumCircuit, factor: float, amplifier: str, rng: np.random.Generator
) -> QuantumCircuit:
    """``circuit`` with its 2-qubit gates folded to amplify their noise ``factor`` times.

    Args:
        circuit: An ISA circuit.
        factor: The noise factor, at least 1.
        amplifier: "gate_folding", "gate_folding_front" or "gate_folding_back".
        rng: Chooses the partly folded gates for "gate_folding".
    """
    positions = [
        position
        for position, instruction in enumerate(circuit.data)
        if len(instruction.qubits) == 2
        and not instruction.clbits
        and instruction.operation.name not in ("barrier", "delay")
    ]
    if factor == 1.0 or not positions:
        return circuit
    folds = (factor - 1.0) / 2.0
    every = math.floor(folds + 1e-9)
    fraction = folds - every
    extra = round(fraction * len(positions))
    if fraction > 1e-9:
        # As IBM's GateFoldingPass: a factor above an odd integer folds one gate at least.
        extra = max(1, extra)
    if amplifier == "gate_folding_front":
        chosen = set(positions[:extra])
    elif amplifier == "gate_folding_back":
        chosen = set(positions[len(positions) - extra :])
    else:
        chosen = {int(p) for p in rng.choice(positions, size=extra, replace=False)}
    folded = circuit.copy_empty_like()
    for position, instruction in enumerate(circuit.data):
        folded.append(instruction)
        if position in positions:
            inverse = instruction.operation.inverse()
            for _ in range(every + (position in chosen)):
                folded.append(inverse, instruction.qubits)
                folded.append(instruction.operation, instruction.qubits)
    return folded


def _polynomial(degree: int) -> Callable[[Array, Array, Array, Array], Array | None]:
    def run(x: Array, y: Array, sigma: Array, at: Array) -> Array | None:
        if len(x) <= degree:
            return None
        weights = 1.0 / np.maximum(sigma, 1e-12)
        coefficients = np.polyfit(x, y, degree, w=weights)
        return np.asarray(np.polyval(coefficients, at), dtype=np.float64)

    return run


def _curve(
    model: Callable[..., Array], guess: Callable[[Array, Array], list[float]], size: int
) -> Callable[[Array, Array, Array, Array], Array | None]:
    def run(x: Array, y: Array, sigma: Array, at: Array) -> Array | None:
        from scipy.optimize import curve_fit  # type: ignore[import-untyped]  # noqa: PLC0415

        if len(x) < size:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                params, _ = curve_fit(
                    model, x, y, p0=guess(x, y), sigma=np.maximum(sigma, 1e-12), maxfev=2000
                )
        except (RuntimeError, ValueError, TypeError):
            return None
        if not np.all(np.isfinite(params)):
            return None
        return np.asarray(model(at, *params), dtype=np.float64)

    return run


def _exp(x: Array, a: float, rate: float) -> Array:
    return a * np.exp(-rate * x)


def _exp_guess(x: Array, y: Array) -> list[float]:
    if np.all(y > 0) or np.all(y < 0):
        slope, intercept = np.polyfit(x, np.log(np.abs(y)), 1)
        return [float(np.sign(y[0]) * np.exp(intercept)), float(-slope)]
    return [float(y[0]), 0.0]


def _double(x: Array, a: float, r1: float, b: float, r2: float) -> Array:
    return a * np.exp(-r1 * x) + b * np.exp(-r2 * x)


def _double_guess(x: Array, y: Array) -> list[float]:
    a, rate = _exp_guess(x, y)
    return [a / 2, rate / 2, a / 2, rate * 2 + 1e-3]


def _fallback(x: Array, y: Array, sigma: Array, at: Array) -> Array | None:
    del sigma
    return np.full(at.shape, y[int(np.argmin(x))], dtype=np.float64)


_MODELS: dict[str, Callable[[Array, Array, Array, Array], Array | None]] = {
    "linear": _polynomial(1),
    **{f"polynomial_degree_{k}": _polynomial(k) for k in range(1, 8)},
    "exponential": _curve(_exp, _exp_guess, 2),
    "double_exponential": _curve(_double, _double_guess, 4),
    "fallback": _fallback,
}


def fit(name: str, x: Array, y: Array, sigma: Array, at: Array) -> tuple[Array, Array] | None:
    """One extrapolator's values and standard errors at ``at``, or None when it cannot fit.

    Args:
        name: The extrapolator.
        x: Noise factors.
        y: Expectation values at them.
        sigma: Their standard errors.
        at: Where to evaluate the fit.
    """
    model = _MODELS[name]
    values = model(x, y, sigma, at)
    if values is None or not np.all(np.isfinite(values)):
        return None
    # Delta method: how the fit at `at` moves with each point, times that point's error.
    variance = np.zeros_like(values)
    for i in range(len(y)):
        step = max(float(sigma[i]), 1e-6) * 1e-2
        moved = y.copy()
        moved[i] += step
        shifted = model(x, moved, sigma, at)
        if shifted is None:
            return None
        variance += ((shifted - values) / step * sigma[i]) ** 2
    return values, np.sqrt(variance)


def extrapolate(
    names: tuple[str, ...], x: Array, y: Array, sigma: Array, at: Array, *, bound: float = 1.0
) -> tuple[Array, Array, Array, Array, str]:
    """Every extrapolator of one term evaluated at ``at``, and the zero-noise value chosen.

    The choice is IBM's (qiskit-mitigation's): the first extrapolator, in the order
    given, whose value ``v`` and standard error ``s`` at zero noise are finite, with
    ``s <= bound`` and ``[v - s, v + s]`` within ``[-2 bound, 2 bound]`` (the term's
    range ``[-bound, bound]`` widened by ``bound``); when none is, the one with the
    smallest standard error; when none fits at all, the value at the lowest noise factor
    (IBM would return an infinite value there).

    Args:
        names: Extrapolators, in the order they are tried.
        x: Noise factors.
        y: The term's expectation values at them.
        sigma: Their standard errors.
        at: Where every extrapolator is evaluated (``evs_extrapolated``).
        bound: The largest magnitude the term can have ideally (1 for a Pauli).

    Returns:
        ``(values, stds)`` per extrapolator and point of ``at`` (NaN where one cannot
        fit), the chosen value and standard error at 0 (arrays of one), and the chosen
        extrapolator's name.
    """
    values = np.full((len(names), len(at)), np.nan)
    stds = np.full((len(names), len(at)), np.nan)
    zeros = np.full(len(names), np.nan)
    zero_stds = np.full(len(names), np.nan)
    for row, name in enumerate(names):
        result = fit(name, x, y, sigma, at)
        if result is not None:
            values[row], stds[row] = result
        at_zero = fit(name, x, y, sigma, np.array([0.0]))
        if at_zero is not None:
            zeros[row], zero_stds[row] = float(at_zero[0][0]), float(at_zero[1][0])
    finite = np.isfinite(zeros) & np.isfinite(zero_stds)
    accepted = (
        finite
        & (np.nan_to_num(zero_stds, nan=np.inf) <= bound)
        & (
            np.abs(np.nan_to_num(zeros, nan=np.inf)) + np.nan_to_num(zero_stds, nan=np.inf)
            <= 2 * bound
        )
    )
    if accepted.any():
        row = int(np.flatnonzero(accepted)[0])
    elif finite.any():
        row = int(np.argmin(np.where(finite, zero_stds, np.inf)))
    else:
        lowest = int(np.argmin(x))
        return values, stds, np.array([y[lowest]]), np.array([sigma[lowest]]), "fallback"
    return values, stds, np.array([zeros[row]]), np.array([zero_stds[row]]), names[row]


REQUIRED_POINTS = {
    "linear": 2,
    "exponential": 2,
    "double_exponential": 4,
    "fallback": 1,
    **{f"polynomial_degree_{k}": k + 1 for k in range(1, 8)},
}
"""Noise factors each extrapolator needs at least (IBM refuses fewer before running)."""
