"""Tolerances of sampled expectation values, derived from the shots they were made with.

An estimator measures ``<O> = sum_i c_i <P_i>`` with ``shots = ceil(1 / precision**2)``
shots per measurement basis. Terms measured in one basis share their shots (their
estimates are correlated); bases are sampled independently. So the standard error of
the estimate is exactly::

    sigma = sqrt(sum over bases b of Var_b / shots),
    Var_b = <O_b**2> - <O_b>**2,   O_b = sum of c_i P_i over the terms measured in b,

the variance of one shot's value of ``O_b`` (for qubit-wise commuting terms, one shot of
``P_i P_j`` is the product of their outcomes). For a circuit without noise it is
computed from the statevector (:func:`standard_errors`); on a noisy device, whose state
is not computed here, ``Var_b <= (sum of |c_i| in b)**2`` bounds it whatever the state
(``exact=False``).

A check passes when ``|estimate - reference| <= K * sigma`` (``sqrt(2) * K * sigma`` for
two independent estimates), with ``K`` chosen so that a correct estimator fails one
compared value with probability ``FALSE_FAILURE_RATE`` (normal approximation). The
seeds are fixed, so a run is repeatable; ``K`` says how unlucky a seed would have to be.

The bases are the ones the vendor estimator measures: per parameter row, the labels of
every observable broadcast to it, split by :func:`measurement_bases` (Qiskit's
``group_commuting(qubit_wise=True)`` colouring, which ``BackendEstimatorV2`` uses too).
"""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.quantum_info import SparsePauliOp, Statevector

from qiskit_vendor_provider.primitives.pauli_measurement import measurement_bases

FALSE_FAILURE_RATE = 1e-6
"""Chance that one compared value of a correct estimator falls outside its tolerance."""

K = NormalDist().inv_cdf(1 - FALSE_FAILURE_RATE / 2)
"""Standard errors a value may be off by (two-sided), about 4.9."""


def shots_for(precision: float) -> int:
    """Shots per basis for ``precision``: ``ceil(1 / precision**2)``, as the estimators take."""
    return math.ceil(1.0 / precision**2)


def _broadcast_index(index: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Where element ``index`` of a broadcast array comes from in an array of ``shape``."""
    offset = len(index) - len(shape)
    return tuple(0 if size == 1 else index[offset + axis] for axis, size in enumerate(shape))


def standard_errors(pub: Any, precision: float, *, exact: bool = True) -> NDArray[np.float64]:
    """The standard error of each expectation value of ``pub`` (the shape of its ``evs``).

    Args:
        pub: An estimator PUB, as given to ``run``.
        precision: The precision it is run with (its shots follow from it).
        exact: Compute each basis's variance from the noise-free statevector; False bounds
            it by ``(sum |c_i|)**2``, which holds on a noisy device too.
    """
    coerced = EstimatorPub.coerce(pub, precision)
    shots = shots_for(coerced.precision or precision)
    shape = coerced.shape
    param_shape = coerced.parameter_values.shape
    observables = coerced.observables
    # The labels measured at each parameter row, as the vendor estimator groups them.
    needed: dict[tuple[int, ...], set[str]] = defaultdict(set)
    for index in np.ndindex(*shape):
        observable = observables[_broadcast_index(index, observables.shape)]
        needed[_broadcast_index(index, param_shape)].update(observable)
    bound = coerced.parameter_values.bind_all(coerced.circuit)
    errors = np.empty(shape, dtype=np.float64)
    for index in np.ndindex(*shape):
        row = _broadcast_index(index, param_shape)
        coefficients = observables[_broadcast_index(index, observables.shape)]
        state = Statevector(bound[row]) if exact else None
        variance = 0.0
        for basis in measurement_bases(needed[row]):
            terms = [label for label in basis.terms if label in coefficients]
            if not terms:
                continue
            part = SparsePauliOp(terms, [coefficients[label] for label in terms])
            if state is None:
                variance += float(np.abs(part.coeffs).sum()) ** 2
            else:
                mean = state.expectation_value(part).real
                square = state.expectation_value(part.compose(part).simplify()).real
                variance += max(square - mean**2, 0.0)
        errors[index] = math.sqrt(variance / shots)
    return errors


def within(
    estimate: NDArray[np.float64],
    reference: NDArray[np.float64],
    sigma: NDArray[np.float64],
) -> bool:
    """Whether every estimate is within ``K`` standard errors (``sigma``) of its reference."""
    return bool(np.all(np.abs(np.asarray(estimate) - np.asarray(reference)) <= K * sigma))
