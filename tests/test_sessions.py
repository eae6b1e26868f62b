"""Execution modes: sessions and batches, from the scheduler up to the primitives.

The scheduling tests drive the store's ``claim_next`` by hand on an emulator whose
supervisor is not running, so the order they check is the scheduler's, not a race's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from qiskit import QuantumCircuit
from qiskit.providers import JobStatus
from qiskit.quantum_info import SparsePauliOp

from qiskit_vendor_provider import (
    Batch,
    Session,
    SessionClosedError,
    SessionDeviceError,
    VendorConnectionError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.api.client import RetryPolicy
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.job import VendorJob
from qiskit_vendor_provider.primitives import VendorEstimator, VendorSampler
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.helpers import bell
from tests.waiting import NEVER

URL = "https://sessions.vendor.test"
DEVICE = "ideal_simulator"
OTHER_DEVICE = "trapped_ion_11q"
TOKENS = {"alice-token-0123456789": "alice", "bob-token-0123456789": "bob"}
ALICE, BOB = list(TOKENS)


class Counting(InProcessTransport):
    """The emulator in process, counting job submissions; it can lose their answers."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(create_app(emulator))
        self.job_posts = 0
        self.lose_answer = False  # the server makes the job; the answer never arrives
        self.down = False  # submissions never reach the server

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        is_submission = request.method == "POST" and urlsplit(request.path_url).path == "/v1/jobs"
        self.job_posts += is_submission
        if is_submission and self.down:
            raise requests.ConnectionError("connection refused (injected)")
        response = super().send(request, *args, **kwargs)
        if is_submission and self.lose_answer:
            raise requests.ConnectionError("connection reset by peer (injected)")
        return response


@pytest.fixture
def paused(tmp_path: Path) -> Emulator:
    """Two accounts; the supervisor does not run, so the tests claim jobs themselves."""
    return Emulator(EmulatorConfig(database=tmp_path / "jobs.sqlite3", tokens=TOKENS))


@pytest.fixture
def running(tmp_path: Path) -> Any:
    """Two accounts on an emulator that runs jobs."""
    emulator = Emulator(
        EmulatorConfig(
            database=tmp_path / "jobs.sqlite3", tokens=TOKENS, poll_interval=0.02, workers=1
        )
    ).start()
    yield emulator
    emulator.stop()


def connect(
    emulator: Emulator, token: str = ALICE, journal: Path | bool = False
) -> tuple[VendorProvider, Counting]:
    transport = Counting(emulator)
    provider = VendorProvider(
        url=URL,
        token=token,
        transport=transport,
        journal=journal,
        retry=RetryPolicy(max_attempts=1),
        poll_interval=(0.005, 0.05),
    )
    return provider, transport


def claim(emulator: Emulator) -> str | None:
    """Start the next job the scheduler picks, as the supervisor would; its id."""
    record = emulator.store.claim_next("a-test", 60.0, [DEVICE, OTHER_DEVICE])
    return None if record is None else record.job_id


def finish(emulator: Emulator, job_id: str) -> None:
    assert emulator.store.finish(job_id, "{}")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = NEVER) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"still not {what} after {timeout} s"
        time.sleep(0.02)


# ------------------------------------------------------------------------ scheduling


def test_an_active_sessions_later_job_runs_before_other_clients_earlier_jobs(
    paused: Emulator,
) -> None:
    alice, _ = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    others = bob.get_backend(DEVICE)
    session = Session(backend=alice.get_backend(DEVICE), max_idle=600)
    assert session.status() == "open"
    early = others.run(bell(), shots=10)
    first = session.run(bell(), shots=10)
    # Not started yet: the session's first job waits its turn like any other.
    assert claim(paused) == early.job_id()
    finish(paused, early.job_id())
    assert claim(paused) == first.job_id()
    assert session.status() == "active"
    queued = [others.run(bell(), shots=10) for _ in range(3)]
    finish(paused, first.job_id())
    # Between the session's jobs the device waits for it, whatever else is queued.
    assert claim(paused) is None
    second = session.run(bell(), shots=10)
    assert claim(paused) == second.job_id()
    finish(paused, second.job_id())
    details = session.details()
    assert (details.job_count, details.pending_jobs, details.state) == (2, 0, "active")
    assert details.elapsed_seconds > 0 and details.started_at is not None
    # Closed with nothing left to run: the device goes back to the queue, in order.
    session.close()
    assert session.status() == "closed"
    assert claim(paused) == queued[0].job_id()


def test_a_closed_session_keeps_the_device_for_the_jobs_it_has(paused: Emulator) -> None:
    alice, _ = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    with Session(backend=alice.get_backend(DEVICE), max_idle=600) as session:
        first = session.run(bell(), shots=10)
        assert claim(paused) == first.job_id()
        other = bob.get_backend(DEVICE).run(bell(), shots=10)
        last = session.run(bell(), shots=10)
    assert session.status() == "closed"
    finish(paused, first.job_id())
    assert claim(paused) == last.job_id()
    finish(paused, last.job_id())
    assert claim(paused) == other.job_id()


def test_an_idle_session_gives_the_device_back(paused: Emulator) -> None:
    alice, _ = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    session = Session(backend=alice.get_backend(DEVICE), max_idle=0.2)
    first = session.run(bell(), shots=10)
    assert claim(paused) == first.job_id()
    other = bob.get_backend(DEVICE).run(bell(), shots=10)
    finish(paused, first.job_id())
    wait_until(lambda: session.status() == "inactive", "inactive")
    assert session.details().accepting_jobs
    later = session.run(bell(), shots=10)  # an inactive session still takes jobs
    assert claim(paused) == other.job_id()  # ... but they wait their turn
    finish(paused, other.job_id())
    assert claim(paused) == later.job_id()
    assert session.status() == "active"  # and its clock goes on


def test_an_expired_session_is_refused_before_anything_is_sent(paused: Emulator) -> None:
    alice, transport = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    session = Session(backend=alice.get_backend(DEVICE), max_time=0.3, max_idle=600)
    first = session.run(bell(), shots=10)
    assert claim(paused) == first.job_id()
    other = bob.get_backend(DEVICE).run(bell(), shots=10)
    finish(paused, first.job_id())
    wait_until(lambda: time.time() > session.details().expires_at.timestamp(), "past max_time")  # type: ignore[union-attr]
    # max_time is over: no priority, so the other client's job runs next.
    assert claim(paused) == other.job_id()
    posts = transport.job_posts
    with pytest.raises(SessionClosedError, match=r"is expired .*nothing was sent"):
        session.run(bell(), shots=10)
    assert transport.job_posts == posts
    assert session.details().elapsed_seconds == pytest.approx(0.3)


def test_a_batch_queues_its_jobs_together_without_holding_the_device(
    paused: Emulator,
) -> None:
    alice, _ = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    others = bob.get_backend(DEVICE)
    before = others.run(bell(), shots=10)
    with Batch(backend=alice.get_backend(DEVICE)) as batch:
        first = batch.run(bell(), shots=10)
        between = others.run(bell(), shots=10)
        second = batch.run(bell(), shots=10)
        assert second.queue_position(refresh=True) == 3  # after `before` and `first`
        assert between.queue_position(refresh=True) == 4
        order = []
        while (job_id := claim(paused)) is not None:
            order.append(job_id)
            finish(paused, job_id)
        # Jobs queued before the batch still go first; the batch then runs as a group.
        assert order == [j.job_id() for j in (before, first, second, between)]
        assert batch.status() == "inactive"  # nothing to run, and the device is not held
        late = others.run(bell(), shots=10)
        assert claim(paused) == late.job_id()
        assert batch.details().job_count == 2


# ------------------------------------------------------------------------ life cycle


def test_cancel_cancels_the_sessions_queued_jobs_and_closes_it(paused: Emulator) -> None:
    alice, transport = connect(paused, ALICE)
    session = Session(backend=alice.get_backend(DEVICE))
    jobs = [session.run(bell(), shots=10) for _ in range(2)]
    assert claim(paused) == jobs[0].job_id()
    session.cancel()
    assert [job.status() for job in jobs] == [JobStatus.CANCELLED] * 2
    details = session.details()
    assert (details.state, details.accepting_jobs, details.pending_jobs) == (
        "cancelled",
        False,
        0,
    )
    posts = transport.job_posts
    with pytest.raises(SessionClosedError, match="is cancelled"):
        session.run(bell())
    assert transport.job_posts == posts


def test_reattach_filter_and_another_accounts_session(paused: Emulator) -> None:
    alice, transport = connect(paused, ALICE)
    bob, _ = connect(paused, BOB)
    backend = alice.get_backend(DEVICE)
    session = Session(backend=backend, max_time=600)
    batch = Batch(backend=backend)
    in_session = [session.run(bell(), shots=10) for _ in range(2)]
    outside = backend.run(bell(), shots=10)
    batch.run(bell(), shots=10)

    again = alice.session(session.session_id)
    assert isinstance(again, Session) and again.session_id == session.session_id
    assert again.details().max_time == 600 and again.backend() == DEVICE
    assert isinstance(alice.session(batch.session_id), Batch)
    assert {s.session_id for s in alice.sessions()} == {session.session_id, batch.session_id}

    listed = alice.jobs(session_id=session.session_id, limit=None)
    assert sorted(j.job_id() for j in listed) == sorted(j.job_id() for j in in_session)
    assert all(j.session_id() == session.session_id for j in listed)
    assert alice.retrieve_job(outside.job_id()).session_id() is None
    assert sorted(j.job_id() for j in session.jobs()) == sorted(j.job_id() for j in in_session)

    with pytest.raises(VendorNotFoundError, match="no session"):
        bob.session(session.session_id)
    assert bob.jobs(session_id=session.session_id) == []
    # Bob cannot join it either: for him it does not exist.
    stolen = Session._attach(bob.get_backend(DEVICE), session.details())
    with pytest.raises(VendorNotFoundError, match="no session"):
        stolen.run(bell(), shots=10)

    # A second object for the session does not know the first closed it: the server says.
    stale = alice.session(session.session_id)
    again.close()
    posts = transport.job_posts
    with pytest.raises(SessionClosedError, match="is closed"):
        stale.run(bell(), shots=10)
    session.details()
    with pytest.raises(SessionClosedError):
        session.run(bell(), shots=10)
    assert transport.job_posts == posts + 1  # only the one the server refused


def test_a_session_of_another_device_is_refused_unsent(paused: Emulator) -> None:
    alice, transport = connect(paused, ALICE)
    session = Session(backend=alice.get_backend(DEVICE))
    other = alice.get_backend(OTHER_DEVICE)
    posts = transport.job_posts
    with pytest.raises(SessionDeviceError, match=f"runs on '{DEVICE}', not '{OTHER_DEVICE}'"):
        other.run(QuantumCircuit(1, 1), session=session)
    with pytest.raises(VendorValidationError, match="must be a Session or Batch"):
        other.run(QuantumCircuit(1, 1), session="a session")
    assert transport.job_posts == posts

    # The server's own check, for clients that skip this one.
    submission = {
        "device": OTHER_DEVICE,
        "programs": [json.loads(circuit_to_wire(QuantumCircuit(1, 1)).model_dump_json())],
        "shots": 10,
        "session_id": session.session_id,
    }
    status, _, body = dispatch(
        create_app(paused),
        "POST",
        "http://emulator.test/v1/jobs",
        {"content-type": "application/json", "authorization": f"Bearer {ALICE}"},
        json.dumps(submission).encode(),
    )
    problem = json.loads(body)
    assert (status, problem["type"]) == (409, "urn:vendor:problem:session-device")


def test_bad_session_arguments_are_typed_errors_before_any_request(paused: Emulator) -> None:
    alice, _ = connect(paused, ALICE)
    backend = alice.get_backend(DEVICE)
    for bad in (0, -1.0, float("nan"), True, "60", 10**9):
        with pytest.raises(VendorValidationError, match="max_time="):
            Session(backend=backend, max_time=bad)  # type: ignore[arg-type]
    with pytest.raises(VendorValidationError, match="max_idle="):
        Session(backend=backend, max_idle=7200)
    with pytest.raises(VendorValidationError, match="takes a VendorBackend"):
        Session(backend=DEVICE)  # type: ignore[arg-type]
    with pytest.raises(VendorValidationError, match="session id"):
        alice.session("")
    with pytest.raises(VendorValidationError, match="session_id="):
        alice.jobs(session_id=123)  # type: ignore[arg-type]
    with pytest.raises(VendorNotFoundError, match="not a session id"):
        alice.session("zz" * 16)
    with pytest.raises(VendorNotFoundError):
        alice.session("../jobs")
    assert alice.sessions() == []
    # The server's rules, for other clients: strict numbers, no idle timeout on a batch.
    app = create_app(paused)
    headers = {"content-type": "application/json", "authorization": f"Bearer {ALICE}"}
    for body in (
        {"device": DEVICE, "max_time": "10"},
        {"device": DEVICE, "mode": "batch", "max_idle": 5},
        {"device": DEVICE, "mode": "exclusive"},
        {"device": "no_such_device"},
    ):
        status, _, _ = dispatch(
            app, "POST", "http://emulator.test/v1/sessions", headers, json.dumps(body).encode()
        )
        assert status in (404, 422), body


# ------------------------------------------------------------------------ running jobs


def test_primitives_take_a_session_or_batch_as_mode(running: Emulator) -> None:
    provider, _ = connect(running, ALICE)
    backend = provider.get_backend(DEVICE)
    circuit = bell()
    with Session(backend=backend, max_idle=5) as session:
        sampler = VendorSampler(mode=session, options={"seed_simulator": 3})
        assert sampler.mode is session and sampler.backend.name == DEVICE
        counts = sampler.run([circuit], shots=50).result()[0].data.c.get_counts()
        assert sum(counts.values()) == 50 and set(counts) <= {"00", "11"}
        estimator = VendorEstimator(mode=session)
        observable = SparsePauliOp("ZZ")
        plain = QuantumCircuit(2)
        plain.h(0)
        plain.cx(0, 1)
        evs = estimator.run([(plain, observable)], precision=0.1).result()[0].data.evs
        assert float(evs) == pytest.approx(1.0)
        assert session.details().job_count == 2
    with Batch(backend=backend) as batch:
        VendorSampler(mode=batch).run([circuit], shots=10).result()
        assert [j.session_id() for j in batch.jobs()] == [batch.session_id]
    assert VendorSampler(mode=backend).mode is backend
    with pytest.raises(VendorValidationError, match="not both"):
        VendorSampler(backend=backend, mode=batch)
    with pytest.raises(VendorValidationError, match="not neither"):
        VendorEstimator()
    with pytest.raises(SessionClosedError, match="nothing was sent"):
        VendorSampler(mode=batch).run([circuit], shots=10).result()


def test_bound_backend_runs_in_the_session(running: Emulator) -> None:
    provider, _ = connect(running, ALICE)
    with Session(backend=provider.get_backend(DEVICE), max_idle=5) as session:
        bound = session.bound_backend
        job = bound.run(bell(), shots=20)
        assert job.session_id() == session.session_id
        assert sum(job.result().get_counts().values()) == 20
    assert provider.get_backend(DEVICE).run(bell(), shots=5).session_id() is None


def test_a_lost_submission_resumes_inside_its_session_while_it_is_open(
    paused: Emulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    provider, transport = connect(paused, ALICE, journal=journal)
    session = Session(backend=provider.get_backend(DEVICE))
    transport.lose_answer = True
    with pytest.raises(VendorConnectionError, match=r"resume\(\)"):
        session.run(bell(), shots=10, job_name="lost-open")
    transport.lose_answer = False
    assert [e.session_id for e in provider.journal()] == [session.session_id]

    resumed = provider.resume()
    assert [j.session_id() for j in resumed] == [session.session_id]
    assert len(provider.jobs(session_id=session.session_id)) == 1  # not duplicated

    # The payload was journalled but never reached the server, and the session closed
    # meanwhile: resume() gets the server's refusal, and the entry ends FAILED.
    later, transport = connect(paused, ALICE, journal=journal)
    transport.down = True
    with pytest.raises(VendorConnectionError):
        later.session(session.session_id).run(bell(), shots=10, job_name="never-sent")
    session.close()
    report = provider.resume()
    [outcome] = [o for o in report.outcomes if o.name == "never-sent"]
    assert outcome.outcome == "failed" and "is closed" in (outcome.reason or "")


def test_sessions_over_a_loopback_server(live_server: EmulatorServer) -> None:
    provider = VendorProvider(url=live_server.url, poll_interval=(0.01, 0.1), journal=False)
    backend = provider.get_backend(DEVICE)
    with Session(backend=backend, max_time=120, max_idle=5) as session:
        jobs = [session.run(bell(), shots=20, seed_simulator=s) for s in (1, 2)]
        assert [sum(j.result().get_counts().values()) for j in jobs] == [20, 20]
        assert {j.session_id() for j in jobs} == {session.session_id}
        details = provider.session(session.session_id).details()
        assert (details.state, details.job_count, details.pending_jobs) == ("active", 2, 0)
    assert session.status() == "closed"
    again = VendorJob(backend, jobs[0].job_id(), provider.client)
    assert again.session_id() == session.session_id
