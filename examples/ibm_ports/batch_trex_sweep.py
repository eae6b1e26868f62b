"""Ported from qiskit-ibm-runtime: EstimatorV2 sweeps with TREX and a set precision, in a Batch.

A rotation angle is swept in one PUB and a second observable is measured in another job;
the Estimator runs at resilience level 1 with measurement mitigation and a chosen
precision, its two jobs in one batch. Only the import line and the backend line differ
from the script written for IBM:

    from qiskit_ibm_runtime import Batch, EstimatorV2 as Estimator, QiskitRuntimeService
    backend = QiskitRuntimeService().least_busy(operational=True, simulator=False)

    python examples/ibm_ports/batch_trex_sweep.py
"""

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import Batch, VendorEstimator as Estimator, VendorProvider

backend = VendorProvider().get_backend("trapped_ion_11q")

theta = Parameter("theta")
circuit = QuantumCircuit(2)
circuit.ry(theta, 0)
circuit.cx(0, 1)
angles = np.linspace(0, np.pi, 5).reshape(-1, 1)
observables = [SparsePauliOp("ZZ"), SparsePauliOp("XX")]

pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
isa_circuit = pm.run(circuit)
isa_observables = [observable.apply_layout(isa_circuit.layout) for observable in observables]

with Batch(backend=backend) as batch:
    estimator = Estimator(mode=batch)
    estimator.options.resilience_level = 1
    estimator.options.resilience.measure_mitigation = True
    estimator.options.default_precision = 0.02
    estimator.options.simulator.seed_simulator = 3

    jobs = [estimator.run([(isa_circuit, observable, angles)]) for observable in isa_observables]
    results = [job.result() for job in jobs]
result = results[0]

for angle, zz, xx in zip(angles[:, 0], results[0][0].data.evs, results[1][0].data.evs, strict=True):
    print(f"theta = {angle:.3f}: <ZZ> = {zz:.3f}, <XX> = {xx:.3f}")
print(f"stds: {results[0][0].data.stds.round(3).tolist()}")
print(f"measure mitigation: {result[0].metadata['measure_mitigation']}")
print(f"job ids: {[job.job_id() for job in jobs]}")
