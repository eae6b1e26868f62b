"""Ported from qiskit-ibm-runtime: EstimatorV2 at resilience level 2 (ZNE, gate twirling).

A two-step Trotterised transverse-field Ising circuit on four qubits; the noise factors
and a list of extrapolators (tried in order, as IBM's fallback does) are set by hand.
Only the import line and the backend line differ from the script written for IBM:

    from qiskit_ibm_runtime import EstimatorV2 as Estimator, QiskitRuntimeService
    backend = QiskitRuntimeService().least_busy(operational=True, simulator=False)

    python examples/ibm_ports/estimator_zne.py
"""

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorEstimator as Estimator, VendorProvider

backend = VendorProvider().get_backend("superconducting_27q")

circuit = QuantumCircuit(4)
for _ in range(2):
    for qubit in range(4):
        circuit.rx(0.4, qubit)
    for qubit in range(3):
        circuit.rzz(0.5, qubit, qubit + 1)
observables = [
    SparsePauliOp.from_list([("IIIZ", 0.25), ("IIZI", 0.25), ("IZII", 0.25), ("ZIII", 0.25)]),
    SparsePauliOp("IIZZ"),
]

pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
isa_circuit = pm.run(circuit)
isa_observables = [observable.apply_layout(isa_circuit.layout) for observable in observables]

estimator = Estimator(mode=backend)
estimator.options.resilience_level = 2
estimator.options.resilience.zne.noise_factors = (1, 3, 5)
estimator.options.resilience.zne.extrapolator = ["exponential", "linear"]
estimator.options.default_shots = 4000
estimator.options.simulator.seed_simulator = 7

job = estimator.run([(isa_circuit, isa_observables)])
result = job.result()
pub_result = result[0]

print(f"job ids: {pub_result.metadata['job_ids']}")
for name, value, std in zip(
    ["<Z avg>", "<Z0 Z1>"], pub_result.data.evs, pub_result.data.stds, strict=True
):
    print(f"{name}: {value:.3f} ± {std:.3f}")
print(f"at the noise factors: {pub_result.data.evs_noise_factors.round(3).tolist()}")
print(f"evs_extrapolated shape: {pub_result.data.evs_extrapolated.shape}")
print(f"resilience: {result.metadata['resilience']}")
