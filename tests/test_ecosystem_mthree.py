"""mthree 3.0's readout mitigation (M3) end to end on ``superconducting_27q``.

M3 reads ``backend.configuration()`` (qubits, shot and circuit limits) and
``backend.properties().faulty_qubits()``, calibrates readout with its own circuits
through ``backend.run`` and corrects counts. A Bell pair on qubits 12 and 13 (13 reads
the wrong bit 28% of the time) is measured far from ideal; corrected, it is within what
the gate errors and the shots leave. Installed with the ``[ecosystem]`` extra; skipped
without it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from qiskit import QuantumCircuit
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import builtin_device_dir
from tests.faulty import FAULTY, FAULTY_QUBIT, write_faulty_device

mthree = pytest.importorskip(
    "mthree", reason="mthree is not installed (pip install qiskit-vendor-provider[ecosystem])"
)

# mthree 3.0's final_measurement_mapping still unpacks CircuitInstruction as a tuple.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Treating CircuitInstruction as an iterable:DeprecationWarning"
)

DEVICE = "superconducting_27q"
PAIR = [12, 13]  # 13 is the calibrated-bad qubit: readout error 0.28
SHOTS = 8000


def distance(distribution: Mapping[str, float], ideal: Mapping[str, float]) -> float:
    """Total variation distance (quasi-probabilities allowed)."""
    keys = set(distribution) | set(ideal)
    return 0.5 * sum(abs(distribution.get(k, 0.0) - ideal.get(k, 0.0)) for k in keys)


def test_m3_brings_a_bell_pair_closer_to_ideal(provider_session: VendorProvider) -> None:
    # A copy with its own options: M3's calibration jobs take the backend's seed.
    backend = copy.copy(provider_session.get_backend(DEVICE))
    backend.set_options(seed_simulator=11)
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    isa = generate_preset_pass_manager(
        backend=backend, optimization_level=1, initial_layout=PAIR, seed_transpiler=3
    ).run(bell)
    mapping = mthree.utils.final_measurement_mapping(isa)
    assert sorted(mapping.values()) == PAIR

    mitigator = mthree.M3Mitigation(backend)
    assert mitigator.system_info["num_qubits"] == 27
    assert mitigator.system_info["max_shots"] == backend.limits.max_shots
    assert mitigator.system_info["inoperable_qubits"] == []
    mitigator.cals_from_system(mapping, shots=SHOTS, async_cal=False)
    # M3's assignment matrix of qubit 13: P(read 0 | prepared 1) is the calibrated
    # readout error (plus the X gate's and T1's share), within 5 binomial sigma.
    readout = backend.target["measure"][(13,)].error
    measured = float(mitigator.single_qubit_cals[13][0, 1])
    assert abs(measured - readout) <= 5 * math.sqrt(readout * (1 - readout) / SHOTS) + 0.03

    counts = backend.run(isa, shots=SHOTS, seed_simulator=5).result().get_counts()
    raw = {key: value / SHOTS for key, value in counts.items()}
    mitigated = dict(mitigator.apply_correction(counts, mapping))
    ideal = {"00": 0.5, "11": 0.5}
    # Sampling noise of a distance over 4 outcomes is at most sqrt(4 / shots) / 2; the
    # correction multiplies it by up to 1 / (1 - 2 * 0.28) on qubit 13. Five of those
    # between the two distances.
    noise = math.sqrt(4 / SHOTS) / 2 / (1 - 2 * readout)
    raw_distance, mitigated_distance = distance(raw, ideal), distance(mitigated, ideal)
    assert mitigated_distance + 5 * noise < raw_distance, (raw_distance, mitigated_distance)
    # What is left is the gates' error (ECR 12-13: 0.12), not readout.
    two_qubit_error = backend.target["ecr"][(12, 13)].error
    assert mitigated_distance <= two_qubit_error + 5 * noise, mitigated_distance


@pytest.fixture
def faulty_provider(tmp_path: Path) -> Iterator[VendorProvider]:
    write_faulty_device(tmp_path)
    emulator = Emulator(
        EmulatorConfig(database=":memory:", device_dirs=(builtin_device_dir(), tmp_path))
    ).start()
    yield VendorProvider(transport=InProcessTransport(create_app(emulator)))
    emulator.stop()


def test_m3_leaves_faulty_qubits_out(faulty_provider: VendorProvider) -> None:
    backend = faulty_provider.get_backend(FAULTY)
    mitigator = mthree.M3Mitigation(backend)
    assert mitigator.system_info["inoperable_qubits"] == [FAULTY_QUBIT]
    with pytest.raises(mthree.exceptions.M3Error, match="inoperable qubits"):
        mitigator.cals_from_system([FAULTY_QUBIT, 6], shots=100, async_cal=False)
    assert faulty_provider.jobs(limit=None, backend_name=FAULTY) == []  # refused before a job
