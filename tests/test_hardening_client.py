"""The client's small hardening (issue 19, finding 14): redaction that keeps the server's
words, a Token that dies quietly at exit, typed errors for bad ``timeout`` and reversed
reservation windows, a retry budget that rides out a 30 s restart, and the rule that
no 4xx is retried and a 5xx only where the request is idempotent."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import requests
import responses

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.client import ApiClient, RetryPolicy
from qiskit_vendor_provider.api.models import SessionRequest
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.errors import (
    JobLimitError,
    VendorApiError,
    VendorAuthError,
    VendorConnectionError,
    VendorError,
    VendorValidationError,
)
from qiskit_vendor_provider.wait_timeout import check_wait_timeout
from tests.conftest import MockedApi
from tests.helpers import bell, isolated_env, run_python

URL = "https://api.vendor.test"
TOKEN = "hardening-token-0123456789"
JOB = {"job_id": "j1", "device": "dev", "status": "QUEUED", "created_at": "2026-01-01T00:00:00Z"}
SESSION = {
    "session_id": "0" * 32,
    "device": "dev",
    "state": "open",
    "max_time": 900.0,
    "created_at": "2026-01-01T00:00:00Z",
}


# ----------------------------------------------------------------- redaction


def test_a_401_keeps_the_servers_words_and_still_hides_the_token() -> None:
    emulator = Emulator(EmulatorConfig(tokens={"the-right-token-0000": "alice"}, workers=0))
    transport = InProcessTransport(create_app(emulator))
    provider = VendorProvider(
        url="https://vendor.test", token="a-wrong-token-1111", transport=transport, journal=False
    )
    with pytest.raises(VendorAuthError) as caught:
        provider.backends()
    text = str(caught.value)
    assert "a valid bearer token is required" in text
    assert "[REDACTED] is required" not in text
    assert "a-wrong-token-1111" not in text


# ----------------------------------------------------------------- Token at exit


def test_a_token_collected_at_interpreter_exit_prints_nothing(tmp_path: Any) -> None:
    # A Token in a reference cycle is collected after the module's globals are cleared.
    code = (
        "from qiskit_vendor_provider.api.secret import Token\n"
        "token = Token('exit-time-token-0123')\n"
        "cycle = [token]\n"
        "cycle.append(cycle)\n"
        "print('made')\n"
    )
    done = run_python(["-c", code], isolated_env(tmp_path))
    assert done.returncode == 0 and done.stdout.strip() == "made"
    assert "Exception ignored" not in done.stderr and "Token.__del__" not in done.stderr
    assert done.stderr == ""


# ----------------------------------------------------------------- result(timeout=)

BAD_TIMEOUTS = [
    pytest.param("5", "is a str", id="string"),
    pytest.param(True, "is a bool", id="bool"),
    pytest.param(math.nan, "not a number of seconds", id="nan"),
    pytest.param(-1, "not a number of seconds", id="negative"),
    pytest.param([5], "is a list", id="list"),
]


@pytest.mark.parametrize(("value", "words"), BAD_TIMEOUTS)
def test_bad_timeouts_are_typed_errors(value: object, words: str) -> None:
    with pytest.raises(VendorValidationError, match=words) as caught:
        check_wait_timeout(value)
    assert "timeout=" in str(caught.value) and "None" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, None), (0, 0.0), (5, 5.0), (2.5, 2.5), (np.float64(1.5), 1.5), (np.int64(3), 3.0)],
)
def test_good_timeouts_are_seconds(value: object, seconds: float | None) -> None:
    assert check_wait_timeout(value) == seconds
    assert check_wait_timeout(math.inf) is None


@pytest.mark.parametrize(("value", "words"), BAD_TIMEOUTS)
def test_job_waits_refuse_a_bad_timeout_before_and_after_the_result(
    provider: VendorProvider, value: object, words: str
) -> None:
    job = provider.get_backend("ideal_simulator").run(bell(), shots=8, seed_simulator=3)
    with pytest.raises(VendorValidationError, match=words):
        job.wait_for_final_state(timeout=value)  # type: ignore[arg-type]
    with pytest.raises(VendorValidationError, match=words):
        job.result(timeout=value)  # type: ignore[arg-type]
    assert sum(job.result(timeout=math.inf).get_counts().values()) == 8
    with pytest.raises(VendorValidationError, match=words):
        job.result(timeout=value)  # type: ignore[arg-type]  # the result is cached now


# ----------------------------------------------------------------- reservations


@pytest.mark.parametrize(
    "gap", [dt.timedelta(hours=-1), dt.timedelta(0)], ids=["reversed", "empty"]
)
def test_a_reservation_window_that_ends_before_it_starts_is_refused_unsent(
    provider: VendorProvider, api: MockedApi, gap: dt.timedelta
) -> None:
    backend = provider.get_backend("ideal_simulator")
    start = dt.datetime(2026, 11, 2, 12, tzinfo=dt.timezone.utc)
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match="must be before end_datetime"):
        backend.reservations(start, start + gap)
    assert len(api.calls()) == before
    assert backend.reservations(start, start + dt.timedelta(hours=1)) == []


# ----------------------------------------------------------------- retry budget


class FakeTime:
    """A clock that moves only when the client sleeps: retries without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def fake_client(fake: FakeTime, retry: RetryPolicy | None = None) -> ApiClient:
    return ApiClient(URL, TOKEN, retry=retry, sleep=fake.sleep, clock=fake.clock)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def down_until(fake: FakeTime, seconds: float, body: dict[str, Any]) -> Callable[..., Any]:
    """A server that refuses connections for ``seconds`` of fake time, then answers."""
    back = fake.now + seconds

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        if fake.now < back:
            raise requests.ConnectionError("connection refused (restarting)")
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    return answer


def test_a_server_down_for_good_is_given_up_on_within_the_documented_window(
    mock: responses.RequestsMock,
) -> None:
    fake = FakeTime()
    mock.get(f"{URL}/v1/devices", body=requests.ConnectionError("connection refused"))
    started = fake.now
    with pytest.raises(VendorConnectionError):
        fake_client(fake).list_devices()
    # The last attempt starts 37 to 45 s after the first, whatever the jitter drew.
    assert 37.0 <= fake.now - started <= 45.0
    assert len(mock.calls) == len(fake.sleeps) + 1
    for number, slept in enumerate(fake.sleeps):
        ceiling = min(8.0, 0.5 * 2**number)
        assert ceiling / 2 <= slept <= ceiling


def test_retry_after_is_a_floor_and_a_longer_one_than_the_budget_ends_it(
    mock: responses.RequestsMock,
) -> None:
    fake = FakeTime()
    mock.get(
        f"{URL}/v1/devices",
        status=503,
        json={"title": "restarting", "status": 503},
        headers={"Retry-After": "120"},
    )
    with pytest.raises(VendorApiError) as caught:
        fake_client(fake).list_devices()
    assert caught.value.status_code == 503
    assert fake.sleeps == [] and len(mock.calls) == 1  # waiting 120 s would pass 45 s


# ----------------------------------------------------------------- what is retried

REQUESTS: dict[str, tuple[str, str, Callable[[ApiClient], object], object]] = {
    "GET device": (
        "GET",
        "/v1/devices/dev/status",
        lambda c: c.get_device_status("dev"),
        {"name": "dev", "operational": True, "pending_jobs": 0},
    ),
    "keyed POST job": (
        "POST",
        "/v1/jobs",
        lambda c: c.submit_payload(b'{"device":"dev"}', "key-1"),
        JOB,
    ),
    "cancel job": ("POST", "/v1/jobs/j1/cancel", lambda c: c.cancel_job("j1"), JOB),
    "close session": (
        "POST",
        f"/v1/sessions/{'0' * 32}/close",
        lambda c: c.close_session("0" * 32),
        SESSION,
    ),
    "open session": (
        "POST",
        "/v1/sessions",
        lambda c: c.create_session(SessionRequest(device="dev")),
        SESSION,
    ),
}
IDEMPOTENT = ["GET device", "keyed POST job", "cancel job", "close session"]


@pytest.mark.parametrize("outage", [6.0, 20.0, 30.0, 36.0])
@pytest.mark.parametrize("kind", IDEMPOTENT)
def test_the_default_budget_rides_out_a_server_restart(
    mock: responses.RequestsMock, kind: str, outage: float
) -> None:
    """Refused connections for ``outage`` seconds, then the answer: the call succeeds."""
    method, path, call, answer = REQUESTS[kind]
    fake = FakeTime()
    started = fake.now
    mock.add_callback(method, f"{URL}{path}", callback=down_until(fake, outage, answer))
    call(fake_client(fake))
    assert fake.now - started >= outage
    assert len(mock.calls) == len(fake.sleeps) + 1 >= 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 426])
@pytest.mark.parametrize("kind", list(REQUESTS))
def test_no_4xx_is_ever_retried(mock: responses.RequestsMock, kind: str, status: int) -> None:
    method, path, call, _ = REQUESTS[kind]
    mock.add(method, f"{URL}{path}", status=status, json={"title": "no", "status": status})
    fake = FakeTime()
    with pytest.raises(VendorError) as caught:
        call(fake_client(fake))
    assert caught.value.status_code == status
    assert len(mock.calls) == 1 and fake.sleeps == []


@pytest.mark.parametrize("kind", list(REQUESTS))
def test_the_job_limit_429_is_not_retried(mock: responses.RequestsMock, kind: str) -> None:
    method, path, call, _ = REQUESTS[kind]
    body = {"type": "urn:vendor:problem:job-limit", "title": "Job limit", "status": 429}
    mock.add(method, f"{URL}{path}", status=429, json=body)
    with pytest.raises(JobLimitError):
        call(fake_client(FakeTime()))
    assert len(mock.calls) == 1


@pytest.mark.parametrize("failure", [500, 502, 503, 504, "connection"])
@pytest.mark.parametrize("kind", list(REQUESTS))
def test_a_5xx_is_retried_only_where_the_request_is_idempotent(
    mock: responses.RequestsMock, kind: str, failure: int | str
) -> None:
    method, path, call, answer = REQUESTS[kind]
    url = f"{URL}{path}"
    if failure == "connection":
        mock.add(method, url, body=requests.ConnectionError("reset by peer"))
    else:
        mock.add(method, url, status=failure, json={"title": "oops", "status": failure})
    mock.add(method, url, json=answer)
    fake = FakeTime()
    if kind in IDEMPOTENT:
        call(fake_client(fake))
        assert len(mock.calls) == 2 and len(fake.sleeps) == 1
    else:
        with pytest.raises((VendorApiError, VendorConnectionError)):
            call(fake_client(fake))
        assert len(mock.calls) == 1 and fake.sleeps == []
