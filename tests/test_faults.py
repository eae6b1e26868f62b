"""Fault injection: hundreds of jobs through every fault kind, over a real loopback server.

The client is used as it ships (only its retry policy and timeouts are set, as a user
may); the faults come from the emulator's configuration. For every fault kind the suite
checks that each submission exists exactly once in the server's store, that every result
is the right one, and that no exception escapes the client. Escaped exceptions are
reported last, as :class:`EscapedError`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider import (
    VendorApiError,
    VendorConnectionError,
    VendorError,
    VendorProvider,
)
from qiskit_vendor_provider.api.client import RetryPolicy, Timeouts
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.emulator.faults import FaultConfig, FaultInjector
from qiskit_vendor_provider.job import VendorJob

pytestmark = pytest.mark.integration

QUBITS = 5
THREADS = 4
FAST_RETRY = RetryPolicy(max_attempts=12, base_delay=0.01, max_delay=0.1, deadline=30.0)
# With added latency, a read timeout shorter than the longest delay: some delayed
# requests time out and are sent again while the first attempt is still being handled.
SHORT_TIMEOUTS = Timeouts(connect=2.0, read=0.25)
TIMEOUTS = Timeouts(connect=2.0, read=10.0)


class EscapedError(AssertionError):
    """Exceptions escaped the client although retrying would have recovered."""


def circuit(index: int) -> QuantumCircuit:
    """A circuit whose counts are one known bitstring, different for neighbouring jobs."""
    qc = QuantumCircuit(QUBITS, QUBITS, name=f"basis-{index}")
    for bit in range(QUBITS):
        if index >> bit & 1:
            qc.x(bit)
    qc.measure(range(QUBITS), range(QUBITS))
    return qc


def shots(index: int) -> int:
    return 20 + index  # different for every job, so a result given to the wrong job shows


def expected_counts(index: int) -> dict[str, int]:
    return {format(index % 2**QUBITS, f"0{QUBITS}b"): shots(index)}


@dataclass
class Run:
    """What happened to one batch of jobs."""

    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    escaped: list[tuple[str, int, VendorError]] = field(default_factory=list)
    pending: dict[int, VendorJob] = field(default_factory=dict)
    providers: list[VendorProvider] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def job_name(index: int) -> str:
    return f"fault-suite-{index}"


def index_of(job: VendorJob) -> int:
    name = job.name()
    assert name is not None and name.startswith("fault-suite-"), name
    return int(name.rsplit("-", 1)[1])


class RetryCounter(logging.Handler):
    """Counts the client's own debug lines: "retrying ..." per retry it makes, and "not
    retrying ..." per failed answer it left to its caller (a deadline, or an error answer)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0
        self.left = 0
        self.timeouts = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("retrying"):
            self.retries += 1
            self.timeouts += "ReadTimeout" in message
        elif message.startswith("not retrying"):
            self.left += 1


@contextmanager
def counting_retries() -> Iterator[RetryCounter]:
    logger = logging.getLogger("qiskit_vendor_provider.api.client")
    counter = RetryCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def run_jobs(server: EmulatorServer, count: int, journals: Path, timeouts: Timeouts) -> Run:
    """Submit ``count`` jobs from THREADS threads and wait for each; record what escaped."""
    run = Run()

    def worker(number: int) -> None:
        provider = VendorProvider(
            url=server.url,
            retry=FAST_RETRY,
            timeout=timeouts,
            poll_interval=(0.005, 0.05),
            journal=journals / f"journal-{number}.sqlite3",
        )
        with run.lock:
            run.providers.append(provider)
        backend = provider.get_backend("ideal_simulator")
        for index in range(number, count, THREADS):
            try:
                job = backend.run(
                    circuit(index),
                    shots=shots(index),
                    seed_simulator=index,
                    job_name=job_name(index),
                )
            except VendorError as exc:
                with run.lock:
                    run.escaped.append(("submit", index, exc))
                continue
            try:
                counts = job.result(timeout=60).get_counts()
            except VendorError as exc:
                with run.lock:
                    run.escaped.append(("result", index, exc))
                    run.pending[index] = job
                continue
            with run.lock:
                run.counts[index] = counts

    with ThreadPoolExecutor(THREADS) as pool:
        # .result() re-raises anything that is not a VendorError: such an exception
        # escaping the client fails the test outright.
        for future in [pool.submit(worker, number) for number in range(THREADS)]:
            future.result()
    return run


def recover(run: Run) -> None:
    """What a user does after an error escaped: resume submissions, ask for results again."""
    for provider in run.providers:
        for job in provider.resume():
            index = index_of(job)
            if index not in run.counts:
                run.pending[index] = job
    for index, job in sorted(run.pending.items()):
        run.counts[index] = job.result(timeout=60).get_counts()


def stored_jobs(database: Path) -> list[tuple[str | None, str | None]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT name, idempotency_key FROM jobs").fetchall()


def check_run(
    run: Run, count: int, database: Path, injector: FaultInjector, counter: RetryCounter
) -> dict[str, int]:
    """Exactly once, every result right; then, separately, nothing escaped."""
    injector.active = False
    recover(run)
    rows = stored_jobs(database)
    names = Counter(name for name, _ in rows)
    duplicated = sorted(name for name, times in names.items() if times > 1)
    assert not duplicated, f"jobs stored more than once: {duplicated}"
    assert sorted(names) == sorted(job_name(i) for i in range(count)), "jobs lost or unknown"
    keys = [key for _, key in rows]
    assert None not in keys and len(set(keys)) == count
    wrong = {i: run.counts.get(i) for i in range(count) if run.counts.get(i) != expected_counts(i)}
    assert not wrong, f"wrong or missing results: {dict(list(wrong.items())[:5])}"
    figures = injector.snapshot()
    print(
        f"fault suite: {count} jobs, {len(rows)} stored; server saw {figures}; client retried "
        f"{counter.retries} times ({counter.timeouts} after a read timeout); "
        f"{len(run.escaped)} exceptions escaped"
    )
    if run.escaped:
        kinds = Counter(f"{where}: {type(exc).__name__}" for where, _, exc in run.escaped)
        raise EscapedError(
            f"{len(run.escaped)} exceptions escaped the client ({dict(kinds)}); the first: "
            f"{run.escaped[0][2]}"
        )
    return figures


@pytest.fixture
def faulty_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    faults: FaultConfig = request.param
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", poll_interval=0.05, faults=faults)
    with EmulatorServer(Emulator(config)) as server:
        yield server


def faults(**rates: float) -> FaultConfig:
    return FaultConfig(
        **rates,
        latency_seconds=0.5,
        retry_after=0.02,
        seed=20240611,
        paths=("/v1/jobs",),  # the devices load fault-free; every job request may fail
    )


KINDS = [
    pytest.param(faults(error_500=0.2), 60, id="error_500"),
    pytest.param(faults(error_503=0.2), 60, id="error_503"),
    pytest.param(faults(error_429=0.2), 60, id="error_429"),
    pytest.param(faults(latency=0.3), 60, id="latency"),
    pytest.param(faults(drop=0.2), 60, id="drop"),
    pytest.param(faults(malformed=0.2), 60, id="malformed"),
    pytest.param(faults(error_503=0.05, error_429=0.05, drop=0.1, latency=0.15), 150, id="mixed"),
]


@pytest.mark.parametrize(("faulty_server", "count"), KINDS, indirect=["faulty_server"])
def test_every_job_exactly_once_with_the_right_result(
    faulty_server: EmulatorServer, count: int, tmp_path: Path
) -> None:
    injector = faulty_server.app.state.faults
    config = injector.config
    timeouts = SHORT_TIMEOUTS if config.latency > 0 else TIMEOUTS
    with counting_retries() as counter:
        run = run_jobs(faulty_server, count, tmp_path, timeouts)
    figures = check_run(run, count, tmp_path / "jobs.sqlite3", injector, counter)
    for kind in ("error_500", "error_503", "error_429", "drop", "malformed", "latency"):
        # Each configured fault really happened.
        assert (figures.get(kind, 0) > 0) == (getattr(config, kind) > 0), (kind, figures)
    # Every 500, 503, 429, drop and garbled body reached the client's retry policy (timeouts
    # may add more). Most cost one retry; one that came when a caller's deadline was near (the
    # one-second quick result, which then polls instead) or that garbled an error answer
    # (never retried) is left to the caller.
    faulted = sum(
        figures.get(kind, 0)
        for kind in ("error_500", "error_503", "error_429", "drop", "malformed")
    )
    assert counter.retries + counter.left >= faulted
    assert counter.retries >= faulted // 2, (counter.retries, counter.left, faulted)
    if config.latency > 0:
        assert counter.timeouts > 0  # some delays outlasted the read timeout, and were retried


@pytest.mark.parametrize(
    ("faulty_server", "error", "status", "stored"),
    [
        (faults(error_503=1.0), VendorApiError, 503, 0),
        (faults(error_429=1.0), VendorApiError, 429, 0),
        (faults(drop=1.0), VendorConnectionError, None, 1),
    ],
    ids=["error_503", "error_429", "drop"],
    indirect=["faulty_server"],
)
def test_exhausted_retries_raise_the_documented_typed_error_and_resume_recovers(
    faulty_server: EmulatorServer,
    error: type[VendorError],
    status: int | None,
    stored: int,
    tmp_path: Path,
) -> None:
    injector = faulty_server.app.state.faults
    attempts = 3
    provider = VendorProvider(
        url=faulty_server.url,
        retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.02),
        journal=tmp_path / "journal.sqlite3",
        poll_interval=(0.005, 0.05),
    )
    backend = provider.get_backend("ideal_simulator")
    with pytest.raises(error) as raised:
        backend.run(circuit(5), shots=shots(5), job_name=job_name(5))
    assert type(raised.value) is error
    assert raised.value.status_code == status
    assert injector.snapshot()["requests"] == attempts  # every attempt, no more
    # A dropped answer came after the job was stored: three attempts, one job.
    assert len(stored_jobs(tmp_path / "jobs.sqlite3")) == stored

    injector.active = False
    [job] = provider.resume()
    assert job.result(timeout=60).get_counts() == expected_counts(5)
    assert len(stored_jobs(tmp_path / "jobs.sqlite3")) == 1


def test_fault_config_parses_the_command_line_forms_and_rejects_bad_ones() -> None:
    config = FaultConfig.parse("error_503=0.1, drop=0.05, latency=0.2, latency_seconds=1, seed=3")
    assert (config.error_503, config.drop, config.latency, config.seed) == (0.1, 0.05, 0.2, 3)
    assert config.enabled and not FaultConfig().enabled
    assert FaultConfig.parse('{"error_429": 0.5, "retry_after": 2}').retry_after == 2
    for bad in ("drop=2", "drop", "colour=0.1", "error_500=0.6,error_503=0.6", "{not json"):
        with pytest.raises(ValueError):  # noqa: PT011 - pydantic's and ours, both ValueError
            FaultConfig.parse(bad)


def test_faults_are_off_by_default() -> None:
    from qiskit_vendor_provider.emulator import create_app

    assert EmulatorConfig().faults is None
    assert create_app(Emulator()).state.faults is None
    assert create_app(Emulator(EmulatorConfig(faults=FaultConfig()))).state.faults is None


def test_emulator_command_line_takes_faults() -> None:
    from qiskit_vendor_provider.emulator.__main__ import _parser

    args = _parser().parse_args(["--faults", "error_503=0.25,seed=9"])
    assert args.faults == FaultConfig(error_503=0.25, seed=9)
    with pytest.raises(SystemExit):
        _parser().parse_args(["--faults", "error_503=7"])
