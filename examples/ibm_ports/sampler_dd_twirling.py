"""Ported from qiskit-ibm-runtime: SamplerV2 with XpXm dynamical decoupling and twirling.

A GHZ-4 state that waits 3 µs before it is measured, sampled with gate and measurement
twirling; the counts come back as if untwirled. Only the import line and the backend
line differ from the script written for IBM:

    from qiskit_ibm_runtime import QiskitRuntimeService, SamplerV2 as Sampler
    backend = QiskitRuntimeService().least_busy(operational=True, simulator=False)

    python examples/ibm_ports/sampler_dd_twirling.py
"""

from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider, VendorSampler as Sampler

backend = VendorProvider().get_backend("superconducting_27q")

circuit = QuantumCircuit(4)
circuit.h(0)
for qubit in range(3):
    circuit.cx(qubit, qubit + 1)
circuit.barrier()
circuit.delay(3000, unit="ns")
circuit.measure_all()

pm = generate_preset_pass_manager(backend=backend, optimization_level=1, seed_transpiler=1)
isa_circuit = pm.run(circuit)

sampler = Sampler(mode=backend)
sampler.options.default_shots = 4000
sampler.options.dynamical_decoupling.enable = True
sampler.options.dynamical_decoupling.sequence_type = "XpXm"
sampler.options.twirling.enable_gates = True
sampler.options.twirling.enable_measure = True
sampler.options.twirling.shots_per_randomization = 100
sampler.options.simulator.seed_simulator = 5

job = sampler.run([isa_circuit])
result = job.result()
pub_result = result[0]

counts = pub_result.data.meas.get_counts()
fidelity = (counts.get("0000", 0) + counts.get("1111", 0)) / pub_result.data.meas.num_shots
print(f"shots: {pub_result.data.meas.num_shots}")
print(f"P(0000) + P(1111) = {fidelity:.3f}")
print(f"most frequent: {sorted(counts.items(), key=lambda item: -item[1])[:4]}")
print(f"twirling: {result.metadata['twirling']}")
