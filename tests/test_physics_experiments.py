"""T2*, T2, ZZ, two-qubit error and coherent error measured back with qiskit-experiments.

Through the SDK on the emulator, as a user would, with fixed seeds: each measured figure
agrees with the calibration within the bound :mod:`~qiskit_vendor_provider.
characterization_experiments` states (5σ of the fit; 10% for RB of a gate whose error
is partly coherent). The amplification sequence grows quadratically plain and linearly
twirled. ``python -m qiskit_vendor_provider.characterization`` runs more qubits and
pairs; these are the quick cases.
"""

from __future__ import annotations

import math

import pytest

from qiskit_vendor_provider import VendorProvider

pytest.importorskip("qiskit_experiments.library")

from qiskit_vendor_provider import characterization_experiments as ce

SC, ION = "superconducting_27q", "trapped_ion_11q"


@pytest.mark.parametrize(("device", "qubit"), [(SC, 0), (ION, 3)])
def test_t2_ramsey_measures_t2_star_and_t2_hahn_measures_t2(
    provider_session: VendorProvider, device: str, qubit: int
) -> None:
    backend = provider_session.get_backend(device)
    ramsey = ce.t2_ramsey(backend, qubit)
    hahn = ce.t2_hahn(backend, qubit)
    assert ramsey.agrees, ramsey
    assert hahn.agrees, hahn
    assert ramsey.std < 0.1 * ramsey.calibrated  # a real measurement, not a wide fit
    # And the two differ as the calibration says: the Ramsey is the faster decay.
    assert hahn.measured - ramsey.measured > 3 * math.hypot(hahn.std, ramsey.std)


def test_zz_ramsey_measures_the_calibrated_zz(provider_session: VendorProvider) -> None:
    measured = ce.zz_ramsey(provider_session.get_backend(SC), (0, 1))
    assert measured.agrees, measured
    assert measured.std < 0.05 * measured.calibrated


def test_interleaved_rb_measures_the_total_two_qubit_error(
    provider_session: VendorProvider,
) -> None:
    # The over-rotated ECR's total error (coherent + stochastic) is what RB sees.
    measured = ce.two_qubit_rb(provider_session.get_backend(SC), "ecr", (0, 1))
    assert measured.agrees, measured


@pytest.mark.parametrize(("device", "gate"), [(SC, "ecr"), (ION, "rxx")])
def test_amplification_grows_quadratically_plain_and_linearly_twirled(
    provider_session: VendorProvider, device: str, gate: str
) -> None:
    backend = provider_session.get_backend(device)
    properties = backend.properties()
    assert properties is not None
    theta = properties.over_rotation(gate, (0, 1))
    result = ce.amplify(backend, (0, 1), shots=4000)
    predicted = ce.predicted_plain(theta, result)
    for n, plain, expected in zip(result.repetitions, result.plain, predicted, strict=True):
        if n * theta <= 1.2:  # the model's regime (see predicted_plain)
            sigma = math.sqrt(max(plain * (1 - plain), 0.01) / result.shots)
            assert abs(plain - expected) <= 0.1 * expected + 5 * sigma, (n, plain, expected)
    # Twirling turns the coherent error stochastic: at N = 32 it flips far less.
    sigma = math.sqrt(0.5 / result.shots)
    assert result.plain[-1] - result.twirled[-1] > 5 * sigma, result
    coherent, stochastic = result.exponents(theta)
    assert coherent > 1.6 and stochastic < 1.4, (coherent, stochastic, result)
