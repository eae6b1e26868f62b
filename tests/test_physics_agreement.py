"""The emulator and ``AerSimulator.from_backend(backend)`` simulate the same device.

A user who builds Aer's model from our Target gets the same gate errors, relaxation
during gates, readout errors and relaxation during delays as the emulator. The emulator
is deliberately richer in one way: it times a program as the device would (ALAP) and
lets waiting qubits relax, which ``from_backend`` does only where the circuit already
has delays. So the two agree on a circuit scheduled beforehand, and on an unscheduled
one the emulator is the noisier, never the cleaner.

The devices also have noise ``from_backend`` cannot know of (slow dephasing, ZZ, coherent
over-rotation: the Target has no field for them). The agreement is checked on the
devices with those at zero (:func:`~qiskit_vendor_provider.emulator.noise.markovian`);
with them, the emulator is again the noisier.

Distributions are compared by total-variation distance against a bound derived from the
shot count (see :func:`tv_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import ALAPScheduleAnalysis, PadDelay

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.models import JobSubmission
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.noise import markovian
from qiskit_vendor_provider.emulator.simulation import JobRunner
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.helpers import ghz

NOISY = ["superconducting_27q", "trapped_ion_11q"]
SHOTS = 4000
# Two different seeds far apart: Aer seeds shot i with seed + i, so close seeds would
# share most of their random streams and agree far better than chance.
EMULATOR_SEED, AER_SEED = 7, 7_000_000
# The chance that two samples of one distribution exceed the bound is below this.
FALSE_ALARM = 1e-6


def tv_distance(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


def tv_bound(a: Mapping[str, int], b: Mapping[str, int], shots: int) -> float:
    """What the TV distance of two ``shots``-shot samples of one distribution stays under.

    Each outcome's frequency difference has variance ``2 p (1 - p) / N``, so
    ``E[TV] <= 1/2 sum_k sqrt(2 p_k / N)`` (p estimated from both samples pooled); one
    shot moves TV by at most ``1/N``, so by McDiarmid's inequality TV exceeds its mean
    by ``t`` with probability at most ``exp(-N t^2)``.
    """
    pooled = {k: (a.get(k, 0) + b.get(k, 0)) / (2 * shots) for k in set(a) | set(b)}
    mean = 0.5 * sum(math.sqrt(2 * p / shots) for p in pooled.values())
    return mean + math.sqrt(math.log(1 / FALSE_ALARM) / shots)


def emulator_counts(
    device: str, circuits: list[QuantumCircuit], *, rich: bool = False
) -> list[dict[str, int]]:
    """Counts on the emulator's device, Markovian unless ``rich``."""
    spec = DeviceCatalog.from_directories().spec(device)
    spec = spec if rich else markovian(spec)
    submission = JobSubmission(
        device=device,
        programs=[circuit_to_wire(c) for c in circuits],
        shots=SHOTS,
        seed_simulator=EMULATOR_SEED,
    )
    results, _ = JobRunner().run(submission, spec)
    return [
        {format(int(k, 16), f"0{c.num_clbits}b"): v for k, v in r.data[0].counts.items()}
        for c, r in zip(circuits, results, strict=True)
    ]


def aer_counts(backend: object, circuits: list[QuantumCircuit]) -> list[dict[str, int]]:
    from qiskit_aer import AerSimulator

    simulator = AerSimulator.from_backend(backend)
    result = simulator.run(circuits, shots=SHOTS, seed_simulator=AER_SEED).result()
    return [
        {k.replace(" ", ""): v for k, v in result.get_counts(i).items()}
        for i in range(len(circuits))
    ]


def alap(backend: object, circuits: list[QuantumCircuit]) -> list[QuantumCircuit]:
    """The circuits scheduled by the client, as the emulator would schedule them."""
    target = backend.target  # type: ignore[attr-defined]
    manager = PassManager([ALAPScheduleAnalysis(target=target), PadDelay(target=target)])
    return [manager.run(c) for c in circuits]


def fidelity(counts: Mapping[str, int]) -> float:
    n = len(next(iter(counts)))
    return (counts.get("0" * n, 0) + counts.get("1" * n, 0)) / sum(counts.values())


# Eight qubits in a row on the heavy-hex lattice of superconducting_27q.
SC_CHAIN = [0, 1, 4, 7, 10, 12, 15, 18]


@pytest.fixture(scope="module")
def isa_ghz(provider_session: VendorProvider) -> dict[str, list[QuantumCircuit]]:
    return {
        name: transpile(
            [ghz(n) for n in (3, 5, 8)],
            provider_session.get_backend(name),
            seed_transpiler=5,
            optimization_level=1,
        )
        for name in NOISY
    }


@pytest.mark.parametrize("device", NOISY)
def test_ghz_agrees_with_from_backend_on_a_scheduled_circuit(
    provider_session: VendorProvider, isa_ghz: dict[str, list[QuantumCircuit]], device: str
) -> None:
    backend = provider_session.get_backend(device)
    circuits = isa_ghz[device]
    ours = emulator_counts(device, circuits)
    theirs = aer_counts(backend, alap(backend, circuits))
    for circuit, a, b in zip(circuits, ours, theirs, strict=True):
        assert tv_distance(a, b) < tv_bound(a, b, SHOTS), circuit.name
        f_ours, f_theirs = fidelity(a), fidelity(b)
        sd = math.sqrt((f_ours * (1 - f_ours) + f_theirs * (1 - f_theirs)) / SHOTS)
        assert abs(f_ours - f_theirs) < 5 * sd, circuit.name
        assert f_ours > 0.5  # and both are a GHZ state, not noise


@pytest.mark.parametrize("device", NOISY)
def test_on_an_unscheduled_circuit_the_emulator_is_the_noisier(
    provider_session: VendorProvider, isa_ghz: dict[str, list[QuantumCircuit]], device: str
) -> None:
    backend = provider_session.get_backend(device)
    circuits = isa_ghz[device]
    ours = emulator_counts(device, circuits)
    theirs = aer_counts(backend, circuits)  # no delays: from_backend adds no idle noise
    for circuit, a, b in zip(circuits, ours, theirs, strict=True):
        f_ours, f_theirs = fidelity(a), fidelity(b)
        sd = math.sqrt((f_ours * (1 - f_ours) + f_theirs * (1 - f_theirs)) / SHOTS)
        assert f_ours < f_theirs + 5 * sd, circuit.name


@pytest.mark.parametrize("device", NOISY)
def test_with_slow_noise_zz_and_coherent_errors_the_emulator_is_the_noisier(
    provider_session: VendorProvider, isa_ghz: dict[str, list[QuantumCircuit]], device: str
) -> None:
    backend = provider_session.get_backend(device)
    circuits = isa_ghz[device]
    if device == "superconducting_27q":
        # A GHZ-8 made and undone on a fixed chain: the phases that slow dephasing and ZZ
        # leave on the GHZ state become populations (a GHZ's own Z-basis counts cannot
        # see them), and its neighbours do not depend on the layout a Qiskit release picks.
        there = ghz(8).remove_final_measurements(inplace=False)
        back = there.compose(there.inverse())
        back.measure_all()
        chain = transpile(
            back, backend, initial_layout=SC_CHAIN, seed_transpiler=5, optimization_level=1
        )
        circuits = [*circuits, chain]
    ours = emulator_counts(device, circuits, rich=True)
    theirs = aer_counts(backend, alap(backend, circuits))
    gaps = []
    for circuit, a, b in zip(circuits, ours, theirs, strict=True):
        f_ours, f_theirs = fidelity(a), fidelity(b)
        sd = math.sqrt((f_ours * (1 - f_ours) + f_theirs * (1 - f_theirs)) / SHOTS)
        assert f_ours < f_theirs + 5 * sd, circuit.name
        gaps.append((f_theirs - f_ours) / sd)
    if device == "superconducting_27q":
        # ZZ between waiting neighbours and dephasing over microseconds make the GHZ-8
        # made and undone clearly the noisier. The ion device's waits are a thousandth of
        # its T2*, it has no ZZ, and the over-rotation is part of the calibrated total:
        # there the two agree within shot noise.
        assert gaps[-1] > 3, gaps


def delay_circuits(qubits: list[int]) -> list[QuantumCircuit]:
    """Population decay (x, wait, measure) and coherence decay (sx, wait, sx, measure)."""
    circuits = []
    for qubit in qubits:
        t1 = QuantumCircuit(qubit + 1, 1, name=f"t1-{qubit}")
        t1.x(qubit)
        t1.delay(150, qubit, unit="us")
        t1.measure(qubit, 0)
        t2 = QuantumCircuit(qubit + 1, 1, name=f"t2-{qubit}")
        t2.sx(qubit)
        t2.delay(60_000, qubit, unit="ns")
        t2.sx(qubit)
        t2.measure(qubit, 0)
        circuits += [t1, t2]
    return circuits


def test_delays_agree_with_from_backend(provider_session: VendorProvider) -> None:
    backend = provider_session.get_backend("superconducting_27q")
    circuits = transpile(delay_circuits([0, 1, 2]), backend, optimization_level=0)
    ours = emulator_counts(backend.name, circuits)
    theirs = aer_counts(backend, circuits)
    for circuit, a, b in zip(circuits, ours, theirs, strict=True):
        assert tv_distance(a, b) < tv_bound(a, b, SHOTS), circuit.name
    # x, 150 µs, measure on qubit 0 (T1 = 148 µs): about e^-1 survives, not 0.99.
    t1 = backend.qubit_properties(0).t1
    readout = backend.target["measure"][(0,)].error
    expected = readout + (1 - 2 * readout) * math.exp(-150e-6 / t1)
    p1 = ours[0].get("1", 0) / SHOTS
    assert abs(p1 - expected) < 5 * math.sqrt(expected * (1 - expected) / SHOTS)
