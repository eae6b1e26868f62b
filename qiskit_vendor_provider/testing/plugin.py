"""Pytest fixtures that give your tests a vendor provider with no network and no account.

Available in any test suite once the package is installed:

``vendor_device_files``
    Device files (snapshots from ``qiskit-vendor device snapshot``) to serve as the fake
    devices, instead of the shipped ones; none by default. Override it in your
    ``conftest.py`` to test against yesterday's device, offline.
``vendor_emulator_config``
    The :class:`~qiskit_vendor_provider.emulator.EmulatorConfig` the fixtures below use
    (in-memory jobs, the shipped devices or ``vendor_device_files``). Override it in your
    ``conftest.py`` to mark devices offline, add devices, set a job limit or inject faults.
``vendor_emulator``
    An emulator started for the test and stopped after it.
``vendor_provider``
    A :class:`~qiskit_vendor_provider.VendorProvider` reaching ``vendor_emulator`` in
    process: same client code, no socket, no journal written.
``vendor_server``
    The emulator served over real HTTP on 127.0.0.1 (a free port), for tests of code that
    talks to a URL; ``vendor_server.url`` is its address.
``vendor_server_provider``
    A provider reaching ``vendor_server`` over HTTP.
``vendor_faulty_server``
    A factory: ``vendor_faulty_server(error_503=0.2, drop=0.1, seed=1)`` serves the
    emulator on loopback with those faults injected (see
    :class:`~qiskit_vendor_provider.emulator.faults.FaultConfig`), to test how your code
    copes with an unreliable cloud. Servers it starts stop after the test.

Example::

    def test_my_experiment(vendor_provider):
        backend = vendor_provider.get_backend("ideal_simulator")
        ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# The plugin is loaded by every pytest run on a machine with the package installed:
# everything heavy is imported inside the fixtures, only when a test asks for them.
if TYPE_CHECKING:
    from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
    from qiskit_vendor_provider.provider import VendorProvider


@pytest.fixture
def vendor_device_files() -> list[Path]:
    """Device files to serve instead of the shipped devices (override to give some)."""
    return []


@pytest.fixture
def vendor_emulator_config(tmp_path: Path, vendor_device_files: list[Path]) -> EmulatorConfig:
    """The emulator configuration of the other fixtures (override to change it).

    A malformed device file of ``vendor_device_files`` fails the test with a
    ``DeviceFileError`` naming the file and the field.
    """
    from qiskit_vendor_provider.api.device_file import read_device_file  # noqa: PLC0415
    from qiskit_vendor_provider.emulator import EmulatorConfig  # noqa: PLC0415

    files = tuple(Path(path) for path in vendor_device_files)
    for path in files:
        read_device_file(path)
    return EmulatorConfig(
        database=tmp_path / "vendor-emulator.sqlite3", poll_interval=0.05, device_files=files
    )


@pytest.fixture
def vendor_emulator(vendor_emulator_config: EmulatorConfig) -> Iterator[Emulator]:
    """An emulator, started for the test and stopped after it."""
    from qiskit_vendor_provider.emulator import Emulator  # noqa: PLC0415

    emulator = Emulator(vendor_emulator_config).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def vendor_provider(vendor_emulator: Emulator) -> VendorProvider:
    """A provider reaching ``vendor_emulator`` in process."""
    from qiskit_vendor_provider.emulator import InProcessTransport, create_app  # noqa: PLC0415
    from qiskit_vendor_provider.provider import VendorProvider  # noqa: PLC0415

    return VendorProvider(
        transport=InProcessTransport(create_app(vendor_emulator)),
        journal=False,
        poll_interval=(0.005, 0.1),
    )


@pytest.fixture
def vendor_server(vendor_emulator_config: EmulatorConfig) -> Iterator[EmulatorServer]:
    """The emulator on http://127.0.0.1:<free port>, for the test."""
    from qiskit_vendor_provider.emulator import Emulator, EmulatorServer  # noqa: PLC0415

    with EmulatorServer(Emulator(vendor_emulator_config)) as server:
        yield server


@pytest.fixture
def vendor_server_provider(vendor_server: EmulatorServer) -> VendorProvider:
    """A provider reaching ``vendor_server`` over HTTP."""
    from qiskit_vendor_provider.provider import VendorProvider  # noqa: PLC0415

    return VendorProvider(url=vendor_server.url, journal=False, poll_interval=(0.005, 0.1))


@pytest.fixture
def vendor_faulty_server(
    vendor_emulator_config: EmulatorConfig,
) -> Iterator[Callable[..., EmulatorServer]]:
    """A factory of loopback emulator servers that inject the faults it is given."""
    from qiskit_vendor_provider.emulator import Emulator, EmulatorServer  # noqa: PLC0415
    from qiskit_vendor_provider.emulator.faults import FaultConfig  # noqa: PLC0415

    started: list[EmulatorServer] = []

    def start(**faults: Any) -> EmulatorServer:
        config = dataclasses.replace(vendor_emulator_config, faults=FaultConfig(**faults))
        server = EmulatorServer(Emulator(config)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
