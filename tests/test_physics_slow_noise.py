"""Slow dephasing, always-on ZZ and coherent over-rotation, each against its calibration.

Each check compares the device with a model whose answer is known: a Ramsey on the
device decays as a Markovian device whose T2 is the calibrated T2* (a Lorentzian static
detuning gives exactly that exponential), an echo as the Markovian device itself (the
echo undoes static detuning), a ZZ Ramsey turns by ``2 pi zz t``, and an over-rotated
gate repeated N times adds ``sin^2(N theta / 2)`` to a flip probability. Counts are
compared with shot-derived bounds (five standard deviations).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter

from qiskit_vendor_provider.api.models import DeviceSpec, JobSubmission, ProgramResult, WireProgram
from qiskit_vendor_provider.emulator import simulation
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog, builtin_device_dir
from qiskit_vendor_provider.emulator.noise import DeviceNoise, markovian
from qiskit_vendor_provider.emulator.simulation import (
    JobRunner,
    PreparedDevice,
    detuning_draws,
    detuning_groups,
)
from qiskit_vendor_provider.serialization import circuit_to_wire
from qiskit_vendor_provider.target import build_target

SHOTS = 4000
SC, ION = "superconducting_27q", "trapped_ion_11q"


@pytest.fixture(scope="module")
def catalog() -> DeviceCatalog:
    return DeviceCatalog.from_directories()


@pytest.fixture(scope="module")
def runner() -> JobRunner:
    return JobRunner()


def run(
    runner: JobRunner,
    spec: DeviceSpec,
    circuits: Sequence[QuantumCircuit],
    *,
    shots: int = SHOTS,
    seed: int = 11,
    memory: bool = False,
) -> list[dict[int, int]]:
    """Counts keyed by clbit value, one per circuit."""
    submission = JobSubmission(
        device=spec.name,
        programs=[circuit_to_wire(c) for c in circuits],
        shots=shots,
        seed_simulator=seed,
        memory=memory,
    )
    results, _ = runner.run(submission, spec)
    assert all(r.success for r in results), [r.status for r in results]
    return [{int(k, 16): v for k, v in r.data[0].counts.items()} for r in results]


def p_one(counts: dict[int, int], shots: int = SHOTS) -> float:
    return counts.get(1, 0) / shots


def close(a: float, b: float, shots: int = SHOTS) -> bool:
    """Two frequencies from ``shots`` shots each agree within five standard deviations."""
    p = (a + b) / 2
    return abs(a - b) < 5 * math.sqrt(max(2 * p * (1 - p), 1e-4) / shots)


def with_t2(spec: DeviceSpec, t2: dict[int, float]) -> DeviceSpec:
    """The Markovian device with some qubits' T2 replaced."""
    bare = markovian(spec)
    assert bare.calibration is not None
    qubits = [
        q.model_copy(update={"t2": t2[i]}) if i in t2 else q
        for i, q in enumerate(bare.calibration.qubits)
    ]
    return bare.model_copy(
        update={"calibration": bare.calibration.model_copy(update={"qubits": qubits})}
    )


def half_pi(circuit: QuantumCircuit, qubit: int, spec: DeviceSpec | None) -> None:
    """A π/2 pulse about X in the device's operations."""
    if spec is not None and spec.name == ION:
        circuit.r(math.pi / 2, 0.0, qubit)
    else:
        circuit.sx(qubit)


def ramsey(
    num_qubits: int,
    qubit: int,
    wait_dt: int,
    *,
    echo: bool = False,
    spec: DeviceSpec | None = None,
) -> QuantumCircuit:
    """A π/2, wait, π/2 (ideally |1>); with ``echo`` a π halfway (ideally |0>)."""
    circuit = QuantumCircuit(num_qubits, 1)
    half_pi(circuit, qubit, spec)
    if echo:
        circuit.delay(wait_dt // 2, qubit)
        half_pi(circuit, qubit, spec)
        half_pi(circuit, qubit, spec)
        circuit.delay(wait_dt - wait_dt // 2, qubit)
    else:
        circuit.delay(wait_dt, qubit)
    half_pi(circuit, qubit, spec)
    circuit.measure(qubit, 0)
    return circuit


def test_old_device_files_load_and_every_new_field_at_zero_simulates_as_before(
    catalog: DeviceCatalog, runner: JobRunner
) -> None:
    data = json.loads((builtin_device_dir() / f"{SC}.json").read_text(encoding="utf-8"))
    for qubit in data["calibration"]["qubits"]:
        del qubit["t2_star"]
    for gate in data["calibration"]["gates"]:
        gate.pop("over_rotation", None)
    del data["calibration"]["couplings"]
    old = DeviceSpec.model_validate(data)  # a device file from before these fields
    zeroed = markovian(catalog.spec(SC))
    assert old.calibration is not None and zeroed.calibration is not None
    assert old.calibration.qubits[0].t2_star is None and not old.calibration.couplings
    circuit = QuantumCircuit(27, 3)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.delay(20_000, 1)
    circuit.cx(1, 2)
    circuit.measure([0, 1, 2], [0, 1, 2])
    isa = ramsey(27, 0, 45_000)
    prepared = PreparedDevice.from_spec(zeroed).prepare(isa)
    # Nothing is added: no detuning parameter, no ZZ, instructions in the circuit's order.
    assert not prepared.parameters and "cp" not in prepared.count_ops()
    assert [i.name for i in prepared.data] == [
        i.name for i in PreparedDevice.from_spec(old).prepare(isa).data
    ]
    assert run(runner, old, [isa], seed=5, memory=True) == run(
        runner, zeroed, [isa], seed=5, memory=True
    )


@pytest.mark.parametrize(("device", "qubit"), [(SC, 0), (SC, 5), (ION, 3)])
def test_ramsey_decays_with_t2_star_and_an_echo_with_t2(
    catalog: DeviceCatalog, runner: JobRunner, device: str, qubit: int
) -> None:
    spec = catalog.spec(device)
    assert spec.calibration is not None and spec.dt is not None
    cal = spec.calibration.qubits[qubit]
    assert cal.t2_star is not None and cal.t2 is not None
    assert cal.t2_star < cal.t2  # the calibration says the free decay is the faster
    wait = round(cal.t2_star / spec.dt)
    free = ramsey(spec.num_qubits, qubit, wait, spec=spec)
    echo = ramsey(spec.num_qubits, qubit, wait, echo=True, spec=spec)
    p_free, p_echo = (p_one(c) for c in run(runner, spec, [free, echo]))
    # What the Markovian device says with T2 = T2* (Ramsey) and with T2 (echo).
    (p_free_model,) = (p_one(c) for c in run(runner, with_t2(spec, {qubit: cal.t2_star}), [free]))
    (p_echo_model,) = (p_one(c) for c in run(runner, markovian(spec), [echo]))
    assert close(p_free, p_free_model), (p_free, p_free_model)
    assert close(p_echo, p_echo_model), (p_echo, p_echo_model)
    # And the echo keeps clearly more coherence than the free decay (1 - p: ideally |0>).
    assert (1 - p_echo) - p_free > 0.05


def test_zz_turns_a_ramsey_by_2_pi_zz_t_when_the_neighbour_is_excited(
    catalog: DeviceCatalog, runner: JobRunner
) -> None:
    spec = catalog.spec(SC)
    assert spec.calibration is not None and spec.dt is not None
    (coupling,) = [c for c in spec.calibration.couplings if c.qubits == [0, 1]]
    zz = coupling.zz_hz
    wait = round(1 / (4 * zz) / spec.dt)  # a quarter turn: cos = 0, sin = 1
    circuits = []
    for excited in (False, True):
        circuit = QuantumCircuit(27, 1)
        circuit.x(1) if excited else circuit.id(1)
        circuit.barrier(0, 1)  # else ALAP would excite qubit 1 only at the end
        circuit.sx(0)
        circuit.delay(wait, 0)
        circuit.rz(math.pi / 2, 0)  # read the quadrature the ZZ phase moves
        circuit.sx(0)
        circuit.barrier(0, 1)
        circuit.measure(0, 0)
        circuits.append(circuit)
    p_ground, p_excited = (p_one(c) for c in run(runner, spec, circuits))
    # With the neighbour in |0>, no turn: the rz leaves P(1) at 1/2. Excited, the ZZ
    # phase 2 pi zz t = pi/2 (the qubit's frequency is zz higher) turns the fringe to
    # P(1) = 1/2 + E/2, E the Ramsey envelope (about exp(-t / T2*), near 0.9 here).
    assert close(p_ground, 0.5)
    phase = 2 * math.pi * zz * wait * spec.dt
    envelope = math.exp(-wait * spec.dt / (spec.calibration.qubits[0].t2_star or 1.0))
    # exp(-2 pi i zz t |11><11|) is rz(-phase) on qubit 0: with the rz(pi/2) the sx
    # pulses see rz(pi/2 - phase), and P(1) = 1/2 + E/2 cos(pi/2 - phase).
    expected = 0.5 + 0.5 * envelope * math.sin(phase)
    # Readout and relaxation shrink the fringe a little more: 10% of its size.
    assert abs(p_excited - expected) < 0.1 * envelope / 2 + 5 * math.sqrt(0.25 / SHOTS)
    assert abs(p_excited - p_ground) > 0.3


def test_coherent_over_rotation_adds_up_quadratically_in_repeated_cx(
    catalog: DeviceCatalog, runner: JobRunner
) -> None:
    spec = catalog.spec(SC)
    assert spec.calibration is not None
    (gate,) = [g for g in spec.calibration.gates if g.name == "ecr" and g.qubits == [0, 1]]
    theta = gate.over_rotation
    repetitions = 16
    circuit = QuantumCircuit(27, 1)
    for _ in range(repetitions):
        # CX(0, 1) as the transpiler writes it in ECR: the ZX over-rotation commutes
        # with it, so N of them turn the target by N theta (control in |0>).
        circuit.rz(-math.pi / 2, 0)
        circuit.rz(-math.pi, 1)
        circuit.sx(1)
        circuit.rz(-math.pi, 1)
        circuit.ecr(0, 1)
        circuit.x(0)
    circuit.measure(1, 0)
    (p_rich,) = (p_one(c) for c in run(runner, spec, [circuit]))
    (p_flat,) = (p_one(c) for c in run(runner, markovian(spec), [circuit]))
    coherent = math.sin(repetitions * theta / 2) ** 2
    # The stochastic part is smaller on the rich device (the same total error per gate),
    # so the difference is at least the coherent flip minus the stochastic part's share.
    assert p_rich - p_flat > 0.5 * coherent
    assert abs((p_rich - p_flat) - coherent) < 0.35 * coherent + 5 * math.sqrt(0.5 / SHOTS)


def test_detuning_draws_are_stratified_and_independent_per_qubit() -> None:
    import numpy as np

    draws = detuning_draws([1.0, 2.0], rows=2, groups=32, rng=np.random.default_rng(0))
    assert [len(d) for d in draws] == [64, 64]
    first = np.array(draws[0][:32])
    # One draw per stratum: the medians of the Lorentzian sit in the middle strata.
    assert sum(first < 0) == 16
    assert draws[0][:32] != draws[0][32:]  # rows draw afresh
    assert np.corrcoef(draws[0], draws[1])[0, 1] < 0.5


def test_the_ion_device_has_no_zz_and_an_over_rotated_ms(catalog: DeviceCatalog) -> None:
    spec = catalog.spec(ION)
    assert spec.calibration is not None
    assert not DeviceNoise(spec).zz_couplings()
    assert all(g.over_rotation for g in spec.calibration.gates if g.name == "rxx")


def test_the_target_properties_and_cli_show_the_new_figures(
    catalog: DeviceCatalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from qiskit_vendor_provider.cli import main
    from qiskit_vendor_provider.properties import DeviceProperties
    from qiskit_vendor_provider.target import VendorTarget, build_target

    spec = catalog.spec(SC)
    assert spec.calibration is not None
    cal = spec.calibration
    target = build_target(spec)
    assert isinstance(target, VendorTarget)
    assert target.t2_star[0] == cal.qubits[0].t2_star
    (coupling,) = [c for c in cal.couplings if c.qubits == [0, 1]]
    assert target.zz_hz[(0, 1)] == coupling.zz_hz
    (ecr,) = [g for g in cal.gates if g.name == "ecr" and g.qubits == [0, 1]]
    assert target.over_rotations[("ecr", (0, 1))] == ecr.over_rotation
    # The reported error is still the total.
    assert target["ecr"][(0, 1)].error == ecr.error
    properties = DeviceProperties(SC, cal)
    assert properties.t2_star(0) == cal.qubits[0].t2_star
    assert properties.zz(1, 0) == coupling.zz_hz and properties.zz(0, 26) == 0.0
    assert properties.over_rotation("ecr", [0, 1]) == ecr.over_rotation
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "accounts.json"))
    out = CliRunner().invoke(main, ["device", SC], catch_exceptions=False).stdout
    assert "T2* (Ramsey): median" in out and "ZZ: median" in out
    assert "coherent over-rotation: median" in out


def test_a_device_file_with_durations_off_its_clock_is_refused(tmp_path: Path) -> None:
    import warnings

    from qiskit import transpile

    from qiskit_vendor_provider.emulator.catalog import CatalogError, load_spec
    from qiskit_vendor_provider.target import build_target

    data = json.loads((builtin_device_dir() / f"{SC}.json").read_text(encoding="utf-8"))
    # The shipped durations are whole dt: a scheduled transpile does not warn.
    spec = DeviceSpec.model_validate(data)
    circuit = QuantumCircuit(2, 1)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure(1, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transpile(circuit, target=build_target(spec), scheduling_method="alap")
    data["calibration"]["gates"][0]["duration"] = 3.5555e-08  # 159.9975 dt, as before
    path = tmp_path / f"{SC}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"159\.9975 dt, not a whole number of dt"):
        load_spec(path)


def test_qubits_no_gate_touches_are_sampled_classically_as_aer_would(
    catalog: DeviceCatalog, runner: JobRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qiskit_vendor_provider.emulator import simulation

    spec = catalog.spec(SC)
    assert spec.calibration is not None
    # A Bell pair on 0, 1 and measure_all on five qubits: 2, 3 and 13 (readout error
    # 0.28) are only measured.
    circuit = QuantumCircuit(27)
    circuit.sx(0)
    circuit.ecr(0, 1)
    circuit.barrier()
    measured = QuantumCircuit(27, 5)
    measured.compose(circuit, inplace=True)
    measured.measure([0, 1, 2, 3, 13], range(5))
    reduced, extra = simulation.split_untouched(
        PreparedDevice.from_spec(spec).prepare(measured), DeviceNoise(spec)
    )
    assert [clbit for clbit, _ in extra] == [2, 3, 4]
    assert extra[2][1] == spec.calibration.qubits[13].readout_error
    assert reduced.count_ops()["measure"] == 2
    fast = run(runner, spec, [measured], seed=3)[0]
    with_memory = run(runner, spec, [measured], seed=3, memory=True)[0]
    monkeypatch.setattr(simulation, "split_untouched", lambda c, n: (c, []))
    full = run(runner, spec, [measured], seed=4)[0]
    for sample in (fast, with_memory):
        assert sum(sample.values()) == SHOTS
        keys = set(sample) | set(full)
        tv = 0.5 * sum(abs(sample.get(k, 0) - full.get(k, 0)) for k in keys) / SHOTS
        # Shot-derived bound (as in test_physics_agreement): mean TV of two samples plus
        # a McDiarmid margin at a 1e-6 false-alarm rate.
        pooled = [(sample.get(k, 0) + full.get(k, 0)) / (2 * SHOTS) for k in keys]
        bound = 0.5 * sum(math.sqrt(2 * p / SHOTS) for p in pooled)
        assert tv < bound + math.sqrt(math.log(1e6) / SHOTS), (tv, sample, full)
    # Qubit 13's bit reads 1 at its readout error.
    p13 = sum(v for k, v in fast.items() if k >> 4 & 1) / SHOTS
    assert close(p13, spec.calibration.qubits[13].readout_error)


def waiting_bell_pair(spec: DeviceSpec, *, twice: bool = False) -> QuantumCircuit:
    """A Bell pair, 20 us of waiting on qubit 0, an H on it: ISA for qubits 0 and 1.

    With ``twice``, qubit 1 is measured again into a third clbit, so that Aer samples
    the shots (the emulator draws them itself only from one measurement per qubit).
    """
    assert spec.dt is not None
    circuit = QuantumCircuit(2, 3 if twice else 2)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.delay(round(20e-6 / spec.dt), 0)
    circuit.h(0)
    circuit.measure([0, 1], [0, 1])
    if twice:
        circuit.measure(1, 2)
    return transpile(circuit, build_target(spec), initial_layout=[0, 1], seed_transpiler=1)


@pytest.mark.parametrize("twice", [False, True], ids=["drawn-here", "aer-samples"])
def test_jobs_of_consecutive_seeds_are_independent_samples(
    catalog: DeviceCatalog, runner: JobRunner, twice: bool
) -> None:
    # A row with slow dephasing runs as up to 32 groups of shots in one Aer run, and
    # Aer seeds a run's experiments seed, seed + 1, ...: with the job's seed passed as
    # it is, the jobs of seeds 10, 11, ... shared 31 of 32 streams and moved from each
    # other by a third of their shot noise (P(00) 1183, 1184, 1191, 1185 of 4,000).
    # Both ways a grouped job is sampled: by Aer (fails on the old seeding), and drawn
    # from the saved probabilities with numpy.
    spec = catalog.spec(SC)
    isa = waiting_bell_pair(spec, twice=twice)
    counts = [run(runner, spec, [isa], seed=seed)[0] for seed in range(10, 20)]
    zeros = [sum(v for k, v in c.items() if k & 0b11 == 0) for c in counts]
    steps = [abs(b - a) for a, b in itertools.pairwise(zeros)]
    p = sum(zeros) / len(zeros) / SHOTS
    # Two independent binomial samples differ by sqrt(2 p (1 - p) shots) sqrt(2 / pi)
    # on average (more with the detunings' draws); the mean of 9 such steps has a
    # relative spread of about a quarter, so 0.6 of it is 1.6 of those below.
    independent = math.sqrt(2 * p * (1 - p) * SHOTS) * math.sqrt(2 / math.pi)
    assert sum(steps) / len(steps) > 0.6 * independent, (zeros, independent)


def test_the_same_seed_gives_the_same_counts_grouped_or_not(
    catalog: DeviceCatalog, runner: JobRunner
) -> None:
    # Spreading a grouped job's seed, and drawing its shots from saved probabilities,
    # must keep seeded results reproducible: the same job and seed, run twice (and from
    # a fresh runner), samples the same counts, with slow dephasing (shots drawn here,
    # or by Aer) and without it (the Markovian device, as Aer samples it).
    spec = catalog.spec(SC)
    for device, twice in ((spec, False), (spec, True), (markovian(spec), False)):
        isa = waiting_bell_pair(spec, twice=twice)
        first = run(runner, device, [isa, isa], seed=12345, memory=True)
        again = run(JobRunner(), device, [isa, isa], seed=12345, memory=True)
        other = run(runner, device, [isa, isa], seed=12346, memory=True)
        assert first == again, (device.name, twice)
        assert first != other, (device.name, twice)


def sweep_and_pair(spec: DeviceSpec, *, twice: bool = False) -> list[WireProgram]:
    """The waiting Bell pair, a 3-row angle sweep with a wait, and a wait then one qubit
    flipped (its bit apart from the other's): three grouped programs.

    With ``twice``, the sweep measures qubit 0 a second time, into a third clbit (so its
    measurements are not one per qubit).
    """
    theta = Parameter("theta")
    sweep = QuantumCircuit(2, 3 if twice else 2)
    sweep.rx(theta, 0)
    sweep.cx(0, 1)
    sweep.delay(round(5e-6 / (spec.dt or 1)), 1)
    sweep.measure([0, 1], [0, 1])
    if twice:
        sweep.measure(0, 2)
    isa = transpile(sweep, build_target(spec), initial_layout=[4, 7], seed_transpiler=1)
    flip = QuantumCircuit(3, 3)
    flip.delay(round(2e-6 / (spec.dt or 1)), 0)
    flip.x(2)
    flip.measure([0, 2], [1, 2])
    one = transpile(flip, build_target(spec), initial_layout=[10, 12, 15], seed_transpiler=1)
    return [
        circuit_to_wire(waiting_bell_pair(spec)),
        circuit_to_wire(isa, parameter_values=[[0.3], [1.2], [2.5]]),
        circuit_to_wire(one),
    ]


def run_both_ways(
    runner: JobRunner, spec: DeviceSpec, submission: JobSubmission, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[ProgramResult], list[ProgramResult]]:
    """The job as the emulator runs it, and as it ran before (Aer binding row by row)."""
    prepared = [runner._device(spec).prepare(c) for c in runner.circuits(submission, spec)]
    per_group = -(-submission.shots // detuning_groups(submission.shots))
    assert simulation.runs_as_density_matrix(prepared, per_group)
    fast, _ = runner.run(submission, spec)
    with monkeypatch.context() as patch:
        patch.setattr(simulation, "runs_as_density_matrix", lambda *a, **k: False)
        slow, _ = runner.run(submission, spec)
    return fast, slow


@pytest.mark.parametrize(("shots", "memory"), [(1000, False), (997, True)])
def test_binding_rows_at_run_time_gives_the_same_counts_to_the_shot(
    catalog: DeviceCatalog,
    runner: JobRunner,
    monkeypatch: pytest.MonkeyPatch,
    shots: int,
    memory: bool,
) -> None:
    # A grouped job Aer runs wholly as density matrices, but whose measurements are not
    # one per qubit at the end (so Aer samples them), lets Aer bind the rows while it
    # runs (a third faster). That must not change a single count.
    spec = catalog.spec(SC)
    programs = sweep_and_pair(spec, twice=True)
    submission = JobSubmission(
        device=spec.name, programs=programs, shots=shots, seed_simulator=7, memory=memory
    )
    fast, slow = run_both_ways(runner, spec, submission, monkeypatch)
    assert [r.data for r in fast] == [r.data for r in slow]
    assert len(fast[1].data) == 3 and all(sum(d.counts.values()) == shots for d in fast[1].data)


@pytest.mark.parametrize(("shots", "memory"), [(20_000, False), (9_997, True)])
def test_shots_drawn_from_the_saved_probabilities_agree_with_aer_sampling(
    catalog: DeviceCatalog,
    runner: JobRunner,
    monkeypatch: pytest.MonkeyPatch,
    shots: int,
    memory: bool,
) -> None:
    # With all measurements last, the groups' shots are drawn in numpy from the density
    # matrix's probabilities, readout errors applied. Both ways use the job's detuning
    # draws (the same seed), so they differ by the shots' sampling alone: each outcome
    # of each row within five binomial standard deviations of the two samples.
    spec = catalog.spec(SC)
    submission = JobSubmission(
        device=spec.name,
        programs=sweep_and_pair(spec),
        shots=shots,
        seed_simulator=7,
        memory=memory,
    )
    fast, slow = run_both_ways(runner, spec, submission, monkeypatch)
    for ours, aers in zip(fast, slow, strict=True):
        for mine, theirs in zip(ours.data, aers.data, strict=True):
            assert sum(mine.counts.values()) == shots
            for key in set(mine.counts) | set(theirs.counts):
                a, b = mine.counts.get(key, 0) / shots, theirs.counts.get(key, 0) / shots
                assert close(a, b, shots), (key, a, b)
            if memory:
                assert mine.packed_memory is not None
    # The readout errors are in: the sweep's first row (rx(0.3), a CX: 00 or 11) reads 01
    # and 10 at about the readout errors' sum of qubits 4 and 7.
    qubits = spec.calibration.qubits  # type: ignore[union-attr]
    readout = qubits[4].readout_error + qubits[7].readout_error
    first = fast[1].data[0].counts
    odd = (first.get("0x1", 0) + first.get("0x2", 0)) / shots
    assert odd > 0.5 * readout, (odd, readout)
    # Each qubit's bit lands in its clbit: the flipped qubit reads 1 in clbit 2.
    assert fast[2].data[0].counts.get("0x4", 0) > 0.9 * shots
