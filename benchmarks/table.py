"""The performance table of issues 13 and 22: each workload against its reference, with its goal.

    python benchmarks/table.py [--repeat 3] [--tiny-runs 50] [--first-runs 5] [--json figures.json]
    python benchmarks/table.py --baseline ../main      # first-job figures of another checkout too
    python benchmarks/table.py --profile [--repeat 3]     # where the distinct workload's time goes
    python benchmarks/table.py --quick                     # small sizes, a smoke test

``make bench`` runs the first form (``make bench BENCH_ARGS="--baseline ../main"`` adds
options).

One run prints, for the vendor primitives over real loopback HTTP (the emulator as a
separate process, ``python -m qiskit_vendor_provider.emulator``, as a user runs it) and
on the embedded emulator (``VendorProvider()``), each workload's time, its reference's,
the ratio, the goal and PASS/FAIL:

* sweep: one 8-qubit, 2-layer parametrized circuit, 1,000 bindings, 100 shots;
  reference ``qiskit_aer.primitives.SamplerV2``; goal ratio <= 1.2 over loopback, <= 1.0
  embedded (issue 22);
* distinct: 200 different 5-qubit circuits, 1,000 shots; reference Aer's ``SamplerV2``;
  goal ratio <= 1.2;
* estimator: 20 Pauli terms on 6 qubits, 100 parameter sets, precision 0.025; reference
  ``BackendEstimatorV2`` on ``AerSimulator()`` (the same shot-based method); goal ratio
  <= 0.45. Aer's ``EstimatorV2`` (exact expectation values plus Gaussian noise) is shown
  beside it, not judged;
* tiny job: a 2-qubit Bell circuit, ``backend.run(qc, shots=100).result()``, median of
  ``--tiny-runs`` after a warm-up, each variant in a script of its own; reference
  ``AerSimulator().run(qc, shots=100).result()`` in its own script; goal ratio <= 6;
* first job (embedded only): a fresh script's ``VendorProvider()`` to the result of its
  first Bell job, median of ``--first-runs`` fresh scripts (``benchmarks/first_job.py``);
  goal <= 300 ms. The same scripts' ``import qiskit_vendor_provider`` and
  ``VendorProvider()`` times are shown beside it (with ``--baseline``, another
  checkout's too: the before and after of a change, under the same load).

Device ``ideal_simulator``, so that the noiseless references do the same work. Variants
run interleaved, run by run, so load from other processes falls on all alike; each time is
the median of ``--repeat`` runs after one warm-up run.

``--profile`` instead times where the distinct workload's time goes over loopback HTTP,
with timers around the package's own functions (see :class:`Seams`). So that the timers
also see the server, the emulator app is served by uvicorn in a thread of this process
(``EmulatorServer``), not in a separate process; the simulations still run in the
emulator's simulator process, and their split is measured by replaying the same stored
jobs through the worker's functions here.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import BackendEstimatorV2
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.testing.process import emulator_process as serving_emulator
from qiskit_vendor_provider.testing.process import free_loopback_port

# The workloads' circuits are primitives.py's, so both benchmarks time the same ones.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import first_job
from primitives import layered_circuit, random_hamiltonian

DEVICE = "ideal_simulator"
SEED = 1234
MODES = ("loopback", "embedded")
MODE_TITLES = {"loopback": "loopback HTTP", "embedded": "embedded"}


# --------------------------------------------------------------------------- workloads


@dataclasses.dataclass(frozen=True)
class Sizes:
    """The workload sizes; :data:`FULL` is the issue's table, :data:`QUICK` a smoke test."""

    sweep_qubits: int = 8
    sweep_bindings: int = 1000
    sweep_shots: int = 100
    distinct_qubits: int = 5
    distinct_circuits: int = 200
    distinct_shots: int = 1000
    estimator_qubits: int = 6
    estimator_terms: int = 20
    estimator_sets: int = 100
    precision: float = 0.025
    tiny_shots: int = 100


FULL = Sizes()
QUICK = Sizes(
    sweep_qubits=3,
    sweep_bindings=10,
    sweep_shots=20,
    distinct_qubits=2,
    distinct_circuits=4,
    distinct_shots=20,
    estimator_qubits=2,
    estimator_terms=3,
    estimator_sets=3,
    precision=0.2,
    tiny_shots=20,
)


@dataclasses.dataclass(frozen=True)
class Goal:
    """A target: ``ratio`` (ours / reference) or ``ms`` (our median) at most ``limit``."""

    kind: str
    limit: float

    def text(self) -> str:
        return f"≤ {self.limit:g}×" if self.kind == "ratio" else f"≤ {self.limit:g} ms"


@dataclasses.dataclass
class Workload:
    key: str
    title: str
    kind: str  # "sampler", "estimator" or "tiny"
    pubs: list[Any]
    goal: Goal
    embedded_goal: Goal | None = None
    """The goal on the embedded emulator, where it differs from ``goal``."""
    shots: int | None = None
    precision: float | None = None


def bell() -> QuantumCircuit:
    circuit = QuantumCircuit(2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def distinct_circuits(sizes: Sizes, rng: np.random.Generator) -> list[QuantumCircuit]:
    template = layered_circuit(sizes.distinct_qubits, 2)
    circuits = []
    for index in range(sizes.distinct_circuits):
        circuit = template.assign_parameters(rng.uniform(0, 2 * np.pi, template.num_parameters))
        circuit.name = f"distinct-{index}"
        circuits.append(circuit)
    return circuits


def workloads(sizes: Sizes) -> list[Workload]:
    """The four rows of the table, in its order (the same seeds as benchmarks/primitives.py)."""
    rng = np.random.default_rng(SEED)
    sweep = layered_circuit(sizes.sweep_qubits, 2)
    sweep_values = rng.uniform(0, 2 * np.pi, (sizes.sweep_bindings, sweep.num_parameters))
    distinct = distinct_circuits(sizes, rng)
    ansatz = layered_circuit(sizes.estimator_qubits, 2, measure=False)
    hamiltonian = random_hamiltonian(sizes.estimator_qubits, sizes.estimator_terms, rng)
    values = rng.uniform(0, 2 * np.pi, (sizes.estimator_sets, ansatz.num_parameters))
    return [
        Workload(
            "sweep",
            f"sweep, {sizes.sweep_bindings:,} bindings × {sizes.sweep_qubits} qubits, "
            f"{sizes.sweep_shots:,} shots",
            "sampler",
            [(sweep, sweep_values)],
            Goal("ratio", 1.2),
            embedded_goal=Goal("ratio", 1.0),
            shots=sizes.sweep_shots,
        ),
        Workload(
            "distinct",
            f"{sizes.distinct_circuits:,} distinct {sizes.distinct_qubits}-qubit circuits, "
            f"{sizes.distinct_shots:,} shots",
            "sampler",
            list(distinct),
            Goal("ratio", 1.2),
            shots=sizes.distinct_shots,
        ),
        Workload(
            "estimator",
            f"estimator, {sizes.estimator_terms} terms × {sizes.estimator_sets} sets, "
            f"precision {sizes.precision:g}",
            "estimator",
            [(ansatz, hamiltonian, values)],
            Goal("ratio", 0.45),
            precision=sizes.precision,
        ),
        Workload(
            "tiny",
            "tiny 2-qubit job, submit to result",
            "tiny",
            [bell()],
            Goal("ratio", 6.0),
            shots=sizes.tiny_shots,
        ),
    ]


# --------------------------------------------------------------------------- servers


@contextmanager
def emulator_process(scratch: Path) -> Iterator[str]:
    """``python -m qiskit_vendor_provider.emulator`` on a free loopback port; yields its URL."""
    port = free_loopback_port()
    with serving_emulator(port, scratch / "server.sqlite3", log=scratch / "emulator.log"):
        yield f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- timing

Runner = Callable[[], object]


def time_interleaved(
    variants: dict[str, Runner], runs: int, warmups: int = 1, block: int = 1
) -> dict[str, list[float]]:
    """Seconds per run of each variant, the variants interleaved block by block.

    Interleaving spreads load from other processes over all variants alike instead of
    charging it to whichever ran at the time. ``block`` runs of a variant go one after
    the other, the first of them untimed: Aer's OpenMP threads keep spinning for a
    while after the in-process reference runs, and a millisecond job timed right after
    would be charged for them (measured: 6.0 ms interleaved run by run, 4.5 ms alone).
    """
    for _ in range(warmups):
        for run in variants.values():
            run()  # imports, simulator processes, connection pools
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(max(1, runs // block)):
        for name, run in variants.items():
            # A quiet start for each variant: the previous one's threads (Aer's OpenMP
            # pool spins after a run) and processes are done with the cores.
            if len(variants) > 1:
                time.sleep(SETTLE_SECONDS)
            if block > 1:
                run()  # settles what the previous variant left running
            for _ in range(block):
                started = time.perf_counter()
                run()
                samples[name].append(time.perf_counter() - started)
    return samples


SETTLE_SECONDS = 0.2
"""Untimed pause before each variant's turn in :func:`time_interleaved`."""


@dataclasses.dataclass
class Row:
    """One workload in one mode, as printed and written to JSON."""

    mode: str
    workload: str
    title: str
    ours: float
    reference: float
    reference_name: str
    goal: Goal
    unit: str  # "s" or "ms"

    @property
    def ratio(self) -> float:
        return self.ours / self.reference if self.reference else math.nan

    @property
    def passed(self) -> bool:
        value = self.ratio if self.goal.kind == "ratio" else self.ours
        return value <= self.goal.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "workload": self.workload,
            "title": self.title,
            "ours": self.ours,
            "reference": self.reference,
            "reference_name": self.reference_name,
            "unit": self.unit,
            "ratio": self.ratio,
            "goal": dataclasses.asdict(self.goal),
            "pass": self.passed,
        }


REFERENCE_NAMES = {
    "sampler": "Aer SamplerV2",
    "estimator": "BackendEstimatorV2 on AerSimulator",
    "tiny": "AerSimulator.run, in-process",
}


def measure_table(  # noqa: PLR0917 - the table's knobs, passed through
    sizes: Sizes,
    repeat: int,
    tiny_runs: int,
    scratch: Path,
    first_runs: int = 5,
    baseline: Path | None = None,
) -> tuple[list[Row], dict[str, Any]]:
    """Time every workload in both modes against its reference; the rows and raw samples."""
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    options = {"seed_simulator": SEED}
    embedded = VendorProvider().get_backend(DEVICE)
    with emulator_process(scratch) as url:
        remote = VendorProvider(url=url).get_backend(DEVICE)
        backends = {"loopback": remote, "embedded": embedded}
        for workload in workloads(sizes):
            variants: dict[str, Runner] = {}
            if workload.kind == "sampler":
                for mode, backend in backends.items():
                    variants[mode] = _sampler_run(
                        VendorSampler(backend=backend, options=options), workload
                    )
                variants["reference"] = _sampler_run(AerSamplerV2(seed=SEED), workload)
            elif workload.kind == "estimator":
                for mode, backend in backends.items():
                    variants[mode] = _estimator_run(
                        VendorEstimator(backend=backend, options=options), workload
                    )
                variants["reference"] = _estimator_run(
                    BackendEstimatorV2(backend=AerSimulator(), options=options), workload
                )
                variants["Aer EstimatorV2"] = _estimator_run(
                    AerEstimatorV2(options={"run_options": {"seed_simulator": SEED}}), workload
                )
            if workload.kind == "tiny":
                samples = {
                    variant: time_tiny_alone(variant, url, tiny_runs, sizes)
                    for variant in (*MODES, "reference")
                }
            else:
                samples = time_interleaved(variants, repeat)
            raw[workload.key] = samples
            scale, unit = (1000.0, "ms") if workload.kind == "tiny" else (1.0, "s")
            reference = statistics.median(samples["reference"]) * scale
            for mode in MODES:
                rows.append(
                    Row(
                        mode=mode,
                        workload=workload.key,
                        title=workload.title,
                        ours=statistics.median(samples[mode]) * scale,
                        reference=reference,
                        reference_name=REFERENCE_NAMES[workload.kind],
                        goal=(mode == "embedded" and workload.embedded_goal) or workload.goal,
                        unit=unit,
                    )
                )
            print(f"  ... {workload.key}: done", file=sys.stderr, flush=True)
    rows.append(measure_first_job(first_runs, baseline, raw))
    print("  ... first job: done", file=sys.stderr, flush=True)
    return rows, raw


def measure_first_job(runs: int, baseline: Path | None, raw: dict[str, Any]) -> Row:
    """The first-job row, from fresh scripts (see ``benchmarks/first_job.py``)."""
    checkouts = {"this checkout": first_job.ROOT}
    if baseline is not None:
        checkouts = {"baseline": baseline.resolve(), **checkouts}
    samples = first_job.measure(runs, checkouts)
    raw["first_job"] = samples
    ours = first_job.medians_ms(samples["this checkout"])
    return Row(
        mode="embedded",
        workload="first_job",
        title="first job of a fresh script, VendorProvider() to result",
        ours=ours["first_job"],
        reference=0.0,
        reference_name="",
        goal=Goal("ms", 300.0),
        unit="ms",
    )


def _sampler_run(sampler: Any, workload: Workload) -> Runner:
    return lambda: sampler.run(workload.pubs, shots=workload.shots).result()


def _estimator_run(estimator: Any, workload: Workload) -> Runner:
    return lambda: estimator.run(workload.pubs, precision=workload.precision).result()


def time_tiny_alone(variant: str, url: str, runs: int, sizes: Sizes) -> list[float]:
    """Seconds per tiny job of one variant, timed in a Python process of its own.

    As a user's script is: a millisecond job timed in this process would also pay for
    everything else it holds (the other emulator's threads, a large heap left by the
    workloads before, and Aer's OpenMP threads spinning after the in-process reference):
    6.6 to 8 ms here against 4.1 to 4.3 ms alone.
    """
    command = [sys.executable, str(Path(__file__).resolve()), "--tiny-variant", variant]
    command += ["--tiny-url", url, "--tiny-runs", str(runs)]
    if sizes == QUICK:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    samples: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return samples


def tiny_alone(variant: str, url: str, runs: int, sizes: Sizes) -> list[float]:
    """The tiny job of ``variant`` timed here (see :func:`time_tiny_alone`)."""
    workload = next(w for w in workloads(sizes) if w.kind == "tiny")
    if variant == "reference":
        run = _aer_tiny_run(workload)
    else:
        provider = VendorProvider(url=url) if variant == "loopback" else VendorProvider()
        run = _tiny_run(provider.get_backend(DEVICE), workload)
    return time_interleaved({variant: run}, runs, warmups=5)[variant]


def _tiny_run(backend: Any, workload: Workload) -> Runner:
    # Transpiled once, outside the timing: the row is the job's round trip.
    pass_manager = generate_preset_pass_manager(optimization_level=1, backend=backend)
    circuit = pass_manager.run(workload.pubs[0])
    return lambda: backend.run(circuit, shots=workload.shots).result()


def _aer_tiny_run(workload: Workload) -> Runner:
    simulator = AerSimulator()
    circuit = workload.pubs[0]
    return lambda: simulator.run(circuit, shots=workload.shots).result()


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.4f}"


def print_table(rows: list[Row], extras: dict[str, float], figures: dict[str, Any]) -> None:
    print()
    print("| mode | workload | ours | reference | ratio | goal | result |")
    print("|---|---|---:|---|---:|---|---|")
    for row in rows:
        if not row.reference:
            print(
                f"| {MODE_TITLES[row.mode]} | {row.title} | {row.ours:.0f} ms median | — | — "
                f"| {row.goal.text()} | {'PASS' if row.passed else 'FAIL'} |"
            )
            continue
        if row.unit == "ms":
            ours = f"{row.ours:.1f} ms median"
            reference = f"{row.reference:.2f} ms ({row.reference_name})"
        else:
            ours = f"{_seconds(row.ours)} s"
            reference = f"{_seconds(row.reference)} s ({row.reference_name})"
        print(
            f"| {MODE_TITLES[row.mode]} | {row.title} | {ours} | {reference} | "
            f"{row.ratio:.2f}× | {row.goal.text()} | {'PASS' if row.passed else 'FAIL'} |"
        )
    for name, seconds in extras.items():
        print(f"(not judged) {name}: {seconds:.3f} s")
    for name, samples in figures["samples"].get("first_job", {}).items():
        medians = first_job.medians_ms(samples)
        print(
            f"(not judged) fresh scripts, {name}: import qiskit_vendor_provider "
            f"{medians['import']:.0f} ms, VendorProvider() {medians['provider']:.0f} ms, "
            f"first job from VendorProvider() {medians['first_job']:.0f} ms"
        )
    print(
        f"(median of {figures['repeat']} interleaved runs after a warm-up; tiny job: median "
        f"of {figures['tiny_runs']} after 5 warm-ups, each variant in a process of its own; "
        f"{figures['cpus']} CPUs; 1-minute load average {figures['load_before']:.2f} "
        f"before, {figures['load_after']:.2f} after)"
    )


# --------------------------------------------------------------------------- profile


_SERVER_SIDE: ContextVar[bool] = ContextVar("server_side", default=False)
"""True while the emulator app handles a request: time charged then is the server's."""


class Seams:
    """Timers around the package's own functions, attributed per thread, exclusive.

    :meth:`wrap` replaces ``owner.attribute`` (a module global or a class attribute, where
    the caller looks it up at call time) with a timed version under ``label``. A timed
    call's time is charged to its label minus the time of timed calls inside it, so the
    labels of one thread never overlap and add up to at most that thread's wall time.
    Time spent handling a request of :class:`TimedAsgi` (in whatever thread the app runs
    it) is the server's; any other is the client's.
    :meth:`restore` puts the originals back. A seam whose attribute no longer exists (the
    code moved) is reported in :attr:`missing` instead of failing.
    """

    def __init__(self) -> None:
        self.client: dict[str, float] = defaultdict(float)
        self.server: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.missing: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._originals: list[tuple[Any, str, Any]] = []

    def _charge(self, label: str, seconds: float) -> None:
        side = self.server if _SERVER_SIDE.get() else self.client
        with self._lock:
            side[label] += seconds
            self.calls[label] += 1

    def wrap(self, owner: Any, attribute: str, label: str | Callable[..., str]) -> None:
        original = owner.__dict__.get(attribute) if isinstance(owner, type) else None
        function = getattr(owner, attribute, None)
        if function is None:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{attribute}")
            return
        is_static = isinstance(original, staticmethod)
        is_class = isinstance(original, classmethod)
        if is_class or is_static:
            function = original.__func__  # type: ignore[union-attr]
        seams = self

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack: list[float] = seams._local.__dict__.setdefault("stack", [])
            name = label(*args, **kwargs) if callable(label) else label
            stack.append(0.0)  # time of timed calls inside this one
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                inner = stack.pop()
                seams._charge(name, elapsed - inner)
                if stack:
                    stack[-1] += elapsed

        replacement: Any = timed
        if is_class:
            replacement = classmethod(timed)
        elif is_static:
            replacement = staticmethod(timed)
        self._originals.append(
            (owner, attribute, original if original is not None else getattr(owner, attribute))
        )
        setattr(owner, attribute, replacement)

    def wrap_async(self, owner: Any, attribute: str, label: str) -> None:
        """An ``async def`` seam: its whole time (awaits included) is charged, not nested."""
        function = getattr(owner, attribute, None)
        if function is None:
            self.missing.append(f"{getattr(owner, '__name__', owner)}.{attribute}")
            return
        seams = self

        @functools.wraps(function)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                seams._charge(label, time.perf_counter() - started)

        self._originals.append((owner, attribute, function))
        setattr(owner, attribute, timed)

    def restore(self) -> None:
        for owner, attribute, original in reversed(self._originals):
            setattr(owner, attribute, original)
        self._originals.clear()

    def reset(self) -> None:
        with self._lock:
            self.client.clear()
            self.server.clear()
            self.calls.clear()


class TimedAsgi:
    """The emulator app, with each request's handling time charged to its route.

    From the app's call to its last byte of response: work after that (background tasks)
    is not in the client's wait for the answer.
    """

    def __init__(self, app: Any, seams: Seams) -> None:
        self.app = app
        self._seams = seams

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered: list[float] = []

        async def timed_send(message: Any) -> None:
            await send(message)
            if message.get("type") == "http.response.body" and not message.get("more_body"):
                answered.append(time.perf_counter())

        # Copied into the threads the app runs its handlers in (anyio copies the context).
        token = _SERVER_SIDE.set(True)
        try:
            await self.app(scope, receive, timed_send)
        finally:
            ended = answered[0] if answered else time.perf_counter()
            label = "server handling: " + route_label(
                scope.get("method", ""), scope.get("path", "")
            )
            self._seams._charge(label, ended - started)
            _SERVER_SIDE.reset(token)


def route_label(method: str, path: str) -> str:
    """``POST /v1/jobs``, ``GET /v1/jobs/{id}`` (a poll) or ``GET /v1/jobs/{id}/result``."""
    parts = path.split("?", maxsplit=1)[0].strip("/").split("/")
    if len(parts) >= 3 and parts[1] == "jobs":
        parts[2] = "{id}"
    return f"{method} /{'/'.join(parts)}"


def _send_label(request: Any, **kwargs: Any) -> str:
    from urllib.parse import urlsplit  # noqa: PLC0415

    return "HTTP: " + route_label(request.method or "", urlsplit(request.url or "").path)


def install_client_seams(seams: Seams, provider: VendorProvider) -> None:
    """Timers around the client functions the distinct workload goes through.

    Module globals are wrapped where the caller looks them up (``backend.circuit_to_wire``,
    not ``serialization.circuit_to_wire``), so each call is attributed to its caller.
    """
    import qiskit_vendor_provider.api.client as client_module  # noqa: PLC0415
    import qiskit_vendor_provider.api.wire as wire_module  # noqa: PLC0415
    import qiskit_vendor_provider.backend as backend_module  # noqa: PLC0415
    import qiskit_vendor_provider.job as job_module  # noqa: PLC0415
    import qiskit_vendor_provider.primitives.packing as packing_module  # noqa: PLC0415
    import qiskit_vendor_provider.primitives.preparation as preparation_module  # noqa: PLC0415
    import qiskit_vendor_provider.primitives.sampler as sampler_module  # noqa: PLC0415
    import qiskit_vendor_provider.rules as rules_module  # noqa: PLC0415

    # Client: primitive planning (ISA check, packing, which sizes each program).
    seams.wrap(VendorSampler, "_plan", "client plan: VendorSampler._plan (rest)")
    seams.wrap(preparation_module, "validate_circuit", "client validate: ISA check (primitive)")
    seams.wrap(packing_module, "circuit_to_wire", "client encode: circuit_to_wire (packing)")
    seams.wrap(wire_module, "program_size", "client encode: exact sizes (packing)")
    # Client: backend.run.
    seams.wrap(backend_module, "validate_circuit", "client validate: validate_circuit (run)")
    seams.wrap(backend_module, "circuit_to_wire", "client encode: circuit_to_wire (run)")
    seams.wrap(backend_module.VendorBackend, "_submission", "client encode: JobSubmission model")
    seams.wrap(wire_module, "encode_submission", "client encode: JSON body")
    seams.wrap(rules_module, "check", "client validate: rule book (run)")
    seams.wrap(
        backend_module.VendorBackend, "_journalled_post", "client journal: record submission"
    )
    # Client: HTTP (the whole round trip, server time included) and decoding.
    seams.wrap(provider.client.session, "send", _send_label)
    seams.wrap(client_module, "_decode_json", "client decode: JSON text → objects")
    seams.wrap(client_module.ApiClient, "_model", "client decode: pydantic models")
    seams.wrap(job_module, "to_qiskit_result", "client decode: wire result → qiskit Result")
    seams.wrap(sampler_module, "unpack_registers", "client decode: samples → BitArray")
    seams.wrap(time, "sleep", "wait: time.sleep (between polls)")


def install_server_seams(seams: Seams) -> None:
    """Timers around the server functions; before the app is made, which resolves them."""
    import qiskit_vendor_provider.emulator.app as app_module  # noqa: PLC0415
    import qiskit_vendor_provider.emulator.program_rules as rules_module  # noqa: PLC0415
    import qiskit_vendor_provider.emulator.service as service_module  # noqa: PLC0415

    seams.wrap(app_module.wire, "decode_submission", "server decode: body → JobSubmission")
    seams.wrap(service_module, "check_programs", "server validate: program rules (rest)")
    seams.wrap(rules_module, "wire_to_circuit", "server decode: wire_to_circuit")
    seams.wrap(rules_module, "validate_circuit", "server validate: validate_circuit")
    seams.wrap(rules_module, "columns_problem", "server validate: columns (natives, coupling)")
    seams.wrap(service_module.Emulator, "_store_new", "server store: job → SQLite")
    seams.wrap_async(app_module, "_held", "server: waiting for the job (?wait=)")
    seams.wrap(service_module.Emulator, "job", "server: job status")
    seams.wrap(service_module.Emulator, "job_with_result", "server: result from SQLite")
    seams.wrap(service_module.Emulator, "result_json", "server: result from SQLite")


def replay_worker(emulator: Any, job_ids: list[str], repeat: int) -> dict[str, float]:
    """The simulator process's work on these stored jobs, redone here with timers, per run.

    Same functions as ``worker_process._run``: parse the stored submission, rebuild each
    program as a circuit, simulate, compute the device-time charge, write the result JSON.
    """
    from qiskit_vendor_provider.api import wire  # noqa: PLC0415
    from qiskit_vendor_provider.api.models import JobResult  # noqa: PLC0415
    from qiskit_vendor_provider.device_time import submission_device_time  # noqa: PLC0415
    from qiskit_vendor_provider.emulator import simulation  # noqa: PLC0415

    runner = simulation.JobRunner()
    records = [emulator.store.get(job_id) for job_id in job_ids]
    totals: dict[str, float] = defaultdict(float)
    for run in range(repeat + 1):  # the first builds the device's noise and Target: warm-up
        seams = Seams()
        seams.wrap(simulation, "wire_to_circuit", "worker decode: wire_to_circuit")
        seams.wrap(simulation, "simulate", "worker simulate: Aer (and result rows)")
        try:
            for record in records:
                spec = emulator.catalog.spec(record.device)
                started = time.perf_counter()
                submission = wire.decode_submission(record.submission)
                parsed = time.perf_counter()
                # As worker_process._run: the circuits are read once, for both uses.
                circuits = runner.circuits(submission, spec)
                programs, elapsed = runner.run(submission, spec, circuits)
                ran = time.perf_counter()
                submission_device_time(submission, spec, runner.target(spec), circuits)
                charged = time.perf_counter()
                JobResult(
                    job_id=record.job_id,
                    device=spec.name,
                    status="DONE",
                    success=True,
                    results=programs,
                    time_taken=elapsed,
                ).model_dump_json()
                written = time.perf_counter()
                if run:
                    totals["worker decode: JSON → JobSubmission"] += parsed - started
                    totals["worker: device-time charge"] += charged - ran
                    totals["worker encode: result JSON"] += written - charged
        finally:
            seams.restore()
        if run:
            for label, seconds in seams.client.items():
                totals[label] += seconds
    return {label: seconds / repeat for label, seconds in totals.items()}


def measure_profile(sizes: Sizes, repeat: int, scratch: Path) -> dict[str, Any]:
    """Where the distinct workload's time goes, over loopback HTTP to an in-thread server."""
    import qiskit_vendor_provider.emulator.server as server_module  # noqa: PLC0415
    from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig  # noqa: PLC0415

    workload = next(w for w in workloads(sizes) if w.key == "distinct")
    seams = Seams()
    # EmulatorServer builds its app with the module's create_app: the seam for the timer
    # of each request's handling.
    real_create_app = vars(server_module)["create_app"]

    def timed_app(emulator: Any) -> Any:
        return TimedAsgi(real_create_app(emulator), seams)

    setattr(server_module, "create_app", timed_app)  # noqa: B010 - a seam, on purpose
    emulator = Emulator(EmulatorConfig(database=scratch / "profile.sqlite3"))
    try:
        install_server_seams(seams)
        with server_module.EmulatorServer(emulator) as server:
            provider = VendorProvider(url=server.url)
            install_client_seams(seams, provider)
            job_ids = JobIds(provider)
            backend = provider.get_backend(DEVICE)
            sampler = VendorSampler(backend=backend, options={"seed_simulator": SEED})
            sampler.run(workload.pubs, shots=workload.shots).result()  # warm-up
            job_ids.ids.clear()
            seams.reset()
            walls = []
            for _ in range(repeat):
                started = time.perf_counter()
                sampler.run(workload.pubs, shots=workload.shots).result()
                walls.append(time.perf_counter() - started)
            seams.restore()
            records = [r for r in map(emulator.store.get, job_ids.ids) if r is not None]
            moments = [(r.created_at, r.started_at or 0.0, r.ended_at or 0.0) for r in records]
            queued = sum(started - created for created, started, _ in moments) / repeat
            claimed = sum(ended - started for _, started, ended in moments) / repeat
            replay = replay_worker(emulator, job_ids.ids[: len(records) // repeat], 1)
    finally:
        seams.restore()
        setattr(server_module, "create_app", real_create_app)  # noqa: B010
    return {
        "workload": workload.title,
        "repeat": repeat,
        "jobs_per_run": len(records) / repeat,
        "wall": statistics.mean(walls),
        "walls": walls,
        "client": {k: v / repeat for k, v in seams.client.items()},
        "server": {k: v / repeat for k, v in seams.server.items()},
        "calls": {k: v / repeat for k, v in seams.calls.items()},
        "worker": {"queued (created → claimed)": queued, "claimed → finished": claimed},
        "worker_replay": replay,
        "missing_seams": seams.missing,
    }


class JobIds:
    """The ids of the jobs a provider submits, from the answers to its POST /v1/jobs."""

    def __init__(self, provider: VendorProvider) -> None:
        self.ids: list[str] = []
        provider.client.session.hooks["response"].append(self._record)

    def _record(self, response: Any, *args: Any, **kwargs: Any) -> None:
        from urllib.parse import urlsplit  # noqa: PLC0415

        request = response.request
        if request.method == "POST" and urlsplit(request.url or "").path.endswith("/v1/jobs"):
            self.ids.append(response.json()["job_id"])


def _sum(figures: dict[str, float], prefix: str) -> float:
    return sum(seconds for label, seconds in figures.items() if label.startswith(prefix))


def profile_summary(profile: dict[str, Any]) -> dict[str, float]:
    """The profile in the issue's categories, seconds per run, adding up to the wall time.

    HTTP is the client's time sending the submissions and fetching the results less the
    server's handling of those requests: loopback transport, uvicorn, routing and both
    sides' HTTP code. Waiting is the status polls and the result request's wait for the
    job (both long polls, held by the server until the job ends) and any sleeps between
    them; the simulator process's time (claim to finish) falls within it and is given
    apart, not added.
    """
    client, server = profile["client"], profile["server"]
    exchanged = ("POST /v1/jobs", "GET /v1/jobs/{id}/result")
    handled = sum(server.get(f"server handling: {route}", 0.0) for route in exchanged)
    sent = sum(client.get(f"HTTP: {route}", 0.0) for route in exchanged)
    # The result request first waits for the job (?wait=): that part is waiting.
    held = min(
        server.get("server: waiting for the job (result ?wait=)", 0.0),
        server.get("server handling: GET /v1/jobs/{id}/result", 0.0),
    )
    handled -= held
    sent -= held
    server_decode = _sum(server, "server decode")
    server_validate = _sum(server, "server validate")
    summary = {
        "client encode (circuit → wire, JSON body)": _sum(client, "client encode"),
        "client validate (ISA check, run() check)": _sum(client, "client validate"),
        "HTTP (submit + result: client send − server handling)": sent - handled,
        "server decode (body → JobSubmission, wire → circuit)": server_decode,
        "server validate (program rules, validate_circuit)": server_validate,
        "server other (SQLite store, result read, routing)": handled
        - server_decode
        - server_validate,
        "waiting for the jobs (long polls, sleeps)": client.get("HTTP: GET /v1/jobs/{id}", 0.0)
        + held
        + _sum(client, "wait:"),
        "result decode (JSON, models, Result, samples)": _sum(client, "client decode"),
    }
    summary["client other (planning, journal, primitive glue)"] = profile["wall"] - sum(
        summary.values()
    )
    return summary


def _line(label: str, seconds: float, wall: float | None = None, calls: float | None = None) -> str:
    share = "" if wall is None else f"{100 * seconds / wall:5.1f}"
    count = "" if calls is None else f"{calls:6.0f}"
    return f"    {label:<60} {seconds:7.3f} {share:>5} {count:>6}"


def print_profile(profile: dict[str, Any]) -> None:
    wall = profile["wall"]
    calls = profile["calls"]
    print()
    print(f"profile: {profile['workload']}, loopback HTTP")
    print(
        "  server: the emulator app served by uvicorn in a thread of THIS process "
        "(EmulatorServer), so its timers are seen; simulations in its simulator process"
    )
    print(
        f"  mean of {profile['repeat']} runs after a warm-up: {wall:.3f} s per run, "
        f"{profile['jobs_per_run']:g} job(s) per run"
    )
    header = f"  {{:<62}} {'s/run':>7} {'%':>5} {'calls':>6}"
    print()
    print(header.format("client thread (exclusive times)"))
    by_time = sorted(profile["client"].items(), key=lambda item: -item[1])
    for label, seconds in by_time:
        print(_line(label, seconds, wall, calls[label]))
    print(
        _line(
            "client, no seam (transpile check, primitive glue)",
            wall - sum(profile["client"].values()),
            wall,
        )
    )
    print()
    print(header.format("server threads (inside the client's HTTP calls)"))
    for label, seconds in sorted(profile["server"].items(), key=lambda item: -item[1]):
        print(_line(label, seconds, wall, calls[label]))
    print()
    print(header.format("simulator process (job store timestamps)"))
    for label, seconds in profile["worker"].items():
        print(_line(label, seconds, wall))
    print("  the same jobs replayed in this process through the worker's functions:")
    for label, seconds in sorted(profile["worker_replay"].items(), key=lambda item: -item[1]):
        print(_line(label, seconds, wall))
    print()
    print(header.format("summary (issue 13 categories; adds up to the wall time)"))
    for label, seconds in profile_summary(profile).items():
        print(_line(label, seconds, wall))
    simulate = profile["worker"]["claimed → finished"]
    print(_line("  of the waiting: simulate (simulator process)", simulate, wall))
    if profile["missing_seams"]:
        print(f"  not measured (code moved): {', '.join(profile['missing_seams'])}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant (median)")
    parser.add_argument("--tiny-runs", type=int, default=50, help="timed tiny jobs (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the table, where the distinct workload's time goes over loopback",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and one run each: a smoke test"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--first-runs", type=int, default=5, help="fresh scripts timed for the first job"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another checkout whose first-job figures to show too"
    )
    # How the table times the tiny job in a process of its own (see time_tiny_alone).
    parser.add_argument("--tiny-variant", choices=(*MODES, "reference"), help=argparse.SUPPRESS)
    parser.add_argument("--tiny-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeat, tiny_runs = (1, 3) if args.quick else (args.repeat, args.tiny_runs)
    if args.tiny_variant:
        print(json.dumps(tiny_alone(args.tiny_variant, args.tiny_url, args.tiny_runs, sizes)))
        return 0

    figures: dict[str, Any] = {
        "sizes": dataclasses.asdict(sizes),
        "repeat": repeat,
        "tiny_runs": tiny_runs,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    failed = False
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        # The embedded emulator's jobs and the journal in scratch files, not the user's.
        os.environ["QISKIT_VENDOR_EMULATOR_DB"] = str(scratch / "embedded.sqlite3")
        os.environ["QISKIT_VENDOR_JOURNAL"] = str(scratch / "journal.sqlite3")
        if args.profile:
            figures["profile"] = measure_profile(sizes, repeat, scratch)
            figures["profile"]["summary"] = profile_summary(figures["profile"])
            figures["load_after"] = os.getloadavg()[0]
            print_profile(figures["profile"])
            print(
                f"  ({figures['cpus']} CPUs; 1-minute load average {figures['load_before']:.2f} "
                f"before, {figures['load_after']:.2f} after)"
            )
        else:
            first_runs = 1 if args.quick else args.first_runs
            rows, raw = measure_table(sizes, repeat, tiny_runs, scratch, first_runs, args.baseline)
            aer_estimator = statistics.median(raw["estimator"]["Aer EstimatorV2"])
            extras = {"Aer EstimatorV2 (exact values + noise), estimator workload": aer_estimator}
            figures["load_after"] = os.getloadavg()[0]
            figures["rows"] = [row.as_dict() for row in rows]
            figures["extras"] = extras
            figures["samples"] = raw
            print_table(rows, extras, figures)
            failed = not all(row.passed for row in rows)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
