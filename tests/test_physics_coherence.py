"""T1 and T2 measured on the emulator, as on a device, agree with the calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qiskit_vendor_provider import VendorProvider, characterization

CASES = [("superconducting_27q", [0, 2, 13]), ("trapped_ion_11q", [3, 7])]


@pytest.mark.parametrize(("device", "qubits"), CASES)
def test_measured_t1_and_t2_match_the_calibration(
    provider_session: VendorProvider, device: str, qubits: list[int]
) -> None:
    backend = provider_session.get_backend(device)
    properties = backend.properties()
    assert properties is not None
    for found in characterization.measure_coherence(backend, qubits, shots=4000, seed=21):
        t1 = properties.t1(found.qubit)
        t2 = min(properties.t2(found.qubit), 2 * t1)  # what relaxation can physically do
        assert found.t1.std < 0.1 * t1 and found.t2.std < 0.15 * t2  # a real measurement
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
