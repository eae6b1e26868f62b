"""Resume after a crash: a job whose POST answer was lost is found, run exactly once, and read."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from qiskit import QuantumCircuit
from requests.adapters import HTTPAdapter

from qiskit_vendor_provider import VendorConnectionError, VendorProvider
from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider.api.client import RetryPolicy
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, EmulatorServer
from qiskit_vendor_provider.journal import SUBMITTING
from tests.conftest import MOCK_URL, MockedApi
from tests.helpers import bell


def jobs_in(emulator: Emulator) -> int:
    return int(emulator.store._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])  # type: ignore[attr-defined]


def test_resume_after_the_answer_to_the_post_was_lost(emulator: Emulator, tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = MockedApi(emulator, mock)
        before = jobs_in(emulator)
        api.lose_answers("POST", "/v1/jobs")
        crashed = VendorProvider(
            url=MOCK_URL, token="t-123456789", journal=journal, retry=RetryPolicy(max_attempts=1)
        )
        with pytest.raises(VendorConnectionError, match=r"provider\.resume\(\)"):
            crashed.get_backend("ideal_simulator").run(bell(), shots=500, seed_simulator=3)
        assert jobs_in(emulator) == before + 1  # the server has it
        [entry] = crashed.journal()
        assert (entry.job_id, entry.state) == (None, SUBMITTING)

        api.lose_answers(None)
        restarted = VendorProvider(url=MOCK_URL, token="t-123456789", journal=journal)
        [job] = restarted.resume()
        assert jobs_in(emulator) == before + 1  # exactly once
        counts = job.result().get_counts()
        assert sum(counts.values()) == 500 and set(counts) == {"00", "11"}
        assert restarted.journal()[0].job_id == job.job_id()
        assert restarted.journal()[0].state == "DONE"
        assert restarted.resume() == []
        assert len(api.calls("POST", "/v1/jobs")) == 2  # the lost one and the resumed one


class DropAnswerToPost(HTTPAdapter):
    """A real HTTP transport whose POST /v1/jobs reaches the server but whose answer is lost."""

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        response = super().send(request, *args, **kwargs)
        if request.method == "POST" and urlsplit(request.url or "").path.endswith("/v1/jobs"):
            raise requests.ConnectionError("the client died before reading the answer")
        return response


@pytest.mark.integration
def test_resume_over_real_http(tmp_path: Path) -> None:
    server = EmulatorServer(Emulator(EmulatorConfig(database=tmp_path / "server.sqlite3")))
    journal = tmp_path / "journal.sqlite3"
    with server:
        crashed = VendorProvider(
            url=server.url,
            journal=journal,
            transport=DropAnswerToPost(),
            retry=RetryPolicy(max_attempts=1),
        )
        for name in ("first", "second"):
            with pytest.raises(VendorConnectionError):
                crashed.get_backend("superconducting_27q").run(
                    _native_bell(), shots=300, seed_simulator=1, job_name=name
                )
        assert jobs_in(server.emulator) == 2
        assert [e.job_id for e in crashed.journal()] == [None, None]

        restarted = VendorProvider(url=server.url, journal=journal)
        jobs = restarted.resume()
        assert sorted(j.name() or "" for j in jobs) == ["first", "second"]
        assert jobs_in(server.emulator) == 2  # resumed, not resubmitted
        for job in jobs:
            counts = job.result(timeout=60).get_counts()
            assert sum(counts.values()) == 300
        listed: Mapping[str, str | None] = {
            j.job_id(): j.name() for j in restarted.jobs(limit=None)
        }
        assert sorted(listed.values()) == ["first", "second"]  # type: ignore[type-var]


def _native_bell() -> QuantumCircuit:
    circuit = QuantumCircuit(27, 2)
    circuit.rz(1.5707963267948966, 0)
    circuit.sx(0)
    circuit.ecr(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


def test_a_wait_outlives_a_server_outage(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not held at its submission: the job is waited for by the polls the outage meets.
    monkeypatch.setattr(job_module, "SUBMIT_WAIT_SECONDS", None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = MockedApi(emulator, mock)
        provider = VendorProvider(
            url=MOCK_URL,
            token="t-123456789",
            journal=False,
            retry=RetryPolicy(max_attempts=1),
            poll_interval=(0.001, 0.01),
        )
        job = provider.get_backend("ideal_simulator").run(bell(), shots=10)
        api.refuse("GET", "/v1/jobs/", times=5)  # the server restarts: five polls find nobody
        assert sum(job.result(timeout=30).get_counts().values()) == 10
        assert api._refusals["GET", "/v1/jobs/"] == 0
