"""VendorSampler: a parameter sweep run as one job, bound on the server.

With nothing configured it runs on the emulator embedded in this process; set
QISKIT_VENDOR_URL (and QISKIT_VENDOR_TOKEN) to run against a server instead.

    python examples/sampler.py [--device superconducting_27q] [--points 11] [--shots 2000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorSampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="superconducting_27q")
    parser.add_argument("--points", type=int, default=11)
    parser.add_argument("--shots", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    backend = VendorProvider().get_backend(args.device)
    sampler = VendorSampler(
        backend=backend,
        options={
            "seed_simulator": args.seed,
            "job_name": "rabi-sweep",
            "job_tags": ["example"],
            # Not an ISA circuit: the sampler transpiles it for the device, once.
            "optimization_level": 1,
            "transpile_options": {"seed_transpiler": args.seed},
        },
    )
    print(
        f"{backend.name}: default shots {sampler.options.default_shots}, at most "
        f"{backend.limits.max_shots} per job"
    )

    # A Rabi-style sweep: the population of |1> follows sin^2(theta / 2).
    theta = Parameter("theta")
    circuit = QuantumCircuit(2, name="rabi")
    circuit.rx(theta, 0)
    circuit.cx(0, 1)
    circuit.measure_all()
    angles = np.linspace(0, math.pi, args.points)

    # One PUB: the circuit goes on the wire once, with its table of angles.
    result = sampler.run([(circuit, angles.reshape(-1, 1))], shots=args.shots).result()
    bits = result[0].data.meas
    print(f"result shape {bits.shape}, {bits.num_shots} shots, {bits.num_bits} bits")
    print(" theta   P(11)  expected")
    for index, angle in enumerate(angles):
        counts = bits[index].get_counts()
        observed = counts.get("11", 0) / args.shots
        print(f" {angle:5.3f}  {observed:5.3f}  {math.sin(angle / 2) ** 2:5.3f}")


if __name__ == "__main__":
    main()
