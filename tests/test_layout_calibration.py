"""Qiskit's layout reads the calibration in the Target: bad and faulty elements are avoided.

A GHZ-5 transpiled for ``superconducting_27q`` at optimization levels 1 to 3 never
touches qubit 13 (calibrated bad: readout error 0.28, T1 9 us). On the variant with
qubit 7 and the ECR couplers (0, 1) and (1, 4) out of service (``tests/faulty.py``),
which the shipped layout goes through, it touches none of them either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorBackend, VendorProvider
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import builtin_device_dir
from tests.faulty import FAULTY, FAULTY_COUPLERS, FAULTY_QUBIT, write_faulty_device
from tests.helpers import ghz

BAD_QUBIT = 13
LEVELS = (1, 2, 3)
SEEDS = (0, 1, 2)


def used_qubits(circuit: QuantumCircuit) -> set[int]:
    """The device qubits an operation (not a barrier) of ``circuit`` acts on."""
    return {
        circuit.find_bit(qubit).index
        for item in circuit.data
        if item.name != "barrier"
        for qubit in item.qubits
    }


def two_qubit_pairs(circuit: QuantumCircuit) -> set[tuple[int, ...]]:
    return {
        tuple(circuit.find_bit(q).index for q in item.qubits)
        for item in circuit.data
        if len(item.qubits) == 2 and item.name != "barrier"
    }


def transpiled(backend: VendorBackend, level: int, seed: int) -> QuantumCircuit:
    manager = generate_preset_pass_manager(
        backend=backend, optimization_level=level, seed_transpiler=seed
    )
    return manager.run(ghz(5))


@pytest.fixture(scope="module")
def faulty_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorBackend]:
    directory = Path(tmp_path_factory.mktemp("faulty_layout"))
    write_faulty_device(directory)
    emulator = Emulator(
        EmulatorConfig(database=":memory:", device_dirs=(builtin_device_dir(), directory))
    ).start()
    provider = VendorProvider(transport=InProcessTransport(create_app(emulator)))
    yield provider.get_backend(FAULTY)
    emulator.stop()


@pytest.mark.parametrize("level", LEVELS)
def test_ghz5_avoids_the_bad_qubit(provider_session: VendorProvider, level: int) -> None:
    backend = provider_session.get_backend("superconducting_27q")
    for seed in SEEDS:
        circuit = transpiled(backend, level, seed)
        used = used_qubits(circuit)
        assert len(used) == 5, used
        assert BAD_QUBIT not in used, (level, seed, sorted(used))
        # The premise of the faulty variant's test: this layout runs through what the
        # variant takes out of service.
        assert FAULTY_QUBIT in used or set(FAULTY_COUPLERS) & two_qubit_pairs(circuit)


@pytest.mark.parametrize("level", LEVELS)
def test_ghz5_avoids_faulty_qubits_and_couplers(faulty_backend: VendorBackend, level: int) -> None:
    for seed in SEEDS:
        circuit = transpiled(faulty_backend, level, seed)
        used = used_qubits(circuit)
        assert len(used) == 5, used
        assert not used & {BAD_QUBIT, FAULTY_QUBIT}, (level, seed, sorted(used))
        assert not set(FAULTY_COUPLERS) & two_qubit_pairs(circuit), (level, seed)
        faulty_backend.check_faulty(circuit)
