"""Devices as data: calibrated Targets, noise that matches the calibration, properties, status."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Delay, Measure, Reset
from qiskit.providers import QubitProperties

from qiskit_vendor_provider import (
    DeviceUnavailableError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
    characterization,
)
from qiskit_vendor_provider.characterization import readout_circuits, survival_circuits
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import CatalogError, DeviceCatalog, builtin_device_dir
from tests.conftest import MockedApi

NOISY = ["superconducting_27q", "trapped_ion_11q"]


def sigma(p: float, shots: int) -> float:
    return math.sqrt(max(p * (1 - p), 1 / shots) / shots)


# ------------------------------------------------------------------ catalog


def test_catalog_has_the_three_kinds_of_device() -> None:
    catalog = DeviceCatalog.from_directories()
    ideal, sc, ion = (
        catalog.spec(n) for n in ("ideal_simulator", "superconducting_27q", "trapped_ion_11q")
    )
    assert ideal.simulator and ideal.calibration is None and ideal.num_qubits >= 30
    assert all(op.qubits is None for op in ideal.native_operations)
    assert sc.num_qubits >= 27 and {"rz", "sx", "x", "ecr", "measure", "reset", "delay"} <= {
        op.name for op in sc.native_operations
    }
    ecr = next(op for op in sc.native_operations if op.name == "ecr")
    assert ecr.qubits is not None and len(ecr.qubits) < sc.num_qubits * 2  # sparse, directional
    assert {"r", "rz", "rxx"} <= {op.name for op in ion.native_operations}
    assert sc.calibration is not None and ion.calibration is not None
    sx = min(g.duration or 0 for g in sc.calibration.gates if g.name == "sx")
    r = min(g.duration or 0 for g in ion.calibration.gates if g.name == "r")
    assert r > 100 * sx  # ion gates are slow


def test_a_bad_device_file_is_named_in_the_error(tmp_path: Path) -> None:
    spec = json.loads((builtin_device_dir() / "superconducting_27q.json").read_text())
    spec["num_qubits"] = 5  # calibration lists 27 qubits and ECR pairs up to 26
    (tmp_path / "superconducting_27q.json").write_text(json.dumps(spec))
    with pytest.raises(CatalogError, match=r"superconducting_27q\.json is not a valid device spec"):
        DeviceCatalog.from_directories(tmp_path)
    (tmp_path / "superconducting_27q.json").unlink()
    (tmp_path / "other.json").write_text(
        (builtin_device_dir() / "ideal_simulator.json").read_text()
    )
    with pytest.raises(CatalogError, match=r"must be named ideal_simulator\.json"):
        DeviceCatalog.from_directories(tmp_path)


def test_a_new_device_is_just_a_file(tmp_path: Path) -> None:
    spec = json.loads((builtin_device_dir() / "ideal_simulator.json").read_text())
    spec.update(name="tiny_line", num_qubits=3, simulator=False)
    spec["native_operations"] = [
        {"name": "rz", "num_qubits": 1},
        {"name": "sx", "num_qubits": 1},
        {"name": "cz", "num_qubits": 2, "qubits": [[0, 1], [1, 0], [1, 2], [2, 1]]},
        {"name": "measure", "num_qubits": 1},
    ]
    (tmp_path / "tiny_line.json").write_text(json.dumps(spec))
    emulator = Emulator(EmulatorConfig(device_dirs=(builtin_device_dir(), tmp_path))).start()
    try:
        provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
        backend = provider.get_backend("tiny_line")
        assert backend.coupling_map is not None and sorted(backend.coupling_map.get_edges()) == [
            (0, 1),
            (1, 0),
            (1, 2),
            (2, 1),
        ]
        circuit = QuantumCircuit(3)
        circuit.h(0)
        circuit.cx(0, 2)
        circuit.measure_all()
        from qiskit.transpiler import generate_preset_pass_manager

        isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
        counts = backend.run(isa, shots=100, seed_simulator=1).result().get_counts()
        assert set(counts) == {"000", "101"}
    finally:
        emulator.stop()


# ------------------------------------------------------------------ targets


@pytest.mark.parametrize("device", NOISY)
def test_target_carries_the_calibration(provider_session: VendorProvider, device: str) -> None:
    backend = provider_session.get_backend(device)
    calibration = backend.spec.calibration
    assert calibration is not None
    target = backend.target
    assert target.dt == backend.spec.dt
    assert all(isinstance(q, QubitProperties) for q in target.qubit_properties)
    assert target.qubit_properties[3].t1 == calibration.qubits[3].t1
    assert target.qubit_properties[3].frequency == calibration.qubits[3].frequency
    for gate in calibration.gates:
        props = target[gate.name][tuple(gate.qubits)]
        assert (props.error, props.duration) == (gate.error, gate.duration)
    for q, qubit in enumerate(calibration.qubits):
        assert target["measure"][(q,)].error == qubit.readout_error
        assert target["measure"][(q,)].duration == qubit.readout_duration
    assert isinstance(target.operation_from_name("measure"), Measure)
    assert isinstance(target.operation_from_name("reset"), Reset)
    assert isinstance(target.operation_from_name("delay"), Delay)
    assert target["rz"][(0,)].duration == 0.0  # virtual, and schedulable


def test_ideal_target_is_all_to_all(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend("ideal_simulator")
    assert backend.coupling_map is None
    assert backend.target.instruction_supported("cx", (31, 0))
    assert backend.properties() is None


# ------------------------------------------------------------------ noise agrees with calibration


@pytest.mark.parametrize(
    ("device", "qubit", "pulse"),
    [
        ("superconducting_27q", 4, "sx"),
        ("superconducting_27q", 13, "sx"),
        ("trapped_ion_11q", 2, "r"),
    ],
)
def test_measured_readout_error_matches_calibration(
    provider_session: VendorProvider, device: str, qubit: int, pulse: str
) -> None:
    backend = provider_session.get_backend(device)
    properties = backend.properties()
    assert properties is not None
    expected = properties.readout_error(qubit)
    shots = min(20_000, backend.limits.max_shots)
    circuits = readout_circuits(backend.num_qubits, qubit, backend.operation_names)
    result = backend.run(circuits, shots=shots, seed_simulator=17).result()
    measured = characterization.readout_error(result.get_counts(0).get("1", 0) / shots, shots)
    assert abs(measured.value - expected) <= 5 * measured.std
    # Reading |1> also suffers the two pulses that prepare it (each at most 3/2 of its infidelity).
    p01 = result.get_counts(1).get("0", 0) / shots
    pulse_error = properties.gate_error(pulse, qubit) or 0.0
    assert abs(p01 - expected) <= 5 * measured.std + 3 * pulse_error


@pytest.mark.parametrize(
    ("device", "qubit", "pulse"), [("superconducting_27q", 4, "sx"), ("trapped_ion_11q", 2, "r")]
)
def test_measured_single_qubit_error_matches_calibration(
    provider_session: VendorProvider, device: str, qubit: int, pulse: str
) -> None:
    backend = provider_session.get_backend(device)
    properties = backend.properties()
    assert properties is not None
    expected = properties.gate_error(pulse, qubit)
    assert expected is not None
    shots, length = 10_000, 200
    survival = []
    for n in (0, length):
        circuits = survival_circuits(backend.num_qubits, qubit, n, backend.operation_names)
        result = backend.run(circuits, shots=shots, seed_simulator=5).result()
        survival.append(
            float(np.mean([result.get_counts(i).get("0", 0) / shots for i in range(6)]))
        )
    measured = characterization.gate_error(survival[0], survival[1], length, shots)
    assert abs(measured.value - expected) <= 5 * measured.std, (measured, expected)


# ------------------------------------------------------------------ properties and status


def test_properties_accessors_and_dict(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend("superconducting_27q")
    properties = backend.properties()
    assert properties is not None
    calibration = backend.spec.calibration
    assert calibration is not None
    assert properties.last_update_date == calibration.timestamp
    assert properties.t1(0) == calibration.qubits[0].t1
    assert properties.t2(0) == calibration.qubits[0].t2
    assert properties.frequency(0) == calibration.qubits[0].frequency
    assert properties.readout_length(0) == calibration.qubits[0].readout_duration
    ecr = next(g for g in calibration.gates if g.name == "ecr")
    assert properties.gate_error("ecr", ecr.qubits) == ecr.error
    assert properties.gate_length("ecr", ecr.qubits) == ecr.duration
    data = properties.to_dict()
    assert data["backend_name"] == "superconducting_27q"
    assert json.loads(json.dumps(data))["qubits"][0]["t1"] == calibration.qubits[0].t1
    with pytest.raises(VendorValidationError, match="qubit 27 is out of range"):
        properties.t1(27)
    with pytest.raises(VendorValidationError, match="no calibration of 'ecr' on qubits"):
        properties.gate_error("ecr", [0, 26])


def test_properties_at_a_past_time_come_from_what_was_served(
    provider: VendorProvider, api: MockedApi
) -> None:
    # The drift itself is tested with a clock in tests/test_calibrations.py.
    backend = provider.get_backend("superconducting_27q")
    now = backend.properties()
    assert now is not None
    before = len(api.calls("GET", "/v1/devices/superconducting_27q/calibration"))
    moment = now.last_update_date + dt.timedelta(days=3, hours=5)
    past = backend.properties(datetime=moment)
    assert past is not None
    assert past.to_dict() == now.to_dict()  # the only one served so far
    assert len(api.calls("GET", "/v1/devices/superconducting_27q/calibration")) == before + 1
    again = backend.properties(datetime=moment)
    assert again is not None and again.to_dict() == past.to_dict()  # history is stable
    with pytest.raises(VendorNotFoundError, match="no calibration before"):
        backend.properties(datetime=now.last_update_date - dt.timedelta(days=1))


def test_refresh_fetches_and_updates_the_target(provider: VendorProvider, api: MockedApi) -> None:
    backend = provider.get_backend("trapped_ion_11q")
    target = backend.target
    before = len(api.calls("GET", "/v1/devices/trapped_ion_11q/calibration"))
    current = backend.spec.calibration
    assert current is not None
    stale_calibration = current.model_copy(
        update={
            "timestamp": current.timestamp - dt.timedelta(days=2),
            "qubits": [q.model_copy(update={"t1": (q.t1 or 1.0) / 2}) for q in current.qubits],
            "gates": [g.model_copy(update={"error": (g.error or 0.0) * 2}) for g in current.gates],
        }
    )
    backend._spec = backend.spec.model_copy(update={"calibration": stale_calibration})
    stale = backend.properties()
    fresh = backend.properties(refresh=True)
    assert stale is not None and fresh is not None
    assert fresh.last_update_date > stale.last_update_date
    assert backend.target is target  # same object, new figures
    assert target["rxx"][(0, 1)].error == fresh.gate_error("rxx", [0, 1])
    assert target.qubit_properties[0].t1 == fresh.t1(0)
    assert len(api.calls("GET", "/v1/devices/trapped_ion_11q/calibration")) == before + 1


def test_status_reports_queue_and_message(provider: VendorProvider) -> None:
    status = provider.get_backend("superconducting_27q").status()
    assert status.backend_name == "superconducting_27q"
    assert status.operational is True
    assert status.pending_jobs >= 0


def test_offline_device_is_shown_filtered_and_refuses_jobs() -> None:
    emulator = Emulator(
        EmulatorConfig(offline={"trapped_ion_11q": "maintenance until 18:00 UTC"})
    ).start()
    try:
        provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
        backend = provider.get_backend("trapped_ion_11q")
        status = backend.status()
        assert (status.operational, status.status_msg) == (False, "maintenance until 18:00 UTC")
        assert "trapped_ion_11q" not in [b.name for b in provider.backends(operational=True)]
        assert [b.name for b in provider.backends(operational=False)] == ["trapped_ion_11q"]
        circuit = QuantumCircuit(1, 1)
        circuit.measure(0, 0)
        with pytest.raises(
            DeviceUnavailableError, match="not accepting jobs: maintenance until 18:00 UTC"
        ):
            backend.run(circuit)
        store = emulator.store
        assert store._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0  # type: ignore[attr-defined]
    finally:
        emulator.stop()


def test_backends_filters(provider_session: VendorProvider) -> None:
    names = lambda backends: [b.name for b in backends]  # noqa: E731
    assert names(provider_session.backends()) == [
        "ideal_simulator",
        "superconducting_27q",
        "trapped_ion_11q",
    ]
    assert names(provider_session.backends("trapped_ion_11q")) == ["trapped_ion_11q"]
    assert names(provider_session.backends(name=r".*_\d+q")) == [
        "superconducting_27q",
        "trapped_ion_11q",
    ]
    assert names(provider_session.backends(name="ion")) == []  # a regex matches the whole name
    assert names(provider_session.backends(simulator=True)) == ["ideal_simulator"]
    assert names(provider_session.backends(simulator=False, min_num_qubits=20)) == [
        "superconducting_27q"
    ]
    assert names(provider_session.backends(min_num_qubits=28)) == ["ideal_simulator"]
    assert names(provider_session.backends(operational=True)) == names(provider_session.backends())
