"""What the embedded emulator's start costs the user's process: no Aer there.

Aer runs only in simulator processes. The host used to import it (about 40 ms of
``VendorProvider()``) only to read which operations Aer runs, to check device files; the
emulator now names them itself, and this checks the names against the installed Aer.

Nor does the host load what the embedded emulator never uses (fault injection), or check
a device file twice.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from qiskit_vendor_provider.emulator import catalog
from qiskit_vendor_provider.emulator.catalog import CatalogError, DeviceCatalog, builtin_device_dir
from qiskit_vendor_provider.emulator.lowering import aer_operations, asked_aer_operations
from tests.helpers import isolated_env, run_python
from tests.waiting import NEVER


def test_the_named_aer_operations_are_the_installed_aers() -> None:
    assert aer_operations() == asked_aer_operations()


def test_the_embedded_host_does_not_import_aer(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from qiskit import QuantumCircuit
        from qiskit_vendor_provider import VendorProvider

        # Each device's own operations: a transpile would load Qiskit's plugins, and
        # one of them (qiskit-ibm-runtime's) imports Aer whatever this package does.
        def program(name):
            circuit = QuantumCircuit(2)
            if name == "trapped_ion_11q":
                circuit.rxx(0.5, 0, 1)
            else:
                circuit.x(0)
            circuit.measure_all()
            return circuit

        provider = VendorProvider()
        seen = {"provider": "qiskit_aer" in sys.modules}
        for name in ("ideal_simulator", "superconducting_27q", "trapped_ion_11q"):
            backend = provider.get_backend(name)
            counts = backend.run(program(name), shots=16).result().get_counts()
            seen[name] = ["qiskit_aer" in sys.modules, sum(counts.values())]
        print(json.dumps(seen))
        """
    )
    done = run_python(["-c", script], isolated_env(tmp_path), timeout=NEVER)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "provider": False,
        "ideal_simulator": [False, 16],
        "superconducting_27q": [False, 16],
        "trapped_ion_11q": [False, 16],
    }


def test_the_embedded_host_does_not_load_fault_injection(tmp_path: Path) -> None:
    # Fault injection is for servers on a socket; the embedded emulator has none, so its
    # model and middleware stay unloaded (they were imported by every emulator).
    script = textwrap.dedent(
        """
        import json, sys
        from qiskit import QuantumCircuit
        from qiskit_vendor_provider import VendorProvider

        circuit = QuantumCircuit(2)
        circuit.x(0)
        circuit.measure_all()
        provider = VendorProvider()
        backend = provider.get_backend("ideal_simulator")
        counts = backend.run(circuit, shots=16).result().get_counts()
        print(json.dumps({
            "faults": "qiskit_vendor_provider.emulator.faults" in sys.modules,
            "app": "qiskit_vendor_provider.emulator.app" in sys.modules,
            "counts": counts,
        }))
        """
    )
    done = run_python(["-c", script], isolated_env(tmp_path), timeout=NEVER)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"faults": False, "app": True, "counts": {"01": 16}}


def test_each_device_file_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    check = catalog.check_runnable

    def counted(spec: object, *, where: str = "") -> None:
        checked.append(getattr(spec, "name", "?"))
        check(spec, where=where)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog, "check_runnable", counted)
    shipped = sorted(path.stem for path in builtin_device_dir().glob("*.json"))
    built = DeviceCatalog.from_directories()
    assert built.names() == shipped
    assert sorted(checked) == shipped  # each once: by load_spec, which names the file

    # Devices handed over as specs (not read from a file here) are still checked.
    checked.clear()
    again = DeviceCatalog.from_directories(extra=[built.spec("ideal_simulator")])
    assert again.names() == ["ideal_simulator"]
    assert checked == ["ideal_simulator"]


def test_a_device_given_as_a_spec_is_still_refused_when_not_runnable() -> None:
    spec = DeviceCatalog.from_directories().spec("ideal_simulator")
    broken = spec.model_copy(
        update={"native_operations": [*spec.native_operations[:1], _unknown_operation(spec)]}
    )
    with pytest.raises(CatalogError, match="not_a_gate"):
        DeviceCatalog.from_directories(extra=[broken])
    with pytest.raises(CatalogError, match="not_a_gate"):
        DeviceCatalog([broken])


def _unknown_operation(spec: object) -> object:
    first = spec.native_operations[0]  # type: ignore[attr-defined]
    return first.model_copy(update={"name": "not_a_gate"})
