"""Quickstart: a Bell state on a vendor device.

With nothing configured it runs on the emulator embedded in this process; set
QISKIT_VENDOR_URL (and QISKIT_VENDOR_TOKEN) to run against a server instead.

    python examples/quickstart.py [--device superconducting_27q] [--shots 1000]
"""

from __future__ import annotations

import argparse
import logging

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="superconducting_27q")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    # Show the provider's one-line notice about which server it uses.
    logging.basicConfig(format="%(message)s")
    logging.getLogger("qiskit_vendor_provider").setLevel(logging.INFO)

    provider = VendorProvider()
    print("Devices:", ", ".join(backend.name for backend in provider.backends()))
    backend = provider.get_backend(args.device)

    circuit = QuantumCircuit(2, name="bell")
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()

    isa_circuit = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    job = backend.run(isa_circuit, shots=args.shots, seed_simulator=args.seed)
    print(f"Job {job.job_id()} on {backend.name} ({backend.num_qubits} qubits)")

    counts = job.result().get_counts()
    print(f"Counts ({sum(counts.values())} shots):")
    for bitstring, count in sorted(counts.items()):
        bar = "#" * round(40 * count / args.shots)
        print(f"  {bitstring}  {count:5d}  {bar}")


if __name__ == "__main__":
    main()
