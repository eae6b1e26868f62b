"""The package behaves alike on every supported Qiskit (see qiskit_compat.py for why)."""

from __future__ import annotations

from qiskit.circuit import Parameter, QuantumCircuit

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.qiskit_compat import free_parameters


def loop_circuit(theta: Parameter | float) -> QuantumCircuit:
    index = Parameter("i")
    circuit = QuantumCircuit(1, 1, name="loop")
    with circuit.for_loop(range(3), loop_parameter=index):
        circuit.rx(theta + 0.5 * index, 0)
    circuit.measure(0, 0)
    return circuit


def test_free_parameters_leave_out_loop_parameters_only() -> None:
    theta, phi = Parameter("theta"), Parameter("phi")
    circuit = loop_circuit(theta)
    circuit.rz(phi, 0)
    assert [p.name for p in free_parameters(circuit)] == ["phi", "theta"]
    plain = QuantumCircuit(1)
    plain.rx(theta, 0)
    assert free_parameters(plain) == list(plain.parameters)


def test_a_loop_over_a_parameter_runs_bound_and_swept(provider_session: VendorProvider) -> None:
    # On Qiskit < 2.4 the loop parameter is in circuit.parameters: it was refused as
    # "unbound parameters: i", and a sweep as "missing ['i']".
    backend = provider_session.get_backend("ideal_simulator")
    counts = backend.run(loop_circuit(0.3), shots=200, seed_simulator=1).result().get_counts()
    assert sum(counts.values()) == 200
    theta = Parameter("theta")
    job = backend.run(loop_circuit(theta), parameter_binds=[{theta: [0.0, 1.0]}], shots=200)
    assert len(job.result().results) == 2
