"""Session priority under competing load: one iterative client against 3 flooding ones.

    python benchmarks/sessions.py [--jobs 15] [--job-seconds 0.1] [--think 0.05]
                                  [--flooders 3] [--outstanding 4] [--json figures.json]

An emulator server runs on 127.0.0.1 in this process, with one simulator process and one
device (``ideal_simulator``). Every job sleeps ``--job-seconds`` in its simulator process
before it runs (the emulator's ``sleep=`` worker fault), so the device, not the client,
is the bottleneck, as on hardware. ``--flooders`` client threads each keep
``--outstanding`` jobs queued on the device all the time. The iterative client submits a
job, waits for its result, thinks for ``--think`` seconds, and submits the next, as a
VQE loop does: ``--jobs`` times without a session, then ``--jobs`` times in a
``Session``. For each phase it prints the iterative client's queue wait (a job's
``started_at - created_at``, by the server's clock) at p50, p99 and max, the phase's
length, and the flooders' throughput (their jobs finished per second in that phase).

This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from qiskit import QuantumCircuit

from qiskit_vendor_provider import Session, VendorProvider
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.job import VendorJob

DEVICE = "ideal_simulator"
SLOW = "slow-job"


def circuit() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Flooder(threading.Thread):
    """Keeps ``outstanding`` jobs on the device until told to stop; counts finished ones."""

    def __init__(self, url: str, outstanding: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.provider = VendorProvider(url=url, journal=False, poll_interval=(0.01, 0.1))
        self.outstanding = outstanding
        self.stop_event = stop
        self.finished: list[float] = []  # when each of its jobs was seen done

    def run(self) -> None:
        backend = self.provider.get_backend(DEVICE)
        queue: deque[VendorJob] = deque()
        while not self.stop_event.is_set():
            while len(queue) < self.outstanding:
                queue.append(backend.run(circuit(), shots=10, job_name=SLOW))
            queue.popleft().result()
            self.finished.append(time.monotonic())
        for job in queue:
            job.cancel()


def iterate(
    provider: VendorProvider, jobs: int, think: float, session: Session | None
) -> list[float]:
    """Run the iterative client; each job's queue wait in seconds."""
    backend = provider.get_backend(DEVICE)
    waits = []
    for _ in range(jobs):
        if session is None:
            job = backend.run(circuit(), shots=10, job_name=SLOW)
        else:
            job = session.run(circuit(), shots=10, job_name=SLOW)
        job.result()
        info = job.refresh()
        assert info.started_at is not None
        waits.append((info.started_at - info.created_at).total_seconds())
        time.sleep(think)
    return waits


def phase(
    name: str, provider: VendorProvider, flooders: list[Flooder], args: argparse.Namespace
) -> dict[str, Any]:
    start = time.monotonic()
    if name == "session":
        with Session(backend=provider.get_backend(DEVICE), max_idle=5.0) as session:
            waits = iterate(provider, args.jobs, args.think, session)
    else:
        waits = iterate(provider, args.jobs, args.think, None)
    end = time.monotonic()
    others = sum(start <= t < end for f in flooders for t in f.finished)
    return {
        "phase": name,
        "wait_p50_s": round(statistics.median(waits), 3),
        "wait_p99_s": round(percentile(waits, 0.99), 3),
        "wait_max_s": round(max(waits), 3),
        "phase_s": round(end - start, 2),
        "others_jobs_per_s": round(others / (end - start), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=15)
    parser.add_argument("--job-seconds", type=float, default=0.1)
    parser.add_argument("--think", type=float, default=0.05)
    parser.add_argument("--flooders", type=int, default=3)
    parser.add_argument("--outstanding", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        config = EmulatorConfig(
            database=Path(directory) / "jobs.sqlite3",
            poll_interval=0.05,
            workers=1,
            worker_faults={SLOW: f"sleep={args.job_seconds}"},
        )
        with EmulatorServer(Emulator(config)) as server:
            stop = threading.Event()
            flooders = [Flooder(server.url, args.outstanding, stop) for _ in range(args.flooders)]
            for flooder in flooders:
                flooder.start()
            provider = VendorProvider(url=server.url, journal=False, poll_interval=(0.01, 0.1))
            time.sleep(2.0)  # the queue fills up and the simulator process is warm
            rows = [phase(name, provider, flooders, args) for name in ("no session", "session")]
            stop.set()
            for flooder in flooders:
                flooder.join(60)
    print(
        f"{args.flooders} flooding clients x {args.outstanding} queued jobs; "
        f"{args.jobs} iterative jobs per phase; {args.job_seconds} s per job; "
        f"{args.think} s between iterations"
    )
    print(
        f"{'phase':<12}{'wait p50':>10}{'wait p99':>10}{'wait max':>10}{'phase':>9}{'others/s':>10}"
    )
    for row in rows:
        print(
            f"{row['phase']:<12}{row['wait_p50_s']:>9.3f}s{row['wait_p99_s']:>9.3f}s"
            f"{row['wait_max_s']:>9.3f}s{row['phase_s']:>8.1f}s{row['others_jobs_per_s']:>10.2f}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps({"arguments": vars(args) | {"json": None}, "rows": rows}))


if __name__ == "__main__":
    main()
