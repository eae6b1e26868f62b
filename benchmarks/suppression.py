"""The measured tables and the ZNE plot of docs/mitigation.md (issue 21).

Run from the repository root: ``PYTHONPATH=. python benchmarks/suppression.py``
(``--quick`` for a small, fast pass; ``--plot PATH`` to write the ZNE figure elsewhere).

Everything runs on ``superconducting_27q`` through an embedded emulator (no network),
with fixed seeds; each figure is a mean over seeds with its standard error (the
seeds' spread over the square root of their number).

1. **Resilience levels.** A 6-qubit Trotterised transverse-field Ising circuit on a chain
   of coupled qubits away from the bad qubit 13, ``<Z̄>`` (the mean of the six ``Z``)
   and a ``ZZ`` correlator, against the exact value (``Statevector``), with the
   Estimator at ``resilience_level`` 0, 1 and 2.
2. **Dynamical decoupling.** A GHZ-5 that waits (a delay before its measurement): the
   Sampler's GHZ fidelity ``P(00000) + P(11111)`` with DD XY4 and without.
3. **Gate twirling.** ``N`` CX in a row (the physics issue's repeated-gate circuit): the
   bias of ``<Z>`` on the target (ideally +1) with and without
   ``twirling.enable_gates``, readout mitigated (TREX) in both.
4. **Rows against copies.** 32 twirl randomizations of a 100-gate circuit, sent as one
   program with 32 rows of frame angles or as 32 bound circuits: request bytes (the
   client's own wire encoder) and the client's CPU time to write them.
5. **The ZNE plot** (``docs/_static/zne.png``): one observable's values at the noise
   factors with their error bars and the fitted extrapolations down to zero, as
   qiskit-ibm-runtime's ``draw_zne_evs`` draws them.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp, Statevector

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.primitives.packing import make_program
from qiskit_vendor_provider.primitives.twirling import Frame, twirl
from qiskit_vendor_provider.serialization import circuit_to_wire

DEVICE = "superconducting_27q"
CHAIN = [0, 1, 4, 7, 10, 12]  # six coupled qubits in a row, away from qubit 13
GHZ_CHAIN = CHAIN[:5]
SEEDS = range(1, 6)
WAITS = (10e-6, 15e-6, 20e-6, 30e-6)  # the GHZ's idle before its measurement
PLOT = Path(__file__).resolve().parent.parent / "docs" / "_static" / "zne.png"


@contextmanager
def device(name: str = DEVICE, spec: DeviceSpec | None = None) -> Iterator[VendorBackend]:
    """A device of an emulator started in this process (no network, no server).

    With ``spec``, the emulator serves that device (named ``spec.name``) alone.
    """
    with tempfile.TemporaryDirectory() as folder:
        dirs: tuple[Path, ...] = ()
        if spec is not None:
            name = spec.name
            dirs = (Path(folder),)
            (Path(folder) / f"{name}.json").write_text(spec.model_dump_json(), encoding="utf-8")
        config = EmulatorConfig(database=":memory:", poll_interval=0.02, device_dirs=dirs)
        emulator = Emulator(config).start()
        try:
            provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
            yield provider.get_backend(name)
        finally:
            emulator.stop()


@dataclass(frozen=True)
class Figure:
    """A mean over seeds and its standard error."""

    mean: float
    sem: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Figure:
        """Mean and standard error of ``values`` (one per seed)."""
        array = np.asarray(values, dtype=float)
        sem = float(array.std(ddof=1) / math.sqrt(len(array))) if len(array) > 1 else math.nan
        return cls(float(array.mean()), sem)

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.sem:.3f}"


# --- 1. resilience levels on a Trotterised Ising chain --------------------------------


def ising(qubits: int = 6, steps: int = 2, *, j: float = 1.0, h: float = 0.6) -> QuantumCircuit:
    """Trotter steps of ``exp(-i dt (J sum ZZ + h sum X))``, ``dt = 0.25``, from ``|0...0>``.

    Each step is a layer of ``rzz`` on the even bonds, one on the odd bonds, and ``rx`` on
    every qubit: two layers of 2-qubit gates per step (each ``rzz`` is two ECRs on the
    device, so twice as many ECR layers).
    """
    dt = 0.25
    circuit = QuantumCircuit(qubits)
    for _ in range(steps):
        for start in (0, 1):
            for a in range(start, qubits - 1, 2):
                circuit.rzz(2 * j * dt, a, a + 1)
        circuit.rx(2 * h * dt, range(qubits))
    return circuit


def ising_observables(qubits: int = 6) -> dict[str, SparsePauliOp]:
    """``<Z̄>`` (the mean Z) and the middle ``ZZ`` correlator, on the logical qubits."""
    mean_z = SparsePauliOp.from_sparse_list([("Z", [q], 1 / qubits) for q in range(qubits)], qubits)
    middle = qubits // 2 - 1
    zz = SparsePauliOp.from_sparse_list([("ZZ", [middle, middle + 1], 1.0)], qubits)
    return {"<Z̄>": mean_z, f"<Z{middle}Z{middle + 1}>": zz}


def exact_values(
    circuit: QuantumCircuit, observables: dict[str, SparsePauliOp]
) -> dict[str, float]:
    """The ideal expectation values (``Statevector``)."""
    state = Statevector(circuit)
    return {name: float(state.expectation_value(op).real) for name, op in observables.items()}


def simulator_seed(seed: int) -> int:
    """A simulator seed far from every other seed's.

    Jobs of many alike experiments (rows split into groups of shots) with consecutive
    seeds gave nearly the same sample before the emulator spread such jobs' seeds itself
    (``aer_seed``), so seeds 1 to 5 passed as they were gave five copies of nearly one
    sample, and their spread no standard error. Kept: harmless now, and independent of
    how the emulator seeds Aer.

    >>> abs(simulator_seed(1) - simulator_seed(2)) > 10**6
    True
    """
    return int(np.random.SeedSequence([seed, 2026]).generate_state(1, np.uint32)[0])


def estimator_run(
    backend: VendorBackend,
    circuit: QuantumCircuit,
    observables: Sequence[SparsePauliOp],
    *,
    seed: int,
    precision: float,
    options: dict[str, Any],
) -> Any:
    """One Estimator PUB on ``circuit`` (ISA) with these options; the PUB result."""
    estimator = VendorEstimator(
        backend=backend,
        options={"seed_simulator": simulator_seed(seed), "seed_estimator": seed, **options},
    )
    moved = [op.apply_layout(circuit.layout) for op in observables]
    return estimator.run([(circuit, moved)], precision=precision).result()[0]


@dataclass(frozen=True)
class Levels:
    """What :func:`resilience_levels` measured.

    Attributes:
        exact: Per observable, the exact value.
        evs: Per level and observable, the estimate of each seed.
        stds: Per level and observable, each estimate's standard error (as returned).
        sample: The first seed's level-2 PUB result (for the plot), None without level 2.
    """

    exact: dict[str, float]
    evs: dict[int, dict[str, list[float]]]
    stds: dict[int, dict[str, list[float]]]
    sample: Any


@dataclass
class IsingProblem:
    """The Ising circuit on the device, its observables and their exact values."""

    isa: QuantumCircuit
    observables: dict[str, SparsePauliOp]
    exact: dict[str, float]

    @classmethod
    def on(cls, backend: VendorBackend, steps: int = 2) -> IsingProblem:
        """The circuit transpiled onto ``CHAIN`` of ``backend``."""
        logical = ising(steps=steps)
        observables = ising_observables()
        isa = transpile(logical, backend=backend, initial_layout=CHAIN, seed_transpiler=1)
        return cls(isa, observables, exact_values(logical, observables))

    def runs(
        self,
        backend: VendorBackend,
        options: dict[str, Any],
        *,
        seeds: Sequence[int],
        precision: float,
    ) -> Iterator[Any]:
        """One Estimator PUB result per seed, with ``options``."""
        for seed in seeds:
            yield estimator_run(
                backend,
                self.isa,
                list(self.observables.values()),
                seed=seed,
                precision=precision,
                options=options,
            )


def resilience_levels(
    backend: VendorBackend,
    *,
    seeds: Sequence[int] = SEEDS,
    steps: int = 2,
    precision: float = 0.015625,
    levels: Sequence[int] = (0, 1, 2),
) -> Levels:
    """The Ising observables at each resilience level, once per seed."""
    problem = IsingProblem.on(backend, steps)
    observables, exact = problem.observables, problem.exact
    evs: dict[int, dict[str, list[float]]] = {}
    stds: dict[int, dict[str, list[float]]] = {}
    sample = None
    for level in levels:
        options: dict[str, Any] = {"resilience_level": level}
        if level == 2:
            # Dense evaluation points, only for the plot's curves (fits are unchanged).
            points = [float(x) for x in np.linspace(0.0, 5.0, 26)]
            options["resilience"] = {"zne": {"extrapolated_noise_factors": points}}
        evs[level] = {name: [] for name in observables}
        stds[level] = {name: [] for name in observables}
        for pub in problem.runs(backend, options, seeds=seeds, precision=precision):
            for position, name in enumerate(observables):
                evs[level][name].append(float(pub.data.evs[position]))
                stds[level][name].append(float(pub.data.stds[position]))
            if level == 2 and sample is None:
                sample = pub
    return Levels(exact, evs, stds, sample)


VARIANTS: dict[str, dict[str, Any]] = {
    "IBM's defaults (factors 1, 3, 5; active-accum)": {},
    'twirling.strategy="active"': {"twirling": {"strategy": "active"}},
    "dynamical_decoupling XY4": {"dynamical_decoupling": {"enable": True, "sequence_type": "XY4"}},
    'strategy="active" and XY4': {
        "twirling": {"strategy": "active"},
        "dynamical_decoupling": {"enable": True, "sequence_type": "XY4"},
    },
}
"""Level-2 variants that explain the correlator's residual error (``--variants``)."""

EXTRAPOLATORS = ("exponential", "linear", "polynomial_degree_2")


ZneFigures = tuple[list[list[float]], dict[str, dict[str, list[float]]]]
"""Mean values at the noise factors, and per extrapolator and observable the errors."""


def level2_errors(
    backend: VendorBackend, options: dict[str, Any], *, seeds: Sequence[int], precision: float
) -> ZneFigures:
    """Level 2 with ``options`` on the Ising circuit: every extrapolator's error per seed.

    Every extrapolator of ``EXTRAPOLATORS`` is evaluated in the same run (they are read
    from ``evs_extrapolated`` at zero noise), so one run per seed serves all of them.

    Returns:
        ``(evs_noise_factors mean over seeds, {extrapolator: {observable: [|error| per
        seed]}})``.
    """
    problem = IsingProblem.on(backend)
    observables, exact = problem.observables, problem.exact
    options = {"resilience_level": 2, **options}
    options["resilience"] = {
        "zne": {**options.get("resilience", {}).get("zne", {}), "extrapolator": EXTRAPOLATORS}
    }
    errors: dict[str, dict[str, list[float]]] = {
        name: {o: [] for o in observables} for name in EXTRAPOLATORS
    }
    factors = []
    for pub in problem.runs(backend, options, seeds=seeds, precision=precision):
        factors.append(pub.data.evs_noise_factors)
        for row, name in enumerate(EXTRAPOLATORS):
            for position, (o, truth) in enumerate(exact.items()):
                value = float(pub.data.evs_extrapolated[position, row, 0])
                errors[name][o].append(abs(value - truth))
    return np.mean(factors, axis=0).tolist(), errors


def zne_variants(
    backend: VendorBackend, *, seeds: Sequence[int] = SEEDS, precision: float = 0.01
) -> dict[str, ZneFigures]:
    """Per variant of ``VARIANTS``: :func:`level2_errors`."""
    return {
        label: level2_errors(backend, extra, seeds=seeds, precision=precision)
        for label, extra in VARIANTS.items()
    }


def _gates(spec: DeviceSpec, qubits: int, **update: Any) -> DeviceSpec:
    """``spec`` with ``update`` on every calibrated gate of ``qubits`` qubits."""
    calibration = spec.calibration
    assert calibration is not None
    gates = [
        g.model_copy(update=update) if len(g.qubits) == qubits and g.name != "reset" else g
        for g in calibration.gates
    ]
    return spec.model_copy(update={"calibration": calibration.model_copy(update={"gates": gates})})


def _qubits(spec: DeviceSpec, change: Callable[[Any], dict[str, Any]]) -> DeviceSpec:
    """``spec`` with ``change(qubit)`` applied to every qubit's calibration."""
    calibration = spec.calibration
    assert calibration is not None
    qubits = [q.model_copy(update=change(q)) for q in calibration.qubits]
    return spec.model_copy(
        update={"calibration": calibration.model_copy(update={"qubits": qubits})}
    )


def _without_relaxation(qubit: Any) -> dict[str, Any]:
    """T1 and T2 of 1,000 s, with the slow detuning's width kept (T2* follows)."""
    if qubit.t1 is None or qubit.t2 is None:
        return {}
    long = 1e3
    width = 0.0
    if qubit.t2_star is not None:
        width = max(0.0, 1 / qubit.t2_star - 1 / min(qubit.t2, 2 * qubit.t1))
    return {"t1": long, "t2": long, "t2_star": 1 / (width + 1 / long) if width else None}


def _without_zz(spec: DeviceSpec) -> DeviceSpec:
    calibration = spec.calibration
    assert calibration is not None
    return spec.model_copy(update={"calibration": calibration.model_copy(update={"couplings": []})})


COMPONENTS: dict[str, Callable[[DeviceSpec], DeviceSpec]] = {
    "the device as it is": lambda spec: spec,
    "1-qubit gate errors": lambda spec: _gates(spec, 1, error=0.0),
    "ECR errors (depolarizing and over-rotation)": lambda spec: _gates(
        spec, 2, error=0.0, over_rotation=0.0
    ),
    "ECR over-rotation (total error kept)": lambda spec: _gates(spec, 2, over_rotation=0.0),
    "idle relaxation (T1, T2 of 1,000 s)": lambda spec: _qubits(spec, _without_relaxation),
    "slow dephasing (T2*)": lambda spec: _qubits(spec, lambda q: {"t2_star": None}),
    "always-on ZZ": _without_zz,
    "readout errors": lambda spec: _qubits(spec, lambda q: {"readout_error": 0.0}),
}
"""Noise components, each switched off in a copy of the device (``--components``)."""


def zne_components(
    *,
    seeds: Sequence[int] = SEEDS,
    precision: float = 0.01,
    options: dict[str, Any] | None = None,
) -> dict[str, ZneFigures]:
    """Level 2 on copies of the device, each with one noise component off.

    Which noise gate folding does not amplify (and so biases the zero-noise value) shows
    as the component whose absence removes the bias.
    """
    with device() as backend:
        spec = backend.spec
    found = {}
    for label, change in COMPONENTS.items():
        with device(spec=change(spec)) as backend:
            found[label] = level2_errors(backend, options or {}, seeds=seeds, precision=precision)
    return found


# --- 2. dynamical decoupling on a waiting GHZ ---------------------------------------------


def waiting_ghz(
    backend: VendorBackend, wait: float = 30e-6, size: int = 5, *, undo: bool = False
) -> QuantumCircuit:
    """A GHZ state on ``GHZ_CHAIN`` that waits ``wait`` seconds, then is measured.

    With ``undo`` the GHZ preparation is run backwards before the measurement, so
    ``P(0...0)`` is the state's fidelity with the GHZ state (the coherence between
    ``0...0`` and ``1...1`` included, which is what dephasing takes and DD protects).
    """
    logical = QuantumCircuit(size, size)
    logical.h(0)
    for q in range(size - 1):
        logical.cx(q, q + 1)
    logical.barrier()
    logical.delay(round(wait / (backend.dt or 1.0)), range(size))
    logical.barrier()
    if undo:
        for q in reversed(range(size - 1)):
            logical.cx(q, q + 1)
        logical.h(0)
    logical.measure(range(size), range(size))
    return transpile(logical, backend=backend, initial_layout=GHZ_CHAIN[:size], seed_transpiler=1)


def ghz_fidelities(
    backend: VendorBackend,
    *,
    seeds: Sequence[int] = SEEDS,
    shots: int = 4000,
    wait: float = 30e-6,
) -> dict[tuple[str, str], list[float]]:
    """Per (measure, DD) and seed: ``P(0...0) + P(1...1)`` and the GHZ fidelity.

    Keys: ``("populations", dd)`` measured on the GHZ itself, ``("fidelity", dd)``
    as ``P(0...0)`` after the GHZ is undone; ``dd`` "none" or "XY4".
    """
    found: dict[tuple[str, str], list[float]] = {}
    for measure, undo in (("populations", False), ("fidelity", True)):
        circuit = waiting_ghz(backend, wait, undo=undo)
        size = circuit.num_clbits
        for label, dd in (
            ("none", {"enable": False}),
            ("XY4", {"enable": True, "sequence_type": "XY4"}),
        ):
            values = found.setdefault((measure, label), [])
            for seed in seeds:
                sampler = VendorSampler(
                    backend=backend,
                    options={"seed_simulator": simulator_seed(seed), "dynamical_decoupling": dd},
                )
                counts = sampler.run([circuit], shots=shots).result()[0].data.c.get_counts()
                good = counts.get("0" * size, 0) + (0 if undo else counts.get("1" * size, 0))
                values.append(good / shots)
    return found


# --- 3. gate twirling on a repeated gate --------------------------------------------------


def repeated_gate(backend: VendorBackend, repetitions: int = 16) -> QuantumCircuit:
    """``repetitions`` CX on qubits 0 and 1 (ideally the identity), as the device runs it."""
    logical = QuantumCircuit(2)
    for _ in range(repetitions):
        logical.cx(0, 1)
    return transpile(logical, backend=backend, initial_layout=[0, 1], optimization_level=0)


def twirling_bias(
    backend: VendorBackend,
    *,
    seeds: Sequence[int] = SEEDS,
    repetitions: int = 16,
    precision: float = 0.015625,
) -> dict[str, list[float]]:
    """``1 - <Z>`` of the target (ideally 0) per seed, gate twirling off and on.

    Both with TREX (``resilience_level=1``), so the bias left is the gates'.
    """
    circuit = repeated_gate(backend, repetitions)
    target = SparsePauliOp("ZI")  # qubit 1, the CX's target
    found: dict[str, list[float]] = {"off": [], "on": []}
    for label, enable in (("off", False), ("on", True)):
        for seed in seeds:
            pub = estimator_run(
                backend,
                circuit,
                [target],
                seed=seed,
                precision=precision,
                options={"resilience_level": 1, "twirling": {"enable_gates": enable}},
            )
            found[label].append(1.0 - float(pub.data.evs[0]))
    return found


# --- 4. randomizations as rows against copies -------------------------------------------


def hundred_gates(backend: VendorBackend, gates: int = 100, seed: int = 3) -> QuantumCircuit:
    """A 5-qubit ISA circuit of ``gates`` operations: random 1-qubit turns and ECR pairs."""
    rng = np.random.default_rng(seed)
    logical = QuantumCircuit(5)
    while True:
        a = int(rng.integers(0, 4))
        logical.cx(a, a + 1)
        logical.rx(float(rng.uniform(0, np.pi)), int(rng.integers(0, 5)))
        isa = transpile(logical, backend=backend, initial_layout=GHZ_CHAIN, seed_transpiler=1)
        if len(isa.data) >= gates:
            return isa


def rows_against_copies(
    backend: VendorBackend, *, randomizations: int = 32, repeat: int = 5
) -> dict[str, dict[str, float]]:
    """Bytes and best-of-``repeat`` CPU seconds to write the twirled variants both ways.

    ``rows``: one twirled program (frames as parameters) plus ``randomizations`` rows.
    ``copies``: the same variants bound, each a circuit of its own. Both are timed from
    the twirled circuit and its table to the request's bytes; the twirl itself, the
    same for both, is timed apart.
    """
    circuit = hundred_gates(backend)
    frame = Frame.for_operations(backend.target.operation_names)
    started = time.process_time()
    twirled = twirl(
        circuit,
        frame,
        gates=True,
        measured=[],
        count=randomizations,
        rng=np.random.default_rng(1),
    )
    twirl_time = time.process_time() - started

    def as_rows() -> bytes:
        program = make_program(
            twirled.circuit, parameters=twirled.parameters, rows=twirled.values
        ).program()
        return wire.encode_submission(JobSubmission(device=DEVICE, shots=128, programs=[program]))

    def as_copies() -> bytes:
        programs = [
            circuit_to_wire(
                twirled.circuit.assign_parameters(dict(zip(twirled.parameters, row, strict=True)))
            )
            for row in twirled.values
        ]
        return wire.encode_submission(JobSubmission(device=DEVICE, shots=128, programs=programs))

    out: dict[str, dict[str, float]] = {}
    for label, encode in (("rows", as_rows), ("copies", as_copies)):
        times = []
        payload = b""
        for _ in range(repeat):
            started = time.process_time()
            payload = encode()
            times.append(time.process_time() - started)
        out[label] = {"bytes": float(len(payload)), "seconds": min(times)}
    out["circuit"] = {
        "operations": float(len(circuit.data)),
        "twirled_operations": float(len(twirled.circuit.data)),
        "parameters": float(len(twirled.parameters)),
        "twirl_seconds": twirl_time,
    }
    return out


# --- 5. the ZNE plot -------------------------------------------------------------------------


def draw_zne(pub: Any, index: int, exact: float, title: str, path: Path) -> None:
    """One observable's ZNE as ``draw_zne_evs`` shows it: points, fits to zero, the truth."""
    import matplotlib  # noqa: PLC0415 - only the plot needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    zne = pub.metadata["resilience"]["zne"]
    factors = np.array(zne["noise_factors"])
    points = np.array(zne["extrapolated_noise_factors"])
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for row, name in enumerate(zne["extrapolator"]):
        values = pub.data.evs_extrapolated[index, row]
        stds = pub.data.stds_extrapolated[index, row]
        (line,) = axes.plot(points, values, label=f"{name} fit")
        axes.fill_between(points, values - stds, values + stds, alpha=0.2, color=line.get_color())
    axes.errorbar(
        factors,
        pub.data.evs_noise_factors[index],
        yerr=pub.data.stds_noise_factors[index],
        fmt="o",
        color="black",
        capsize=4,
        label="measured at the noise factors",
    )
    axes.errorbar(
        [0.0],
        [pub.data.evs[index]],
        yerr=[pub.data.stds[index]],
        fmt="*",
        markersize=12,
        color="tab:red",
        capsize=4,
        label=f"zero-noise estimate ({zne['extrapolators'][index]})",
    )
    axes.axhline(exact, linestyle="--", color="gray", label="exact")
    axes.set_xlabel("noise factor")
    axes.set_ylabel("expectation value")
    axes.set_title(title)
    axes.set_xlim(-0.2, float(points.max()) + 0.2)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


# --- the report ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Print every table (markdown) and write the plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two seeds, coarser precision")
    parser.add_argument("--plot", type=Path, default=PLOT, help="where the ZNE PNG goes")
    parser.add_argument(
        "--variants", action="store_true", help="only the level-2 variants (why ZZ misses)"
    )
    parser.add_argument(
        "--components",
        action="store_true",
        help="only level 2 on copies of the device with one noise component off",
    )
    args = parser.parse_args(argv)
    seeds = range(1, 3) if args.quick else SEEDS
    precision = 0.05 if args.quick else 0.01
    if args.components:
        print(f"Seeds {list(seeds)}; figures are mean ± standard error over the seeds.\n")
        print_variants(zne_components(seeds=seeds, precision=precision), "switched off")
        return
    with device() as backend:
        print(f"Seeds {list(seeds)}; figures are mean ± standard error over the seeds.\n")
        if args.variants:
            print_variants(zne_variants(backend, seeds=seeds, precision=precision))
            return
        found = resilience_levels(backend, seeds=seeds, precision=precision)
        shots = math.ceil(1 / precision**2)
        print(f"### Resilience levels ({shots} shots per circuit and noise factor)\n")
        print(
            "| observable | exact | level | estimate | mean returned std "
            "| error | error / level-0 error |"
        )
        print("|---|---|---|---|---|---|---|")
        for name, truth in found.exact.items():
            base = Figure.of([abs(v - truth) for v in found.evs[0][name]])
            for level, by_name in found.evs.items():
                error = Figure.of([abs(v - truth) for v in by_name[name]])
                print(
                    f"| {name} | {truth:.3f} | {level} | {Figure.of(by_name[name])} "
                    f"| {np.mean(found.stds[level][name]):.3f} | {error} "
                    f"| {error.mean / base.mean:.2f} |"
                )
        if found.sample is not None:
            names = list(found.exact)
            title = f"ZNE of {names[0]}, seed {seeds[0]}"
            draw_zne(found.sample, 0, found.exact[names[0]], title, args.plot)
            print(f"\nplot: {args.plot}")

        print("\n### GHZ-5 waiting before its measurement\n")
        print("| wait | DD | P(00000) + P(11111) | GHZ fidelity (P(00000), GHZ undone) |")
        print("|---|---|---|---|")
        for wait in WAITS:
            dd = ghz_fidelities(backend, seeds=seeds, shots=1000 if args.quick else 4000, wait=wait)
            for label in ("none", "XY4"):
                print(
                    f"| {wait * 1e6:.0f} µs | {label} | {Figure.of(dd['populations', label])} "
                    f"| {Figure.of(dd['fidelity', label])} |"
                )

        bias = twirling_bias(backend, seeds=seeds, precision=precision)
        print("\n### 16 CX, bias 1 - <Z> of the target (TREX on)\n")
        print("| gate twirling | bias |")
        print("|---|---|")
        for label, values in bias.items():
            print(f"| {label} | {Figure.of(values)} |")

        wire_figures = rows_against_copies(backend)
        shape = wire_figures["circuit"]
        print(
            f"\n### 32 randomizations of a {shape['operations']:.0f}-operation circuit "
            f"({shape['twirled_operations']:.0f} twirled, {shape['parameters']:.0f} "
            f"frame parameters; twirl {shape['twirl_seconds'] * 1e3:.1f} ms)\n"
        )
        print("| sent as | request bytes | client CPU ms |")
        print("|---|---|---|")
        for label in ("rows", "copies"):
            row = wire_figures[label]
            print(f"| {label} | {row['bytes']:,.0f} | {row['seconds'] * 1e3:.1f} |")


def print_variants(found: dict[str, ZneFigures], what: str = "level 2 variant") -> None:
    """The variants' table: values at the noise factors and each extrapolator's error."""
    names = list(ising_observables())
    print(f"| {what} | observable | at the noise factors | " + " | ".join(EXTRAPOLATORS) + " |")
    print("|---|---|---|" + "---|" * len(EXTRAPOLATORS))
    for label, (factors, errors) in found.items():
        for position, name in enumerate(names):
            cells = " | ".join(str(Figure.of(errors[e][name])) for e in EXTRAPOLATORS)
            values = ", ".join(f"{v:.3f}" for v in factors[position])
            print(f"| {label} | {name} | {values} | {cells} |")


if __name__ == "__main__":
    main()
