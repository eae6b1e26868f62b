"""benchmarks/table.py runs (small sizes): `make bench` and the profile keep working."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import isolated_env, run_python

TABLE = Path(__file__).resolve().parent.parent / "benchmarks" / "table.py"


def run_table(tmp_path: Path, *args: str) -> dict:
    figures = tmp_path / "figures.json"
    done = run_python(
        [str(TABLE), "--quick", "--json", str(figures), *args],
        isolated_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(figures.read_text())


def test_the_table_has_every_row_in_both_modes(tmp_path: Path) -> None:
    figures = run_table(tmp_path)
    rows = {(row["mode"], row["workload"]): row for row in figures["rows"]}
    workloads = ("sweep", "distinct", "estimator", "tiny")
    # Plus a fresh script's first job, embedded only (no reference: a goal in ms).
    assert set(rows) == {(m, w) for m in ("loopback", "embedded") for w in workloads} | {
        ("embedded", "first_job")
    }
    first_job = rows.pop(("embedded", "first_job"))
    assert first_job["ours"] > 0
    assert first_job["goal"] == {"kind": "ms", "limit": 300.0}
    for row in rows.values():
        assert row["ours"] > 0 and row["reference"] > 0
        assert isinstance(row["pass"], bool)
    # Issue 22's goals.
    assert rows["loopback", "tiny"]["goal"] == {"kind": "ratio", "limit": 6.0}
    assert rows["embedded", "sweep"]["goal"] == {"kind": "ratio", "limit": 1.0}
    assert rows["loopback", "sweep"]["goal"] == {"kind": "ratio", "limit": 1.2}
    assert rows["embedded", "estimator"]["goal"] == {"kind": "ratio", "limit": 0.45}
    assert rows["loopback", "distinct"]["goal"] == {"kind": "ratio", "limit": 1.2}
    # The fresh scripts' import and VendorProvider() times, each step of the first job
    # and a second job, for the note's before/after.
    samples = figures["samples"]["first_job"]["this checkout"]
    steps = {"provider", "get_backend", "run", "result", "first_job", "second_job"}
    assert set(samples) == {"import"} | steps


def test_the_profile_measures_every_seam(tmp_path: Path) -> None:
    profile = run_table(tmp_path, "--profile")["profile"]
    # A seam whose function moved measures nothing: update install_*_seams in table.py.
    assert profile["missing_seams"] == []
    # The primitives write each circuit once, when they plan (not again in backend.run).
    assert profile["client"]["client encode: circuit_to_wire (packing)"] > 0
    assert "client encode: circuit_to_wire (run)" not in profile["client"]
    # Plain circuits are checked as columns: the server builds no circuit for them.
    assert profile["server"]["server validate: columns (natives, coupling)"] > 0
    assert "server decode: wire_to_circuit" not in profile["server"]
    assert profile["worker"]["claimed → finished"] > 0
    assert abs(sum(profile["summary"].values()) - profile["wall"]) < 1e-6
