"""T2*, T2, ZZ, two-qubit gate error and coherent error measured with qiskit-experiments.

The figures of a device's calibration that are not Markovian (Ramsey ``t2_star``, the
pairs' ``zz_hz``, the gates' ``over_rotation``) and those they must not disturb (echo
``t2``, the total two-qubit gate ``error``), each measured on a backend as a user would:

* ``T2Ramsey`` against ``t2_star``: the fit's model ``exp(-t / T2*) cos(...)`` is the
  emulator's (a Lorentzian slow detuning with Markovian T2), so the bound is 5σ of the
  fit;
* ``T2Hahn`` against ``t2``: the echo undoes the slow detuning; 5σ;
* ``ZZRamsey`` against ``zz_hz``; 5σ;
* ``InterleavedRB`` of the two-qubit gate against its ``error``: RB's estimate of the
  interleaved gate's error is not exact for gate-dependent noise (the coherent part),
  so 5σ or 10%, whichever is larger;
* an amplification sequence, N two-qubit gates (N = 1 ... 32) from ``|00>``, which
  leave it with probability ``sin^2(N θ / 2)`` from the over-rotation θ alone
  (quadratic in N while N θ is small) and, twirled with
  ``qiskit.circuit.pauli_twirl_2q_gates``, with probability about ``N sin^2(θ / 2)``
  (linear). See :func:`amplification_circuits`.

qiskit-experiments is an optional dependency (the ``ecosystem`` extra).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import pauli_twirl_2q_gates
from qiskit.exceptions import QiskitError
from qiskit.quantum_info import Clifford, Pauli


@dataclass(frozen=True)
class Measured:
    """One figure: what the calibration says, what was measured and its bound."""

    device: str
    figure: str
    calibrated: float
    measured: float
    std: float
    bound: float
    """The largest |measured - calibrated| that counts as agreement."""

    @property
    def agrees(self) -> bool:
        """Whether the measurement agrees with the calibration within the bound."""
        return abs(self.measured - self.calibrated) <= self.bound


def _library() -> Any:
    """``qiskit_experiments.library``, imported when first needed (an optional extra)."""
    import qiskit_experiments.library  # type: ignore[import-untyped]  # noqa: PLC0415

    return qiskit_experiments.library


def _run(experiment: Any, backend: Any, shots: int, seed: int) -> Any:
    experiment.set_run_options(shots=shots)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        data = experiment.run(backend, backend_run=True, seed_simulator=seed)
        data.block_for_results()
    return data


def _fitted(data: Any, name: str) -> tuple[float, float]:
    value = data.analysis_results(name, dataframe=True).iloc[0]["value"]
    return float(value.nominal_value), float(value.std_dev)


def t2_ramsey(backend: Any, qubit: int, *, shots: int = 1000, seed: int = 5) -> Measured:
    """T2* of ``qubit`` by ``T2Ramsey`` (a detuned Ramsey fringe), against the calibration."""
    calibrated = backend.properties().t2_star(qubit)
    delays = np.linspace(0, 3 * calibrated, 31)
    delays = np.round(delays / backend.dt) * backend.dt
    experiment = _library().T2Ramsey([qubit], delays, backend=backend, osc_freq=4 / delays[-1])
    value, std = _fitted(_run(experiment, backend, shots, seed), "T2star")
    return Measured(backend.name, f"T2* q{qubit}", calibrated, value, std, 5 * std)


def t2_hahn(backend: Any, qubit: int, *, shots: int = 1000, seed: int = 6) -> Measured:
    """Echo T2 of ``qubit`` by ``T2Hahn``, against the calibration (bounded by 2 T1)."""
    properties = backend.properties()
    calibrated = min(properties.t2(qubit), 2 * properties.t1(qubit))
    delays = np.linspace(0, 3 * calibrated, 21)
    delays = np.round(delays / (2 * backend.dt)) * 2 * backend.dt
    experiment = _library().T2Hahn([qubit], delays, backend=backend)
    value, std = _fitted(_run(experiment, backend, shots, seed), "T2")
    return Measured(backend.name, f"T2 q{qubit}", calibrated, value, std, 5 * std)


def zz_ramsey(backend: Any, pair: tuple[int, int], *, shots: int = 1000, seed: int = 7) -> Measured:
    """The ZZ rate of a coupled pair by ``ZZRamsey``, against the calibration."""
    calibrated = backend.properties().zz(*pair)
    experiment = _library().ZZRamsey(pair, backend=backend)
    # About 2.5 turns of the ZZ phase over the sweep, as its analysis expects.
    turns = 2.5 / abs(calibrated)
    step = round(turns / 40 / backend.dt) * backend.dt
    experiment.set_experiment_options(min_delay=0.0, max_delay=40 * step, num_delays=40)
    value, std = _fitted(_run(experiment, backend, shots, seed), "zz")
    return Measured(backend.name, f"ZZ {pair}", calibrated, abs(value), std, 5 * std)


def two_qubit_rb(
    backend: Any,
    gate: str,
    pair: tuple[int, int],
    *,
    lengths: Sequence[int] = (1, 4, 8, 16, 24),
    num_samples: int = 4,
    shots: int = 300,
    seed: int = 8,
) -> Measured:
    """The two-qubit gate's error by ``InterleavedRB``, against its calibrated total."""
    calibrated = backend.properties().gate_error(gate, pair)
    operation = backend.target.operation_from_name(gate)
    if operation.params:  # a parametric MS gate: its fully entangling angle
        operation = type(operation)(math.pi / 2)
    experiment = _library().InterleavedRB(
        operation, pair, lengths, backend=backend, num_samples=num_samples, seed=seed
    )
    value, std = _fitted(_run(experiment, backend, shots, seed), "EPC")
    bound = max(5 * std, 0.1 * calibrated)
    return Measured(backend.name, f"{gate} {pair} error (IRB)", calibrated, value, std, bound)


@dataclass(frozen=True)
class Amplification:
    """Flip probability of the target after N CX, plain and twirled."""

    repetitions: list[int]
    plain: list[float]
    twirled: list[float]
    shots: int

    def stochastic_line(self) -> tuple[float, float]:
        """Intercept and slope of the twirled flip probability against N (a line)."""
        slope, intercept = np.polyfit(self.repetitions, self.twirled, 1)
        return float(intercept), float(slope)

    def exponents(self, theta: float | None = None) -> tuple[float, float]:
        """Growth exponents in N of the coherent excess and of the twirled error.

        The coherent excess is what the plain sequence flips beyond the twirled one
        (about ``sin^2(N θ / 2)``: exponent 2 while N θ is small); the twirled error is
        counted above the line's N -> 0 floor (readout, preparation): exponent 1. Only
        points more than three shot-noise deviations above zero count, and with
        ``theta`` only those with ``N θ <= 1.2`` (where ``sin^2`` is still a square).
        """
        intercept, _ = self.stochastic_line()
        noise = 3 * math.sqrt(0.25 / self.shots)
        keep = [i for i, n in enumerate(self.repetitions) if theta is None or n * theta <= 1.2]
        ns = [self.repetitions[i] for i in keep]
        excess = [self.plain[i] - self.twirled[i] for i in keep]
        twirled = [self.twirled[i] - intercept for i in keep]
        return (
            growth_exponent(ns, excess, floor=noise),
            growth_exponent(ns, twirled, floor=noise),
        )


def predicted_plain(theta: float, amplification: Amplification) -> list[float]:
    """The plain sequence's flip probability predicted from θ and the twirled data.

    Over N gates the target's flip is ``(1 - c_N cos(N θ)) / 2``: the over-rotations add
    as angles and the stochastic errors shrink the contrast to ``c_N``. Twirled, the
    over-rotation becomes a Pauli flip of probability ``s = sin^2(θ / 2)`` per gate and
    the contrast is ``c_N (1 - 2 s)^N``, so the twirled data give ``c_N``.
    """
    flip = math.sin(theta / 2) ** 2
    out = []
    for n, p_twirled in zip(amplification.repetitions, amplification.twirled, strict=True):
        contrast = (1 - 2 * p_twirled) / (1 - 2 * flip) ** n
        out.append((1 - contrast * math.cos(n * theta)) / 2)
    return out


def amplification_circuits(
    backend: Any, pair: tuple[int, int], repetitions: Sequence[int]
) -> list[QuantumCircuit]:
    """N two-qubit gates from ``|00>``, ideally back to ``|00>``; any other outcome flips.

    On a device with ECR, N CX (its over-rotation about ZX commutes with CX, so N of them
    turn by N θ; a bare ECR is its own inverse and would undo its own over-rotation
    pairwise). On a Mølmer–Sørensen device, N ``rxx(π/2)`` (N a multiple of 4).
    """
    circuits = []
    for n in repetitions:
        logical = QuantumCircuit(2, 2, name=f"2q^{n}")
        for _ in range(n):
            if "ecr" in backend.operation_names:
                logical.cx(0, 1)
            else:
                logical.rxx(math.pi / 2, 0, 1)
        logical.measure([0, 1], [0, 1])
        circuits.append(logical)
    isa: list[QuantumCircuit] = transpile(
        circuits, backend, initial_layout=list(pair), optimization_level=0
    )
    return isa


def _clifford_twirl(circuit: QuantumCircuit, rng: np.random.Generator) -> QuantumCircuit:
    """Each two-qubit Clifford gate of ``circuit`` between a random Pauli and its image.

    For gates ``pauli_twirl_2q_gates`` does not twirl (``rxx(π/2)``): ``P`` before ``U``
    and ``U P U^dagger`` after leave the ideal circuit unchanged (up to a global phase).
    """
    out = circuit.copy_empty_like()
    for item in circuit.data:
        operation = item.operation
        if operation.num_qubits != 2 or operation.name in {"barrier", "measure"}:
            out.append(item)
            continue
        try:
            clifford = Clifford(operation)
        except QiskitError:
            out.append(item)
            continue
        before = Pauli((rng.integers(2, size=2), rng.integers(2, size=2)))
        after = before.evolve(clifford, frame="s")
        out.append(before.to_instruction(), item.qubits)
        out.append(item)
        out.append(Pauli((after.z, after.x)).to_instruction(), item.qubits)
    return out


def twirled(circuits: Sequence[QuantumCircuit], backend: Any, num_twirls: int, seed: int) -> Any:
    """Each circuit as ``num_twirls`` Pauli-twirled copies in the device's operations.

    ECR, CX, CZ and iSwap are twirled by ``qiskit.circuit.pauli_twirl_2q_gates``; other
    two-qubit Cliffords (the ion device's ``rxx(π/2)``) by the same construction here.
    """
    rng = np.random.default_rng(seed)
    out = []
    for circuit in circuits:
        if "ecr" in backend.operation_names:
            copies = pauli_twirl_2q_gates(circuit, seed=seed, num_twirls=num_twirls)
            assert isinstance(copies, list)
        else:
            copies = [_clifford_twirl(circuit, rng) for _ in range(num_twirls)]
        out.append(transpile(copies, backend, optimization_level=1, seed_transpiler=seed))
    return list(out)


def flip_probabilities(
    backend: Any, circuits: Sequence[QuantumCircuit], shots: int, *, seed: int = 9
) -> list[float]:
    """The probability of an outcome other than all zeros, per circuit."""
    result = backend.run(list(circuits), shots=shots, seed_simulator=seed).result()
    out = []
    for i in range(len(circuits)):
        counts = result.get_counts(i)
        out.append(1 - sum(v for k, v in counts.items() if set(k) <= {"0", " "}) / shots)
    return out


def amplify(
    backend: Any,
    pair: tuple[int, int],
    *,
    repetitions: Sequence[int] | None = None,
    shots: int = 2000,
    num_twirls: int = 10,
    seed: int = 9,
) -> Amplification:
    """Run the amplification sequence plain and twirled.

    ``repetitions`` default to 1, 2, 4, ..., 32 (4, 8, ..., 32 for ``rxx(π/2)``, whose
    ideal product is the identity every 4). ``seed`` is the runs' ``seed_simulator``
    (the twirls' are fixed), so that runs of several seeds can be pooled.
    """
    if repetitions is None:
        repetitions = (
            (1, 2, 4, 8, 16, 32) if "ecr" in backend.operation_names else (4, 8, 12, 16, 24, 32)
        )
    circuits = amplification_circuits(backend, pair, repetitions)
    plain = flip_probabilities(backend, circuits, shots, seed=seed)
    twirls = twirled(circuits, backend, num_twirls, seed=4)
    per = max(1, shots // num_twirls)
    flat = flip_probabilities(backend, [c for group in twirls for c in group], per, seed=seed)
    twirled_p = [
        float(np.mean(flat[i * num_twirls : (i + 1) * num_twirls])) for i in range(len(twirls))
    ]
    return Amplification(list(repetitions), plain, twirled_p, shots)


def growth_exponent(
    repetitions: Sequence[int], excess: Sequence[float], *, floor: float = 0.0
) -> float:
    """The slope of log(excess) against log(N) over the points where the excess > floor.

    2 for an error that adds up quadratically (coherent), 1 linearly (stochastic).
    """
    points = [
        (math.log(n), math.log(e))
        for n, e in zip(repetitions, excess, strict=True)
        if e > max(floor, 0.0)
    ]
    if len(points) < 2:
        return float("nan")
    x, y = np.array(points).T
    return float(np.polyfit(x, y, 1)[0])


# What each noisy device is measured on: qubits for T2* and T2, coupled pairs for ZZ and
# the two-qubit gate. Qubit 13 of the superconducting device is its calibrated-bad one.
PLAN: dict[str, dict[str, Any]] = {
    "superconducting_27q": {"qubits": [0, 5, 13], "pairs": [(0, 1), (4, 7)], "gate": "ecr"},
    "trapped_ion_11q": {"qubits": [0, 3, 7], "pairs": [(0, 1), (3, 7)], "gate": "rxx"},
}


def report(backend_names: Sequence[str] | None = None) -> str:
    """Measured against calibrated T2*, T2, ZZ and two-qubit errors, as Markdown tables.

    Runs on ``VendorProvider()`` (the embedded emulator unless a server is configured),
    for the devices of :data:`PLAN`; then the amplification sequence on each device's
    first pair, plain and twirled, with its growth exponents.
    """
    from qiskit_vendor_provider.provider import VendorProvider  # noqa: PLC0415

    provider = VendorProvider()
    lines = [
        "| device | figure | calibrated | measured ± 1σ | bound | agrees |",
        "|---|---|---|---|---|---|",
    ]
    amplification = []
    for name in backend_names or list(PLAN):
        backend = provider.get_backend(name)
        plan = PLAN[name]
        properties = backend.properties()
        assert properties is not None, f"{name} has no calibration"
        found: list[Measured] = []
        for qubit in plan["qubits"]:
            found += [t2_ramsey(backend, qubit), t2_hahn(backend, qubit)]
        for pair in plan["pairs"]:
            if properties.zz(*pair):
                found.append(zz_ramsey(backend, pair))
            found.append(two_qubit_rb(backend, plan["gate"], pair))
        lines += [
            f"| {m.device} | {m.figure} | {m.calibrated:.4g} | {m.measured:.4g} ± {m.std:.2g} "
            f"| {m.bound:.2g} | {'yes' if m.agrees else 'NO'} |"
            for m in found
        ]
        pair = plan["pairs"][0]
        result = amplify(backend, pair, shots=4000)
        theta = properties.over_rotation(plan["gate"], pair)
        plain_exp, twirled_exp = result.exponents(theta)
        amplification += [
            f"{name} {plan['gate']} {pair}, θ = {theta:.4g} rad: growth exponent (N θ <= 1.2) "
            f"of the coherent excess {plain_exp:.2f}, of the twirled error {twirled_exp:.2f}",
            "",
            "| N | plain P(flip) | predicted from θ | twirled P(flip) |",
            "|---|---|---|---|",
        ]
        amplification += [
            f"| {n} | {p:.4f} | {q:.4f} | {t:.4f} |"
            for n, p, q, t in zip(
                result.repetitions,
                result.plain,
                predicted_plain(theta, result),
                result.twirled,
                strict=True,
            )
        ]
        amplification.append("")
    return "\n".join([*lines, "", *amplification])
