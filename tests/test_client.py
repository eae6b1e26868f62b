"""The API client: headers, timeouts, error mapping, retries, token safety."""

from __future__ import annotations

import json
import pickle
import platform

import pytest
import requests
import responses
from pydantic import ValidationError

from qiskit_vendor_provider import (
    VendorApiError,
    VendorAuthError,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorValidationError,
)
from qiskit_vendor_provider._version import __version__
from qiskit_vendor_provider.api.client import (
    ApiClient,
    RetryPolicy,
    Timeouts,
    new_idempotency_key,
)
from qiskit_vendor_provider.api.models import DeviceSpec, JobInfo, JobSubmission, WireProgram
from qiskit_vendor_provider.api.secret import Token
from qiskit_vendor_provider.api.wire import encode_submission

URL = "https://api.vendor.test"
TOKEN = "tok-abcdef-0123456789"
PROBLEM = {"type": "about:blank", "title": "T", "status": 0, "detail": "the server's detail"}


def client(**kwargs: object) -> ApiClient:
    sleeps: list[float] = []
    made = ApiClient(URL, TOKEN, sleep=sleeps.append, **kwargs)  # type: ignore[arg-type]
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def problem(status: int) -> dict[str, object]:
    return {**PROBLEM, "status": status}


@responses.activate
def test_every_request_carries_token_user_agent_and_timeouts() -> None:
    responses.get(f"{URL}/v1/devices", json={"devices": []})
    seen: dict[str, object] = {}
    api = client(timeouts=Timeouts(connect=1.5, read=7.0))
    original = api.session.send

    def spy(*args: object, **kwargs: object) -> requests.Response:
        seen.update(kwargs)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    api.session.send = spy  # type: ignore[method-assign]
    assert api.list_devices() == []
    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    agent = headers["User-Agent"]
    assert f"qiskit-vendor-provider/{__version__}" in agent
    assert "qiskit/2." in agent
    assert f"python/{platform.python_version()}" in agent
    assert seen["timeout"] == (1.5, 7.0)
    assert seen["allow_redirects"] is False


def test_one_session_is_reused() -> None:
    api = client()
    assert isinstance(api.session, requests.Session)
    with responses.RequestsMock() as mock:
        mock.get(f"{URL}/v1/devices", json={"devices": []})
        api.list_devices()
        api.list_devices()
        assert len(mock.calls) == 2
    assert api.session is api.session


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, VendorValidationError),
        (401, VendorAuthError),
        (403, VendorAuthError),
        (404, VendorNotFoundError),
        (409, VendorApiError),
        (413, VendorValidationError),
        (422, VendorValidationError),
        (500, VendorApiError),
    ],
)
@responses.activate
def test_non_2xx_becomes_typed_error_with_server_detail(
    status: int, error: type[VendorError]
) -> None:
    responses.get(
        f"{URL}/v1/jobs/abc", json=problem(status), status=status, headers={"X-Request-Id": "rid-7"}
    )
    with pytest.raises(error) as info:
        client(retry=RetryPolicy(max_attempts=1)).get_job("abc")
    assert info.value.status_code == status
    assert info.value.detail == "the server's detail"
    assert info.value.request_id == "rid-7"
    assert f"HTTP {status}" in str(info.value)
    assert "the server's detail" in str(info.value)
    assert "(request id rid-7)" in str(info.value)
    assert TOKEN not in str(info.value)


@responses.activate
def test_error_body_that_is_not_json_still_gives_typed_error() -> None:
    responses.get(f"{URL}/v1/devices/x", body="<html>Bad Gateway</html>", status=502)
    with pytest.raises(VendorApiError, match="HTTP 502"):
        client(retry=RetryPolicy(max_attempts=1)).get_device("x")


@responses.activate
def test_success_body_that_is_not_json_is_an_api_error() -> None:
    responses.get(f"{URL}/v1/devices/x", body="not json", status=200)
    with pytest.raises(VendorApiError, match="not JSON"):
        client().get_device("x")


@responses.activate
def test_malformed_answer_is_an_api_error_not_a_pydantic_error() -> None:
    responses.get(f"{URL}/v1/devices/x", json={"name": "x"})
    with pytest.raises(VendorApiError, match="not a valid DeviceSpec"):
        client().get_device("x")


@responses.activate
def test_unknown_fields_in_answers_are_ignored() -> None:
    responses.get(
        f"{URL}/v1/jobs/j1",
        json={
            "job_id": "j1",
            "device": "d",
            "status": "QUEUED",
            "created_at": "2026-01-01T00:00:00Z",
            "field_from_the_future": {"x": 1},
        },
    )
    assert client().get_job("j1").status == "QUEUED"


@responses.activate
def test_get_is_retried_on_503_honouring_retry_after() -> None:
    responses.get(f"{URL}/v1/jobs/j1", json=problem(503), status=503, headers={"Retry-After": "2"})
    responses.get(f"{URL}/v1/jobs/j1", json=problem(502), status=502)
    responses.get(
        f"{URL}/v1/jobs/j1",
        json={
            "job_id": "j1",
            "device": "d",
            "status": "DONE",
            "created_at": "2026-01-01T00:00:00Z",
        },
    )
    api = client(retry=RetryPolicy(max_attempts=5, base_delay=0.01))
    assert api.get_job("j1").status == "DONE"
    assert len(responses.calls) == 3
    assert api.sleeps[0] >= 2.0  # type: ignore[attr-defined]
    assert len(api.sleeps) == 2  # type: ignore[attr-defined]


@responses.activate
def test_retries_stop_at_max_attempts() -> None:
    responses.get(f"{URL}/v1/jobs/j1", json=problem(503), status=503)
    api = client(retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(VendorApiError, match="HTTP 503"):
        api.get_job("j1")
    assert len(responses.calls) == 3


@responses.activate
def test_connection_errors_are_retried_then_typed() -> None:
    responses.get(f"{URL}/v1/devices", body=requests.ConnectionError("refused"))
    api = client(retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    with pytest.raises(VendorConnectionError, match="timeout"):
        api.list_devices()
    assert len(responses.calls) == 2


def _submission() -> JobSubmission:
    program = WireProgram.model_validate(
        {"num_qubits": 1, "num_clbits": 1, "instructions": [], "header": {"name": "c"}}
    )
    return JobSubmission(device="dev", programs=[program], shots=10)


@responses.activate
def test_submit_retries_with_the_same_idempotency_key() -> None:
    job = {
        "job_id": "j1",
        "device": "dev",
        "status": "QUEUED",
        "created_at": "2026-01-01T00:00:00Z",
    }
    responses.post(f"{URL}/v1/jobs", body=requests.ConnectionError("reset"))
    responses.post(f"{URL}/v1/jobs", json=problem(503), status=503)
    responses.post(f"{URL}/v1/jobs", json=job, status=201)
    info = client(retry=RetryPolicy(base_delay=0.01)).submit_payload(
        encode_submission(_submission()), new_idempotency_key()
    )
    assert isinstance(info, JobInfo)
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert len(responses.calls) == 3
    assert len(keys) == 1
    body = json.loads(responses.calls[0].request.body)
    assert body["device"] == "dev"


@responses.activate
def test_submit_is_not_retried_on_a_4xx() -> None:
    responses.post(f"{URL}/v1/jobs", json=problem(422), status=422)
    with pytest.raises(VendorValidationError):
        client().submit_payload(encode_submission(_submission()), new_idempotency_key())
    assert len(responses.calls) == 1


def test_path_segments_are_quoted() -> None:
    with responses.RequestsMock() as mock:
        mock.get(f"{URL}/v1/jobs/..%2F..%2Fetc", json=problem(404), status=404)
        with pytest.raises(VendorNotFoundError):
            client().get_job("../../etc")


def test_token_over_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(VendorAuthError, match="refusing to send a token over plain http"):
        ApiClient("http://api.vendor.test", TOKEN)
    ApiClient("http://127.0.0.1:8765", TOKEN)
    ApiClient("http://localhost:8765", TOKEN)
    ApiClient("http://api.vendor.test")  # no token: nothing to leak


def test_bad_url_scheme_is_refused() -> None:
    with pytest.raises(VendorValidationError, match="must start with https://"):
        ApiClient("ftp://api.vendor.test")


@responses.activate
def test_redirects_are_not_followed() -> None:
    responses.get(f"{URL}/v1/devices", status=302, headers={"Location": "https://evil.test/"})
    with pytest.raises(VendorApiError, match="HTTP 302"):
        client().list_devices()
    assert len(responses.calls) == 1


def test_token_never_shows() -> None:
    api = client()
    token = Token(TOKEN)
    for text in (repr(api), str(token), repr(token), f"{token}", str(vars(api))):
        assert TOKEN not in text
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(token)


def test_errors_pickle_with_their_fields() -> None:
    error = VendorNotFoundError("gone", status_code=404, detail="d", request_id="r")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status_code, copy.detail, copy.request_id, str(copy)) == (
        VendorNotFoundError,
        404,
        "d",
        "r",
        "gone (request id r)",
    )


def test_request_models_forbid_unknown_fields_and_nan() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        JobSubmission.model_validate({**_submission().model_dump(), "shotz": 5})
    bad = _submission().model_dump()
    bad["programs"][0]["instructions"] = [{"name": "rz", "qubits": [0], "params": [float("nan")]}]
    with pytest.raises(ValidationError):
        JobSubmission.model_validate(bad)


def test_device_spec_rejects_inconsistent_data() -> None:
    base = {
        "name": "d",
        "num_qubits": 2,
        "native_operations": [{"name": "cz", "num_qubits": 2, "qubits": [[0, 2]]}],
    }
    with pytest.raises(ValidationError, match="out of range"):
        DeviceSpec.model_validate(base)
