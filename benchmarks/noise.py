"""Benchmark of the emulator's noisy simulation against ``AerSimulator.from_backend``.

    python benchmarks/noise.py [--repeat 5] [--circuits 20] [--shots 4000]

Times, in one process and on the same 20 ISA circuits (GHZ-5 on ``superconducting_27q``,
each on a different layout so the job touches several parts of the chip):

* the emulator's ``JobRunner.run`` (what a worker process does with a job): wire
  programs read back, lowered, scheduled ALAP with idle relaxation, a noise model of
  only the qubits used, one Aer run;
* ``AerSimulator.from_backend(backend).run(circuits)``: a user's own noisy simulation
  of the same circuits from our Target (built once, outside the timing, as a user
  would reuse it). It has no idle noise, so it does less work.

Each time is the median of ``--repeat`` runs after one warm-up run of each; the runs of
the variants take turns (one of each per round), so a load that comes and goes on a
shared machine weighs on all alike. The ratio is emulator / from_backend (target: at
most 1.0); check ``uptime`` before trusting it. The emulator's device has slow dephasing,
ZZ and coherent over-rotations, which ``from_backend`` cannot know of; it is also timed
with those at zero (``markovian(spec)``), and a 1,000-shot job of the same circuits with
and without them gives the cost of the grouped slow draw.

Last, the default ``VendorEstimator`` (resilience level 1: 32 twirled randomizations per
binding) on an 11-angle, 2-qubit sweep, with the randomizations sent as pooled blocks
(``row_block``: the slow draw is spread over a block's rows) and as rows that each draw
32 times (what a server before API 1.2 is sent).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import requests
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.models import JobSubmission
from qiskit_vendor_provider.api.versions import API_VERSION_HEADER
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.noise import markovian
from qiskit_vendor_provider.emulator.simulation import JobRunner
from qiskit_vendor_provider.primitives import VendorEstimator
from qiskit_vendor_provider.serialization import circuit_to_wire

DEVICE = "superconducting_27q"
# Chains of five coupled qubits on the heavy-hex lattice.
LAYOUTS = [
    [0, 1, 2, 3, 5],
    [1, 4, 7, 10, 12],
    [6, 7, 10, 12, 13],
    [8, 11, 14, 16, 19],
    [15, 18, 21, 23, 24],
    [19, 22, 25, 24, 23],
]


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for i in range(n - 1):
        circuit.cx(i, i + 1)
    circuit.measure_all()
    return circuit


def median_times(
    actions: dict[str, Callable[[], object]],
    repeat: int,
    cpu: dict[str, float] | None = None,
    fastest: dict[str, float] | None = None,
) -> dict[str, float]:
    """The median time of each action, the actions taking turns round by round.

    With ``cpu``, each action's median CPU time (all threads of the process) is put in
    it too: on a machine others load, it says more about the work than wall time. With
    ``fastest``, each action's fastest run: ``from_backend``'s runs of the same circuits
    fall in two modes in one process (about 290 and 460 ms on a quiet 2-CPU machine,
    Aer's two-thread state update either gaining or not), so a median alone says which
    mode was commoner, not how fast the reference can be.
    """
    for action in actions.values():
        action()  # warm-up: caches, imports
    times: dict[str, list[float]] = {name: [] for name in actions}
    cpu_times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            action()
            times[name].append(time.perf_counter() - started)
            cpu_times[name].append(time.process_time() - started_cpu)
    if cpu is not None:
        cpu.update({name: statistics.median(values) for name, values in cpu_times.items()})
    if fastest is not None:
        fastest.update({name: min(values) for name, values in times.items()})
    return {name: statistics.median(values) for name, values in times.items()}


class _OlderServer(InProcessTransport):
    """The embedded emulator, answering as a server of API 1.1 (which takes no blocks)."""

    def send(self, request: requests.PreparedRequest, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        response.headers[API_VERSION_HEADER] = "1.1"
        return response


def estimator_sweep(emulator: Emulator, *, pooled: bool) -> Callable[[], object]:
    """The default Estimator on an 11-angle sweep of a 2-qubit circuit, as one action."""
    app = create_app(emulator)
    transport = InProcessTransport(app) if pooled else _OlderServer(app)
    backend = VendorProvider(transport=transport).get_backend(DEVICE)
    estimator = VendorEstimator(backend=backend, options={"seed_estimator": 3})
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.rx(theta, 0)
    circuit.cx(0, 1)
    angles = np.linspace(0, np.pi, 11).reshape(-1, 1)
    observable = SparsePauliOp(["ZZ", "XX"])
    return lambda: estimator.run([(circuit, observable, angles)]).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--circuits", type=int, default=20)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument(
        "--no-estimator", action="store_true", help="skip the Estimator sweep (the last line)"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # Qiskit's duration rounding notices

    emulator = Emulator(EmulatorConfig(database=":memory:"))
    backend = VendorProvider(transport=InProcessTransport(create_app(emulator))).get_backend(DEVICE)
    spec = backend.spec
    circuits = [
        transpile(
            ghz(5),
            backend,
            initial_layout=LAYOUTS[i % len(LAYOUTS)],
            seed_transpiler=i,
            optimization_level=1,
        )
        for i in range(args.circuits)
    ]
    submission = JobSubmission(
        device=DEVICE,
        programs=[circuit_to_wire(c) for c in circuits],
        shots=args.shots,
        seed_simulator=1,
    )
    runner = JobRunner()
    simulator = AerSimulator.from_backend(backend)

    flat = markovian(spec)
    small = submission.model_copy(update={"shots": 1000})
    cpu: dict[str, float] = {}
    best: dict[str, float] = {}
    times = median_times(
        {
            "ours": lambda: runner.run(submission, spec),
            "ours_flat": lambda: runner.run(submission, flat),
            "theirs": lambda: simulator.run(circuits, shots=args.shots, seed_simulator=1).result(),
            "slow_on": lambda: runner.run(small, spec),
            "slow_off": lambda: runner.run(small, flat),
        },
        args.repeat,
        cpu,
        best,
    )
    ours, ours_flat, theirs = times["ours"], times["ours_flat"], times["theirs"]
    slow_on, slow_off = times["slow_on"], times["slow_off"]
    print(f"{args.circuits} x GHZ-5 on {DEVICE}, {args.shots} shots, median of {args.repeat}")
    print(f"  emulator JobRunner.run:          {ours * 1e3:8.1f} ms")
    print(f"  ... with the new figures at zero: {ours_flat * 1e3:7.1f} ms")
    print(f"  AerSimulator.from_backend().run: {theirs * 1e3:8.1f} ms")
    print(f"  ratio emulator / from_backend:   {ours / theirs:8.2f}  (target <= 1.0)")
    print(f"  ratio, new figures at zero:      {ours_flat / theirs:8.2f}")
    print(
        f"  fastest runs, emulator / from_backend: {best['ours'] * 1e3:.0f} / "
        f"{best['theirs'] * 1e3:.0f} ms (x{best['ours'] / best['theirs']:.2f})"
    )
    print(
        f"  CPU time, emulator / from_backend: {cpu['ours'] * 1e3:.0f} / {cpu['theirs'] * 1e3:.0f}"
        f" ms (x{cpu['ours'] / cpu['theirs']:.2f})"
    )
    print(
        f"1,000 shots, slow dephasing on / off: {slow_on * 1e3:.1f} / {slow_off * 1e3:.1f} ms"
        f" (x{slow_on / slow_off:.2f})"
    )
    if args.no_estimator:
        return
    running = Emulator(EmulatorConfig(database=":memory:", poll_interval=0.02)).start()
    try:
        sweep = median_times(
            {
                "pooled": estimator_sweep(running, pooled=True),
                "per_row": estimator_sweep(running, pooled=False),
            },
            max(1, args.repeat // 2),
        )
    finally:
        running.stop()
    print(
        "default Estimator, 11-angle 2-qubit sweep, randomizations pooled / each drawing: "
        f"{sweep['pooled'] * 1e3:.0f} / {sweep['per_row'] * 1e3:.0f} ms"
        f" (x{sweep['per_row'] / sweep['pooled']:.0f})"
    )


if __name__ == "__main__":
    main()
