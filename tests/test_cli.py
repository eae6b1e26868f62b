"""The qiskit-vendor command line: output, JSON, exit codes and messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from qiskit_vendor_provider.cli import main

BELL_QASM2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""

GHZ_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[3] c;
h q[0];
cx q[0], q[1];
cx q[1], q[2];
c = measure q;
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_devices_table_and_json(cli: CliRunner) -> None:
    code, out, _ = invoke(cli, "devices")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "device",
        "qubits",
        "natives",
        "dynamic",
        "max_shots",
        "max_circuits",
        "max_ops",
        "err_1q/2q",
        "readout",
        "T1/T2",
        "operational",
        "pending",
    ]
    assert re.search(
        r"^trapped_ion_11q +11 +delay,measure,r,reset,rxx,rz +no +10000 +100 +20000 +"
        r"0.00063/0.012 +0.0043 +38.1 s/1.03 s +yes +\d+$",
        out,
        re.M,
    )
    assert re.search(r"^superconducting_27q +27 +delay,.* +yes +100000 +300 +100000 ", out, re.M)
    assert re.search(r"^ideal_simulator +32 +ccx,.* \(\+\d+\) +yes", out, re.M)
    code, out, _ = invoke(cli, "devices", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["superconducting_27q"]["natives"] == [
        "delay",
        "ecr",
        "id",
        "measure",
        "reset",
        "rz",
        "sx",
        "x",
    ]
    assert rows["ideal_simulator"]["operational"] is True
    assert rows["ideal_simulator"]["dynamic_circuits"] == [
        "if_else",
        "switch_case",
        "for_loop",
        "while_loop",
    ]
    assert rows["trapped_ion_11q"]["dynamic_circuits"] == []
    assert rows["superconducting_27q"]["median_t1"] == pytest.approx(136e-6, rel=0.01)


def test_device_summary(cli: CliRunner) -> None:
    code, out, _ = invoke(cli, "device", "superconducting_27q")
    assert code == 0
    assert "worst 0.28 (qubit 13)" in out
    assert "28 directed pairs" in out
    assert "natives: delay, ecr, id, measure, reset, rz, sx, x\n" in out
    assert "dynamic circuits: for_loop, if_else, switch_case, while_loop" in out
    code, out, _ = invoke(cli, "device", "ideal_simulator", "--json")
    assert json.loads(out)["num_qubits"] == 32


@pytest.mark.parametrize(
    ("source", "device", "keys"),
    [
        (BELL_QASM2, "trapped_ion_11q", {"00", "11"}),
        (GHZ_QASM3, "superconducting_27q", {"000", "111"}),
    ],
)
def test_run_qasm_prints_counts_and_histogram(
    cli: CliRunner, tmp_path: Path, source: str, device: str, keys: set[str]
) -> None:
    path = tmp_path / "circuit.qasm"
    path.write_text(source)
    code, out, _ = invoke(
        cli, "run", str(path), "--device", device, "--shots", "400", "--seed", "3", "--json"
    )
    assert code == 0
    answer = json.loads(out)
    counts = answer["counts"]
    assert sum(counts.values()) == 400
    top_two = set(sorted(counts, key=counts.get, reverse=True)[:2])  # type: ignore[arg-type]
    assert top_two == keys
    code, out, _ = invoke(
        cli, "run", str(path), "--device", device, "--shots", "400", "--seed", "3"
    )
    assert code == 0
    first = out.splitlines()[1]
    assert first.split()[0] in keys and "#" in first and first.endswith("%")
    code, out, _ = invoke(cli, "job", answer["job_id"], "--counts", "--json")
    assert json.loads(out)["counts"] == [counts]


def test_wrong_device_suggests_close_matches_with_exit_4(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM2)
    code, out, err = invoke(cli, "run", str(path), "--device", "trapped_ion_11")
    assert (code, out) == (4, "")
    assert err.startswith("error: no backend named 'trapped_ion_11'. Did you mean trapped_ion_11q?")


def test_invalid_input_exits_3(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "broken.qasm"
    path.write_text("OPENQASM 2.0;\nqreg q[1];\nfoo q[0];\n")
    code, _, err = invoke(cli, "run", str(path), "--device", "ideal_simulator")
    assert code == 3 and "is not valid OpenQASM" in err
    code, _, err = invoke(cli, "run", str(tmp_path / "missing.qasm"), "--device", "ideal_simulator")
    assert code == 3 and "cannot read" in err
    code, _, err = invoke(cli, "jobs", "--status", "DONEE")
    assert code == 3 and "is not a job status" in err
    code, _, err = invoke(cli, "jobs", "--since", "yesterday")
    assert code == 3 and "use ISO 8601" in err


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    result = cli.invoke(main, ["run"])
    assert result.exit_code == 2
    assert "Missing argument 'FILE'" in result.stderr


def test_jobs_listing_and_cancel(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "tagged.qasm"
    path.write_text(BELL_QASM2)
    code, out, _ = invoke(
        cli, "run", str(path), "--device", "ideal_simulator", "--json", "--shots", "5"
    )
    job_id = json.loads(out)["job_id"]
    code, out, _ = invoke(cli, "jobs", "--name", "^tagged$", "--limit", "1", "--json")
    assert code == 0 and [row["job_id"] for row in json.loads(out)] == [job_id]
    code, out, _ = invoke(cli, "jobs", "--device", "ideal_simulator", "--status", "DONE")
    assert code == 0 and job_id in out
    code, out, _ = invoke(cli, "job", job_id)
    assert code == 0 and "status: DONE" in out
    code, out, _ = invoke(cli, "job", job_id, "--cancel")
    assert code == 0 and out.strip() == f"job {job_id}: not cancelled: DONE"
    code, _, err = invoke(cli, "job", "0" * 32)
    assert code == 4 and "no job with id" in err


def test_account_save_and_show_mask_the_token(cli: CliRunner, tmp_path: Path) -> None:
    secret = "cli-secret-token-987654321"
    code, out, _ = invoke(
        cli, "account", "save", "--token", secret, "--url", "https://api.vendor.test"
    )
    assert code == 0 and "saved account 'default'" in out
    code, out, _ = invoke(cli, "account", "show")
    assert code == 0 and "https://api.vendor.test" in out and "********4321" in out
    assert secret not in out
    code, _, err = invoke(cli, "account", "save", "--token", secret)
    assert code == 3 and "overwrite" in err
    result = cli.invoke(main, ["account", "save"], input=secret + "\n")
    assert result.exit_code == 3  # prompted for the token, then refused: the account exists
    assert secret not in result.stdout


def test_emulator_help_is_the_emulators(cli: CliRunner) -> None:
    result = cli.invoke(main, ["emulator", "--help"])
    assert result.exit_code == 0
    assert "--database" in result.stdout and "--offline" in result.stdout
