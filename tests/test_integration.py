"""Real parts end to end: a uvicorn server on 127.0.0.1, the quickstart, the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorNotFoundError, VendorProvider, VendorValidationError
from qiskit_vendor_provider.emulator import EmulatorServer
from qiskit_vendor_provider.testing.process import emulator_process, free_loopback_port
from tests.helpers import isolated_env, run_python

pytestmark = pytest.mark.integration


def test_quickstart_path_over_real_http(live_server: EmulatorServer) -> None:
    assert live_server.url.startswith("http://127.0.0.1:")
    provider = VendorProvider(url=live_server.url, poll_interval=(0.01, 0.1))
    backend = provider.get_backend("superconducting_27q")
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    result = backend.run(isa, shots=1000, seed_simulator=3).result(timeout=60)
    counts = result.get_counts()
    assert sum(counts.values()) == 1000
    assert counts["00"] + counts["11"] > 900


def test_errors_over_real_http_are_typed(live_server: EmulatorServer) -> None:
    provider = VendorProvider(url=live_server.url)
    with pytest.raises(VendorNotFoundError, match="no device named 'nope'"):
        provider.client.get_device("nope")
    with pytest.raises(VendorNotFoundError, match="no job with id"):
        provider.client.get_job("0" * 32)


def test_server_answers_problem_json_with_request_id(live_server: EmulatorServer) -> None:
    response = requests.post(f"{live_server.url}/v1/jobs", data="{", timeout=10)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_server_refuses_non_loopback_hosts() -> None:
    from qiskit_vendor_provider.emulator import Emulator

    with pytest.raises(ValueError, match="only on loopback"):
        EmulatorServer(Emulator(), host="0.0.0.0")


@pytest.mark.parametrize("device", ["ideal_simulator", "superconducting_27q", "trapped_ion_11q"])
def test_quickstart_script_against_the_loopback_server(
    live_server: EmulatorServer, device: str, tmp_path: Path
) -> None:
    env = isolated_env(tmp_path, QISKIT_VENDOR_URL=live_server.url)
    done = run_python(["examples/quickstart.py", "--shots", "500", "--device", device], env)
    assert done.returncode == 0, done.stderr
    assert f"on {device}" in done.stdout
    assert "Counts (500 shots):" in done.stdout
    assert "embedded emulator" not in done.stderr


def test_embedded_default_says_so_once(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, QISKIT_VENDOR_EMULATOR_DB=str(tmp_path / "embedded.sqlite3"))
    code = (
        "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s|%(message)s')\n"
        "from qiskit_vendor_provider import VendorProvider\n"
        "a = VendorProvider(); b = VendorProvider()\n"
        "print(a.client.base_url, a.client.is_local)\n"
        "print(sorted(x.name for x in b.backends()))\n"
    )
    done = run_python(["-c", code], env)
    assert done.returncode == 0, done.stderr
    notices = [line for line in done.stderr.splitlines() if "embedded emulator" in line]
    assert len(notices) == 1, done.stderr
    assert str(tmp_path / "embedded.sqlite3") in notices[0]
    assert "ideal_simulator" in done.stdout
    assert (tmp_path / "embedded.sqlite3").exists()


def test_emulator_module_serves_on_the_given_port(tmp_path: Path) -> None:
    port = free_loopback_port()
    with emulator_process(port, tmp_path / "db.sqlite3"):
        answer = requests.get(f"http://127.0.0.1:{port}/v1/devices", timeout=10)
        assert answer.status_code == 200
        names = {d["name"] for d in answer.json()["devices"]}
        assert names >= {"ideal_simulator", "superconducting_27q"}


def test_plain_http_with_token_to_remote_host_is_refused() -> None:
    with pytest.raises(Exception, match="refusing to send a token over plain http"):
        VendorProvider(url="http://quantum.vendor.test", token="secret-token-1")
    with pytest.raises(VendorValidationError, match="must start with https://"):
        VendorProvider(url="quantum.vendor.test", token="secret-token-1")
