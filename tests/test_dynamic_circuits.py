"""Dynamic circuits run on the devices that list them, as AerSimulator runs them.

Each circuit is transpiled for the device once; the same ISA circuit then runs on the
emulator (through ``backend.run`` and through ``VendorSampler``) and on a local
``AerSimulator`` with another seed, and the two distributions must agree within a
tolerance derived from the shot count.
"""

from __future__ import annotations

import math

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.classical import expr
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorSampler

SHOTS = 2000
IDEAL = "ideal_simulator"
NOISY = "superconducting_27q"


def assert_same_distribution(
    ours: dict[str, int], reference: dict[str, int], shots: int = SHOTS
) -> None:
    """Every outcome's frequency agrees within 5 sigma of the difference of two estimates."""
    for key in set(ours) | set(reference):
        p = (ours.get(key, 0) + reference.get(key, 0)) / (2 * shots)
        # Two independent estimates of p: the variance of their difference is 2p(1-p)/n;
        # the 1/n term covers outcomes rare enough that p itself is poorly known.
        tolerance = 5 * math.sqrt(2 * p * (1 - p) / shots) + 1 / shots
        difference = abs(ours.get(key, 0) - reference.get(key, 0)) / shots
        assert difference <= tolerance, (key, ours, reference)


def teleportation(theta: float = 1.1) -> QuantumCircuit:
    """Teleport ry(theta)|0> from qubit 0 to qubit 2 with feed-forward corrections."""
    qubits = QuantumRegister(3, "q")
    bell = ClassicalRegister(2, "bell")
    out = ClassicalRegister(1, "out")
    circuit = QuantumCircuit(qubits, bell, out, name="teleport")
    circuit.ry(theta, 0)
    circuit.h(1)
    circuit.cx(1, 2)
    circuit.cx(0, 1)
    circuit.h(0)
    circuit.measure(0, bell[0])
    circuit.measure(1, bell[1])
    with circuit.if_test(expr.lift(bell[1])):
        circuit.x(2)
    with circuit.if_test((bell[0], 1)):
        circuit.z(2)
    circuit.measure(2, out[0])
    return circuit


def repeat_until_success() -> QuantumCircuit:
    """Prepare a Bell pair and measure one half until it reads 0; the other must follow."""
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "c"), name="rus")
    flag, other = circuit.clbits
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure(0, flag)
    with circuit.while_loop((flag, 1)):
        circuit.reset([0, 1])
        circuit.h(0)
        circuit.cx(0, 1)
        circuit.measure(0, flag)
    circuit.measure(1, other)
    return circuit


def switch_on_register() -> QuantumCircuit:
    """A switch on a 2-bit register: each value prepares qubit 2 differently."""
    selector = ClassicalRegister(2, "sel")
    out = ClassicalRegister(1, "out")
    circuit = QuantumCircuit(QuantumRegister(3, "q"), selector, out, name="switch")
    circuit.h(0)
    circuit.ry(1.2, 1)
    circuit.measure(0, selector[0])
    circuit.measure(1, selector[1])
    with circuit.switch(selector) as case:
        with case(0):
            circuit.x(2)
        with case(1):
            circuit.ry(2 * math.pi / 3, 2)
        with case(case.DEFAULT):  # 2 and 3
            circuit.h(2)
    circuit.measure(2, out[0])
    return circuit


def conditional_reset(theta: float = 2.0) -> QuantumCircuit:
    """Measure, flip back if the qubit read 1, measure again: the second read is 0."""
    circuit = QuantumCircuit(QuantumRegister(1, "q"), ClassicalRegister(2, "c"), name="reset")
    circuit.ry(theta, 0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    circuit.measure(0, 1)
    return circuit


CIRCUITS = {
    "teleportation": teleportation,
    "repeat_until_success": repeat_until_success,
    "switch_on_register": switch_on_register,
    "conditional_reset": conditional_reset,
}


def aer_counts(isa: QuantumCircuit, reference: AerSimulator, seed: int = 99) -> dict[str, int]:
    counts: dict[str, int] = (
        reference.run(isa, shots=SHOTS, seed_simulator=seed).result().get_counts()
    )
    return counts


@pytest.mark.parametrize("make", list(CIRCUITS.values()), ids=list(CIRCUITS))
def test_dynamic_circuit_matches_aer_through_run_and_sampler(
    provider_session: VendorProvider, make: object
) -> None:
    backend = provider_session.get_backend(IDEAL)
    circuit = make()  # type: ignore[operator]
    isa = generate_preset_pass_manager(backend=backend, optimization_level=1).run(circuit)
    reference = aer_counts(isa, AerSimulator())

    ours = backend.run(isa, shots=SHOTS, seed_simulator=7).result().get_counts()
    assert_same_distribution(ours, reference)

    result = VendorSampler(backend=backend, options={"seed_simulator": 8}).run(
        [(circuit,)], shots=SHOTS
    )
    joined = result.result()[0].join_data()
    # The sampler joins registers first-register-rightmost, as get_counts spaces them.
    spaced = {
        " ".join(_split(key, [creg.size for creg in circuit.cregs])): count
        for key, count in joined.get_counts().items()
    }
    assert_same_distribution(spaced, reference)


def _split(key: str, sizes: list[int]) -> list[str]:
    parts = []
    end = len(key)
    for size in sizes:
        parts.append(key[end - size : end])
        end -= size
    return parts[::-1]


def test_the_physics_of_each_circuit_holds(provider_session: VendorProvider) -> None:
    """Not only 'as Aer does': what each circuit is for, checked on the ideal device."""
    backend = provider_session.get_backend(IDEAL)
    pm = generate_preset_pass_manager(backend=backend, optimization_level=1)
    circuits = [pm.run(make()) for make in CIRCUITS.values()]
    teleported, rus, switch, reset = (
        backend.run(circuits, shots=SHOTS, seed_simulator=3).result().get_counts()
    )
    ones = sum(count for key, count in teleported.items() if key.startswith("1"))
    p = math.sin(1.1 / 2) ** 2
    assert abs(ones / SHOTS - p) <= 5 * math.sqrt(p * (1 - p) / SHOTS)
    assert rus == {"00": SHOTS}  # the loop stops on 0, and the Bell partner agrees
    # sel=0 -> x: out=1; sel=1 -> ry(2pi/3): P(1)=3/4; sel=2,3 -> h: P(1)=1/2.
    for key in switch:
        out, sel = key.split()
        assert (sel, out) != ("00", "0"), switch
    assert set(reset) <= {"00", "01"} and len(reset) == 2  # second read always 0


def test_noise_applies_inside_blocks_as_aer_from_backend_does(
    provider_session: VendorProvider,
) -> None:
    """On the calibrated device, a dynamic circuit's gates inside blocks are noisy too."""
    backend = provider_session.get_backend(NOISY)
    circuit = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(2, "c"))
    circuit.x(0)
    circuit.measure(0, 0)
    with circuit.for_loop(range(30)), circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(1)
    circuit.measure(1, 1)
    pm = generate_preset_pass_manager(
        backend=backend, optimization_level=1, initial_layout=[13, 14]
    )
    isa = pm.run(circuit)
    ours = backend.run(isa, shots=SHOTS, seed_simulator=5).result().get_counts()
    reference = aer_counts(isa, AerSimulator.from_backend(backend))
    assert_same_distribution(ours, reference)
    # 30 noisy x gates on qubit 14 leave a visible error (an ideal run gives "01" only).
    assert ours.get("01", 0) < SHOTS - 20, ours


def test_the_sampler_refuses_control_flow_on_a_device_without_it_in_its_own_words() -> None:
    from qiskit_vendor_provider.errors import CircuitValidationError

    backend = VendorProvider().get_backend("trapped_ion_11q")
    circuit = QuantumCircuit(1, 1)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    with pytest.raises(
        CircuitValidationError, match="PUB 0 cannot run on device 'trapped_ion_11q'"
    ):
        VendorSampler(backend=backend).run([circuit])
