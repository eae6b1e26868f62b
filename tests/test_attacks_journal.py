"""Attacks on exactly-once and the per-account journal.

Two accounts share one journal; submissions are lost, refused and interrupted; stale
entries sit among good ones. Each case counts the jobs the server holds: one per
submission, never two, and never one made under another account's token.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from qiskit.providers import JobStatus
from requests.structures import CaseInsensitiveDict

from qiskit_vendor_provider import (
    DeviceUnavailableError,
    JobLimitError,
    VendorAuthError,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.api.client import RetryPolicy
from qiskit_vendor_provider.api.models import PROBLEM_DEVICE_UNAVAILABLE, PROBLEM_JOB_LIMIT
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.journal import FAILED, SUBMITTING, SQLiteJobJournal, is_final
from qiskit_vendor_provider.provider import EMBEDDED_URL
from tests.helpers import bell

ALICE = "alice-token-0123456789"
BOB = "bob-token-0123456789"
URL = "https://journal.vendor.test"
DEVICE = "ideal_simulator"


class Scripted(InProcessTransport):
    """The emulator in process, with faults on ``POST /v1/jobs`` scripted by the test."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(create_app(emulator))
        self.lose_answer = False  # the server makes the job; the answer never arrives
        self.down = False  # nothing reaches the server
        self.refusal: tuple[int, dict[str, Any]] | None = None
        self.interrupt_on_post: int | None = None  # Ctrl-C during the n-th POST
        self.posts = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        is_submission = request.method == "POST" and urlsplit(request.path_url).path == "/v1/jobs"
        if self.down:
            raise requests.ConnectionError("connection refused (injected)")
        if is_submission:
            self.posts += 1
            if self.interrupt_on_post == self.posts:
                raise KeyboardInterrupt
            if self.refusal is not None:
                return _problem(request, *self.refusal)
        response = super().send(request, *args, **kwargs)
        if is_submission and self.lose_answer:
            raise requests.ConnectionError("connection reset by peer (injected)")
        return response


def _problem(request: requests.PreparedRequest, status: int, body: dict[str, Any]) -> Any:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"status": status, **body}).encode()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/problem+json"})
    response.url = request.url or ""
    response.request = request
    return response


@pytest.fixture
def emulator(tmp_path: Path) -> Emulator:
    """Two accounts; not started, so jobs stay queued and every one can be counted."""
    tokens = {ALICE: "alice", BOB: "bob"}
    return Emulator(EmulatorConfig(database=tmp_path / "server.sqlite3", tokens=tokens))


@pytest.fixture
def transport(emulator: Emulator) -> Scripted:
    return Scripted(emulator)


def stored(emulator: Emulator) -> int:
    return int(emulator.store._conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])  # type: ignore[attr-defined]


def provider(transport: Scripted, journal: Path, token: str) -> VendorProvider:
    return VendorProvider(
        url=URL,
        token=token,
        transport=transport,
        journal=journal,
        retry=RetryPolicy(max_attempts=1),
        poll_interval=(0.005, 0.05),
    )


def lost_submission(transport: Scripted, journal: Path, token: str, name: str) -> None:
    transport.lose_answer = True
    with pytest.raises(VendorConnectionError, match=r"provider\.resume\(\)"):
        provider(transport, journal, token).get_backend(DEVICE).run(bell(), job_name=name)
    transport.lose_answer = False


def test_another_accounts_resume_never_touches_a_lost_submission(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    lost_submission(transport, journal, ALICE, "alice-job")
    assert stored(emulator) == 1
    posts = transport.posts

    bob = provider(transport, journal, BOB)
    assert bob.journal() == []
    report = bob.resume()
    assert report == [] and report.outcomes == []
    assert (stored(emulator), transport.posts) == (1, posts)  # nothing re-posted under B

    alice = provider(transport, journal, ALICE)
    report = alice.resume()
    assert [o.outcome for o in report.outcomes] == ["resumed"]
    [job] = report
    assert job.name() == "alice-job"
    assert stored(emulator) == 1  # exactly once, under alice's account
    with pytest.raises(VendorNotFoundError):
        bob.retrieve_job(job.job_id())
    again = alice.resume()
    assert [o.outcome for o in again.outcomes] == ["already there"]
    assert stored(emulator) == 1


def test_the_journal_keeps_fingerprints_never_tokens(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    lost_submission(transport, journal, ALICE, "a")
    lost_submission(transport, journal, BOB, "b")
    alice, bob = provider(transport, journal, ALICE), provider(transport, journal, BOB)
    assert alice.journal_scope[1] != bob.journal_scope[1]
    assert provider(transport, journal, ALICE).journal_scope == alice.journal_scope
    other = provider(transport, tmp_path / "other.sqlite3", ALICE)
    assert other.journal_scope[1] != alice.journal_scope[1]  # a key per journal
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))
    assert raw and ALICE.encode() not in raw and BOB.encode() not in raw
    assert [e.name for e in alice.journal()] == ["a"]
    assert [e.name for e in bob.journal()] == ["b"]


REFUSALS = [
    pytest.param(
        (422, {"title": "Invalid Job", "detail": "program 0: bad"}),
        VendorValidationError,
        id="422 validation",
    ),
    pytest.param((401, {"title": "Unauthorized"}), VendorAuthError, id="401 auth"),
    pytest.param(
        (429, {"title": "Job Limit", "type": PROBLEM_JOB_LIMIT, "detail": "3 of 3 active"}),
        JobLimitError,
        id="429 job limit",
    ),
    pytest.param(
        (409, {"title": "Device Unavailable", "type": PROBLEM_DEVICE_UNAVAILABLE}),
        DeviceUnavailableError,
        id="409 device unavailable",
    ),
]


@pytest.mark.parametrize(("refusal", "error"), REFUSALS)
def test_a_refused_submission_ends_failed_and_is_never_posted_again(
    emulator: Emulator,
    transport: Scripted,
    tmp_path: Path,
    refusal: tuple[int, dict[str, Any]],
    error: type[VendorError],
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    backend = user.get_backend(DEVICE)
    transport.refusal = refusal
    with pytest.raises(error):
        backend.run(bell(), job_name="refused")
    [entry] = user.journal()
    assert entry.state == FAILED and entry.finished
    assert entry.error is not None and str(refusal[0]) in entry.error
    transport.refusal = None
    posts = transport.posts
    report = provider(transport, journal, ALICE).resume()
    assert report.outcomes == []
    assert (transport.posts, stored(emulator)) == (posts, 0)


@pytest.mark.parametrize(("refusal", "error"), REFUSALS)
def test_a_lost_submission_refused_on_resume_fails_once_and_for_all(
    emulator: Emulator,
    transport: Scripted,
    tmp_path: Path,
    refusal: tuple[int, dict[str, Any]],
    error: type[VendorError],
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    backend = user.get_backend(DEVICE)
    transport.down = True
    with pytest.raises(VendorConnectionError):
        backend.run(bell(), job_name="never arrived")
    transport.down = False
    transport.refusal = refusal
    report = user.resume()
    [outcome] = report.outcomes
    assert outcome.outcome == "failed" and outcome.reason and str(refusal[0]) in outcome.reason
    assert report == [] and report.failed == [outcome]
    transport.refusal = None
    posts = transport.posts
    assert user.resume().outcomes == []
    assert user.journal()[0].state == FAILED
    assert (transport.posts, stored(emulator)) == (posts, 0)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((429, {"title": "Too Many Requests"}), id="429 rate limit"),
        pytest.param((503, {"title": "Unavailable"}), id="503"),
        pytest.param((408, {"title": "Request Timeout"}), id="408"),
    ],
)
def test_a_transient_answer_keeps_the_submission_for_resume(
    emulator: Emulator, transport: Scripted, tmp_path: Path, answer: tuple[int, dict[str, Any]]
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    backend = user.get_backend(DEVICE)
    transport.refusal = answer
    with pytest.raises(VendorError):
        backend.run(bell(), job_name="later")
    assert user.journal()[0].state == SUBMITTING
    transport.refusal = None
    assert [o.outcome for o in user.resume().outcomes] == ["resumed"]
    assert stored(emulator) == 1


def test_one_bad_entry_does_not_stop_the_others(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    backend = user.get_backend(DEVICE)
    transport.down = True
    for name in ("first", "second"):
        with pytest.raises(VendorConnectionError):
            backend.run(bell(), job_name=name)
    transport.down = False
    store = user.journal_store
    assert store is not None
    server, account = user.journal_scope
    # A stale entry: a payload the server refuses, between the two good ones.
    store.record_submission(
        key="stale-key-0001",
        server=server,
        account=account,
        device=DEVICE,
        name="stale",
        tags=[],
        payload='{"device": "ideal_simulator", "programs": []}',
    )
    # An entry whose job the server does not know.
    store.record_submission(
        key="ghost-key-0001",
        server=server,
        account=account,
        device=DEVICE,
        name="ghost",
        tags=[],
        payload="{}",
    )
    store.record_job("ghost-key-0001", "0" * 32, "QUEUED")
    report = user.resume()
    outcomes = {o.name: o.outcome for o in report.outcomes}
    assert outcomes == {
        "first": "resumed",
        "second": "resumed",
        "stale": "failed",
        "ghost": "failed",
    }
    assert sorted(j.name() or "" for j in report) == ["first", "second"]
    assert stored(emulator) == 2
    again = user.resume()
    assert sorted(o.outcome for o in again.outcomes) == ["already there", "already there"]
    assert stored(emulator) == 2


def test_an_unreachable_server_leaves_entries_for_the_next_resume(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    lost_submission(transport, journal, ALICE, "kept")
    user = provider(transport, journal, ALICE)
    transport.down = True
    report = user.resume()
    assert [o.outcome for o in report.outcomes] == ["unreachable"]
    assert user.journal()[0].state == SUBMITTING
    transport.down = False
    assert [o.outcome for o in user.resume().outcomes] == ["resumed"]
    assert stored(emulator) == 1


def test_ctrl_c_mid_resume_loses_and_duplicates_nothing(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    backend = user.get_backend(DEVICE)
    transport.down = True
    for name in ("one", "two", "three"):
        with pytest.raises(VendorConnectionError):
            backend.run(bell(), job_name=name)
    transport.down = False
    transport.interrupt_on_post = transport.posts + 2
    with pytest.raises(KeyboardInterrupt):
        user.resume()
    states = sorted(e.state for e in user.journal())
    assert states == ["QUEUED", SUBMITTING, SUBMITTING]
    transport.interrupt_on_post = None
    report = user.resume()
    assert sorted(o.outcome for o in report.outcomes) == ["already there", "resumed", "resumed"]
    assert stored(emulator) == 3


@pytest.mark.parametrize(
    ("state", "final"),
    [
        ("DONE", True),
        ("done", True),
        ("ERROR", True),
        ("FAILED", True),
        ("failed", True),
        ("CANCELLED", True),
        ("QUEUED", False),
        ("RUNNING", False),
        (SUBMITTING, False),
        ("COMPILING", False),  # unknown to this client: still in progress
    ],
)
def test_one_status_mapping_decides_what_is_final(state: str, final: bool) -> None:
    from qiskit_vendor_provider.job import FINAL, job_status

    assert is_final(state) is final
    if state != SUBMITTING:
        assert (job_status(state) in FINAL) is final


def test_each_embedded_database_has_its_own_journal_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    scopes = []
    for name in ("a.sqlite3", "b.sqlite3"):
        monkeypatch.setenv("QISKIT_VENDOR_EMULATOR_DB", str(tmp_path / name))
        embedded = VendorProvider(
            url=EMBEDDED_URL,
            transport=InProcessTransport(create_app(emulator)),
            journal=tmp_path / "journal.sqlite3",
        )
        scopes.append(embedded.journal_scope)
        assert str(tmp_path / name) in embedded.journal_scope[0]
    assert scopes[0] != scopes[1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_files_holding_jobs_are_private(tmp_path: Path) -> None:
    os.umask(0o022)
    journal_path = tmp_path / "new-dir" / "journal.sqlite3"
    journal = SQLiteJobJournal(journal_path)
    journal.record_submission(
        key="k", server=URL, account="x", device=DEVICE, name=None, tags=[], payload="{}"
    )
    store_path = tmp_path / "store-dir" / "jobs.sqlite3"
    Emulator(EmulatorConfig(database=store_path))
    for path in (journal_path, store_path):
        assert _mode(path.parent) == 0o700
        for companion in path.parent.iterdir():
            assert _mode(companion) == 0o600, companion
    # A database an older version left world-readable is made private when opened.
    old = tmp_path / "old" / "journal.sqlite3"
    old.parent.mkdir()
    old.touch(mode=0o644)
    os.chmod(old, 0o644)
    SQLiteJobJournal(old)
    assert _mode(old) == 0o600


def test_a_job_refreshed_to_a_final_state_is_finished_in_the_journal(
    emulator: Emulator, transport: Scripted, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    user = provider(transport, journal, ALICE)
    job = user.get_backend(DEVICE).run(bell(), job_name="to cancel")
    assert job.cancel()
    assert job.status() is JobStatus.CANCELLED
    assert user.journal()[0].finished
    assert user.resume().outcomes == []
