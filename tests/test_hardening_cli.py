"""``qiskit-vendor run`` of a file the transpiler refuses: one ``error:`` line, exit 3,
as docs/cli.md promises, never a traceback (finding 15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qiskit_vendor_provider.cli import main

CONTROL_FLOW_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
c[0] = measure q[0];
if (c[0]) { x q[1]; }
c[1] = measure q[1];
"""


def ghz(qubits: int) -> str:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{qubits}];", f"creg c[{qubits}];"]
    lines.append("h q[0];")
    lines += [f"cx q[{i}], q[{i + 1}];" for i in range(qubits - 1)]
    lines.append("measure q -> c;")
    return "\n".join(lines) + "\n"


CASES = [
    pytest.param(
        CONTROL_FLOW_QASM3,
        "trapped_ion_11q",
        ("the transpiler refused it", "'if_else' is not supported"),
        id="control flow",
    ),
    pytest.param(
        ghz(40), "superconducting_27q", ("has 40 qubits and the device 27",), id="40 qubits"
    ),
]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)
    return CliRunner()


@pytest.mark.parametrize(("source", "device", "words"), CASES)
def test_a_circuit_the_transpiler_refuses_is_one_error_line_and_exit_3(
    cli: CliRunner, tmp_path: Path, source: str, device: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / "circuit.qasm"
    path.write_text(source, encoding="utf-8")
    result = cli.invoke(main, ["run", str(path), "--device", device])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {path} cannot run on {device}: ")
    assert all(word in line for word in words) and "Traceback" not in result.stderr
    assert "qiskit-vendor devices" in line


def test_the_same_files_run_on_a_device_that_fits(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "circuit.qasm"
    path.write_text(CONTROL_FLOW_QASM3, encoding="utf-8")
    result = cli.invoke(main, ["run", str(path), "--device", "ideal_simulator", "--shots", "8"])
    assert result.exit_code == 0, result.output
    assert "8 shots" in result.stdout
