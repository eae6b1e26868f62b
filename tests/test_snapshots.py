"""Snapshots: a device as a server reports it, written to a file and served offline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from qiskit.transpiler import Target, generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.cli import main
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.emulator.__main__ import main as serve_emulator
from qiskit_vendor_provider.emulator.recalibration import RecalibrationSchedule
from qiskit_vendor_provider.errors import DeviceFileError, VendorValidationError
from qiskit_vendor_provider.provider import provider_from_reference
from tests.helpers import ghz

DEVICE = "superconducting_27q"
PERIOD = 60.0
START = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc).timestamp() + 1.0
SHOTS = 4000


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[EmulatorServer]:
    schedule = RecalibrationSchedule(period=PERIOD, clock=clock)
    config = EmulatorConfig(
        database=tmp_path / "server.sqlite3", poll_interval=0.02, recalibration=schedule
    )
    with EmulatorServer(Emulator(config)) as running:
        yield running


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.setenv("QISKIT_VENDOR_JOURNAL", str(tmp_path / "journal.sqlite3"))
    return CliRunner()


def snapshot(cli: CliRunner, url: str, output: Path, *extra: str) -> str:
    result = cli.invoke(
        main,
        ["--url", url, "device", "snapshot", DEVICE, "-o", str(output), *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def target_figures(target: Target) -> dict[str, object]:
    """Everything of a Target that transpiling and noise read, comparable with ==."""
    operations = {
        name: {
            qargs: None if props is None else (props.error, props.duration)
            for qargs, props in target[name].items()
        }
        for name in target.operation_names
    }
    qubits = [(q.t1, q.t2, q.frequency) for q in target.qubit_properties or []]
    return {"operations": operations, "qubits": qubits, "dt": target.dt}


def counts_agree(first: dict[str, int], second: dict[str, int], shots: int) -> list[str]:
    """Outcomes whose frequencies differ by more than 5 sigma of two independent samples."""
    far = []
    for outcome in set(first) | set(second):
        p1, p2 = first.get(outcome, 0) / shots, second.get(outcome, 0) / shots
        pooled = (p1 + p2) / 2
        sigma = math.sqrt(2 * max(pooled * (1 - pooled), 1 / shots) / shots)
        if abs(p1 - p2) > 5 * sigma:
            far.append(f"{outcome}: {p1:.4f} vs {p2:.4f}")
    return far


def test_a_snapshot_reproduces_the_device_offline(
    server: EmulatorServer, clock: Clock, cli: CliRunner, tmp_path: Path
) -> None:
    clock.now += 2 * PERIOD  # a drifted calibration, not the device file's
    online = VendorProvider(url=server.url, journal=False, poll_interval=(0.005, 0.05))
    live = online.get_backend(DEVICE)
    file = tmp_path / "yesterday.json"
    out = snapshot(cli, server.url, file)
    assert live.calibration_id is not None and live.calibration_id in out

    offline = VendorProvider(devices=[file], poll_interval=(0.005, 0.05))
    assert [b.name for b in offline.backends()] == [DEVICE]
    fake = offline.get_backend(DEVICE)
    assert fake.calibration_id == live.calibration_id
    assert fake.properties().calibration == live.properties().calibration  # type: ignore[union-attr]
    assert target_figures(fake.target) == target_figures(live.target)

    manager = generate_preset_pass_manager(
        optimization_level=1, backend=live, initial_layout=[0, 1, 4, 7, 10], seed_transpiler=3
    )
    circuit = manager.run(ghz(5))
    assert manager.run(ghz(5)) == circuit
    counts_live = live.run(circuit, shots=SHOTS, seed_simulator=11).result().get_counts()
    counts_fake = fake.run(circuit, shots=SHOTS, seed_simulator=29).result().get_counts()
    assert counts_agree(counts_live, counts_fake, SHOTS) == []
    # Noisy, as the device is: a GHZ-5 on it is far from ideal.
    assert counts_live.get("00000", 0) + counts_live.get("11111", 0) < 0.97 * SHOTS


def test_a_snapshot_of_an_older_calibration(
    server: EmulatorServer, clock: Clock, cli: CliRunner, tmp_path: Path
) -> None:
    online = VendorProvider(url=server.url, journal=False)
    first = online.get_backend(DEVICE).calibration_id
    assert first is not None
    clock.now += PERIOD
    file = tmp_path / "first.json"
    snapshot(cli, server.url, file, "--calibration-id", first)
    written = json.loads(file.read_text())
    assert written["calibration"]["calibration_id"] == first
    assert written["operational"] is True
    result = cli.invoke(
        main,
        [
            "--url",
            server.url,
            "device",
            "snapshot",
            DEVICE,
            "-o",
            str(file),
            "--calibration-id",
            "gone-1",
        ],
    )
    assert result.exit_code != 0
    assert "no calibration 'gone-1'" in result.output
    missing = cli.invoke(main, ["--url", server.url, "device", "snapshot", DEVICE])
    assert missing.exit_code == 2 and "needs -o FILE" in missing.output


def _spec_data(tmp_path: Path, cli: CliRunner, server: EmulatorServer) -> dict[str, object]:
    file = tmp_path / "good.json"
    snapshot(cli, server.url, file)
    data: dict[str, object] = json.loads(file.read_text())
    return data


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("num_qubits"), "num_qubits: Field required"),
        (lambda d: d["calibration"]["qubits"][3].update(t1="long"), "calibration.qubits.3.t1"),
        (lambda d: d["calibration"].update(calibration_id="a b"), "calibration.calibration_id"),
        (lambda d: d["limits"].update(max_shots=0), "limits.max_shots"),
    ],
    ids=["missing", "wrong type", "bad id", "bad limit"],
)
def test_a_malformed_device_file_is_refused_naming_the_field(
    change: object,
    field: str,
    server: EmulatorServer,
    cli: CliRunner,
    tmp_path: Path,
) -> None:
    data = _spec_data(tmp_path, cli, server)
    change(data)  # type: ignore[operator]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(DeviceFileError, match=field.replace(".", r"\.")) as caught:
        VendorProvider(devices=[bad])
    assert str(bad) in str(caught.value)
    assert isinstance(caught.value, VendorValidationError)
    with pytest.raises(DeviceFileError, match=field.replace(".", r"\.")):
        Emulator(EmulatorConfig(device_files=(bad,)))


def test_device_files_reach_the_emulator_command_line_and_refuse_junk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(SystemExit) as exited:
        serve_emulator(["--device-file", str(junk), "--no-builtin-devices", "--port", "0"])
    assert exited.value.code == 2
    assert "junk.json is not a valid device" in capsys.readouterr().err
    with pytest.raises(VendorValidationError, match="list of device file paths"):
        VendorProvider(devices="one.json")  # type: ignore[arg-type]
    with pytest.raises(DeviceFileError, match="cannot read device file"):
        VendorProvider(devices=[tmp_path / "missing.json"])
    with pytest.raises(VendorValidationError, match="without url="):
        VendorProvider(url="http://127.0.0.1:1", devices=[junk])


PLUGIN_CONFTEST = """
import pytest

@pytest.fixture
def vendor_device_files():
    return [{path!r}]
"""

PLUGIN_TEST = """
def test_the_snapshot_is_the_fake_device(vendor_provider):
    backend = vendor_provider.get_backend("superconducting_27q")
    assert backend.calibration_id == {calibration_id!r}
    assert [b.name for b in vendor_provider.backends()] == ["superconducting_27q"]
"""


def test_the_pytest_plugin_serves_snapshots(
    pytester: pytest.Pytester, server: EmulatorServer, cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "snap.json"
    snapshot(cli, server.url, file)
    calibration_id = json.loads(file.read_text())["calibration"]["calibration_id"]
    pytester.makeconftest(PLUGIN_CONFTEST.format(path=str(file)))
    pytester.makepyfile(test_snap=PLUGIN_TEST.format(calibration_id=calibration_id))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_device_file_may_have_any_name(tmp_path: Path) -> None:
    # A snapshot file may have any name: only directories of device files need NAME.json.
    source = Path(__file__).parents[1] / "qiskit_vendor_provider/emulator/devices"
    data = json.loads((source / "trapped_ion_11q.json").read_text())
    file = tmp_path / "any name at all.json"
    file.write_text(json.dumps(data))
    provider = VendorProvider(devices=[file])
    assert provider.get_backend("trapped_ion_11q").num_qubits == 11


def test_a_device_file_provider_pickles_as_its_files_and_ignores_the_environment(
    server: EmulatorServer,
    cli: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    file = tmp_path / "device.json"
    snapshot(cli, server.url, file)
    # A user's configured server and token must not leak into a provider of files...
    monkeypatch.setenv("QISKIT_VENDOR_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("QISKIT_VENDOR_TOKEN", "not-for-the-files")
    offline = VendorProvider(devices=[file], poll_interval=(0.005, 0.05))
    assert offline.reference.source == "device files"
    assert not offline.reference.has_token
    assert offline.reference.device_files == (str(file.resolve()),)
    backend = offline.get_backend(DEVICE)
    # ...nor a pickle of it come back as another server: in a process where it is not
    # alive, it serves the same files again (the live one answers in this process).
    stale = dataclasses.replace(offline.reference, instance="gone")
    restored = provider_from_reference(stale)
    assert restored is not offline
    assert restored.reference.device_files == offline.reference.device_files
    assert target_figures(restored.get_backend(DEVICE).target) == target_figures(backend.target)
    assert pickle.loads(pickle.dumps(backend)).provider is offline
    with pytest.raises(VendorValidationError, match="without token="):
        VendorProvider(devices=[file], token="abc")
