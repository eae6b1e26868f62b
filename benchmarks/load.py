"""Load benchmark: N client threads x M jobs each against one emulator server over loopback.

    python benchmarks/load.py [--threads 8] [--jobs 50] [--shots 100] [--json figures.json]
                              [--faults 'error_503=0.05,drop=0.05,paths=/v1/jobs']

The server is ``python -m qiskit_vendor_provider.emulator`` in its own process (as a user
runs it), on a fresh SQLite file, unless ``--url`` and ``--database`` name a running one.
Every thread has its own ``VendorProvider`` (so its own connection pool); each submits
its M jobs one after the other (timing each ``backend.run``), then waits for all of
them and checks every result. Jobs are 5-qubit basis-state circuits on
``ideal_simulator`` with a different shot count each, so a result given to the wrong
job shows.

It prints the throughput (jobs per second, submitted and end to end), the submit
latency (p50, p99, max, in ms) and the integrity figures, found by comparing the job
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

from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorError, VendorProvider
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port

QUBITS = 5
DEVICE = "ideal_simulator"


def circuit(index: int) -> QuantumCircuit:
    qc = QuantumCircuit(QUBITS, QUBITS, name=f"load-{index}")
    for bit in range(QUBITS):
        if index >> bit & 1:
            qc.x(bit)
    qc.measure(range(QUBITS), range(QUBITS))
    return qc


def expected(index: int, shots: int) -> dict[str, int]:
    return {format(index % 2**QUBITS, f"0{QUBITS}b"): shots + index}


@contextmanager
def emulator_server(database: Path, faults: str | None = None) -> Iterator[str]:
    port = free_loopback_port()
    with emulator_process(port, database, *(["--faults", faults] if faults else [])):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
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


def client(load: Load, number: int, outcome: Outcome) -> None:
    provider = VendorProvider(url=load.url, journal=False, poll_interval=(0.01, 0.2))
    backend = provider.get_backend(DEVICE)
    shots = load.shots
    mine: list[tuple[int, VendorJob]] = []
    for k in range(load.jobs):
        index = number + k * load.threads
        started = time.perf_counter()
        try:
            job = backend.run(circuit(index), shots=shots + index, job_name=f"load-{index}")
        except VendorError as exc:
            with outcome.lock:
                outcome.failed_submissions.append(f"load-{index}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        with outcome.lock:
            outcome.latencies.append(elapsed)
            outcome.job_ids[index] = job.job_id()
        mine.append((index, job))
    for index, job in mine:
        try:
            counts = job.result(timeout=600).get_counts()
        except VendorError:
            counts = None
        if counts != expected(index, shots):
            with outcome.lock:
                outcome.wrong.append(index)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(url: str, database: Path, threads: int, jobs: int, shots: int) -> dict[str, Any]:
    outcome = Outcome()
    load = Load(url, threads, jobs, shots)
    workers = [threading.Thread(target=client, args=(load, n, outcome)) for n in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started

    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT job_id, name FROM jobs WHERE name LIKE 'load-%'").fetchall()
    stored_ids = {job_id for job_id, _ in rows}
    per_name = Counter(name for _, name in rows)
    known_ids = set(outcome.job_ids.values())
    lost = len(known_ids - stored_ids) + len(outcome.failed_submissions)
    duplicated = sum(times - 1 for times in per_name.values()) + len(stored_ids - known_ids)
    total = threads * jobs
    latencies_ms = [1000 * value for value in outcome.latencies]
    return {
        "threads": threads,
        "jobs_per_thread": jobs,
        "jobs": total,
        "seconds": round(elapsed, 2),
        "throughput_jobs_per_s": round(total / elapsed, 1),
        "submit_p50_ms": round(statistics.median(latencies_ms), 1),
        "submit_p99_ms": round(percentile(latencies_ms, 0.99), 1),
        "submit_max_ms": round(max(latencies_ms), 1),
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
        "--faults",
        help="faults for the server it starts, as its --faults option takes them "
        "(e.g. 'error_503=0.05,drop=0.05,paths=/v1/jobs')",
    )
    args = parser.parse_args(argv)
    if (args.url is None) != (args.database is None):
        parser.error("--url and --database go together")
    if args.faults and args.url is not None:
        parser.error("--faults configures the server this starts, not one at --url")

    if args.url is not None:
        figures = run(args.url, args.database, args.threads, args.jobs, args.shots)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            database = Path(scratch) / "load.sqlite3"
            with emulator_server(database, args.faults) as url:
                figures = run(url, database, args.threads, args.jobs, args.shots)

    print(
        f"load: {figures['threads']} threads x {figures['jobs_per_thread']} jobs = "
        f"{figures['jobs']} jobs on {DEVICE}, all results in {figures['seconds']} s"
    )
    print(f"throughput: {figures['throughput_jobs_per_s']} jobs/s (submitted, run and read)")
    print(
        f"submit latency: p50 {figures['submit_p50_ms']} ms, p99 {figures['submit_p99_ms']} ms, "
        f"max {figures['submit_max_ms']} ms"
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
