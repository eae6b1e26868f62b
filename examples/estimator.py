"""VendorEstimator: an energy landscape of a two-qubit Hamiltonian, swept on the server.

With nothing configured it runs on the emulator embedded in this process; set
QISKIT_VENDOR_URL (and QISKIT_VENDOR_TOKEN) to run against a server instead.

    python examples/estimator.py [--device superconducting_27q] [--points 9] [--precision 0.02]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp, Statevector

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="superconducting_27q")
    parser.add_argument("--points", type=int, default=9)
    parser.add_argument("--precision", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    backend = VendorProvider().get_backend(args.device)
    estimator = VendorEstimator(
        backend=backend,
        options={"seed_simulator": args.seed, "transpile_options": {"seed_transpiler": args.seed}},
    )
    print(
        f"{backend.name}: default precision {estimator.options.default_precision:g} "
        f"(at most {backend.limits.max_shots} shots per job)"
    )

    # A one-parameter ansatz and a small Hamiltonian (the form of H2 in a minimal basis).
    theta = Parameter("theta")
    ansatz = QuantumCircuit(2, name="ansatz")
    ansatz.x(0)
    ansatz.ry(theta, 1)
    ansatz.cx(1, 0)
    hamiltonian = SparsePauliOp(
        ["II", "ZI", "IZ", "ZZ", "XX"], coeffs=[-1.05, 0.39, -0.39, -0.01, 0.18]
    )
    angles = np.linspace(math.pi / 2, 3 * math.pi / 2, args.points)

    # One PUB, one job: each measurement basis goes on the wire once with all angles.
    result = estimator.run(
        [(ansatz, hamiltonian, angles.reshape(-1, 1))], precision=args.precision
    ).result()
    energies = result[0].data.evs
    stds = result[0].data.stds
    print(f"{result[0].metadata['shots']} shots per circuit for precision {args.precision}")
    print("  theta   energy    std   noiseless")
    for angle, energy, std in zip(angles, energies, stds, strict=True):
        exact = Statevector(ansatz.assign_parameters([angle])).expectation_value(hamiltonian)
        print(f" {angle:6.3f}  {energy:7.4f}  {std:.4f}  {exact.real:7.4f}")
    best = int(np.argmin(energies))
    print(f"lowest energy {energies[best]:.4f} at theta = {angles[best]:.3f}")


if __name__ == "__main__":
    main()
