"""Qubits and couplers out of service: the Target leaves them out, and nothing may use them.

A variant of ``superconducting_27q`` (``tests/faulty.py``) marks qubit 7 and the ECR
couplers (0, 1) and (1, 4) ``operational: false``. The shipped devices stay as they
are: a calibration without the flag means every element is in service.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import (
    CircuitValidationError,
    FaultyElementError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
    cli,
)
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import Calibration, JobSubmission
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import CatalogError, DeviceCatalog, builtin_device_dir
from qiskit_vendor_provider.primitives import VendorSampler
from qiskit_vendor_provider.properties import GateProperties
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.conftest import MOCK_TOKEN, MOCK_URL, MockedApi
from tests.faulty import (
    FAULTY,
    FAULTY_COUPLERS,
    FAULTY_QUBIT,
    faulty_spec,
    write_faulty_device,
)
from tests.helpers import ghz

SHIPPED = "superconducting_27q"


@pytest.fixture(scope="module")
def faulty_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The shipped devices and the faulty variant."""
    directory = Path(tmp_path_factory.mktemp("faulty_devices"))
    write_faulty_device(directory)
    emulator = Emulator(
        EmulatorConfig(
            database=":memory:", poll_interval=0.05, device_dirs=(builtin_device_dir(), directory)
        )
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def faulty_provider(faulty_emulator: Emulator) -> VendorProvider:
    """A fresh provider (its own backends) on the emulator with the faulty variant."""
    return VendorProvider(transport=InProcessTransport(create_app(faulty_emulator)))


@pytest.fixture
def mocked(faulty_emulator: Emulator) -> Iterator[tuple[VendorProvider, MockedApi]]:
    """A provider whose every HTTP request is recorded, answered by that emulator."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = MockedApi(faulty_emulator, mock)
        yield VendorProvider(url=MOCK_URL, token=MOCK_TOKEN, poll_interval=(0.005, 0.05)), api


def on_device(*gates: tuple[str, tuple[int, ...]], measure: int | None = 0) -> QuantumCircuit:
    """A 27-qubit circuit of native gates, one qubit measured."""
    circuit = QuantumCircuit(27, 1, name="native")
    for name, qubits in gates:
        getattr(circuit, name)(*qubits)
    if measure is not None:
        circuit.measure(measure, 0)
    return circuit


# ------------------------------------------------------------------ the data


def test_a_calibration_without_the_flag_has_everything_in_service(
    faulty_provider: VendorProvider,
) -> None:
    # An older server's answer (or device file): no "operational" anywhere.
    old = Calibration.model_validate(
        {
            "timestamp": "2026-01-01T00:00:00Z",
            "qubits": [{"t1": 1e-4}, {"t1": 1e-4}],
            "gates": [{"name": "cz", "qubits": [0, 1], "error": 0.01}],
        }
    )
    assert all(q.operational for q in old.qubits) and all(g.operational for g in old.gates)
    shipped = faulty_provider.get_backend(SHIPPED)
    assert shipped.faulty_qubits() == [] and shipped.faulty_gates() == []
    properties = shipped.properties()
    assert properties is not None
    assert properties.faulty_qubits() == [] and properties.faulty_gates() == []
    shipped.check_faulty(on_device(("x", (FAULTY_QUBIT,)), ("ecr", (0, 1))))


def test_the_target_leaves_faulty_elements_out(faulty_provider: VendorProvider) -> None:
    shipped = faulty_provider.get_backend(SHIPPED).target
    target = faulty_provider.get_backend(FAULTY).target
    assert target.num_qubits == 27 and len(target.qubit_properties) == 27
    for name in target.operation_names:
        qargs = target.qargs_for_operation_name(name)
        if qargs is None:  # control flow: global
            continue
        assert not any(FAULTY_QUBIT in q for q in qargs), name
        assert any(FAULTY_QUBIT in q for q in shipped.qargs_for_operation_name(name)), name
    for pair in FAULTY_COUPLERS:
        assert pair in shipped["ecr"] and pair not in target["ecr"]
    assert (12, 13) in target["ecr"]  # the bad (not faulty) qubit 13 stays
    edges = set(target.build_coupling_map().get_edges())
    assert edges == {
        e for e in shipped.build_coupling_map().get_edges() if FAULTY_QUBIT not in e
    } - set(FAULTY_COUPLERS)
    # Everything else is as calibrated.
    for name, qargs in (("ecr", (12, 13)), ("measure", (13,)), ("sx", (6,))):
        mine, calibrated = target[name][qargs], shipped[name][qargs]
        assert (mine.error, mine.duration) == (calibrated.error, calibrated.duration)


def test_faulty_lists_follow_ibm(faulty_provider: VendorProvider) -> None:
    backend = faulty_provider.get_backend(FAULTY)
    expected_gates = [GateProperties(gate="ecr", qubits=list(p)) for p in FAULTY_COUPLERS]
    assert backend.faulty_qubits() == [FAULTY_QUBIT]
    assert backend.faulty_gates() == expected_gates
    properties = backend.properties()
    assert properties is not None
    assert properties.faulty_qubits() == [FAULTY_QUBIT]
    assert properties.faulty_gates() == expected_gates
    # As IBM's check_faulty reads them.
    edges = [tuple(g.qubits) for g in properties.faulty_gates() if len(g.qubits) > 1]
    assert edges == list(FAULTY_COUPLERS)
    assert not properties.is_qubit_operational(FAULTY_QUBIT)
    assert properties.is_qubit_operational(13)
    assert not properties.is_gate_operational("ecr", [0, 1])
    assert properties.is_gate_operational("ecr", (12, 13))


def test_qubit_property_as_ibm_gives_it(faulty_provider: VendorProvider) -> None:
    properties = faulty_provider.get_backend(FAULTY).properties()
    assert properties is not None
    date = properties.last_update_date
    assert properties.qubit_property(13, "T1") == (9e-06, date)
    assert properties.qubit_property(13, "readout_error") == (0.28, date)
    assert properties.qubit_property(FAULTY_QUBIT, "operational") == (False, date)
    every = properties.qubit_property(13)
    assert isinstance(every, dict)
    assert set(every) == {
        "T1",
        "T2",
        "T2star",
        "frequency",
        "readout_error",
        "readout_length",
        "operational",
    }
    assert every["frequency"] == (properties.frequency(13), date)
    with pytest.raises(VendorValidationError, match=r"no calibrated 'prob_meas0_prep1'.*T1"):
        properties.qubit_property(13, "prob_meas0_prep1")
    with pytest.raises(VendorValidationError, match="out of range"):
        properties.qubit_property(27)


# ------------------------------------------------------------------ the client refuses


def fragment_pattern(fragment: str) -> str:
    return r"PUB 0: .*" + re.escape(fragment)


def test_check_faulty_names_the_element(faulty_provider: VendorProvider) -> None:
    backend = faulty_provider.get_backend(FAULTY)
    backend.check_faulty(on_device(("x", (6,)), ("ecr", (1, 2))))
    with_barrier = on_device(("x", (6,)))
    with_barrier.barrier()  # barriers touch every qubit, and are not checked (as IBM's)
    backend.check_faulty(with_barrier)
    with pytest.raises(FaultyElementError, match=r"qubit 7 of device .* out of service") as info:
        backend.check_faulty(on_device(("sx", (FAULTY_QUBIT,))))
    assert isinstance(info.value, ValueError)  # what IBM's check_faulty raises
    assert "transpile the circuit again" in str(info.value)
    with pytest.raises(FaultyElementError, match=r"instruction 0 \(ecr on qubits \(0, 1\)\)"):
        backend.check_faulty(on_device(("ecr", (0, 1))))
    with pytest.raises(FaultyElementError, match=r"coupler \(1, 4\)"):
        backend.check_faulty(on_device(("ecr", (1, 4))))
    dynamic = on_device()
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(FAULTY_QUBIT)
    with pytest.raises(FaultyElementError, match=r"\(in a block 1 deep\) \(x on qubits \(7,\)\)"):
        backend.check_faulty(dynamic)
    with pytest.raises(VendorValidationError, match="takes a QuantumCircuit"):
        backend.check_faulty("x 7")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("gates", "measure", "fragment"),
    [
        ([("x", (FAULTY_QUBIT,))], 0, "qubit 7 of device"),
        ([], FAULTY_QUBIT, "(measure on qubits (7,)): qubit 7"),
        ([("ecr", (0, 1))], 0, "coupler (0, 1)"),
    ],
    ids=["gate", "measure", "coupler"],
)
def test_run_and_the_sampler_refuse_before_any_http_call(
    mocked: tuple[VendorProvider, MockedApi],
    gates: list[tuple[str, tuple[int, ...]]],
    measure: int,
    fragment: str,
) -> None:
    provider, api = mocked
    backend = provider.get_backend(FAULTY)
    circuit = on_device(*gates, measure=measure)
    before = len(api.calls())
    with pytest.raises(FaultyElementError, match=r"transpile the circuit again") as info:
        backend.run(circuit, shots=10)
    assert fragment in str(info.value)
    sampler = VendorSampler(mode=backend, options={"skip_transpilation": True})
    with pytest.raises(FaultyElementError, match=fragment_pattern(fragment)):
        sampler.run([circuit], shots=10)
    if gates != [("ecr", (0, 1))]:
        # Transpiling cannot help either: the circuit is as wide as the device, and its
        # idle qubit is the one that may sit on the faulty qubit.
        with pytest.raises(FaultyElementError, match=fragment_pattern(fragment)):
            VendorSampler(mode=backend).run([circuit], shots=10)
    assert len(api.calls()) == before, "a faulty element must be refused before any request"


def test_a_circuit_transpiled_for_the_faults_runs(faulty_provider: VendorProvider) -> None:
    shipped = faulty_provider.get_backend(SHIPPED)
    faulty = faulty_provider.get_backend(FAULTY)
    old = generate_preset_pass_manager(backend=shipped, optimization_level=1, seed_transpiler=7)
    stale = old.run(ghz(5))
    assert FAULTY_QUBIT in stale.layout.final_index_layout()  # the test's premise
    with pytest.raises(FaultyElementError, match="transpile the circuit again"):
        faulty.run(stale)
    fresh = generate_preset_pass_manager(
        backend=faulty, optimization_level=1, seed_transpiler=7, scheduling_method="alap"
    ).run(ghz(5))
    faulty.check_faulty(fresh)
    shots = 400
    counts = faulty.run(fresh, shots=shots, seed_simulator=5).result().get_counts()
    good = counts.get("00000", 0) + counts.get("11111", 0)
    # GHZ-5 on good qubits: well over 80% (4 ECRs at ~1%, readout ~2% per qubit).
    assert good / shots > 0.8, counts


def test_the_sampler_lays_a_stale_circuit_out_again(faulty_provider: VendorProvider) -> None:
    # Laid out for the shipped calibration, through qubit 7 and coupler (0, 1): the
    # primitive transpiles what is not ISA for the device now, around its faults.
    shipped = faulty_provider.get_backend(SHIPPED)
    stale = generate_preset_pass_manager(
        backend=shipped, optimization_level=1, seed_transpiler=7
    ).run(ghz(3))
    assert {FAULTY_QUBIT, 1, 0} & set(stale.layout.final_index_layout())
    sampler = VendorSampler(mode=faulty_provider.get_backend(FAULTY))
    shots = 400
    result = sampler.run([stale], shots=shots).result()
    counts = result[0].data.meas.get_counts()
    assert (counts.get("000", 0) + counts.get("111", 0)) / shots > 0.85, counts


# ------------------------------------------------------------------ the server refuses


def _payload(circuit: QuantumCircuit) -> bytes:
    """A job of ``circuit`` as the client would encode it, without the client's checks."""
    submission = JobSubmission(device=FAULTY, shots=10, programs=[circuit_to_wire(circuit)])
    return wire.encode_submission(submission)


def _dynamic_on_faulty_qubit() -> QuantumCircuit:
    circuit = on_device()
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(FAULTY_QUBIT)
    return circuit


def _delay_on_faulty_qubit() -> QuantumCircuit:
    circuit = on_device()
    circuit.delay(16, FAULTY_QUBIT)
    return circuit


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: on_device(("x", (FAULTY_QUBIT,))), "(x on qubits (7,)): qubit 7"),
        (lambda: on_device(measure=FAULTY_QUBIT), "(measure on qubits (7,)): qubit 7"),
        (_delay_on_faulty_qubit, "(delay on qubits (7,)): qubit 7"),
        (lambda: on_device(("ecr", (1, 4))), "the coupler (1, 4)"),
        (_dynamic_on_faulty_qubit, "(in a block 1 deep) (x on qubits (7,)): qubit 7"),
    ],
    ids=["gate", "measure", "delay", "coupler", "control-flow"],
)
def test_the_emulator_refuses_faulty_elements_itself(
    faulty_provider: VendorProvider, make: Callable[[], QuantumCircuit], fragment: str
) -> None:
    # Posted as bytes, past every client check: the server must not trust the client.
    before = len(faulty_provider.jobs(limit=None, backend_name=FAULTY))
    with pytest.raises(VendorValidationError) as info:
        faulty_provider.client.submit_payload(_payload(make()), uuid.uuid4().hex)
    message = str(info.value)
    assert info.value.status_code == 422, message
    assert fragment in message and "out of service" in message, message
    assert "transpile the circuit again" in message
    assert len(faulty_provider.jobs(limit=None, backend_name=FAULTY)) == before


def test_a_device_file_that_marks_a_gate_it_lacks_is_refused(tmp_path: Path) -> None:
    # (1, 0) is not an ECR pair of the device ((0, 1) is): a typo, which would mark nothing.
    write_faulty_device(tmp_path, qubits=(), couplers=((1, 0),))
    spec = faulty_spec(qubits=(), couplers=())
    spec["calibration"]["gates"].append(
        {"name": "ecr", "qubits": [1, 0], "error": 0.01, "operational": False}
    )
    (tmp_path / f"{FAULTY}.json").write_text(json.dumps(spec))
    with pytest.raises(CatalogError, match=r"marks gates faulty that it does not have: ecr on"):
        DeviceCatalog.from_directories(tmp_path)


# ------------------------------------------------------------------ after a recalibration


def test_a_refreshed_calibration_with_new_faults_rebuilds_the_target(
    faulty_provider: VendorProvider,
) -> None:
    backend = faulty_provider.get_backend(SHIPPED)
    before = backend.coupling_map
    assert before is not None and (0, 1) in before.get_edges()
    calibration = backend.spec.calibration
    assert calibration is not None
    qubits = list(calibration.qubits)
    qubits[FAULTY_QUBIT] = qubits[FAULTY_QUBIT].model_copy(update={"operational": False})
    gates = [
        g.model_copy(update={"operational": False}) if tuple(g.qubits) == (0, 1) else g
        for g in calibration.gates
    ]
    later = calibration.model_copy(
        update={
            "qubits": qubits,
            "gates": gates,
            "timestamp": calibration.timestamp + dt.timedelta(days=1),
        }
    )
    # What properties(refresh=True) (and, later, a recalibrating server) applies.
    backend._apply_calibration(later)
    assert backend.faulty_qubits() == [FAULTY_QUBIT]
    after = backend.coupling_map
    assert after is not None and (0, 1) not in after.get_edges()
    with pytest.raises(FaultyElementError):
        backend.run(on_device(("ecr", (0, 1))))


# ------------------------------------------------------------------ configuration()


def test_configuration_and_defaults_agree_with_the_target(faulty_provider: VendorProvider) -> None:
    shipped = faulty_provider.get_backend(SHIPPED)
    config = shipped.configuration()
    assert config.num_qubits == config.n_qubits == 27
    assert config.backend_name == SHIPPED and not config.simulator
    assert config.max_shots == shipped.limits.max_shots
    assert config.max_experiments == config.max_circuits == shipped.max_circuits
    assert config.basis_gates == ["ecr", "id", "rz", "sx", "x"]
    assert {"measure", "delay", "if_else"} <= set(config.supported_instructions)
    assert config.conditional and config.dt == shipped.dt and not config.open_pulse
    assert config.coupling_map is not None
    assert sorted(map(tuple, config.coupling_map)) == sorted(shipped.coupling_map.get_edges())
    assert "max_shots" in config and "num_qubits" in config and "fancy" not in config
    assert config.to_dict()["n_qubits"] == 27
    faulty = faulty_provider.get_backend(FAULTY).configuration()
    assert faulty.coupling_map is not None and [0, 1] not in faulty.coupling_map
    defaults = shipped.defaults()
    assert defaults is not None
    assert defaults.qubit_freq_est == [q.frequency for q in shipped.target.qubit_properties]
    ideal = faulty_provider.get_backend("ideal_simulator")
    assert ideal.configuration().coupling_map is None and ideal.configuration().simulator
    assert ideal.defaults() is None


# ------------------------------------------------------------------ choosing a device


def test_least_busy_counts_operational_qubits(faulty_provider: VendorProvider) -> None:
    pattern = "superconducting_27q.*"
    assert faulty_provider.least_busy(pattern, min_num_qubits=27).name == SHIPPED
    with pytest.raises(VendorNotFoundError, match=f"{FAULTY} has 26 operational qubits"):
        faulty_provider.least_busy(FAULTY, min_num_qubits=27)
    assert faulty_provider.least_busy(FAULTY, min_num_qubits=26).name == FAULTY


def test_the_cli_shows_operational_qubits(
    faulty_provider: VendorProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli._Context, "provider", lambda self: faulty_provider)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["devices"], catch_exceptions=False)
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:]}
    assert rows[FAULTY] == "26/27" and rows[SHIPPED] == "27"
    result = runner.invoke(cli.main, ["devices", "--json"], catch_exceptions=False)
    listed = {row["name"]: row for row in json.loads(result.stdout)}
    assert listed[FAULTY]["operational_qubits"] == 26
    assert listed[FAULTY]["faulty_qubits"] == [FAULTY_QUBIT]
    assert listed[FAULTY]["faulty_gates"] == [
        {"gate": "ecr", "qubits": list(pair)} for pair in FAULTY_COUPLERS
    ]
    assert listed[SHIPPED]["operational_qubits"] == 27
    result = runner.invoke(cli.main, ["device", FAULTY], catch_exceptions=False)
    assert "qubits: 27 (26 operational)" in result.stdout
    assert "out of service: qubits 7; gates ecr (0, 1), ecr (1, 4)" in result.stdout
    result = runner.invoke(cli.main, ["device", SHIPPED], catch_exceptions=False)
    assert "out of service" not in result.stdout and "qubits: 27   " in result.stdout


def test_circuit_validation_error_is_still_the_base_class() -> None:
    # Code written against this package's errors keeps catching the new refusal.
    assert issubclass(FaultyElementError, CircuitValidationError)
