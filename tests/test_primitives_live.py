"""The primitives over real HTTP: a uvicorn emulator on 127.0.0.1."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.emulator import EmulatorServer
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler

pytestmark = pytest.mark.integration


def test_sampler_and_estimator_sweeps_over_real_http(live_server: EmulatorServer) -> None:
    provider = VendorProvider(url=live_server.url, poll_interval=(0.01, 0.1))
    backend = provider.get_backend("superconducting_27q")
    # A device limit below the PUB's shots: the run splits over jobs over real HTTP too.
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_shots": 500})}
    )
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    circuit.measure_all()
    angles = np.array([[0.0], [math.pi]])
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 3, "job_tags": ["live"]})
    bits = sampler.run([(circuit, angles)], shots=1200).result()[0].data.meas
    assert bits.shape == (2,)
    assert bits.num_shots == 1200
    assert bits[0].get_counts().get("0", 0) > 1100  # noisy device: mostly, not always
    assert bits[1].get_counts().get("1", 0) > 1100

    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 3})
    assert estimator.options.default_precision == pytest.approx(500**-0.5)
    unmeasured = circuit.remove_final_measurements(inplace=False)
    evs = estimator.run([(unmeasured, SparsePauliOp("Z"), angles)]).result()[0].data.evs
    assert evs[0] > 0.8
    assert evs[1] < -0.8
