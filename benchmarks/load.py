"""Load benchmark: N client threads x M jobs each against one emulator server over loopback.

    python benchmarks/load.py [--threads 8] [--jobs 50] [--shots 100] [--json figures.json]
                              [--workers N] [--devices ideal_simulator,superconducting_27q]
                              [--faults 'error_503=0.05,drop=0.05,paths=/v1/jobs']

The server is ``python -m qiskit_vendor_provider.emulator`` in its own process (as a user
runs it), on a fresh SQLite file, unless ``--url`` and ``--database`` name a running one.
Every thread has its own ``VendorProvider`` (so its own connection pool); each submits
its M jobs one after the other (timing each ``backend.run``), then waits for all of
them and checks every result. Jobs are 5-qubit basis-state circuits, transpiled for
their device, spread round-robin over ``--devices`` (each device runs one job at a time,
so ``--workers`` simulator processes run up to that many devices at once), with a
different shot count each, so a result given to the wrong job shows: on the ideal
device its counts are one known bitstring, on a noisy one they sum to its own shots.
Meanwhile a probe thread asks for a device's status every 20 ms and times the answers.

It prints the throughput (jobs per second, submitted and end to end), the submit
latency and the status latency during the load (p50, p99, max, in ms) and the integrity
figures, found by comparing the job
ids the clients got with the server's store: lost (a job id a client got that the store
does not have, or a submission that raised), duplicated (a submission stored more than
once, or a stored job no client knows) and wrong results. It exits with status 1 unless
all three are 0. This is a benchmark, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from qiskit import QuantumCircuit, transpile

from qiskit_vendor_provider import VendorError, VendorProvider
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port

QUBITS = 5
IDEAL = "ideal_simulator"


def circuit(index: int) -> QuantumCircuit:
    qc = QuantumCircuit(QUBITS, QUBITS, name=f"load-{index}")
    for bit in range(QUBITS):
        if index >> bit & 1:
            qc.x(bit)
    qc.measure(range(QUBITS), range(QUBITS))
    return qc


def right(counts: dict[str, int] | None, device: str, index: int, shots: int) -> bool:
    if counts is None:
        return False
    if device == IDEAL:
        return counts == {format(index % 2**QUBITS, f"0{QUBITS}b"): shots + index}
    return sum(counts.values()) == shots + index


@contextmanager
def emulator_server(database: Path, *args: str) -> Iterator[str]:
    port = free_loopback_port()
    with emulator_process(port, database, *args):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    status_latencies: list[float] = field(default_factory=list)
    job_ids: dict[int, str] = field(default_factory=dict)
    failed_submissions: list[str] = field(default_factory=list)
    wrong: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Load:
    url: str
    threads: int
    jobs: int
    shots: int
    devices: tuple[str, ...]


def client(load: Load, number: int, outcome: Outcome) -> None:
    provider = VendorProvider(url=load.url, journal=False, poll_interval=(0.01, 0.2))
    backends = [provider.get_backend(name) for name in load.devices]
    shots = load.shots
    mine: list[tuple[int, str, VendorJob]] = []
    for k in range(load.jobs):
        index = number + k * load.threads
        backend = backends[index % len(backends)]
        isa = transpile(circuit(index), backend, optimization_level=0)
        started = time.perf_counter()
        try:
            job = backend.run(isa, shots=shots + index, job_name=f"load-{index}")
        except VendorError as exc:
            with outcome.lock:
                outcome.failed_submissions.append(f"load-{index}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        with outcome.lock:
            outcome.latencies.append(elapsed)
            outcome.job_ids[index] = job.job_id()
        mine.append((index, backend.name, job))
    for index, device, job in mine:
        try:
            counts = job.result(timeout=600).get_counts()
        except VendorError:
            counts = None
        if not right(counts, device, index, shots):
            with outcome.lock:
                outcome.wrong.append(index)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def probe(url: str, device: str, outcome: Outcome, done: threading.Event) -> None:
    """Time a status request every 20 ms while the load runs."""
    session = requests.Session()
    while not done.is_set():
        started = time.perf_counter()
        session.get(f"{url}/v1/devices/{device}/status", timeout=30).raise_for_status()
        with outcome.lock:
            outcome.status_latencies.append(time.perf_counter() - started)
        done.wait(0.02)


def run(load: Load, database: Path) -> dict[str, Any]:
    outcome = Outcome()
    threads, jobs = load.threads, load.jobs
    clients = [threading.Thread(target=client, args=(load, n, outcome)) for n in range(threads)]
    done = threading.Event()
    prober = threading.Thread(target=probe, args=(load.url, load.devices[0], outcome, done))
    prober.start()
    started = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    prober.join()

    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT job_id, name FROM jobs WHERE name LIKE 'load-%'").fetchall()
    stored_ids = {job_id for job_id, _ in rows}
    per_name = Counter(name for _, name in rows)
    known_ids = set(outcome.job_ids.values())
    lost = len(known_ids - stored_ids) + len(outcome.failed_submissions)
    duplicated = sum(times - 1 for times in per_name.values()) + len(stored_ids - known_ids)
    total = threads * jobs
    latencies_ms = [1000 * value for value in outcome.latencies]
    status_ms = [1000 * value for value in outcome.status_latencies]
    return {
        "devices": list(load.devices),
        "threads": threads,
        "jobs_per_thread": jobs,
        "jobs": total,
        "seconds": round(elapsed, 2),
        "throughput_jobs_per_s": round(total / elapsed, 1),
        "submit_p50_ms": round(statistics.median(latencies_ms), 1),
        "submit_p99_ms": round(percentile(latencies_ms, 0.99), 1),
        "submit_max_ms": round(max(latencies_ms), 1),
        "status_p50_ms": round(statistics.median(status_ms), 1),
        "status_p99_ms": round(percentile(status_ms, 0.99), 1),
        "status_max_ms": round(max(status_ms), 1),
        "stored": len(rows),
        "lost": lost,
        "duplicated": duplicated,
        "wrong_results": len(outcome.wrong),
        "errors": outcome.failed_submissions[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--jobs", type=int, default=50, help="jobs per thread (default 50)")
    parser.add_argument("--shots", type=int, default=100, help="base shot count (default 100)")
    parser.add_argument("--url", help="a running emulator (with --database); default: start one")
    parser.add_argument("--database", type=Path, help="the SQLite file of the server at --url")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--workers", type=int, help="simulator processes of the server it starts (default: CPUs)"
    )
    parser.add_argument(
        "--devices",
        default=IDEAL,
        help=f"comma-separated devices the jobs are spread over (default {IDEAL})",
    )
    parser.add_argument(
        "--faults",
        help="faults for the server it starts, as its --faults option takes them "
        "(e.g. 'error_503=0.05,drop=0.05,paths=/v1/jobs')",
    )
    args = parser.parse_args(argv)
    if (args.url is None) != (args.database is None):
        parser.error("--url and --database go together")
    if args.faults and args.url is not None:
        parser.error("--faults configures the server this starts, not one at --url")

    devices = tuple(name.strip() for name in args.devices.split(",") if name.strip())
    server_args = [*(["--faults", args.faults] if args.faults else [])]
    server_args += ["--workers", str(args.workers)] if args.workers else []
    if args.url is not None:
        load = Load(args.url, args.threads, args.jobs, args.shots, devices)
        figures = run(load, args.database)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            database = Path(scratch) / "load.sqlite3"
            with emulator_server(database, *server_args) as url:
                load = Load(url, args.threads, args.jobs, args.shots, devices)
                figures = run(load, database)
    figures["workers"] = args.workers or "CPUs"

    print(
        f"load: {figures['threads']} threads x {figures['jobs_per_thread']} jobs = "
        f"{figures['jobs']} jobs on {', '.join(devices)} ({figures['workers']} simulator "
        f"processes), all results in {figures['seconds']} s"
    )
    print(f"throughput: {figures['throughput_jobs_per_s']} jobs/s (submitted, run and read)")
    print(
        f"submit latency: p50 {figures['submit_p50_ms']} ms, p99 {figures['submit_p99_ms']} ms, "
        f"max {figures['submit_max_ms']} ms"
    )
    print(
        f"status latency during the load: p50 {figures['status_p50_ms']} ms, "
        f"p99 {figures['status_p99_ms']} ms, max {figures['status_max_ms']} ms"
    )
    print(
        f"integrity: {figures['stored']} stored, lost {figures['lost']}, duplicated "
        f"{figures['duplicated']}, wrong results {figures['wrong_results']}"
    )
    for error in figures["errors"]:
        print(f"  error: {error}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["lost"] == figures["duplicated"] == figures["wrong_results"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
