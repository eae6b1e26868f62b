"""Attacks on copies: deep copies and pickles of backends and jobs, with and without a way
to find the credentials again. A pickle never holds the token."""

from __future__ import annotations

import copy
import pickle
import weakref
from pathlib import Path
from typing import Any

import pytest

from qiskit_vendor_provider import VendorAuthError, VendorProvider, references
from tests.conftest import MOCK_URL, MockedApi
from tests.helpers import bell

TOKEN = "copy-SECRET-1234567890"


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Unpickling as in another process: no live provider to find, clean credentials."""
    monkeypatch.setattr(references, "_live", weakref.WeakValueDictionary())
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)


def authorizations(api: MockedApi) -> set[str | None]:
    return {call.request.headers.get("Authorization") for call in api.calls()}


def test_deepcopy_of_a_backend_shares_the_client_and_runs(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    copied = copy.deepcopy(backend)
    assert copied is not backend
    assert copied._client is backend._client and copied.provider is backend.provider
    copied.set_options(shots=7)
    assert (backend.options.shots, copied.options.shots) == (1024, 7)
    assert copied.target is not backend.target
    assert copied.target.operation_names == backend.target.operation_names
    counts = copied.run(bell()).result().get_counts()
    assert sum(counts.values()) == 7


def test_deepcopy_of_a_job_shares_the_client(provider: VendorProvider, api: MockedApi) -> None:
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    copied = copy.deepcopy(job)
    assert copied._client is job._client
    assert copied.result().get_counts() == job.result().get_counts()


def test_pickles_in_the_same_process_find_their_provider(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    job = backend.run(bell(), shots=5)
    for thing in (provider, backend, job):
        data = pickle.dumps(thing)
        assert TOKEN.encode() not in data and b"unit-test-token" not in data
    assert pickle.loads(pickle.dumps(provider)) is provider
    assert pickle.loads(pickle.dumps(backend)) is backend
    restored = pickle.loads(pickle.dumps(job))
    assert restored.job_id() == job.job_id()
    assert sum(restored.result().get_counts().values()) == 5


def _pickled_job(api: MockedApi, **kwargs: Any) -> tuple[bytes, str]:
    provider = VendorProvider(url=MOCK_URL, journal=False, **kwargs)
    job = provider.get_backend("ideal_simulator").run(bell(), shots=5)
    data = pickle.dumps(job)
    assert TOKEN.encode() not in data
    references._live.clear()  # as if loaded in another process
    return data, job.job_id()


def test_unpickling_without_credentials_raises_the_documented_error(
    api: MockedApi, fresh_process: None
) -> None:
    data, _ = _pickled_job(api, token=TOKEN)
    before = len(api.calls())
    with pytest.raises(VendorAuthError) as failure:
        pickle.loads(data)
    message = str(failure.value)
    assert f"cannot restore a pickled object of {MOCK_URL}" in message
    assert "QISKIT_VENDOR_TOKEN" in message and "save_account" in message
    assert TOKEN not in message
    assert len(api.calls()) == before  # refused, not sent without a token


def test_unpickling_with_the_environment_for_that_url(
    api: MockedApi, fresh_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, job_id = _pickled_job(api, token=TOKEN)
    monkeypatch.setenv("QISKIT_VENDOR_URL", MOCK_URL)
    monkeypatch.setenv("QISKIT_VENDOR_TOKEN", TOKEN)
    start = len(api.calls())
    job = pickle.loads(data)
    assert job.job_id() == job_id and sum(job.result().get_counts().values()) == 5
    assert {c.request.headers.get("Authorization") for c in api.calls()[start:]} == {
        f"Bearer {TOKEN}"
    }


def test_unpickling_with_the_saved_account_it_came_from(
    api: MockedApi, fresh_process: None
) -> None:
    VendorProvider.save_account(token=TOKEN, url=MOCK_URL, name="lab")
    provider = VendorProvider(name="lab", journal=False)
    data = pickle.dumps(provider.get_backend("ideal_simulator"))
    assert TOKEN.encode() not in data
    references._live.clear()
    backend = pickle.loads(data)
    assert backend.name == "ideal_simulator"
    assert backend.provider.reference.account == "lab"


def test_an_account_saved_for_another_url_is_not_used_to_unpickle(
    api: MockedApi, fresh_process: None
) -> None:
    data, _ = _pickled_job(api, token=TOKEN)
    VendorProvider.save_account(token=TOKEN, url="https://elsewhere.vendor.test")
    with pytest.raises(VendorAuthError, match="cannot restore"):
        pickle.loads(data)


def test_a_provider_without_a_token_unpickles_without_one(
    api: MockedApi, fresh_process: None
) -> None:
    data, job_id = _pickled_job(api)
    job = pickle.loads(data)
    assert job.job_id() == job_id
    assert authorizations(api) == {None}


def test_qiskit_experiments_default_run_path_works() -> None:
    experiments = pytest.importorskip("qiskit_experiments.library")
    backend = VendorProvider(journal=False).get_backend("superconducting_27q")
    experiment = experiments.T1(physical_qubits=(0,), delays=[1e-6, 50e-6])
    experiment.set_run_options(shots=50)
    data = experiment.run(backend, seed_simulator=1).block_for_results(timeout=120)
    assert data.job_status().name == "DONE", data.errors()
    assert len(data.data()) == 2
