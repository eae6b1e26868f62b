"""What the embedded emulator's start costs the user's process: no Aer there.

Aer runs only in simulator processes. The host used to import it (about 40 ms of
``VendorProvider()``) only to read which operations Aer runs, to check device files; the
emulator now names them itself, and this checks the names against the installed Aer.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

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
