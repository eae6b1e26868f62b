"""Accounts in the emulator: each token sees only its own jobs; bad tokens get a bare 401."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qiskit import QuantumCircuit

from qiskit_vendor_provider import VendorAuthError, VendorNotFoundError, VendorProvider
from qiskit_vendor_provider.api.models import JobQuery, JobSubmission
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.waiting import Watches

ALICE = "alice-token-0123456789"
BOB = "bob-token-9876543210"
TOKENS = {ALICE: "alice", BOB: "bob"}
URL = "https://accounts.vendor.test"


def bell(name: str = "bell") -> QuantumCircuit:
    circuit = QuantumCircuit(2, 2, name=name)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure([0, 1], [0, 1])
    return circuit


@pytest.fixture
def paused(tmp_path: Path) -> Emulator:
    """Two accounts; the worker does not run, so jobs stay queued (and cancellable)."""
    return Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS))


def provider(emulator: Emulator, token: str) -> VendorProvider:
    return VendorProvider(
        url=URL, token=token, transport=InProcessTransport(create_app(emulator)), journal=False
    )


def stored(emulator: Emulator) -> int:
    return int(emulator.store._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])  # type: ignore[attr-defined]


def every_listing(client: Any) -> Iterator[list[str]]:
    """The job ids of the account's listing under every filter a user may use."""
    for query in [
        JobQuery(),
        JobQuery(order="asc", limit=1),
        JobQuery(device="ideal_simulator"),
        JobQuery(status=["QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"]),
        JobQuery(name=".*"),
        JobQuery(name="^alice"),
        JobQuery(tags=["shared", "alice"], tags_operator="OR"),
    ]:
        ids: list[str] = []
        page = client.list_jobs(query)
        while True:
            ids.extend(job.job_id for job in page.jobs)
            if page.next_offset is None:
                break
            page = client.list_jobs(query.model_copy(update={"offset": page.next_offset}))
        yield ids


def test_each_account_sees_only_its_own_jobs(paused: Emulator) -> None:
    alice, bob = provider(paused, ALICE), provider(paused, BOB)
    mine = [
        alice.get_backend("ideal_simulator").run(
            bell(), shots=10, job_name=f"alice-{i}", job_tags=["shared", "alice"]
        )
        for i in range(3)
    ]
    theirs = bob.get_backend("ideal_simulator").run(
        bell(), shots=10, job_name="bob-0", job_tags=["shared"]
    )
    alice_ids = {job.job_id() for job in mine}

    for job_id in alice_ids:
        with pytest.raises(VendorNotFoundError):
            bob.client.get_job(job_id)
        with pytest.raises(VendorNotFoundError):
            bob.client.get_result(job_id)
        with pytest.raises(VendorNotFoundError):
            bob.client.cancel_job(job_id)  # refused: the job stays as it was
        assert alice.client.get_job(job_id).status == "QUEUED"
        with pytest.raises(VendorNotFoundError):
            bob.retrieve_job(job_id)
    for ids in every_listing(bob.client):
        assert set(ids) <= {theirs.job_id()}
        assert not alice_ids & set(ids)
    assert [job.job_id() for job in bob.jobs(limit=None)] == [theirs.job_id()]
    assert {job.job_id() for job in alice.jobs(limit=None)} == alice_ids
    assert bob.client.get_account().active_jobs == 1
    assert alice.client.get_account().active_jobs == 3
    # Alice's own cancel still works.
    assert alice.client.cancel_job(mine[0].job_id()).status == "CANCELLED"


def test_another_accounts_job_looks_exactly_like_no_job(paused: Emulator) -> None:
    # No oracle: a 404 for a job that exists under another account must not differ from
    # the 404 of an id that was never issued.
    job = provider(paused, ALICE).get_backend("ideal_simulator").run(bell(), shots=10)
    app = create_app(paused)
    never = "f" * 32
    # With long polls too: another account's job is not waited for (no timing oracle).
    routes = [("GET", ""), ("GET", "?wait=5"), ("GET", "/result"), ("GET", "/result?wait=5")]
    watches = Watches(paused)  # counts the requests the server holds
    for method, suffix in [*routes, ("POST", "/cancel")]:
        answers = []
        for job_id in (job.job_id(), never):
            status, headers, body = dispatch(
                app,
                method,
                f"http://e.test/v1/jobs/{job_id}{suffix}",
                {"authorization": f"Bearer {BOB}"},
                b"",
            )
            problem = json.loads(body)
            problem["detail"] = problem["detail"].replace(job_id, "<id>")
            problem.pop("request_id")
            names = sorted(name for name, _ in headers if name.lower() != "x-request-id")
            answers.append((status, names, problem))
        assert answers[0] == answers[1]
        assert answers[0][0] == 404
    assert watches.count == 0  # refused before any wait: none of the requests was held
    # The same long poll by the job's owner is held (the count above can move).
    status, _, _ = dispatch(
        app,
        "GET",
        f"http://e.test/v1/jobs/{job.job_id()}?wait=0.05",
        {"authorization": f"Bearer {ALICE}"},
        b"",
    )
    assert (status, watches.count) == (200, 1)


def test_idempotency_keys_belong_to_their_account(paused: Emulator) -> None:
    body = JobSubmission(
        device="ideal_simulator", programs=[circuit_to_wire(bell())], shots=5
    ).model_dump_json()
    app = create_app(paused)

    def post(token: str) -> tuple[int, str]:
        status, _, content = dispatch(
            app,
            "POST",
            "http://e.test/v1/jobs",
            {
                "authorization": f"Bearer {token}",
                "content-type": "application/json",
                "idempotency-key": "same-key",
            },
            body.encode(),
        )
        return status, json.loads(content)["job_id"]

    alice_first, bob_first, alice_again = post(ALICE), post(BOB), post(ALICE)
    assert (alice_first[0], bob_first[0], alice_again[0]) == (201, 201, 200)
    assert alice_first[1] == alice_again[1] != bob_first[1]  # Bob never gets Alice's job
    assert stored(paused) == 2


BAD_AUTHORIZATIONS = {
    "none": None,
    "empty": "",
    "scheme only": "Bearer",
    "scheme and blank": "Bearer    ",
    "unknown token": "Bearer not-a-token",
    "prefix of a token": f"Bearer {ALICE[:-1]}",
    "token plus a character": f"Bearer {ALICE}0",
    "token in upper case": f"Bearer {ALICE.upper()}",
    "two tokens": f"Bearer {ALICE} {BOB}",
    "basic scheme": "Basic " + base64.b64encode(f"alice:{ALICE}".encode()).decode(),
    "token without scheme": ALICE,
    "account name": "Bearer alice",
}

VALID_JOB = JobSubmission(
    device="ideal_simulator", programs=[circuit_to_wire(bell())], shots=5
).model_dump_json()
ROUTES = [
    ("GET", "/v1/devices", b""),
    ("GET", "/v1/devices/ideal_simulator", b""),
    ("GET", "/v1/devices/nope", b""),
    ("GET", "/v1/devices/superconducting_27q/status", b""),
    ("GET", "/v1/devices/superconducting_27q/calibration", b""),
    ("GET", "/v1/devices/superconducting_27q/reservations", b""),
    ("GET", "/v1/account", b""),
    ("GET", "/v1/jobs", b""),
    ("GET", "/v1/jobs?colour=blue", b""),
    ("GET", f"/v1/jobs/{'0' * 32}", b""),
    ("GET", "/v1/jobs/not-an-id/result", b""),
    ("POST", f"/v1/jobs/{'0' * 32}/cancel", b""),
    ("POST", "/v1/jobs", VALID_JOB.encode()),
    ("POST", "/v1/jobs", b"{not json"),
    ("POST", "/v1/jobs", b"x" * 2_000_000),  # over the size limit below
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
def test_requests_without_a_valid_token_get_a_bare_401(
    tmp_path: Path, authorization: str | None
) -> None:
    emulator = Emulator(
        EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS, max_body_bytes=1_000_000)
    )
    app = create_app(emulator)
    problems = set()
    for method, path, body in ROUTES:
        headers = {"content-type": "application/json"}
        if authorization is not None:
            headers["authorization"] = authorization
        status, answer_headers, content = dispatch(
            app, method, f"http://e.test{path}", headers, body
        )
        assert status == 401, (method, path, content[:200])
        named = {name.lower(): value for name, value in answer_headers}
        assert named["content-type"] == "application/problem+json"
        assert named["www-authenticate"] == 'Bearer realm="vendor"'
        text = content.decode()
        for secret in (*TOKENS, *TOKENS.values()):
            assert secret not in text
        problem = json.loads(content)
        problem.pop("request_id")
        problems.add(json.dumps(problem, sort_keys=True))
    assert len(problems) == 1  # the same answer, whatever was asked and however it failed
    assert stored(emulator) == 0


def test_a_provider_with_a_wrong_token_gets_a_typed_error_that_names_no_token(
    paused: Emulator,
) -> None:
    wrong = provider(paused, "wrong-token-000000")
    with pytest.raises(VendorAuthError) as raised:
        wrong.get_backend("ideal_simulator")
    assert raised.value.status_code == 401
    for secret in (*TOKENS, *TOKENS.values(), "wrong-token-000000"):
        assert secret not in str(raised.value)


def test_without_tokens_configured_everyone_shares_one_account(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3"))
    one = VendorProvider(transport=InProcessTransport(create_app(emulator)), journal=False)
    job = one.get_backend("ideal_simulator").run(bell(), shots=5)
    other = VendorProvider(
        url=URL, token="anything", transport=InProcessTransport(create_app(emulator)), journal=False
    )
    assert other.client.get_job(job.job_id()).job_id == job.job_id()


@pytest.mark.integration
def test_accounts_over_real_http(tmp_path: Path) -> None:
    config = EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS, poll_interval=0.05)
    with EmulatorServer(Emulator(config)) as server:
        alice = VendorProvider(url=server.url, token=ALICE, journal=False)
        bob = VendorProvider(url=server.url, token=BOB, journal=False)
        job = alice.get_backend("ideal_simulator").run(bell(), shots=100, seed_simulator=1)
        assert sum(job.result(timeout=60).get_counts().values()) == 100
        with pytest.raises(VendorNotFoundError):
            bob.client.get_result(job.job_id())
        assert bob.jobs(limit=None) == []
        answer = requests.get(f"{server.url}/v1/jobs/{job.job_id()}", timeout=10)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="vendor"'
