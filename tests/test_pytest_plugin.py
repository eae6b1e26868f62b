"""The pytest plugin users get: its fixtures work in a test suite of their own."""

from __future__ import annotations

import pytest

USER_TESTS = """
import pytest
from qiskit import QuantumCircuit

def bell():
    circuit = QuantumCircuit(2, 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit

def test_in_process(vendor_provider):
    backend = vendor_provider.get_backend("ideal_simulator")
    counts = backend.run(bell(), shots=100).result().get_counts()
    assert set(counts) == {"00", "11"}

@pytest.mark.parametrize("device", ["ideal_simulator"])
def test_over_http(vendor_server, vendor_server_provider, device):
    assert vendor_server.url.startswith("http://127.0.0.1:")
    backend = vendor_server_provider.get_backend(device)
    assert sum(backend.run(bell(), shots=10).result().get_counts().values()) == 10
"""

FAULTY = """
from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.client import RetryPolicy

def test_survives_a_flaky_cloud(vendor_faulty_server):
    server = vendor_faulty_server(error_503=0.3, retry_after=0.0, seed=4)
    provider = VendorProvider(url=server.url, journal=False, retry=RetryPolicy(base_delay=0.001))
    counts = [len(provider.backends()) for _ in range(10)]  # each call lists the devices
    assert counts == [3] * 10
    assert server.app.state.faults.snapshot()["error_503"] > 0
"""

OFFLINE_CONFIG = """
import pytest
from qiskit_vendor_provider.emulator import EmulatorConfig

@pytest.fixture
def vendor_emulator_config():
    return EmulatorConfig(offline={"trapped_ion_11q": "maintenance"})
"""

OFFLINE_TEST = """
def test_offline(vendor_provider):
    names = [b.name for b in vendor_provider.backends(operational=True)]
    assert "trapped_ion_11q" not in names
"""


def test_fixtures_work_in_a_user_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fault_injection_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_faulty=FAULTY)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_config_fixture_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(OFFLINE_CONFIG)
    pytester.makepyfile(test_offline=OFFLINE_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("qiskit_vendor")


def test_loading_the_plugin_does_not_import_qiskit() -> None:
    import subprocess
    import sys

    code = "import sys, qiskit_vendor_provider.testing.plugin; print('qiskit' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
