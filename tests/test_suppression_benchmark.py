"""benchmarks/suppression.py keeps running, at small sizes, and its effects keep their sign.

Each check runs the benchmark's own functions with one seed and few shots; where the
statistics allow a direction at that seed, it is asserted with a margin of several
standard errors of the shot count. The full figures are docs/mitigation.md's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qiskit.converters import circuit_to_dag

from benchmarks import suppression
from qiskit_vendor_provider.api.models import Calibration
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.emulator.catalog import DeviceCatalog
from qiskit_vendor_provider.emulator.noise import DeviceNoise


@pytest.fixture(scope="module")
def backend() -> Iterator[VendorBackend]:
    with suppression.device() as device:
        yield device


PRECISION = 0.03  # level 2: 1,112 shots per circuit and noise factor
PLAIN_PRECISION = 0.005  # levels 0 and 1: 40,000 shots, a second or two each


@pytest.fixture(scope="module")
def levels(backend: VendorBackend) -> suppression.Levels:
    return suppression.resilience_levels(backend, seeds=[1], precision=PRECISION, levels=(2,))


@pytest.fixture(scope="module")
def plain_levels(backend: VendorBackend) -> suppression.Levels:
    return suppression.resilience_levels(
        backend, seeds=[1], precision=PLAIN_PRECISION, levels=(0, 1)
    )


@pytest.fixture(scope="module")
def readout_free() -> suppression.Levels:
    """Level 0 on a copy of the device whose readout is perfect (all else the same)."""
    spec = DeviceCatalog.from_directories().spec(suppression.DEVICE)
    with suppression.device(spec=suppression.COMPONENTS["readout errors"](spec)) as copy:
        return suppression.resilience_levels(
            copy, seeds=[1], precision=PLAIN_PRECISION, levels=(0,)
        )


def test_the_ising_circuit_has_four_layers_of_two_qubit_gates_on_the_chain(
    backend: VendorBackend,
) -> None:
    logical = suppression.ising()
    two_qubit_layers = sum(
        any(len(node.qargs) == 2 for node in layer["graph"].op_nodes())
        for layer in circuit_to_dag(logical).layers()
    )
    assert two_qubit_layers >= 4
    coupled = {tuple(sorted(pair)) for pair in backend.coupling_map.get_edges()}
    chain = suppression.CHAIN
    assert 13 not in chain
    assert all(tuple(sorted(pair)) in coupled for pair in itertools.pairwise(chain))


def test_mitigation_removes_the_bias_to_within_its_standard_error(
    levels: suppression.Levels,
    plain_levels: suppression.Levels,
    readout_free: suppression.Levels,
) -> None:
    # Each claim is asserted where the shots give it power at any seed, not at a lucky
    # one (the bounds were 3 standard errors of 1,112 shots, where the correlator's raw
    # bias, 0.059, is 2.8 of them: level 0 passed at one seed in three).
    for name, truth in levels.exact.items():
        # Level 0 is biased: 0.054 and 0.059 (docs/mitigation.md), 15 standard errors of
        # 40,000 shots (0.0036): asserted at 5.
        (raw,), (raw_std,) = plain_levels.evs[0][name], plain_levels.stds[0][name]
        assert truth - raw > 5 * raw_std, (name, raw, raw_std, truth)
        # Level 1 (TREX) removes the readout's part of it, not the gates': it agrees
        # with level 0 on the same device read out perfectly, within 4 standard errors
        # of the difference (its residual bias, the gates', is 0.031 for <Z̄>: 9
        # standard errors, so "within its error of the truth" held only at few shots).
        (trex,), (trex_std,) = plain_levels.evs[1][name], plain_levels.stds[1][name]
        (clean,), (clean_std,) = readout_free.evs[0][name], readout_free.stds[0][name]
        assert abs(trex - clean) < 4 * math.hypot(trex_std, clean_std), (name, trex, clean)
        # Level 2 (TREX and ZNE) is unbiased: within 3 returned standard errors (0.03 to
        # 0.045 here) of the truth; its residual errors, 0.006 and 0.014 over five seeds
        # of 10,000 shots, are under half of one.
        (value,), (std,) = levels.evs[2][name], levels.stds[2][name]
        assert abs(value - truth) < 3 * std, (name, value, std, truth)
    data = levels.sample.data
    assert data.evs_noise_factors.shape == (2, 3)
    assert data.evs_extrapolated.shape == (2, 2, 26)
    # The noise factors really add noise: from factor 1 to 5 the values fall by more
    # than 3 of their standard errors.
    drop = data.evs_noise_factors[:, 0] - data.evs_noise_factors[:, -1]
    spread = np.hypot(data.stds_noise_factors[:, 0], data.stds_noise_factors[:, -1])
    assert np.all(drop > 3 * spread), (drop, spread)


def test_the_zne_plot_is_written(levels: suppression.Levels, tmp_path: Path) -> None:
    path = tmp_path / "zne.png"
    suppression.draw_zne(levels.sample, 0, levels.exact["<Z̄>"], "test", path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_xy4_keeps_the_waiting_ghz_coherent(backend: VendorBackend) -> None:
    shots = 1000
    found = suppression.ghz_fidelities(backend, seeds=[1], shots=shots, wait=15e-6)
    plain, xy4 = found["fidelity", "none"][0], found["fidelity", "XY4"][0]
    sigma = math.sqrt((plain * (1 - plain) + xy4 * (1 - xy4)) / shots)
    assert xy4 - plain > 4 * sigma, (plain, xy4)


def test_gate_twirling_shrinks_the_bias_of_the_repeated_gate(backend: VendorBackend) -> None:
    precision = 0.02
    found = suppression.twirling_bias(backend, seeds=[1], precision=precision)
    off, on = found["off"][0], found["on"][0]
    # TREX divides by the readout's scale (about 0.95 here): errors a little over 1/sqrt(n).
    sigma = 1.5 * precision
    assert off - on > 2 * math.sqrt(2) * sigma, (off, on)


def test_randomizations_as_rows_are_fewer_bytes_than_copies(backend: VendorBackend) -> None:
    figures = suppression.rows_against_copies(backend, randomizations=32, repeat=1)
    assert figures["circuit"]["operations"] >= 100
    assert figures["rows"]["bytes"] < figures["copies"]["bytes"]


def test_each_component_copy_switches_off_only_its_own_noise() -> None:
    spec = DeviceCatalog.from_directories().spec(suppression.DEVICE)
    calibration = spec.calibration
    assert calibration is not None

    def copy(label: str) -> Calibration:
        changed = suppression.COMPONENTS[label](spec).calibration
        assert changed is not None
        return changed

    one = copy("1-qubit gate errors")
    assert all(not g.error for g in one.gates if len(g.qubits) == 1 and g.name != "reset")
    assert [g for g in one.gates if len(g.qubits) == 2] == [
        g for g in calibration.gates if len(g.qubits) == 2
    ]
    rotation = copy("ECR over-rotation (total error kept)")
    for before, after in zip(calibration.gates, rotation.gates, strict=True):
        assert after.error == before.error
        assert after.over_rotation == (0.0 if len(before.qubits) == 2 else before.over_rotation)
    assert copy("always-on ZZ").couplings == []
    assert all(q.readout_error == 0 for q in copy("readout errors").qubits)
    assert all(q.t2_star is None for q in copy("slow dephasing (T2*)").qubits)
    # Relaxation off keeps each qubit's slow detuning (its Lorentzian's width).
    relaxed = suppression.COMPONENTS["idle relaxation (T1, T2 of 1,000 s)"](spec)
    before, after = DeviceNoise(spec), DeviceNoise(relaxed)
    for qubit in range(spec.num_qubits):
        assert math.isclose(
            after.detuning_width(qubit), before.detuning_width(qubit), rel_tol=1e-9, abs_tol=1e-9
        )
    assert all(q.t1 == 1e3 for q in relaxed.calibration.qubits)  # type: ignore[union-attr]
    assert suppression.COMPONENTS["the device as it is"](spec) == spec
