"""Calibrations as data: ids, recalibration on a schedule, pins, drift warnings.

Time is a clock the tests move (never a sleep): the emulator's schedule reads it, so a
recalibration happens exactly when a test moves the clock past an epoch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.models import Calibration, DeviceSpec, JobInfo
from qiskit_vendor_provider.calibrations import job_properties, pinned_calibration
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.catalog import (
    DeviceCatalog,
    builtin_device_dir,
    load_spec,
    stray_faulty_gates,
)
from qiskit_vendor_provider.emulator.recalibration import (
    CalibrationBook,
    RecalibrationSchedule,
)
from qiskit_vendor_provider.emulator.simulation import PREPARED_DEVICES_KEPT, JobRunner
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
from qiskit_vendor_provider.errors import (
    CalibrationDriftWarning,
    CalibrationNotKeptError,
    VendorApiError,
    VendorValidationError,
)
from qiskit_vendor_provider.target import build_target
from tests.helpers import ghz, isolated_env, run_python

DEVICE = "superconducting_27q"
PERIOD = 60.0
START = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp() + 1.0


class Clock:
    """A clock the test moves by whole epochs."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, epochs: int = 1) -> None:
        self.now += epochs * PERIOD


def schedule(clock: Clock, **changes: object) -> RecalibrationSchedule:
    """The fast schedule of these tests: a minute per epoch, no defects unless asked."""
    base = RecalibrationSchedule(
        period=PERIOD, clock=clock, qubit_defect_rate=0.0, coupler_defect_rate=0.0
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def provider_of(emulator: Emulator) -> VendorProvider:
    return VendorProvider(
        transport=InProcessTransport(create_app(emulator)),
        journal=False,
        poll_interval=(0.005, 0.05),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock, tmp_path: Path) -> Iterator[Emulator]:
    config = EmulatorConfig(
        database=tmp_path / "jobs.sqlite3", poll_interval=0.02, recalibration=schedule(clock)
    )
    running = Emulator(config).start()
    yield running
    running.stop()


@pytest.fixture
def provider(emulator: Emulator) -> VendorProvider:
    return provider_of(emulator)


def measured_on(backend: object, qubits: list[int], circuit: QuantumCircuit) -> QuantumCircuit:
    manager = generate_preset_pass_manager(
        optimization_level=0, backend=backend, initial_layout=qubits, seed_transpiler=1
    )
    return manager.run(circuit)


def readout_circuit() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1)
    circuit.measure(0, 0)
    return circuit


# ------------------------------------------------------------------ identity


def test_every_calibration_has_an_id_and_each_job_records_its_own(
    provider: VendorProvider,
) -> None:
    backend = provider.get_backend(DEVICE)
    assert backend.calibration_id is not None
    assert backend.calibration_id.startswith(f"{DEVICE}-")
    assert [c.calibration_id for c in backend.calibrations()] == [backend.calibration_id]
    circuit = measured_on(backend, [0, 1, 4], ghz(3))
    job = backend.run(circuit, shots=50, seed_simulator=1)
    job.result()
    assert job.calibration_id() == backend.calibration_id
    properties = job.properties()
    assert properties is not None
    assert properties.calibration.calibration_id == backend.calibration_id
    assert properties.t1(0) == backend.properties().t1(0)  # type: ignore[union-attr]
    listed = provider.jobs(calibration_id=backend.calibration_id, limit=None)
    assert [j.job_id() for j in listed] == [job.job_id()]
    assert provider.jobs(calibration_id="no-such-calibration") == []
    ideal = provider.get_backend("ideal_simulator")
    assert ideal.calibration_id is None
    ideal_job = ideal.run(ghz(2), shots=10)
    ideal_job.result()
    assert ideal_job.calibration_id() is None
    assert ideal_job.properties() is None


def test_a_bad_calibration_id_is_refused_before_any_request(
    provider: VendorProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("a request was made")

    monkeypatch.setattr(provider.client, "_request", no_request)
    with pytest.raises(VendorValidationError, match="is not a calibration id"):
        provider.get_backend(DEVICE, calibration_id="no spaces/or slashes")
    with pytest.raises(VendorValidationError, match="is not a calibration id"):
        provider.jobs(calibration_id=12)  # type: ignore[arg-type]


# ------------------------------------------------------------------ recalibration


def test_the_emulator_recalibrates_on_schedule_and_keeps_what_it_served(
    provider: VendorProvider, clock: Clock
) -> None:
    backend = provider.get_backend(DEVICE)
    first = backend.properties()
    assert first is not None
    clock.advance()
    second = provider.client.get_calibration(DEVICE)
    clock.advance(2)
    kept = backend.calibrations()
    assert len(kept) == 4  # the file's, then one per epoch the clock passed
    assert kept[0].calibration_id == backend.calibration_id
    assert kept[1].calibration_id == second.calibration_id
    assert len({c.calibration_id for c in kept}) == 4
    # Drifted from the one before, near the device file's figures.
    assert second.qubits[0].t1 != first.t1(0)
    assert 0.5 < second.qubits[0].t1 / first.t1(0) < 2  # type: ignore[operator]
    # History is what was served: the same calibration whenever it is asked for.
    moment = kept[1].timestamp + dt.timedelta(seconds=1)
    past = backend.properties(datetime=moment)
    assert past is not None
    assert past.calibration == second
    assert backend.properties(datetime=moment).calibration == second  # type: ignore[union-attr]
    assert provider.client.get_calibration(DEVICE).calibration_id == kept[-1].calibration_id
    # The backend's Target stays on its calibration until it is refreshed.
    assert backend.calibration_id == kept[0].calibration_id
    backend.refresh()
    assert backend.calibration_id == kept[-1].calibration_id
    assert backend.properties().t1(0) == provider.client.get_calibration(DEVICE).qubits[0].t1  # type: ignore[union-attr]


def test_old_calibrations_are_forgotten_and_a_pin_to_one_is_refused_by_name(
    tmp_path: Path, clock: Clock
) -> None:
    config = EmulatorConfig(database=":memory:", workers=0, recalibration=schedule(clock, keep=3))
    provider = provider_of(Emulator(config))
    backend = provider.get_backend(DEVICE)
    first = backend.calibration_id
    assert first is not None
    clock.advance(5)
    kept = [c.calibration_id for c in backend.calibrations()]
    assert len(kept) == 3 and first not in kept
    with pytest.raises(CalibrationNotKeptError) as caught:
        provider.get_backend(DEVICE, calibration_id=first)
    message = str(caught.value)
    assert first in message and kept[-1] in message
    assert caught.value.status_code == 404
    # A backend built from the forgotten one can still not pin it, nor submit pinned.
    with pytest.raises(CalibrationNotKeptError, match="keeps its 3 latest"):
        provider.get_backend(DEVICE, calibration_id=first)


def test_defects_drop_qubits_and_couplers_out_and_bring_them_back(clock: Clock) -> None:
    catalog = DeviceCatalog.from_directories()
    store = SQLiteJobStore(":memory:")
    book = CalibrationBook(
        store,
        catalog,
        schedule(clock, qubit_defect_rate=0.05, coupler_defect_rate=0.05, keep=100),
    )
    seen = []
    for _ in range(40):
        calibration = book.current(DEVICE)
        assert calibration is not None
        seen.append(calibration)
        clock.advance()
    out_qubits = [{i for i, q in enumerate(c.qubits) if not q.operational} for c in seen]
    out_gates = [{tuple(g.qubits) for g in c.gates if not g.operational} for c in seen]
    assert any(out_qubits) and any(out_gates)
    # Each element that dropped out came back later (the repair rate is 0.5 an epoch).
    dropped = set().union(*out_qubits[:20])
    assert any(q not in out_qubits[-1] for q in dropped)
    for calibration, faulty in zip(seen, out_qubits, strict=True):
        spec = catalog.spec(DEVICE).model_copy(update={"calibration": calibration})
        assert stray_faulty_gates(spec) == []  # only flags on gates the device has
        target = build_target(spec)
        assert not any(q in faulty for qargs in target["measure"] for q in qargs or ())
    # A coupler is out in both directions, on the gates the device has there.
    for calibration in seen:
        pairs = {frozenset(g.qubits) for g in calibration.gates if len(g.qubits) == 2}
        for pair in pairs:
            flags = {g.operational for g in calibration.gates if frozenset(g.qubits) == pair}
            assert len(flags) == 1


def test_a_calibration_is_a_pure_function_of_device_seed_and_epoch(clock: Clock) -> None:
    catalog = DeviceCatalog.from_directories()
    one = CalibrationBook(SQLiteJobStore(":memory:"), catalog, schedule(clock))
    two = CalibrationBook(SQLiteJobStore(":memory:"), catalog, schedule(clock))
    other_seed = CalibrationBook(SQLiteJobStore(":memory:"), catalog, schedule(clock, seed=7))
    for book in (one, two, other_seed):
        book.current(DEVICE)
    clock.advance(3)
    assert one.current(DEVICE) == two.current(DEVICE)
    assert one.current(DEVICE) != other_seed.current(DEVICE)


_OTHER_PROCESS = """
import json, sys
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.recalibration import CalibrationBook, RecalibrationSchedule
from qiskit_vendor_provider.emulator.store import SQLiteJobStore
database, now, period = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
book = CalibrationBook(
    SQLiteJobStore(database),
    DeviceCatalog.from_directories(),
    RecalibrationSchedule(period=period, clock=lambda: now, qubit_defect_rate=0.0,
                          coupler_defect_rate=0.0),
)
print(json.dumps([c.calibration_id for c in book.kept("superconducting_27q")]))
"""


def test_two_processes_on_one_database_serve_the_same_calibrations(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "shared.sqlite3"
    here = Emulator(EmulatorConfig(database=database, workers=0, recalibration=schedule(clock)))
    first = here.calibration(DEVICE)
    clock.advance(2)
    # The other process reaches the next epoch first, and stores it.
    script = tmp_path / "other.py"
    script.write_text(_OTHER_PROCESS)
    env = isolated_env(tmp_path)
    ran = run_python([str(script), str(database), str(clock.now + PERIOD), str(PERIOD)], env=env)
    assert ran.returncode == 0, ran.stderr
    theirs = json.loads(ran.stdout)
    assert theirs[0] == first.calibration_id and len(theirs) == 4
    # This process then serves exactly what the other stored, and goes on from it.
    clock.advance()
    ours = [c.calibration_id for c in here.calibration_list(DEVICE)]
    assert ours == theirs
    alone = CalibrationBook(SQLiteJobStore(":memory:"), here.catalog, schedule(Clock(START)))
    alone.current(DEVICE)
    alone.schedule.clock.advance(3)  # type: ignore[attr-defined]
    assert [c.calibration_id for c in alone.kept(DEVICE)] == ours  # same pure function
    here.stop()


# ------------------------------------------------------------------ jobs and noise


def test_a_job_queued_across_a_recalibration_runs_on_the_new_one(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "jobs.sqlite3"
    idle = Emulator(EmulatorConfig(database=database, workers=0, recalibration=schedule(clock)))
    provider = provider_of(idle)
    backend = provider.get_backend(DEVICE)
    circuit = measured_on(backend, [0, 1, 4], ghz(3))
    job = backend.run(circuit, shots=20, seed_simulator=3)
    assert job.calibration_id() == backend.calibration_id  # in force at submission
    clock.advance()
    runner = Emulator(
        EmulatorConfig(database=database, poll_interval=0.02, recalibration=schedule(clock))
    ).start()
    try:
        job.result(timeout=120)
    finally:
        runner.stop()
    now = provider.client.get_calibration(DEVICE)
    assert job.calibration_id() == now.calibration_id != backend.calibration_id
    properties = job.properties()
    assert properties is not None and properties.calibration == now
    assert [j.job_id() for j in provider.jobs(calibration_id=now.calibration_id)] == [job.job_id()]


def test_a_stale_backend_warns_once_on_submit_and_refresh_clears_it(
    provider: VendorProvider, clock: Clock
) -> None:
    backend = provider.get_backend(DEVICE)
    circuit = measured_on(backend, [0, 1, 4], ghz(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.run(circuit, shots=10).result()  # the same calibration: no warning
    clock.advance()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backend.run(circuit, shots=10).result()
        backend.run(circuit, shots=10).result()
    assert [w.category for w in caught] == [CalibrationDriftWarning]  # once
    assert "backend.refresh()" in str(caught[0].message)
    assert backend.calibration_id is not None and backend.calibration_id in str(caught[0].message)
    backend.refresh()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        job = backend.run(circuit, shots=10)
        job.result()
    assert job.calibration_id() == backend.calibration_id


def test_a_pinned_backend_runs_on_its_calibration_after_the_server_moved_on(
    provider: VendorProvider, clock: Clock
) -> None:
    old = provider.get_backend(DEVICE).calibration_id
    assert old is not None
    clock.advance()
    pinned = provider.get_backend(DEVICE, calibration_id=old)
    assert pinned.pinned and pinned.calibration_id == old
    assert pinned.target is not provider.get_backend(DEVICE).target
    assert pinned.properties().calibration.calibration_id == old  # type: ignore[union-attr]
    circuit = measured_on(pinned, [0, 1, 4], ghz(3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        job = pinned.run(circuit, shots=10)
        pinned.run(circuit, shots=10).result()
    assert [w.category for w in caught] == [CalibrationDriftWarning]  # once
    assert "still run on" in str(caught[0].message)
    job.result()
    assert job.calibration_id() == old
    assert job.properties().calibration.calibration_id == old  # type: ignore[union-attr]
    pinned.refresh()
    assert not pinned.pinned
    assert pinned.calibration_id == provider.client.get_calibration(DEVICE).calibration_id


def test_each_job_has_the_noise_of_the_calibration_it_ran_on(tmp_path: Path) -> None:
    # Large steps, so that two calibrations' readout errors differ by many shot sigmas.
    clock = Clock()
    config = EmulatorConfig(
        database=tmp_path / "jobs.sqlite3",
        poll_interval=0.02,
        recalibration=schedule(clock, drift=8.0, seed=2),
    )
    emulator = Emulator(config).start()
    try:
        provider = provider_of(emulator)
        first = provider.get_backend(DEVICE)
        circuit = measured_on(first, [0], readout_circuit())
        clock.advance()
        current = provider.client.get_calibration(DEVICE)
        shots = 40_000
        expected = {
            "pinned": first.properties().readout_error(0),  # type: ignore[union-attr]
            "current": current.qubits[0].readout_error,
        }
        sigma = max(math.sqrt(p * (1 - p) / shots) for p in expected.values())
        assert abs(expected["pinned"] - expected["current"]) > 10 * sigma  # the seed's draw
        pinned = provider.get_backend(DEVICE, calibration_id=first.calibration_id)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibrationDriftWarning)
            jobs = {
                "pinned": pinned.run(circuit, shots=shots, seed_simulator=5),
                "current": first.run(circuit, shots=shots, seed_simulator=5),
            }
        for which, job in jobs.items():
            ones = job.result().get_counts().get("1", 0) / shots
            assert abs(ones - expected[which]) < 5 * sigma, which
        assert jobs["current"].calibration_id() == current.calibration_id
    finally:
        emulator.stop()


# ------------------------------------------------------------------ older servers


def test_a_server_without_calibration_ids_gives_none_and_clear_errors(
    provider: VendorProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_info = JobInfo.model_validate(
        {
            "job_id": "0" * 32,
            "device": DEVICE,
            "status": "QUEUED",
            "created_at": "2026-12-01T00:00:00Z",
        }
    )
    assert old_info.calibration_id is None
    assert job_properties(provider.client, DEVICE, old_info) is None  # not started
    backend = provider.get_backend(DEVICE)
    without_id = provider.client.get_calibration(DEVICE).model_copy(update={"calibration_id": None})
    monkeypatch.setattr(provider.client, "get_calibration", lambda *a, **k: without_id)
    monkeypatch.setattr(provider.client, "server_api_version", (1, 2))
    with pytest.raises(VendorApiError, match="keeps calibrations by id"):
        pinned_calibration(provider.client, DEVICE, "superconducting_27q-1-abc")
    with pytest.raises(VendorApiError, match=r"API 1\.3"):
        backend.calibrations()
    old = Calibration.model_validate_json(without_id.model_dump_json(exclude={"calibration_id"}))
    assert old.calibration_id is None


# ------------------------------------------------------------------ over HTTP


def test_recalibration_and_pins_over_a_loopback_server(tmp_path: Path, clock: Clock) -> None:
    config = EmulatorConfig(
        database=tmp_path / "jobs.sqlite3",
        poll_interval=0.02,
        recalibration=schedule(clock, keep=5),
    )
    with EmulatorServer(Emulator(config)) as server:
        provider = VendorProvider(url=server.url, journal=False, poll_interval=(0.005, 0.05))
        backend = provider.get_backend(DEVICE)
        old = backend.calibration_id
        clock.advance()
        pinned = provider.get_backend(DEVICE, calibration_id=old)
        circuit = measured_on(pinned, [0, 1, 4], ghz(3))
        with pytest.warns(CalibrationDriftWarning):
            job = pinned.run(circuit, shots=20, seed_simulator=1)
        job.result(timeout=120)
        assert job.calibration_id() == old
        assert [j.job_id() for j in provider.jobs(calibration_id=old)] == [job.job_id()]
        clock.advance(10)  # past what is kept: 5 calibrations
        with pytest.raises(CalibrationNotKeptError, match="the newest it keeps"):
            provider.get_backend(DEVICE, calibration_id=old)


def test_a_queued_pinned_job_keeps_its_calibration_past_the_retention(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "jobs.sqlite3"
    fast = schedule(clock, keep=2)
    idle = Emulator(EmulatorConfig(database=database, workers=0, recalibration=fast))
    provider = provider_of(idle)
    old = provider.get_backend(DEVICE).calibration_id
    pinned = provider.get_backend(DEVICE, calibration_id=old)
    job = pinned.run(measured_on(pinned, [0, 1, 4], ghz(3)), shots=20, seed_simulator=2)
    clock.advance(5)
    kept = [c.calibration_id for c in pinned.calibrations()]
    assert old in kept and len(kept) == 3  # the 2 latest, and the one a job waits for
    runner = Emulator(
        EmulatorConfig(database=database, poll_interval=0.02, recalibration=fast)
    ).start()
    try:
        job.result(timeout=120)
    finally:
        runner.stop()
    assert job.calibration_id() == old
    clock.advance()  # the job ran: nothing holds the old calibration any more
    assert old not in [c.calibration_id for c in pinned.calibrations()]


def test_a_pinned_backend_pickles_as_pinned(provider: VendorProvider, clock: Clock) -> None:
    old = provider.get_backend(DEVICE).calibration_id
    clock.advance()
    pinned = provider.get_backend(DEVICE, calibration_id=old)
    again = pickle.loads(pickle.dumps(pinned))
    assert again.pinned and again.calibration_id == old
    current = pickle.loads(pickle.dumps(provider.get_backend(DEVICE)))
    assert not current.pinned


def test_a_simulator_process_keeps_a_few_calibrations_ready_not_every_one() -> None:
    # A worker lives for weeks and sees a calibration a day: it reuses what it prepared
    # for the calibrations in use, and lets the oldest go.
    spec = load_spec(builtin_device_dir() / "superconducting_27q.json")
    calibration = spec.calibration
    assert calibration is not None
    runner = JobRunner()

    def on(day: int) -> DeviceSpec:
        moved = calibration.model_copy(update={"calibration_id": f"cal-{day:04d}"})
        return spec.model_copy(update={"calibration": moved})

    first = runner.target(on(0))
    assert runner.target(on(0)) is first
    for day in range(1, PREPARED_DEVICES_KEPT + 1):
        runner.target(on(day))
    assert len(runner._devices) == PREPARED_DEVICES_KEPT
    assert runner.target(on(PREPARED_DEVICES_KEPT)) is runner.target(on(PREPARED_DEVICES_KEPT))
    assert runner.target(on(0)) is not first  # the least recently used was let go
