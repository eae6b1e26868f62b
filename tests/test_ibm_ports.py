"""Scripts written for qiskit-ibm-runtime run here with only two lines changed (issue 21).

Each script in ``examples/ibm_ports`` is checked three ways:

* its IBM original (the two lines its docstring quotes put back) differs from it in
  exactly the import line and the backend line, imports names qiskit-ibm-runtime has, and
  every ``*.options.* = ...`` line it runs is accepted by qiskit-ibm-runtime's own option
  classes (so the script is valid IBM code, not only ours);
* it runs, as a user runs it, on the embedded emulator (in a subprocess with its own
  files, as ``tests/test_examples.py`` runs the examples);
* the results it leaves are shaped as IBM's (data fields and shapes, metadata keys) and
  numerically sane against the exact values (statevector).
"""

from __future__ import annotations

import ast
import json
import re
import types
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import isolated_env, run_python

PORTS = Path(__file__).resolve().parent.parent / "examples" / "ibm_ports"
SCRIPTS = sorted(path.name for path in PORTS.glob("*.py"))
MARK = "@@port@@"

# Runs a port in a fresh interpreter and prints what it left behind, as JSON: every
# PrimitiveResult among its globals (data fields, shapes, values, metadata) and the exact
# expectation values of its logical circuit and observables, when it has them.
DESCRIBE = r"""
import json, runpy, sys
import numpy as np
from qiskit.primitives import PrimitiveResult
from qiskit.primitives.containers import BitArray
from qiskit.quantum_info import Statevector

found = runpy.run_path(sys.argv[1], run_name="__main__")


def describe(result):
    pubs = []
    for pub in result:
        data = {}
        for name in pub.data.keys():
            value = pub.data[name]
            if isinstance(value, BitArray):
                data[name] = {
                    "kind": "bits", "shape": list(value.shape), "num_shots": value.num_shots,
                    "num_bits": value.num_bits,
                    "counts": value.get_counts() if value.ndim == 0 else None,
                }
            else:
                array = np.asarray(value, dtype=float)
                data[name] = {"kind": "array", "shape": list(array.shape), "values": array.tolist()}
        pubs.append({"type": type(pub).__name__, "data": data, "metadata": pub.metadata})
    return {"metadata": result.metadata, "pubs": pubs}


described = {}
for name, value in found.items():
    if isinstance(value, PrimitiveResult):
        described[name] = describe(value)
    elif isinstance(value, list) and value and all(isinstance(v, PrimitiveResult) for v in value):
        described[name] = [describe(v) for v in value]
exact = None
if "circuit" in found and "observables" in found:
    circuit = found["circuit"]
    bare = circuit.copy_empty_like()
    for instruction in circuit.data:
        if instruction.operation.name not in ("delay", "barrier", "measure"):
            bare.append(instruction)
    rows = np.asarray(found.get("angles", np.zeros((1, 0))))
    exact = [
        [float(Statevector(bare.assign_parameters(row)).expectation_value(o).real)
         for o in found["observables"]]
        for row in rows
    ]
print("@@port@@" + json.dumps({"results": described, "exact": exact}, default=str))
"""


def _ibm_lines(source: str) -> tuple[str, str]:
    """The IBM original's import line and backend line, as the script's docstring quotes them."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    quoted = [line.strip() for line in docstring.splitlines() if line.startswith("    ")]
    (imports,) = [line for line in quoted if line.startswith("from qiskit_ibm_runtime import")]
    (backend,) = [line for line in quoted if line.startswith("backend = QiskitRuntimeService")]
    return imports, backend


def _bound_names(import_line: str) -> dict[str, str]:
    """Name bound -> name imported, for a ``from x import a as b, c`` line."""
    node = ast.parse(import_line).body[0]
    assert isinstance(node, ast.ImportFrom)
    return {alias.asname or alias.name: alias.name for alias in node.names}


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_ibm_original_differs_in_the_import_and_the_backend_only(script: str) -> None:
    runtime = pytest.importorskip("qiskit_ibm_runtime")
    source = (PORTS / script).read_text(encoding="utf-8")
    ibm_import, ibm_backend = _ibm_lines(source)
    body = source.split('"""', 2)[2].splitlines()  # the code, after the module docstring
    ours = [line for line in body if "qiskit_vendor_provider" in line or "Vendor" in line]
    assert len(ours) == 2, ours  # the two lines, and nothing else of ours
    our_import, our_backend = ours
    assert our_import.startswith("from qiskit_vendor_provider import ")
    assert our_backend.startswith("backend = VendorProvider().get_backend(")
    original = [{our_import: ibm_import, our_backend: ibm_backend}.get(line, line) for line in body]
    changed = [(a, b) for a, b in zip(body, original, strict=True) if a != b]
    assert len(changed) == 2
    # The same names are bound (primitives, Batch/Session), but for the backend's source.
    ibm_names, our_names = _bound_names(ibm_import), _bound_names(our_import)
    assert set(ibm_names) - {"QiskitRuntimeService"} == set(our_names) - {"VendorProvider"}
    for imported in ibm_names.values():
        assert hasattr(runtime, imported), imported
    # Every option the script sets is one qiskit-ibm-runtime accepts, with that value.
    options = pytest.importorskip("qiskit_ibm_runtime.options")
    primitives = {
        "estimator": types.SimpleNamespace(options=options.EstimatorOptions()),
        "sampler": types.SimpleNamespace(options=options.SamplerOptions()),
    }
    setting = re.compile(r"^\s*(estimator|sampler)\.options\.[\w.]+ = .+$")
    settings = [line.strip() for line in body if setting.match(line)]
    assert len(settings) >= 4, script
    for line in settings:
        exec(line, {}, primitives)  # raises if IBM's validators refuse the value


def _run(script: str, tmp_path: Path) -> dict[str, Any]:
    done = run_python(["-c", DESCRIBE, str(PORTS / script)], isolated_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    described: dict[str, Any] = json.loads(line[len(MARK) :])
    return described


def _values(pub: dict[str, Any], field: str) -> Any:
    return pub["data"][field]["values"]


DD_KEYS = {"enable", "sequence_type", "extra_slack_distribution", "scheduling_method"}
TWIRLING_KEYS = {
    "enable_gates",
    "enable_measure",
    "num_randomizations",
    "shots_per_randomization",
    "strategy",
}


def test_estimator_at_level_2_returns_ibm_zne_results_closer_than_unmitigated(
    tmp_path: Path,
) -> None:
    out = _run("estimator_zne.py", tmp_path)
    result = out["results"]["result"]
    assert {"dynamical_decoupling", "twirling", "resilience"} <= set(result["metadata"])
    assert set(result["metadata"]["twirling"]) >= TWIRLING_KEYS
    assert result["metadata"]["twirling"]["enable_gates"] is True  # level 2 twirls gates
    resilience = result["metadata"]["resilience"]
    assert resilience["resilience_level"] == 2 and resilience["zne_mitigation"] is True
    assert resilience["zne"]["extrapolator"] == ["exponential", "linear"]
    (pub,) = result["pubs"]
    assert pub["type"] == "PubResult"
    shapes = {name: field["shape"] for name, field in pub["data"].items()}
    assert shapes["evs"] == shapes["stds"] == [2]
    assert shapes["evs_noise_factors"] == shapes["stds_noise_factors"] == [2, 3]
    # (observables, extrapolators, evaluation points: 0 and the three noise factors)
    assert shapes["evs_extrapolated"] == shapes["stds_extrapolated"] == [2, 2, 4]
    assert pub["metadata"]["resilience"]["zne"]["noise_factors"] == [1.0, 3.0, 5.0]
    assert {"shots", "target_precision", "circuit_metadata"} <= set(pub["metadata"])
    (exact,) = out["exact"]
    evs, stds = _values(pub, "evs"), _values(pub, "stds")
    raw = [row[0] for row in _values(pub, "evs_noise_factors")]
    for value, std, truth in zip(evs, stds, exact, strict=True):
        assert abs(value - truth) < 5 * std, (value, std, truth)
    # Extrapolated to zero noise, closer to the truth than at the device's own noise.
    zne_error = sum(abs(v - t) for v, t in zip(evs, exact, strict=True))
    raw_error = sum(abs(v - t) for v, t in zip(raw, exact, strict=True))
    assert zne_error < raw_error, (evs, raw, exact)


def test_estimator_with_twirling_counts_and_xy4_reports_them_as_ibm(tmp_path: Path) -> None:
    out = _run("estimator_twirling_dd.py", tmp_path)
    result = out["results"]["result"]
    assert result["metadata"]["twirling"] == {
        "enable_gates": True,
        "enable_measure": True,
        "num_randomizations": 16,
        "shots_per_randomization": 256,
        "strategy": "active",
    }
    dd = result["metadata"]["dynamical_decoupling"]
    assert set(dd) >= DD_KEYS and dd["enable"] is True and dd["sequence_type"] == "XY4"
    assert len(result["pubs"]) == 3
    (exact,) = out["exact"]  # <ZZI>, <IZZ>, <XXX> of a GHZ-3: all 1
    for pub, truth in zip(result["pubs"], exact, strict=True):
        assert pub["data"]["evs"]["shape"] == [] and pub["data"]["stds"]["shape"] == []
        assert pub["metadata"]["num_randomizations"] == 16
        assert pub["metadata"]["shots"] == 16 * 256
        value, std = _values(pub, "evs"), _values(pub, "stds")
        # Level 0: readout and gate errors stay; the state is still clearly a GHZ.
        assert 0.6 < value < truth + 5 * std, (value, std)


def test_sampler_with_xpxm_and_twirling_returns_untwirled_counts(tmp_path: Path) -> None:
    out = _run("sampler_dd_twirling.py", tmp_path)
    result = out["results"]["result"]
    assert result["metadata"]["twirling"] == {
        "enable_gates": True,
        "enable_measure": True,
        "num_randomizations": 40,
        "shots_per_randomization": 100,
        "strategy": "active-accum",
    }
    assert result["metadata"]["dynamical_decoupling"]["sequence_type"] == "XpXm"
    (pub,) = result["pubs"]
    assert pub["type"] == "SamplerPubResult"
    assert set(pub["data"]) == {"meas"}
    meas = pub["data"]["meas"]
    assert meas["kind"] == "bits" and meas["num_shots"] == 4000 and meas["num_bits"] == 4
    assert meas["shape"] == []
    assert {"circuit_metadata", "num_randomizations"} <= set(pub["metadata"])
    counts = meas["counts"]
    ghz = counts.get("0000", 0) + counts.get("1111", 0)
    # Flips undone: a GHZ, each half about equally often (without the undo about half
    # the shots would land elsewhere).
    assert ghz / 4000 > 0.75, counts
    assert abs(counts["0000"] - counts["1111"]) < 5 * (ghz**0.5) + 0.1 * ghz, counts


def test_batch_of_trex_sweeps_returns_ibm_shaped_mitigated_values(tmp_path: Path) -> None:
    out = _run("batch_trex_sweep.py", tmp_path)
    zz_result, xx_result = out["results"]["results"]
    exact = out["exact"]  # per angle: <ZZ>, <XX>
    for which, result in enumerate((zz_result, xx_result)):
        assert result["metadata"]["resilience"]["measure_mitigation"] is True
        (pub,) = result["pubs"]
        assert pub["data"]["evs"]["shape"] == [5] and pub["data"]["stds"]["shape"] == [5]
        assert pub["metadata"]["measure_mitigation"]["method"] == "TREX"
        # default_precision 0.02 -> 2,500 shots per circuit (at least: twirls round up).
        assert pub["metadata"]["target_precision"] == 0.02 and pub["metadata"]["shots"] >= 2500
        for value, std, row in zip(_values(pub, "evs"), _values(pub, "stds"), exact, strict=True):
            # TREX removes the readout bias; the two 2-qubit gates' errors (1.7% each on
            # trapped_ion_11q) may still pull a value in by up to ~2 x 2 x 1.7%.
            assert abs(value - row[which]) < 5 * std + 0.07, (which, value, std, row)
