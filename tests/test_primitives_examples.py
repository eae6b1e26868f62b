"""The primitives' examples run as users run them: a fresh interpreter, the embedded emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("sampler.py", ["result shape (11,), 2000 shots, 2 bits", " 3.142  0.9"]),
        ("estimator.py", ["2528 shots per circuit for precision 0.02", "lowest energy -1.8"]),
        (
            "mitigation.py",
            # Raw (level 0) about 0.33, TREX (level 1, IBM's default) about 0.78.
            ["readout error of qubit 13 is 0.28", "1.000   0.3", "P(00)+P(11): raw 0.6"],
        ),
    ],
)
def test_example_runs_on_the_embedded_emulator(
    script: str, expected: list[str], tmp_path: Path
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("QISKIT_VENDOR_URL", "QISKIT_VENDOR_TOKEN")
    }
    env["QISKIT_VENDOR_EMULATOR_DB"] = str(tmp_path / "emulator.sqlite3")
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    for fragment in expected:
        assert fragment in completed.stdout, completed.stdout
