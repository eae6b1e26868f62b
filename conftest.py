"""Session set-up shared by the tests and the doctests in the package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# pytester runs user-style test suites against the package's own pytest plugin.
pytest_plugins = ["pytester"]


def pytest_configure() -> None:
    # The embedded emulator must not write into the user's data directory during tests.
    directory = Path(tempfile.mkdtemp(prefix="qvp-tests-"))
    os.environ["QISKIT_VENDOR_EMULATOR_DB"] = str(directory / "embedded.sqlite3")
    os.environ["QISKIT_VENDOR_JOURNAL"] = str(directory / "journal.sqlite3")
    os.environ["QISKIT_VENDOR_CONFIG"] = str(directory / "config" / "accounts.json")
    for name in ("QISKIT_VENDOR_URL", "QISKIT_VENDOR_TOKEN"):
        os.environ.pop(name, None)
