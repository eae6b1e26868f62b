"""Benchmark of the vendor primitives against Qiskit's generic wrappers and Aer's own.

    python benchmarks/primitives.py [--repeat 3] [--json figures.json]

Times, in one run and on the same workloads:

* ``VendorSampler``/``VendorEstimator`` through real HTTP to a local emulator server
  (``python -m qiskit_vendor_provider.emulator`` in a separate process, as a user would
  run it);
* the same primitives on the emulator embedded in this process (``VendorProvider()``);
* Qiskit's ``BackendSamplerV2``/``BackendEstimatorV2`` on the same embedded backend;
* ``qiskit_aer.primitives.SamplerV2``/``EstimatorV2`` (the reference of each ratio).

Workloads (device ``ideal_simulator``, so that Aer's noiseless primitives do the same work):

* sweep: one 8-qubit, 2-layer parametrized circuit with 1,000 parameter sets, 100 shots;
* distinct: 200 different 5-qubit circuits, 1,000 shots;
* estimator: a 20-term Hamiltonian on 6 qubits, 100 parameter sets, precision 1/64.

Each time is the median of ``--repeat`` runs after one warm-up run. It also prints the
request bytes of the sweep with 1 and with 1,000 parameter sets.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import requests
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer.primitives import EstimatorV2 as AerEstimatorV2
from qiskit_aer.primitives import SamplerV2 as AerSamplerV2

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler

DEVICE = "ideal_simulator"
SEED = 1234
PRECISION = 1 / 64


def layered_circuit(num_qubits: int, layers: int, measure: bool = True) -> QuantumCircuit:
    """ry/rz on every qubit, then a cx ladder, per layer: 4 * num_qubits angles for 2 layers."""
    angles = ParameterVector("t", 2 * num_qubits * layers)
    circuit = QuantumCircuit(num_qubits, name=f"layered-{num_qubits}q")
    it = iter(angles)
    for _ in range(layers):
        for qubit in range(num_qubits):
            circuit.ry(next(it), qubit)
            circuit.rz(next(it), qubit)
        for qubit in range(num_qubits - 1):
            circuit.cx(qubit, qubit + 1)
    if measure:
        circuit.measure_all()
    return circuit


def random_hamiltonian(num_qubits: int, terms: int, rng: np.random.Generator) -> SparsePauliOp:
    labels: set[str] = set()
    while len(labels) < terms:
        labels.add("".join(rng.choice(list("IXYZ"), size=num_qubits)))
    return SparsePauliOp(sorted(labels), coeffs=rng.normal(size=terms))


@dataclass
class Workload:
    name: str
    kind: str  # "sampler" or "estimator"
    pubs: list[Any]
    shots: int | None = None


def workloads() -> list[Workload]:
    rng = np.random.default_rng(SEED)
    sweep = layered_circuit(8, 2)
    sweep_values = rng.uniform(0, 2 * np.pi, (1000, sweep.num_parameters))
    five = layered_circuit(5, 2)
    distinct = []
    for index in range(200):
        circuit = five.assign_parameters(rng.uniform(0, 2 * np.pi, five.num_parameters))
        circuit.name = f"distinct-{index}"
        distinct.append(circuit)
    ansatz = layered_circuit(6, 2, measure=False)
    hamiltonian = random_hamiltonian(6, 20, rng)
    estimator_values = rng.uniform(0, 2 * np.pi, (100, ansatz.num_parameters))
    return [
        Workload(
            "sweep: 8q x 2 layers, 1000 bindings, 100 shots",
            "sampler",
            [(sweep, sweep_values)],
            100,
        ),
        Workload("distinct: 200 circuits of 5q, 1000 shots", "sampler", distinct, 1000),
        Workload(
            "estimator: 20 terms on 6q, 100 bindings, precision 1/64",
            "estimator",
            [(ansatz, hamiltonian, estimator_values)],
        ),
    ]


# --------------------------------------------------------------------------- servers


@contextmanager
def emulator_process(database: Path) -> Iterator[str]:
    """``python -m qiskit_vendor_provider.emulator`` on a free loopback port; yields its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "qiskit_vendor_provider.emulator",
            "--port",
            "0",
            "--database",
            str(database),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if match is None:
            raise RuntimeError(f"the emulator did not say where it serves: {line!r}")
        url = match.group(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{url}/v1/devices", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator at {url} did not answer")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


# --------------------------------------------------------------------------- timing


def time_variants(variants: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds per run of each variant, the variants interleaved run by run.

    Interleaving spreads any load from other processes over all variants alike instead
    of charging it to whichever ran at the time.
    """
    for run in variants.values():
        run()  # warm-up: imports, simulators, connection pools
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, run in variants.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return samples


def sampler_runner(sampler: Any, workload: Workload) -> Callable[[], object]:
    return lambda: sampler.run(workload.pubs, shots=workload.shots).result()


def estimator_runner(estimator: Any, workload: Workload) -> Callable[[], object]:
    return lambda: estimator.run(workload.pubs, precision=PRECISION).result()


class RequestBytes:
    """Records the body size of every job submission a provider sends."""

    def __init__(self, provider: Any) -> None:
        self.sizes: list[int] = []
        provider.client.session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        if request.method == "POST" and (request.url or "").endswith("/v1/jobs"):
            self.sizes.append(len(request.body or b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per variant (median)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    figures: dict[str, Any] = {
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "workloads": {},
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["QISKIT_VENDOR_EMULATOR_DB"] = str(Path(scratch) / "embedded.sqlite3")
        embedded = VendorProvider().get_backend(DEVICE)
        with emulator_process(Path(scratch) / "server.sqlite3") as url:
            remote_provider = VendorProvider(url=url)
            remote = remote_provider.get_backend(DEVICE)
            options = {"seed_simulator": SEED}
            for workload in workloads():
                if workload.kind == "sampler":
                    variants = {
                        "VendorSampler, HTTP": sampler_runner(
                            VendorSampler(backend=remote, options=options), workload
                        ),
                        "VendorSampler, in-process": sampler_runner(
                            VendorSampler(backend=embedded, options=options), workload
                        ),
                        "BackendSamplerV2, in-process": sampler_runner(
                            BackendSamplerV2(backend=embedded, options=options), workload
                        ),
                        "Aer SamplerV2": sampler_runner(AerSamplerV2(seed=SEED), workload),
                    }
                else:
                    variants = {
                        "VendorEstimator, HTTP": estimator_runner(
                            VendorEstimator(backend=remote, options=options), workload
                        ),
                        "VendorEstimator, in-process": estimator_runner(
                            VendorEstimator(backend=embedded, options=options), workload
                        ),
                        "BackendEstimatorV2, in-process": estimator_runner(
                            BackendEstimatorV2(backend=embedded, options=options), workload
                        ),
                        "Aer EstimatorV2": estimator_runner(
                            AerEstimatorV2(options={"run_options": {"seed_simulator": SEED}}),
                            workload,
                        ),
                    }
                samples = time_variants(variants, args.repeat)
                figures["workloads"][workload.name] = {
                    name: statistics.median(runs) for name, runs in samples.items()
                }
                figures["runs"][workload.name] = samples
                print(f"  ... {workload.name}: done", file=sys.stderr, flush=True)
            figures["request_bytes"] = request_bytes(remote_provider, remote)
    figures["load_after"] = os.getloadavg()[0]

    print_table(figures)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def request_bytes(remote_provider: Any, remote: Any) -> dict[str, int]:
    """Submission bytes of the sweep with 1 and 1,000 bindings, and the generic wrapper's."""
    sweep = layered_circuit(8, 2)
    values = np.random.default_rng(SEED).uniform(0, 2 * np.pi, (1000, sweep.num_parameters))
    recorder = RequestBytes(remote_provider)
    sampler = VendorSampler(backend=remote)
    sampler.run([(sweep, values[:1])], shots=100).result()
    sampler.run([(sweep, values)], shots=100).result()
    generic = RequestBytes(remote_provider)
    BackendSamplerV2(backend=remote).run([(sweep, values)], shots=100).result()
    return {
        "sweep_1_binding": recorder.sizes[0],
        "sweep_1000_bindings": recorder.sizes[1],
        "values_1000_bindings": len(json.dumps(values.tolist(), separators=(",", ":"))),
        "backend_sampler_v2_1000_bindings": sum(generic.sizes),
    }


def print_table(figures: dict[str, Any]) -> None:
    print()
    print(f"{'workload / variant':<58} {'time [s]':>9} {'vs Aer':>8}")
    print("-" * 77)
    for workload, times in figures["workloads"].items():
        aer = next(value for name, value in times.items() if name.startswith("Aer"))
        print(workload)
        for variant, seconds in times.items():
            print(f"  {variant:<56} {seconds:>9.3f} {seconds / aer:>7.2f}x")
    sizes = figures["request_bytes"]
    per_binding = (sizes["sweep_1000_bindings"] - sizes["sweep_1_binding"]) / 999
    print()
    print("request bytes, sweep of 8q x 2 layers (32 parameters):")
    print(f"  VendorSampler, 1 binding          {sizes['sweep_1_binding']:>12,}")
    print(f"  VendorSampler, 1000 bindings      {sizes['sweep_1000_bindings']:>12,}")
    print(f"    of which the 1000 rows of values {sizes['values_1000_bindings']:>11,}")
    print(f"    bytes per extra binding         {per_binding:>12,.0f}")
    print(f"  BackendSamplerV2, 1000 bindings   {sizes['backend_sampler_v2_1000_bindings']:>12,}")
    print(
        f"(median of {figures['repeat']} interleaved runs after a warm-up; {figures['cpus']} "
        f"CPUs; 1-minute load average {figures['load_before']:.2f} before, "
        f"{figures['load_after']:.2f} after)"
    )


if __name__ == "__main__":
    main()
