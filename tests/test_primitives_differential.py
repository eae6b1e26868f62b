"""Differential tests: the vendor primitives against Qiskit's reference primitives.

Hypothesis draws circuits of 1 to 5 qubits (parameters, barriers, resets, mid-circuit
measurements, several classical registers, sometimes a parameter the transpiler removes
or a gate the device lacks) and PUB shapes (bindings arrays of several shapes,
observables arrays that broadcast against them). Each run goes through
``VendorSampler``/``VendorEstimator`` on ``ideal_simulator`` at an optimization level
from 0 to 3, and through Qiskit's ``BackendSamplerV2``/``BackendEstimatorV2`` on
``AerSimulator``. Checked:

* shapes, dtypes and register names are identical, and every metadata key the
  reference gives is present with its value;
* samples and expectation values agree within bounds derived from the shots
  (:func:`outcome_bound`, :func:`expectation_bound`), with fixed seeds;
* the vendor primitive never fails where the reference runs, and any failure is a
  typed ``VendorError``: never a bare ``AssertionError``, ``KeyError`` or pydantic
  ``ValidationError``.

The normal suite runs a few dozen derandomized examples; ``pytest --slow`` runs
thousands (:data:`SLOW_EXAMPLES`, or ``QVP_SLOW_EXAMPLES``).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from qiskit import QuantumCircuit
from qiskit.circuit import ClassicalRegister, Parameter, ParameterExpression, QuantumRegister
from qiskit.circuit.library import U3Gate
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2, PrimitiveResult
from qiskit.primitives.containers.bindings_array import BindingsArray
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import VendorError, VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from tests.helpers import assert_metadata_extends

DEVICE = "ideal_simulator"
QUICK_EXAMPLES = 40
SLOW_EXAMPLES = int(os.environ.get("QVP_SLOW_EXAMPLES", "2500"))
"""Examples per slow test (``pytest --slow``); the environment variable changes it."""
Z = 6.0
"""Standard errors a difference may reach. A comparison of two samples fails by chance
with probability about 2e-9 at 6 sigma: negligible over the slow run's ~10^6 comparisons."""

REGISTER_NAMES = ("c", "alpha", "meas_b", "r3")
SPECIAL = (math.nan, math.inf, -math.inf, 1e308, -1e300)
"""Parameter values a few examples hold, to check that they fail typed or run."""
BINDING_SHAPES: tuple[tuple[int, ...], ...] = ((), (1,), (3,), (2, 2), (2, 1, 2))
# (bindings shape, observables shape): pairs that broadcast, as the Estimator needs.
ESTIMATOR_SHAPES: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((), ()),
    ((), (2,)),
    ((3,), ()),
    ((3,), (3,)),
    ((2, 1), (3,)),
    ((1, 2), (2, 1)),
    ((2,), (1,)),
)


# --------------------------------------------------------------------------- bounds


def outcome_bound(p: float, shots: int) -> float:
    """How far two independent frequencies of one outcome (``shots`` each) may differ.

    ``Z`` standard errors of the difference, with the variance floored at ``1/shots`` so
    that rare outcomes (seen once or twice in one sample, never in the other) pass.
    """
    variance = max(p * (1.0 - p), 1.0 / shots)
    return Z * math.sqrt(2.0 * variance / shots)


def expectation_bound(std_a: float, std_b: float, weight: float, shots: int) -> float:
    """How far two independent estimates of one expectation value may differ.

    ``Z`` times their combined standard error, plus ``Z * weight / shots`` for a term
    whose sample variance came out 0 in one sample by chance (``weight``: the sum of the
    absolute coefficients).
    """
    return Z * math.hypot(std_a, std_b) + Z * weight / shots + 1e-9


# --------------------------------------------------------------------------- strategies


def angle(draw: st.DrawFn, parameters: list[Parameter]) -> float | ParameterExpression:
    """A number, a parameter, an affine expression of one, or rarely a non-affine one."""
    kind = draw(st.sampled_from(["number", "parameter", "affine", "square"]))
    if kind == "number" or not parameters:
        return draw(st.floats(-2 * math.pi, 2 * math.pi, allow_nan=False))
    parameter = draw(st.sampled_from(parameters))
    if kind == "parameter":
        return parameter
    if kind == "affine":
        scale = draw(st.sampled_from([-2.0, -0.5, 0.5, 3.0]))
        return scale * parameter + draw(st.floats(-1.0, 1.0))
    # Not affine: the wire cannot carry it, so the vendor primitive binds here.
    return parameter * parameter if draw(st.integers(0, 4)) == 0 else parameter


@st.composite
def circuits(draw: st.DrawFn, *, final_measurements: bool) -> QuantumCircuit:
    """A random circuit of 1 to 5 qubits.

    Gates on random qubits, barriers, resets and mid-circuit measurements into several
    classical registers; sometimes a gate ``ideal_simulator`` lacks (``u3``, ``csx``),
    which makes the primitive transpile; and with ``final_measurements``, sometimes an
    ``rz(parameter)`` just before a final measurement, which levels 2 and 3 remove with
    its parameter.
    """
    num_qubits = draw(st.integers(1, 5))
    num_registers = draw(st.integers(1 if final_measurements else 0, 3))
    names = draw(st.permutations(REGISTER_NAMES))[:num_registers]
    registers = [ClassicalRegister(draw(st.integers(1, 3)), name) for name in names]
    circuit = QuantumCircuit(QuantumRegister(num_qubits, "q"), *registers)
    parameters = [Parameter(f"p{index}") for index in range(draw(st.integers(0, 3)))]
    qubit = st.integers(0, num_qubits - 1)
    kinds = ["h", "x", "sx", "rx", "ry", "rz", "barrier", "reset", "u3"]
    if num_qubits > 1:
        kinds += ["cx", "cz", "csx"]
    if circuit.num_clbits:
        kinds.append("measure")
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(kinds))
        target = draw(qubit)
        if kind in ("h", "x", "sx", "reset"):
            getattr(circuit, kind)(target)
        elif kind in ("rx", "ry", "rz"):
            getattr(circuit, kind)(angle(draw, parameters), target)
        elif kind == "u3":
            gate = U3Gate(angle(draw, parameters), angle(draw, parameters), 0.3)
            circuit.append(gate, [target])
        elif kind in ("cx", "cz", "csx"):
            other = (target + draw(st.integers(1, num_qubits - 1))) % num_qubits
            getattr(circuit, kind)(target, other)
        elif kind == "barrier":
            circuit.barrier()
        else:
            circuit.measure(target, draw(st.integers(0, circuit.num_clbits - 1)))
    if final_measurements:
        measured = draw(st.lists(qubit, min_size=1, max_size=num_qubits, unique=True))
        removable = Parameter("removed")
        if draw(st.booleans()):
            # Diagonal before a measurement: levels 2 and 3 drop it and its parameter.
            circuit.rz(removable, measured[0])
        for target in measured:
            circuit.measure(target, draw(st.integers(0, circuit.num_clbits - 1)))
    return circuit


def binding_values(
    draw: st.DrawFn, circuit: QuantumCircuit, shape: tuple[int, ...]
) -> BindingsArray | np.ndarray[Any, Any] | None:
    """Values for every parameter of ``circuit`` over ``shape`` (None or an empty array)."""
    if not circuit.num_parameters:
        return None if shape == () and draw(st.booleans()) else BindingsArray(shape=shape)
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).uniform(
        -math.pi, math.pi, (*shape, circuit.num_parameters)
    )
    if values.size and draw(st.integers(0, 19)) == 0:
        # What a user's arithmetic can produce: the run must work or fail typed.
        values.flat[draw(st.integers(0, values.size - 1))] = draw(st.sampled_from(SPECIAL))
    return values


def input_kind(pubs: list[tuple[Any, ...]]) -> str:
    """``"non-finite"`` (a NaN or inf value), ``"huge"`` (a value of 1e6 or more), else
    ``"ordinary"``: what is checked of the run (see :func:`run_both`)."""
    tables = [pub[-1] for pub in pubs if isinstance(pub[-1], np.ndarray)]
    if not all(np.isfinite(values).all() for values in tables):
        return "non-finite"
    if any(np.abs(values).max(initial=0.0) >= 1e6 for values in tables):
        return "huge"
    return "ordinary"


@st.composite
def sampler_runs(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], int, int, int]:
    """1 or 2 PUBs, their shots, an optimization level and a seed."""
    pubs = []
    for _ in range(draw(st.integers(1, 2))):
        circuit = draw(circuits(final_measurements=True))
        shape = draw(st.sampled_from(BINDING_SHAPES))
        pubs.append((circuit, binding_values(draw, circuit, shape)))
    shots = draw(st.sampled_from([128, 300]))
    return pubs, shots, draw(st.integers(0, 3)), draw(st.integers(0, 2**31 - 1))


@st.composite
def observables(draw: st.DrawFn, num_qubits: int, shape: tuple[int, ...]) -> Any:
    """An observables array of ``shape``: each a few Pauli terms with real coefficients."""
    letters = st.sampled_from("IXYZ")
    label = st.lists(letters, min_size=num_qubits, max_size=num_qubits).map("".join)

    def operator() -> SparsePauliOp:
        terms = draw(st.lists(label, min_size=1, max_size=4))
        coefficients = [draw(st.sampled_from([-1.0, -0.5, 0.25, 0.75, 1.0])) for _ in terms]
        return SparsePauliOp(terms, coefficients)

    if shape == ():
        return operator()
    array = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        array[index] = operator()
    return array.tolist()


@st.composite
def estimator_runs(draw: st.DrawFn) -> tuple[list[tuple[Any, ...]], float, int, int]:
    """1 or 2 PUBs with broadcasting shapes, a precision, a level and a seed."""
    pubs = []
    for _ in range(draw(st.integers(1, 2))):
        circuit = draw(circuits(final_measurements=False))
        bindings_shape, observables_shape = draw(st.sampled_from(ESTIMATOR_SHAPES))
        pubs.append(
            (
                circuit,
                draw(observables(circuit.num_qubits, observables_shape)),
                binding_values(draw, circuit, bindings_shape),
            )
        )
    precision = draw(st.sampled_from([0.05, 0.08]))
    return pubs, precision, draw(st.integers(0, 3)), draw(st.integers(0, 2**31 - 1))


# --------------------------------------------------------------------------- running


def describe(pubs: list[tuple[Any, ...]], level: int) -> None:
    """Hypothesis events: what the examples covered (``--hypothesis-show-statistics``)."""
    event(f"optimization level {level}")
    for pub in pubs:
        circuit = pub[0]
        names = {instruction.operation.name for instruction in circuit.data}
        for feature in ("reset", "barrier", "u3", "csx"):
            if feature in names:
                event(f"has {feature}")
        if level >= 2 and any(p.name == "removed" for p in circuit.parameters):
            event("a parameter the transpiler removes")
        if len(circuit.cregs) > 1:
            event("several registers")
        values = pub[-1]
        shape = (
            values.shape[:-1] if isinstance(values, np.ndarray) else getattr(values, "shape", ())
        )
        event(f"bindings of shape {shape}")


def run_both(
    ours: Callable[[], PrimitiveResult[Any]],
    theirs: Callable[[], PrimitiveResult[Any]],
    *,
    kind: str,
) -> tuple[PrimitiveResult[Any], PrimitiveResult[Any]] | None:
    """Both results, or None when there is nothing to compare.

    * ``kind == "non-finite"``: ours must refuse the run with a ``VendorError`` (the
      references raise an untyped ``RuntimeError``/``ZeroDivisionError``);
    * ``"huge"``: ours must run or refuse typed; nothing is compared;
    * ``"ordinary"``: ours must run where the reference runs; where the reference
      refuses, ours must refuse typed, or with the very error (type and words) Qiskit's
      own PUB check raised in both.

    Raises:
        AssertionError: any of the above broken; any untyped failure of ours.
    """
    try:
        reference = theirs()
    except Exception as reference_error:
        event(f"reference refused: {type(reference_error).__name__}")
        refused: Exception | None = reference_error
    else:
        refused = None
    try:
        result = ours()
    except VendorError as exc:
        if refused is None and kind == "ordinary":
            raise AssertionError(f"refused what the reference runs: {exc}") from exc
        event(f"ours refused typed: {type(exc).__name__}")
        return None
    except Exception as exc:
        if refused is not None and (type(exc), str(exc)) == (type(refused), str(refused)):
            return None  # Qiskit's own PUB check, before either primitive's code
        raise AssertionError(
            f"untyped {type(exc).__name__} (every failure must be a VendorError): {exc!r}"
        ) from exc
    if kind == "non-finite":
        raise AssertionError("ran a PUB whose parameter values hold NaN or inf")
    if refused is not None or kind != "ordinary":
        return None
    return result, reference


def joint_counts(data: Any, index: tuple[int, ...]) -> Counter[tuple[str, ...]]:
    """Per shot, the bitstrings of every register together: the joint distribution."""
    columns = [data[name][index].get_bitstrings() for name in data]
    return Counter(zip(*columns, strict=True))


def assert_same_samples(mine: Any, reference: Any, shots: int) -> None:
    for index in np.ndindex(*reference.data.shape):
        ours, theirs = joint_counts(mine.data, index), joint_counts(reference.data, index)
        for outcome in set(ours) | set(theirs):
            p, q = ours[outcome] / shots, theirs[outcome] / shots
            assert abs(p - q) <= outcome_bound((p + q) / 2, shots), (index, outcome, p, q)


def same_outline(ours: Any, theirs: Any) -> list[tuple[Any, Any]]:
    """Our PUB results paired with the reference's, once the outline of both agrees:
    as many PUBs, the same data fields, and every metadata key the reference gives."""
    assert_metadata_extends(ours.metadata, theirs.metadata)
    assert len(ours) == len(theirs)
    pairs = list(zip(ours, theirs, strict=True))
    for mine, expected in pairs:
        assert_metadata_extends(mine.metadata, expected.metadata)
        assert list(mine.data.keys()) == list(expected.data.keys())
    return pairs


def check_sampler(
    provider: VendorProvider, pubs: list[tuple[Any, ...]], shots: int, level: int, seed: int
) -> None:
    describe(pubs, level)
    options = {"seed_simulator": seed, "optimization_level": level}
    sampler = VendorSampler(backend=provider.get_backend(DEVICE), options=options)
    reference = BackendSamplerV2(backend=AerSimulator(), options={"seed_simulator": seed})
    both = run_both(
        lambda: sampler.run(pubs, shots=shots).result(),
        lambda: reference.run(pubs, shots=shots).result(),
        kind=input_kind(pubs),
    )
    if both is None:
        return
    for mine, expected in same_outline(*both):
        assert mine.data.shape == expected.data.shape
        for name in expected.data:
            a, b = mine.data[name], expected.data[name]
            assert type(a) is type(b)
            assert (a.shape, a.num_bits, a.num_shots) == (b.shape, b.num_bits, b.num_shots)
            assert a.array.dtype == b.array.dtype
            assert a.array.shape == b.array.shape
        assert_same_samples(mine, expected, shots)


def weight(observables: Any) -> NDArray[np.float64]:
    """Per observable (nested lists, or one), the sum of its absolute coefficients."""
    if isinstance(observables, SparsePauliOp):
        return np.array(float(np.abs(observables.coeffs).sum()))
    return np.array([weight(each) for each in observables])


def check_estimator(
    provider: VendorProvider, pubs: list[tuple[Any, ...]], precision: float, level: int, seed: int
) -> None:
    describe(pubs, level)
    options = {"seed_simulator": seed, "optimization_level": level}
    estimator = VendorEstimator(backend=provider.get_backend(DEVICE), options=options)
    reference = BackendEstimatorV2(backend=AerSimulator(), options={"seed_simulator": seed})
    both = run_both(
        lambda: estimator.run(pubs, precision=precision).result(),
        lambda: reference.run(pubs, precision=precision).result(),
        kind=input_kind(pubs),
    )
    if both is None:
        return
    for (mine, expected), pub in zip(same_outline(*both), pubs, strict=True):
        for name in ("evs", "stds"):
            assert mine.data[name].shape == expected.data[name].shape
            assert mine.data[name].dtype == expected.data[name].dtype
        shots = int(expected.metadata["shots"])
        weights = np.broadcast_to(weight(pub[1]), mine.data.evs.shape)
        for index in np.ndindex(*mine.data.evs.shape):
            difference = abs(mine.data.evs[index] - expected.data.evs[index])
            bound = expectation_bound(
                mine.data.stds[index], expected.data.stds[index], weights[index], shots
            )
            assert difference <= bound, (index, mine.data.evs[index], expected.data.evs[index])


# --------------------------------------------------------------------------- tests


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,  # a fixed sequence of examples: the suite is reproducible
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        # No "explain" phase: it reruns a failure dozens of times to say which lines ran.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    )


def registers_example() -> tuple[list[tuple[Any, ...]], int, int, int]:
    """Known pitfalls for samples: two registers filled out of order, a mid-circuit
    measurement overwritten, and a swept parameter the transpiler removes at level 3."""
    theta = Parameter("removed")
    first, second = ClassicalRegister(2, "first"), ClassicalRegister(1, "second")
    circuit = QuantumCircuit(QuantumRegister(3, "q"), first, second)
    circuit.x(2)
    circuit.measure(2, first[1])
    circuit.reset(2)
    circuit.h(0)
    circuit.csx(0, 1)
    circuit.measure(2, first[1])  # overwrites the 1 read before the reset
    circuit.rz(theta, 1)
    circuit.measure(1, second[0])
    circuit.measure(0, first[0])
    return [(circuit, np.linspace(0, 1, 3).reshape(3, 1))], 300, 3, 5


def y_example() -> tuple[list[tuple[Any, ...]], float, int, int]:
    """Known pitfalls for expectation values: the Y basis change (sx makes <Y> = -1),
    and observables broadcast over bindings."""
    theta = Parameter("t")
    circuit = QuantumCircuit(2)
    circuit.sx(0)
    circuit.ry(theta, 1)
    observables = [[SparsePauliOp("IY")], [SparsePauliOp(["ZI", "XY"], [0.5, -1.0])]]
    return [(circuit, observables, np.array([[0.0], [math.pi / 2], [math.pi]]))], 0.05, 1, 3


@_settings(QUICK_EXAMPLES)
@example(run=registers_example())
@given(run=sampler_runs())
def test_sampler_agrees_with_backend_sampler_v2(
    provider_session: VendorProvider, run: tuple[list[tuple[Any, ...]], int, int, int]
) -> None:
    check_sampler(provider_session, *run)


@_settings(QUICK_EXAMPLES)
@example(run=y_example())
@given(run=estimator_runs())
def test_estimator_agrees_with_backend_estimator_v2(
    provider_session: VendorProvider, run: tuple[list[tuple[Any, ...]], float, int, int]
) -> None:
    check_estimator(provider_session, *run)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # thousands of examples in one test: past the 300 s default
@_settings(SLOW_EXAMPLES)
@given(run=sampler_runs())
def test_sampler_agrees_with_backend_sampler_v2_thousands(
    provider_session: VendorProvider, run: tuple[list[tuple[Any, ...]], int, int, int]
) -> None:
    check_sampler(provider_session, *run)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # thousands of examples in one test: past the 300 s default
@_settings(SLOW_EXAMPLES)
@given(run=estimator_runs())
def test_estimator_agrees_with_backend_estimator_v2_thousands(
    provider_session: VendorProvider, run: tuple[list[tuple[Any, ...]], float, int, int]
) -> None:
    check_estimator(provider_session, *run)


# --------------------------------------------------------------------------- the bounds


def test_the_outcome_bound_holds_for_two_samples_of_one_distribution() -> None:
    # Two samples of the same distribution stay within the bound (it is not too tight)...
    rng = np.random.default_rng(0)
    shots = 300
    probabilities = np.array([0.5, 0.3, 0.15, 0.04, 0.01])
    for _ in range(200):
        a = rng.multinomial(shots, probabilities) / shots
        b = rng.multinomial(shots, probabilities) / shots
        assert np.all(np.abs(a - b) <= [outcome_bound(p, shots) for p in (a + b) / 2])
    # ...and a swapped pair of outcomes (a bit-order bug) does not (it is not too loose).
    a = np.array([0.75, 0.25])
    assert np.any(np.abs(a - a[::-1]) > [outcome_bound(p, shots) for p in (a + a[::-1]) / 2])


def test_the_expectation_bound_catches_a_sign_error() -> None:
    shots = 400
    std = math.sqrt(1 - 0.6**2) / math.sqrt(shots)
    assert expectation_bound(std, std, 1.0, shots) < 2 * 0.6
