"""Third-party Qiskit tools run against the devices and find what the calibration says.

qiskit-experiments (``StandardRB``, ``LocalReadoutError``, ``T1``) on
``superconducting_27q``'s bad qubit 13, whose large errors and short T1 are measured
well with few shots, through ``backend_run=True`` and the default (sampler) path; and a
qiskit-algorithms VQE with ``VendorEstimator`` on ``ideal_simulator``. Installed with
the ``[ecosystem]`` extra (``make test`` does); skipped without it.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp, Statevector

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator

experiments = pytest.importorskip("qiskit_experiments.library")

NOISY = "superconducting_27q"
QUBIT = 13  # the calibrated-bad qubit: sx error 0.025, readout 0.28, T1 9 us


def run_experiment(experiment: Any, backend: Any, backend_run: bool) -> Any:
    """Run and wait, checking that the jobs reached the emulator (not a local simulator).

    The default path takes qiskit-ibm-runtime's SamplerV2 when that is installed, which
    warns that it is deprecated and runs ``BackendSamplerV2`` on the backend.
    """
    provider = backend.provider
    before = len(provider.jobs(limit=None, backend_name=backend.name))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The SamplerV2 class is deprecated", DeprecationWarning)
        data = experiment.run(backend, backend_run=backend_run, seed_simulator=11)
        data.block_for_results()
    assert data.status().name == "DONE", data.errors()
    assert len(provider.jobs(limit=None, backend_name=backend.name)) > before
    return data


def fitted(data: Any, name: str) -> tuple[float, float]:
    value = data.analysis_results(name, dataframe=True).iloc[0]["value"]
    return float(value.nominal_value), float(value.std_dev)


@pytest.mark.parametrize("backend_run", [True, False], ids=["backend_run", "sampler"])
def test_t1_fit_matches_the_calibration(
    provider_session: VendorProvider, backend_run: bool
) -> None:
    backend = provider_session.get_backend(NOISY)
    calibrated = backend.target.qubit_properties[QUBIT].t1
    experiment = experiments.T1([QUBIT], delays=np.linspace(0, 5 * calibrated, 12), backend=backend)
    experiment.set_run_options(shots=400)
    t1, error = fitted(run_experiment(experiment, backend, backend_run), "T1")
    # 4 sigma of the fit, plus 5% for the model: idle noise is the calibrated T1 exactly,
    # readout error (symmetric here) only rescales the curve.
    assert abs(t1 - calibrated) <= 4 * error + 0.05 * calibrated, (t1, error, calibrated)


@pytest.mark.parametrize("backend_run", [True, False], ids=["backend_run", "sampler"])
def test_local_readout_error_matches_the_calibration(
    provider_session: VendorProvider, backend_run: bool
) -> None:
    backend = provider_session.get_backend(NOISY)
    shots = 4000
    experiment = experiments.LocalReadoutError([0, QUBIT], backend=backend)
    experiment.set_run_options(shots=shots)
    data = run_experiment(experiment, backend, backend_run)
    mitigator = data.analysis_results("Local Readout Mitigator", dataframe=True).iloc[0]["value"]
    for qubit in (0, QUBIT):
        matrix = mitigator.assignment_matrix(qubit)  # columns: prepared 0, prepared 1
        calibrated = backend.target["measure"][(qubit,)].error
        for measured in (matrix[1, 0], matrix[0, 1]):
            # Binomial: 5 sigma at the calibrated rate; P(0|1) may also include decay
            # during the x gate (36 ns, against T1 >= 9 us: under 0.4%).
            sigma = math.sqrt(calibrated * (1 - calibrated) / shots)
            assert abs(measured - calibrated) <= 5 * sigma + 0.004, (qubit, matrix)


@pytest.mark.parametrize("backend_run", [True, False], ids=["backend_run", "sampler"])
def test_standard_rb_epg_matches_the_calibration(
    provider_session: VendorProvider, backend_run: bool
) -> None:
    backend = provider_session.get_backend(NOISY)
    experiment = experiments.StandardRB(
        [QUBIT], lengths=[1, 10, 25, 50, 80], num_samples=3, seed=3, backend=backend
    )
    experiment.set_run_options(shots=200)
    epg, error = fitted(run_experiment(experiment, backend, backend_run), "EPG_sx")
    calibrated = backend.target["sx"][(QUBIT,)].error
    # The fit's error is the tolerance (4 sigma), with 10% for RB's own approximations.
    assert abs(epg - calibrated) <= 4 * error + 0.1 * calibrated, (epg, error, calibrated)


def test_vqe_with_the_vendor_estimator_finds_the_ground_state_energy(
    provider_session: VendorProvider,
) -> None:
    algorithms = pytest.importorskip("qiskit_algorithms")
    optimizers = pytest.importorskip("qiskit_algorithms.optimizers")
    backend = provider_session.get_backend("ideal_simulator")
    hamiltonian = SparsePauliOp.from_list([("ZZ", 1.0), ("XI", 0.5), ("IX", 0.5), ("YY", 0.3)])
    exact = float(np.linalg.eigvalsh(hamiltonian.to_matrix()).min())
    precision = 0.01
    estimator = VendorEstimator(
        backend=backend, options={"default_precision": precision, "seed_simulator": 3}
    )
    ansatz = efficient_su2(2, reps=1)
    vqe = algorithms.VQE(
        estimator,
        ansatz,
        optimizers.COBYLA(maxiter=60),
        initial_point=np.full(ansatz.num_parameters, 0.1),
    )
    result = vqe.compute_minimum_eigenvalue(hamiltonian)
    # Each term is estimated to `precision`; the energy sums them with the coefficients.
    tolerance = 3 * precision * float(np.abs(hamiltonian.coeffs).sum())
    assert abs(result.eigenvalue.real - exact) <= tolerance, (result.eigenvalue, exact)
    # And the parameters found are right, not only a lucky estimate: exact energy there.
    state = Statevector(ansatz.assign_parameters(result.optimal_point))
    assert abs(state.expectation_value(hamiltonian).real - exact) <= tolerance
