"""T1 and T2 measured on the emulator, as on a device, agree with the calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qiskit_vendor_provider import VendorProvider, characterization

# Shots per wait: enough that every qubit's fit is precise at any seed. A fit's standard
# error shrinks as 1 / sqrt(shots). Qubit 13 of the superconducting device (T2 of 7 us,
# the worst readout) gave at 4,000 shots a T2 error of 9% to 17% of T2 over seeds 21 to
# 28 (at so few counts the fit's own error scatters by a quarter), so the bound of 15%
# held at some seeds only; at 16,000 it is 5.6% to 7.1% over seeds 21 to 26, under half
# the bound (T1: 2.6% to 2.9% against 10%). The ion device's qubits (its jobs take at
# most 10,000 shots) give 3.5% to 4.1% (T2) and 1.7% (T1) at 4,000 shots.
CASES = [("superconducting_27q", [0, 2, 13], 16_000), ("trapped_ion_11q", [3, 7], 4000)]


@pytest.mark.parametrize(("device", "qubits", "shots"), CASES)
def test_measured_t1_and_t2_match_the_calibration(
    provider_session: VendorProvider, device: str, qubits: list[int], shots: int
) -> None:
    backend = provider_session.get_backend(device)
    properties = backend.properties()
    assert properties is not None
    for found in characterization.measure_coherence(backend, qubits, shots=shots, seed=21):
        t1 = properties.t1(found.qubit)
        t2 = min(properties.t2(found.qubit), 2 * t1)  # what relaxation can physically do
        # A real measurement: each 5-sigma band below is narrower than the figure itself.
        assert found.t1.std < 0.1 * t1 and found.t2.std < 0.15 * t2
        assert abs(found.t1.value - t1) < 5 * found.t1.std, (found, t1)
        assert abs(found.t2.value - t2) < 5 * found.t2.std, (found, t2)


def test_the_fit_error_covers_the_truth_on_simulated_data() -> None:
    rng = np.random.default_rng(4)
    times = np.linspace(0, 300e-6, 10)
    shots, tau = 1000, 100e-6
    pulls = []
    for _ in range(40):
        p = 0.02 + 0.95 * np.exp(-times / tau)
        measured = rng.binomial(shots, p) / shots
        fit = characterization.fit_decay(times, measured, shots)
        pulls.append((fit.value - tau) / fit.std)
    assert max(abs(x) for x in pulls) < 5
    # The 1σ error is about right: pulls spread with a standard deviation near 1.
    assert 0.5 < float(np.std(pulls)) < 1.6
    assert math.isfinite(characterization.fit_decay([0, 1], [0.5, 0.5], 100).value)
