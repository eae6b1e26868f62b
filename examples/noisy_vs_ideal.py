"""Noisy versus ideal: a 4-qubit GHZ state on every device, as one histogram PNG.

The ideal simulator gives only 0000 and 1111; the emulated hardware devices spread some
shots over other outcomes, as their calibrations predict.

    python examples/noisy_vs_ideal.py [--output ghz.png] [--shots 2000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider


def ghz(num_qubits: int) -> QuantumCircuit:
    circuit = QuantumCircuit(num_qubits, name=f"ghz{num_qubits}")
    circuit.h(0)
    for qubit in range(num_qubits - 1):
        circuit.cx(qubit, qubit + 1)
    circuit.measure_all()
    return circuit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("noisy_vs_ideal.png"))
    parser.add_argument("--shots", type=int, default=2000)
    args = parser.parse_args()

    provider = VendorProvider()
    circuit = ghz(4)
    outcomes = [format(n, "04b") for n in range(16)]
    results = {}
    for backend in provider.backends():
        isa = generate_preset_pass_manager(backend=backend, optimization_level=3).run(circuit)
        counts = backend.run(isa, shots=args.shots, seed_simulator=11).result().get_counts()
        results[backend.name] = [counts.get(key, 0) / args.shots for key in outcomes]
        good = counts.get("0000", 0) + counts.get("1111", 0)
        print(f"{backend.name:22s} P(0000 or 1111) = {good / args.shots:.3f}")

    figure, axes = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(results)
    for index, (name, probabilities) in enumerate(results.items()):
        positions = [x + index * width for x in range(len(outcomes))]
        axes.bar(positions, probabilities, width=width, label=name)
    axes.set_xticks([x + 0.4 - width / 2 for x in range(len(outcomes))], outcomes, rotation=90)
    axes.set_ylabel("probability")
    axes.set_title(f"4-qubit GHZ, {args.shots} shots per device")
    axes.legend()
    figure.tight_layout()
    figure.savefig(args.output, dpi=100)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
