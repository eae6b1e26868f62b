"""What a primitive's result says about its jobs: their vendor ids, to find them again."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from tests.conftest import MOCK_TOKEN, MOCK_URL, MockedApi
from tests.helpers import bell


def posted_ids(api: MockedApi, before: int) -> list[str]:
    """Job ids the server gave the submissions after the first ``before``."""
    return [call.response.json()["job_id"] for call in api.calls("POST", "/v1/jobs")[before:]]


def test_sampler_results_name_their_jobs_and_a_fresh_provider_finds_them(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    theta = Parameter("theta")
    swept = QuantumCircuit(1, 1, name="swept")
    swept.rx(theta, 0)
    swept.measure(0, 0)
    before = len(api.calls("POST", "/v1/jobs"))
    sampler = VendorSampler(backend=backend, options={"seed_simulator": 3})
    # Two shot counts make two jobs (a job has one shot count).
    result = sampler.run([(bell(), None, 40), (swept, [[0.0], [np.pi]], 30)]).result()
    ids = posted_ids(api, before)
    assert len(ids) == 2
    assert result.metadata["job_ids"] == ids
    assert result.metadata["version"] == 2
    assert [pub.metadata["job_ids"] for pub in result] == [[ids[0]], [ids[1]]]
    # Another process knows nothing but the id: a provider of its own finds the job,
    # and the job's own result holds the same samples as the PUB's.
    fresh = VendorProvider(url=MOCK_URL, token=MOCK_TOKEN)
    job = fresh.retrieve_job(result[0].metadata["job_ids"][0])
    assert job.backend().name == "ideal_simulator"
    assert job.result().get_counts() == result[0].data.c.get_counts()
    swept_job = fresh.retrieve_job(result[1].metadata["job_ids"][0])
    assert swept_job.result().get_counts() == [{"0": 30}, {"1": 30}]


def test_estimator_results_name_their_jobs_per_pub(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    backend._spec = backend.spec.model_copy(
        update={"limits": backend.limits.model_copy(update={"max_circuits": 1})}
    )
    circuit = QuantumCircuit(2)
    circuit.h(0)
    circuit.cx(0, 1)
    before = len(api.calls("POST", "/v1/jobs"))
    estimator = VendorEstimator(backend=backend, options={"seed_simulator": 3})
    # One circuit per job: ZZ and XX are two bases, two jobs; the identity needs none.
    pubs = [(circuit, SparsePauliOp(["ZZ", "XX"])), (circuit, SparsePauliOp("II"))]
    result = estimator.run(pubs, precision=0.1).result()
    ids = posted_ids(api, before)
    assert len(ids) == 2
    assert result.metadata["job_ids"] == ids
    assert result[0].metadata["job_ids"] == ids
    assert result[1].metadata["job_ids"] == []
    fresh = VendorProvider(url=MOCK_URL, token=MOCK_TOKEN)
    assert sorted(job.job_id() for job in fresh.jobs(limit=10) if job.job_id() in ids) == sorted(
        ids
    )
    shots = result[0].metadata["shots"]
    assert [sum(fresh.retrieve_job(i).result().get_counts().values()) for i in ids] == [
        shots,
        shots,
    ]
