"""The examples run, as a user would run them, on the embedded emulator."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import isolated_env, run_python

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    done = run_python([str(EXAMPLES / name), *args], isolated_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_noisy_vs_ideal_saves_a_histogram(tmp_path: Path) -> None:
    out = run_example("noisy_vs_ideal.py", tmp_path, "--output", "ghz.png", "--shots", "1000")
    lines = {line.split()[0]: float(line.split()[-1]) for line in out.splitlines() if "P(" in line}
    assert lines["ideal_simulator"] == 1.0
    assert 0.75 < lines["superconducting_27q"] < 1.0
    assert 0.75 < lines["trapped_ion_11q"] < 1.0
    png = (tmp_path / "ghz.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_job_management_example(tmp_path: Path) -> None:
    out = run_example("job_management.py", tmp_path)
    assert "listed back by tag: ['scan-2', 'scan-1', 'scan-0']" in out
    assert "scan-2 is DONE" in out
    assert "journal: 3 submissions" in out


def test_execution_modes_example(tmp_path: Path) -> None:
    out = run_example("execution_modes.py", tmp_path)
    assert "8 jobs, state active" in out
    theta = float(out.split("theta = ")[1].split()[0])
    assert abs(theta - 3.14159) < 0.3
    assert "after the with block the session is closed" in out
    assert "refused, nothing sent" in out
    assert "batch " in out and "pub 1: {'00': " in out
