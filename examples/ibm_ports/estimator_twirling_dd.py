"""Ported from qiskit-ibm-runtime: EstimatorV2 with gate and measurement twirling and XY4 DD.

A GHZ-3 state that waits 2 µs before it is measured; twirling counts are set by hand
(16 randomizations of 256 shots) and the idle qubits are decoupled with XY4. Only the
import line and the backend line differ from the script written for IBM:

    from qiskit_ibm_runtime import EstimatorV2 as Estimator, QiskitRuntimeService
    backend = QiskitRuntimeService().least_busy(operational=True, simulator=False)

    python examples/ibm_ports/estimator_twirling_dd.py
"""

from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorEstimator as Estimator, VendorProvider

backend = VendorProvider().get_backend("superconducting_27q")

circuit = QuantumCircuit(3)
circuit.h(0)
circuit.cx(0, 1)
circuit.cx(1, 2)
circuit.barrier()
circuit.delay(2000, unit="ns")
observables = [SparsePauliOp("ZZI"), SparsePauliOp("IZZ"), SparsePauliOp("XXX")]

pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
isa_circuit = pm.run(circuit)
isa_observables = [observable.apply_layout(isa_circuit.layout) for observable in observables]

estimator = Estimator(mode=backend)
estimator.options.resilience_level = 0
estimator.options.twirling.enable_gates = True
estimator.options.twirling.enable_measure = True
estimator.options.twirling.num_randomizations = 16
estimator.options.twirling.shots_per_randomization = 256
estimator.options.twirling.strategy = "active"
estimator.options.dynamical_decoupling.enable = True
estimator.options.dynamical_decoupling.sequence_type = "XY4"
estimator.options.simulator.seed_simulator = 11

job = estimator.run([(isa_circuit, observable) for observable in isa_observables])
result = job.result()

for label, pub_result in zip(["ZZI", "IZZ", "XXX"], result, strict=True):
    print(f"<{label}> = {pub_result.data.evs:.3f} ± {pub_result.data.stds:.3f}")
print(f"twirling: {result.metadata['twirling']}")
print(f"dynamical decoupling: {result.metadata['dynamical_decoupling']}")
