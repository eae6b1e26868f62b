"""Issue 19, the emulator's part: no 500, no zombie, no unbounded job, no hogged device.

Each test here failed on the code before the fix it names:

* an angle past the largest float is a 422 (the server) or a typed error (the client);
* a cancelled running job's simulator process is reaped, not left a zombie;
* a full disk answers 507, which no client retries, instead of a generic 500;
* ``--devices`` adds to the built-in devices;
* a job has a run-time limit, the device's or its own ``max_execution_time``;
* a huge ``for_loop`` range or operation count is refused before anything is built;
* an idle session yields its device to other accounts after a grace, and each account
  has a cap on open sessions.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.service import DEFAULT_ACCOUNT
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.errors import (
    CircuitValidationError,
    ServerStorageFullError,
    SessionLimitError,
    VendorError,
)
from tests.helpers import bell
from tests.waiting import eventually

URL = "http://emulator.test"
JSON = {"content-type": "application/json"}
IDEAL = "ideal_simulator"


def provider_for(emulator: Emulator) -> VendorProvider:
    return VendorProvider(
        transport=InProcessTransport(create_app(emulator)), poll_interval=(0.005, 0.05)
    )


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a state that must come (``tests.waiting.eventually``'s generous deadline)."""
    eventually(condition, what)


def post(app: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer_headers, content = dispatch(
        app, "POST", URL + path, {**JSON, **(headers or {})}, raw, timeout=60
    )
    return status, dict(answer_headers), json.loads(content) if content else None


def program(*operations: list[Any], num_qubits: int = 1) -> dict[str, Any]:
    return {
        "num_qubits": num_qubits,
        "num_clbits": 0,
        "header": {"name": "p"},
        "instructions": [list(op) for op in operations],
    }


@pytest.fixture(scope="module")
def paused() -> Emulator:
    """An emulator that runs nothing."""
    return Emulator(EmulatorConfig(database=":memory:", workers=0))


# --------------------------------------------------------------- finding 3: angle overflow


@pytest.mark.parametrize("layout", ["arrays", "columns"])
def test_an_integer_angle_past_the_largest_float_is_a_422(paused: Emulator, layout: str) -> None:
    huge = "1" + "0" * 309
    if layout == "arrays":
        wire = f'"instructions":[["rx",[0],[],[{huge}]]]'
    else:
        wire = (
            f'"ops":{{"kinds":[["rx",1,0,1]],"code":[0],"qubits":[0],"clbits":[],'
            f'"params":[{huge}]}}'
        )
    body = (
        '{"device":"ideal_simulator","shots":10,"programs":[{"num_qubits":1,"num_clbits":0,'
        f'"header":{{"name":"p"}},{wire}}}]}}'
    ).encode()
    status, headers, problem = post(create_app(paused), "/v1/jobs", body)
    assert status == 422
    assert headers["content-type"] == "application/problem+json"
    assert "finite" in problem["detail"]


def test_an_integer_angle_past_the_largest_float_is_refused_before_any_request(
    paused: Emulator,
) -> None:
    backend = provider_for(paused).get_backend(IDEAL)
    circuit = QuantumCircuit(1)
    circuit.rx(10**309, 0)
    circuit.measure_all()
    with pytest.raises(CircuitValidationError, match="not a finite number"):
        backend.run(circuit, shots=10)
    from qiskit_vendor_provider.serialization import WireFormatError, circuit_to_wire

    with pytest.raises(WireFormatError, match="angles must be finite"):
        circuit_to_wire(circuit)
    assert issubclass(WireFormatError, VendorError)


# --------------------------------------------------------------- finding 7: zombies


def _process_state(pid: int) -> str | None:
    """The state letter of a process (``Z``: a zombie), None once it is gone (reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cancelling_a_running_job_leaves_no_zombie(tmp_path: Path) -> None:
    emulator = Emulator(
        EmulatorConfig(
            database=tmp_path / "jobs.sqlite3",
            poll_interval=0.02,
            worker_faults={"slow": "sleep=60"},
        )
    ).start()
    try:
        backend = provider_for(emulator).get_backend(IDEAL)
        job = backend.run(bell(), shots=10, job_name="slow")
        wait_until(lambda: job.job_id() in emulator.supervisor.running_jobs, "the job runs")
        pid = emulator.supervisor._running[job.job_id()].worker.pid
        assert _process_state(pid) not in (None, "Z")
        assert job.cancel() is True
        # Reaped: /proc has no entry left for it (a zombie keeps one, in state Z).
        wait_until(lambda: _process_state(pid) is None, f"process {pid} is reaped")
    finally:
        emulator.stop()


# --------------------------------------------------------------- finding 12: disk full


class FullDiskStore(SQLiteJobStore):
    """A store whose writes fail as SQLite's do on a full disk, while ``full`` is set."""

    full = False

    def _failing(self) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")

    def create(self, record: Any) -> Any:
        self._failing()
        return super().create(record)

    def cancel(self, job_id: str, account: str | None = None) -> Any:
        self._failing()
        return super().cancel(job_id, account)


def test_a_full_disk_is_a_507_problem_that_the_client_does_not_retry() -> None:
    store = FullDiskStore(":memory:")
    emulator = Emulator(EmulatorConfig(database=":memory:", workers=0), store=store)
    app = create_app(emulator)
    job = {"device": IDEAL, "shots": 10, "programs": [program(["x", [0]])]}
    status, _, created = post(app, "/v1/jobs", job)
    assert status == 201
    store.full = True
    for path, body in (("/v1/jobs", job), (f"/v1/jobs/{created['job_id']}/cancel", b"")):
        status, headers, problem = post(app, path, body)
        assert status == 507, problem
        assert headers["content-type"] == "application/problem+json"
        assert "storage is full" in problem["detail"]
        assert problem["type"] == "urn:vendor:problem:storage-full"

    # Any other database error is still a crash, answered 500 (and logged).
    def broken(record: Any) -> Any:
        raise sqlite3.OperationalError("no such table: jobs")

    store.create = broken  # type: ignore[method-assign]
    assert post(app, "/v1/jobs", job)[0] == 500
    # The client gets a typed error after one request: a 507 is not retried.
    store.full = True
    store.create = FullDiskStore.create.__get__(store)  # type: ignore[method-assign]
    calls: list[str] = []
    transport = InProcessTransport(app)
    original = transport.send

    def counted(request: Any, **kwargs: Any) -> Any:
        calls.append(f"{request.method} {urlsplit(request.path_url).path}")
        return original(request, **kwargs)

    transport.send = counted  # type: ignore[method-assign]
    backend = VendorProvider(transport=transport, journal=False).get_backend(IDEAL)
    with pytest.raises(ServerStorageFullError, match="storage is full"):
        backend.run(bell(), shots=10)
    assert calls.count("POST /v1/jobs") == 1


# --------------------------------------------------------------- finding 14: --devices


def test_devices_on_the_command_line_are_added_to_the_built_in_ones(tmp_path: Path) -> None:
    from qiskit_vendor_provider.emulator.__main__ import _parser, config_from
    from qiskit_vendor_provider.emulator.catalog import builtin_device_dir

    spec = json.loads((builtin_device_dir() / f"{IDEAL}.json").read_text())
    spec["name"] = "my_device"
    (tmp_path / "my_device.json").write_text(json.dumps(spec))
    parser = _parser()

    def served(*argv: str) -> list[str]:
        config = config_from(parser.parse_args([*argv, "--database", ":memory:"]), parser)
        return Emulator(config).catalog.names()

    added = served("--devices", str(tmp_path))
    assert "my_device" in added and {IDEAL, "superconducting_27q"} <= set(added)
    assert served("--devices", str(tmp_path), "--no-builtin-devices") == ["my_device"]
    with pytest.raises(SystemExit):
        served("--no-builtin-devices")


# --------------------------------------------------------------- finding 8: run-time limit


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator with a device whose jobs may run 1 s, and jobs that sleep on request."""
    from qiskit_vendor_provider.emulator.catalog import builtin_device_dir

    directory = tmp_path_factory.mktemp("devices")
    spec = json.loads((builtin_device_dir() / f"{IDEAL}.json").read_text())
    spec["name"] = "brief_device"
    spec.setdefault("limits", {})["max_execution_time"] = 1
    (directory / "brief_device.json").write_text(json.dumps(spec))
    emulator = Emulator(
        EmulatorConfig(
            database=tmp_path_factory.mktemp("db") / "jobs.sqlite3",
            device_dirs=(builtin_device_dir(), directory),
            poll_interval=0.02,
            worker_faults={"slow": "sleep=60"},
        )
    ).start()
    yield emulator
    emulator.stop()


@pytest.mark.parametrize(
    ("device", "options", "limit"),
    [(IDEAL, {"max_execution_time": 1}, "1 s"), ("brief_device", {}, "1 s")],
    ids=["job's own limit", "device's limit"],
)
def test_a_job_over_its_run_time_limit_is_stopped_and_charged_what_ran(
    limited: Emulator, device: str, options: dict[str, Any], limit: str
) -> None:
    from qiskit.providers import JobStatus

    from qiskit_vendor_provider.errors import VendorJobError

    backend = provider_for(limited).get_backend(device)
    job = backend.run(bell(), shots=10, job_name="slow", **options)
    with pytest.raises(VendorJobError, match=f"ran past its run-time limit of {limit}"):
        job.result(timeout=120)
    assert job.status() is JobStatus.ERROR
    info = limited.job(DEFAULT_ACCOUNT, job.job_id())
    assert info.usage_seconds is not None and info.usage_seconds >= 1.0
    assert job.usage() == info.usage_seconds
    # The emulator goes on with the next job.
    after = provider_for(limited).get_backend(IDEAL).run(bell(), shots=8)
    assert sum(after.result(timeout=120).get_counts().values()) == 8


def test_max_execution_time_is_a_run_option_bounded_by_the_device(paused: Emulator) -> None:
    from qiskit_vendor_provider.rules import DeviceLimitError

    backend = provider_for(paused).get_backend(IDEAL)
    assert backend.options.max_execution_time is None
    device_limit = backend.limits.max_execution_time
    for bad in (device_limit + 1, 0, -5, True, "60", float("nan")):
        with pytest.raises(DeviceLimitError, match="max_execution_time"):
            backend.run(bell(), shots=10, max_execution_time=bad)
    job = backend.run(bell(), shots=10, max_execution_time=30)
    sent = paused.store.get(job.job_id())
    assert sent is not None and json.loads(sent.submission)["max_execution_time"] == 30
    # The server refuses more than the device allows, whatever the client checked.
    body = {
        "device": IDEAL,
        "shots": 1,
        "programs": [program(["x", [0]])],
        "max_execution_time": device_limit + 1,
    }
    status, _, problem = post(create_app(paused), "/v1/jobs", body)
    assert status == 422 and "max_execution_time" in problem["detail"]


def test_the_primitives_pass_max_execution_time_on(limited: Emulator) -> None:
    from qiskit.quantum_info import SparsePauliOp

    from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler

    backend = provider_for(limited).get_backend(IDEAL)
    sampled = VendorSampler(backend=backend, options={"max_execution_time": 30})
    sampled.run([bell()], shots=10).result()
    estimator = VendorEstimator(
        backend=backend, options={"run_options": {"max_execution_time": 20}}
    )
    circuit = QuantumCircuit(2)
    circuit.h(0)
    estimator.run([(circuit, SparsePauliOp("ZZ"))]).result()
    sent = [
        json.loads(row[0]).get("max_execution_time")
        for row in limited.store._conn.execute(  # type: ignore[attr-defined]
            "SELECT submission FROM jobs ORDER BY seq DESC LIMIT 2"
        )
    ]
    assert sent == [20, 30]


# --------------------------------------------------------------- finding 9: early refusal


def test_a_loop_over_a_billion_is_refused_without_expanding_it(
    paused: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiskit_vendor_provider import backend as backend_module
    from qiskit_vendor_provider.rules import ProgramLimitError

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the circuit was written out before the limits were checked")

    monkeypatch.setattr(backend_module, "circuit_to_wire", never)
    backend = provider_for(paused).get_backend("superconducting_27q")
    circuit = QuantumCircuit(1, 1)
    with circuit.for_loop(range(10**9)):
        circuit.x(0)
    circuit.measure(0, 0)
    with pytest.raises(ProgramLimitError, match="the for_loop runs 1000000000 times") as raised:
        backend.run(circuit, shots=10)
    assert raised.value.rule == "max_loop_iterations"


def test_a_circuit_over_the_operation_limit_is_refused_before_it_is_read(
    paused: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiskit_vendor_provider import backend as backend_module
    from qiskit_vendor_provider import validation
    from qiskit_vendor_provider.rules import ProgramLimitError

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the circuit was read before its size was checked")

    backend = provider_for(paused).get_backend(IDEAL)
    monkeypatch.setattr(backend_module, "circuit_to_wire", never)
    monkeypatch.setattr(validation, "_check_block", never)
    limit = backend.limits.max_operations
    circuit = QuantumCircuit(1)
    for _ in range(limit + 1):
        circuit.x(0)
    with pytest.raises(ProgramLimitError, match=f"has {limit + 1} operations") as raised:
        backend.run(circuit, shots=10)
    assert raised.value.rule == "max_operations"


# --------------------------------------------------------------- finding 11: large bodies

ION = "trapped_ion_11q"  # a 5,000,000-byte payload limit


def ion_body(size: int, *, device_first: bool = True) -> bytes:
    """A job on the ion device of exactly ``size`` bytes (padded in a program's metadata)."""
    prog = {"num_qubits": 1, "num_clbits": 0, "header": {"name": "p", "metadata": {"pad": ""}}}
    prog["instructions"] = [["rz", [0], [], [0.5]]]
    fields: dict[str, Any] = {"device": ION, "shots": 1, "programs": [prog]}
    if not device_first:
        fields = {"shots": 1, "programs": [prog], "device": ION}
    pad = size - len(json.dumps(fields, separators=(",", ":")))
    prog["header"]["metadata"]["pad"] = "x" * pad
    body = json.dumps(fields, separators=(",", ":")).encode()
    assert len(body) == size
    return body


@pytest.fixture
def unparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to parse a job body fails the test (a 500 the tests would see)."""
    from qiskit_vendor_provider.api import wire

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was parsed before its size was checked")

    monkeypatch.setattr(wire, "decode_submission", never)


@pytest.mark.parametrize("declared", [True, False], ids=["Content-Length", "chunked"])
def test_a_body_over_its_devices_payload_limit_is_refused_before_it_is_parsed(
    paused: Emulator, unparsed: None, declared: bool
) -> None:
    limit = paused.catalog.spec(ION).limits.max_payload_bytes
    body = ion_body(limit + 1)
    headers = {"content-length": str(len(body))} if declared else {}
    status, answer_headers, problem = post(create_app(paused), "/v1/jobs", body, headers)
    assert status == 413, problem
    assert answer_headers["content-type"] == "application/problem+json"
    assert f"over the {limit}-byte limit of device '{ION}'" in problem["detail"]


def test_a_body_larger_than_any_device_takes_is_refused_by_its_length(
    paused: Emulator, unparsed: None
) -> None:
    largest = max(spec.limits.max_payload_bytes for spec in paused.catalog)
    status, _, problem = post(
        create_app(paused), "/v1/jobs", b"{}", {"content-length": str(largest + 1)}
    )
    assert status == 413 and "more than any device accepts" in problem["detail"]


def test_a_body_naming_its_device_last_gets_the_same_verdict_after_parsing(
    paused: Emulator,
) -> None:
    limit = paused.catalog.spec(ION).limits.max_payload_bytes
    app = create_app(paused)
    status, _, problem = post(app, "/v1/jobs", ion_body(limit + 1, device_first=False))
    assert status == 413 and f"over the {limit}-byte limit" in problem["detail"]
    assert post(app, "/v1/jobs", ion_body(limit, device_first=False))[0] == 201


def test_plain_operations_in_the_object_layout_are_read_as_compact_operations() -> None:
    from qiskit_vendor_provider.api import wire
    from qiskit_vendor_provider.api.models import Op, WireInstruction

    body = {
        "device": IDEAL,
        "shots": 1,
        "programs": [
            {
                "num_qubits": 1,
                "num_clbits": 1,
                "header": {"name": "p"},
                "instructions": [
                    {"name": "rz", "qubits": [0], "params": [0.5]},
                    {"name": "delay", "qubits": [0], "params": [8], "unit": "ns"},
                    {"name": "measure", "qubits": [0], "clbits": [0]},
                ],
            }
        ],
    }
    instructions = wire.decode_submission(json.dumps(body)).programs[0].instructions
    # A pydantic object per operation took several times the memory; only what needs
    # the object form (a unit, blocks, conditions) keeps it.
    assert [type(inst) for inst in instructions] == [Op, WireInstruction, Op]
    assert instructions[0] == Op("rz", [0], [], [0.5])


# --------------------------------------------------------------- finding 13: fair sessions

TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
ALICE, BOB = list(TOKENS)


def account_provider(emulator: Emulator, token: str) -> VendorProvider:
    return VendorProvider(
        url="https://sessions.vendor.test",
        token=token,
        transport=InProcessTransport(create_app(emulator)),
        journal=False,
        poll_interval=(0.005, 0.05),
    )


def claim(emulator: Emulator) -> str | None:
    """Start the job the scheduler picks next, as the supervisor would (with its grace)."""
    record = emulator.store.claim_next(
        "a-test", 60.0, [IDEAL], idle_grace=emulator.config.session_idle_grace
    )
    return None if record is None else record.job_id


def test_an_idle_session_yields_its_device_to_other_accounts_after_the_grace(
    tmp_path: Path,
) -> None:
    from qiskit_vendor_provider import Session

    # Grace 0: idle is idle at once, so the test needs no clock.
    emulator = Emulator(
        EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS, session_idle_grace=0)
    )
    alice = account_provider(emulator, ALICE).get_backend(IDEAL)
    bob = account_provider(emulator, BOB).get_backend(IDEAL)
    alices_own = alice.run(bell(), shots=10)
    session = Session(backend=alice, max_idle=3600)
    first = session.run(bell(), shots=10)
    assert claim(emulator) == alices_own.job_id()
    emulator.store.finish(alices_own.job_id(), "{}")
    assert claim(emulator) == first.job_id()
    others = [bob.run(bell(), shots=10) for _ in range(2)]
    alices_later = alice.run(bell(), shots=10)
    emulator.store.finish(first.job_id(), "{}")
    assert session.status() == "active"  # still within max_idle ...
    # ... but idle past the grace: another account's job passes, one at a time, and
    # never the session's own account's jobs outside it.
    assert claim(emulator) == others[0].job_id()
    second = session.run(bell(), shots=10)
    emulator.store.finish(others[0].job_id(), "{}")
    assert claim(emulator) == second.job_id()  # the session's next job goes first
    emulator.store.finish(second.job_id(), "{}")
    assert claim(emulator) == others[1].job_id()
    emulator.store.finish(others[1].job_id(), "{}")
    assert claim(emulator) is None  # alice's own job waits for her session
    session.close()
    assert claim(emulator) == alices_later.job_id()


def test_within_the_grace_an_idle_session_keeps_its_device(tmp_path: Path) -> None:
    from qiskit_vendor_provider import Session

    emulator = Emulator(
        EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS, session_idle_grace=3600)
    )
    alice = account_provider(emulator, ALICE).get_backend(IDEAL)
    bob = account_provider(emulator, BOB).get_backend(IDEAL)
    session = Session(backend=alice, max_idle=3600)
    first = session.run(bell(), shots=10)
    assert claim(emulator) == first.job_id()
    bob.run(bell(), shots=10)
    emulator.store.finish(first.job_id(), "{}")
    assert claim(emulator) is None


def test_an_account_may_have_only_so_many_open_sessions(tmp_path: Path) -> None:
    from qiskit_vendor_provider import Batch, Session

    emulator = Emulator(
        EmulatorConfig(
            database=tmp_path / "jobs.sqlite3", tokens=TOKENS, max_sessions_per_account=2
        )
    )
    alice = account_provider(emulator, ALICE).get_backend(IDEAL)
    bob = account_provider(emulator, BOB).get_backend(IDEAL)
    opened = [Session(backend=alice) for _ in range(2)]
    with pytest.raises(SessionLimitError, match="has 2 open sessions, the most it may") as info:
        Session(backend=alice)
    assert info.value.status_code == 409  # type: ignore[attr-defined]
    status, headers, problem = post(
        create_app(emulator),
        "/v1/sessions",
        {"device": IDEAL},
        {"authorization": f"Bearer {ALICE}"},
    )
    assert (status, problem["type"]) == (409, "urn:vendor:problem:session-limit")
    assert headers["content-type"] == "application/problem+json"
    Session(backend=bob).close()  # per account
    Batch(backend=alice).close()  # batches never hold a device: not counted
    opened[0].close()
    Session(backend=alice).close()  # a closed session frees its place


# ------------------------------------------------ a simulator run that loads nothing


def test_a_simulator_run_that_loads_nothing_fails_with_the_simulators_reason() -> None:
    # Aer answers a job it cannot load with no experiments and its reason in the status
    # (qiskit-aer 0.17 did so for parameterised `u` gates): that is the job's error, not
    # an internal StopIteration.
    from types import SimpleNamespace

    from qiskit_vendor_provider.api.models import JobSubmission
    from qiskit_vendor_provider.emulator.simulation import simulate
    from qiskit_vendor_provider.serialization import circuit_to_wire

    class Refusing:
        options = SimpleNamespace(max_memory_mb=1024)

        def run(self, circuits: Any, **options: Any) -> Any:
            reason = "ERROR: Failed to load circuits: Invalid parameterization"
            return SimpleNamespace(result=lambda: SimpleNamespace(results=[], status=reason))

    circuit = bell()
    submission = JobSubmission(device=IDEAL, programs=[circuit_to_wire(circuit)], shots=10)
    with pytest.raises(RuntimeError, match=r"returned 0 of 1 experiments: .*Invalid param"):
        simulate(Refusing(), submission, [circuit])  # type: ignore[arg-type]
