"""The HTTP client of the vendor REST API: the only code in the package that touches HTTP.

One :class:`requests.Session` per client gives connection reuse. Every request carries
the bearer token (if any), a User-Agent naming this package and the Qiskit and Python
versions, and connect/read timeouts. Every non-2xx answer becomes a typed
:class:`~qiskit_vendor_provider.errors.VendorError` that carries the server's detail and
request id. Retries follow :func:`retry_delay`, the one place the retry policy lives.
"""

from __future__ import annotations

import platform
import random
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from requests.adapters import BaseAdapter

from qiskit_vendor_provider._version import __version__
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.hosts import check_server_url, is_loopback_host
from qiskit_vendor_provider.api.models import (
    PROBLEM_CALIBRATION_NOT_KEPT,
    PROBLEM_DEVICE_UNAVAILABLE,
    PROBLEM_JOB_LIMIT,
    PROBLEM_SESSION_CLOSED,
    PROBLEM_SESSION_DEVICE,
    PROBLEM_SESSION_LIMIT,
    PROBLEM_STORAGE_FULL,
    AccountInfo,
    Calibration,
    CalibrationList,
    DeviceSpec,
    DeviceStatus,
    DeviceSummary,
    JobInfo,
    JobPage,
    JobQuery,
    JobResult,
    Problem,
    Reservation,
    ReservationList,
    SessionInfo,
    SessionList,
    SessionRequest,
    SubmittedJob,
)
from qiskit_vendor_provider.api.secret import Token, redact, redacting_logger
from qiskit_vendor_provider.api.shots import unpack_result
from qiskit_vendor_provider.api.versions import (
    API_VERSION,
    API_VERSION_HEADER,
    CLIENT_VERSION_HEADER,
    EARLY_RESULT_API_VERSION,
    WARNING_HEADER,
    client_notices,
    parse_api_version,
)
from qiskit_vendor_provider.errors import (
    CalibrationNotKeptError,
    DeviceUnavailableError,
    JobLimitError,
    ServerStorageFullError,
    SessionClosedError,
    SessionDeviceError,
    SessionLimitError,
    VendorApiError,
    VendorAuthError,
    VendorCompatibilityWarning,
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorUpgradeRequiredError,
    VendorValidationError,
)

logger = redacting_logger(__name__)

_notices_shown: set[str] = set()
_notices_lock = threading.Lock()


def _show_once(notice: str) -> None:
    """Warn about a version notice once per process (a server repeats it on every answer)."""
    with _notices_lock:
        if notice in _notices_shown:
            return
        _notices_shown.add(notice)
    warnings.warn(redact(notice), VendorCompatibilityWarning, stacklevel=2)


ModelT = TypeVar("ModelT", bound=BaseModel)

# Retried only for requests that are safe to repeat (GETs, cancels, keyed submissions).
# 5xx: the server failed, or is restarting. 429 is the one 4xx here: a rate limit
# (never the job limit, see _request) says the request was not carried out and asks the
# client to wait and send it again. Every other 4xx is a refusal and never retried.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts of one HTTP request, in seconds."""

    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """How failed requests are retried: exponential backoff with jitter, within a deadline.

    Only a request that is safe to repeat is retried (a GET, a cancel or close, a job
    submission with its idempotency key), and only after a connection error, a body cut
    short, a 5xx, or a 429 rate limit; any other 4xx is a refusal, never retried. A
    request that is not idempotent (opening a session) is sent once.

    The default budget rides out a server restart of about 30 s: the waits grow from
    0.25-0.5 s to 4-8 s, and attempts go on until one more wait would pass ``deadline``
    (45 s), so the last attempt starts 37 to 45 s after the first. ``docs/reliability.md``
    has the table.

    Attributes:
        max_attempts: Attempts in all, the first included.
        base_delay: Scale of the first backoff, in seconds.
        max_delay: Cap of any one backoff, in seconds.
        deadline: Total time, in seconds, after which no new attempt starts.
    """

    max_attempts: int = 20
    base_delay: float = 0.5
    max_delay: float = 8.0
    deadline: float = 45.0


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    retry_after: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``, given ``attempt`` failed attempts.

    "Equal jitter": a uniform draw between half and all of
    ``min(max_delay, base_delay * 2**(attempt-1))``. The jitter spreads clients that
    failed together; the floor makes the budget a promise (a run of small draws cannot
    spend every attempt in the first seconds of an outage). A server's ``Retry-After``
    is a floor too, since waiting less only earns another 429.

    >>> policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    >>> [retry_delay(policy, n, rng=lambda: 1.0) for n in (1, 2, 3, 4, 5)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> [retry_delay(policy, n, rng=lambda: 0.0) for n in (1, 2, 3, 4, 5)]
    [0.5, 1.0, 2.0, 4.0, 4.0]
    >>> retry_delay(policy, 1, retry_after=3.0, rng=lambda: 0.5)
    3.0
    """
    ceiling = min(policy.max_delay, policy.base_delay * float(1 << max(attempt - 1, 0)))
    delay = ceiling * (0.5 + 0.5 * rng())
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _user_agent() -> str:
    try:
        qiskit_version = package_version("qiskit")
    except PackageNotFoundError:  # pragma: no cover - qiskit is a dependency
        qiskit_version = "unknown"
    return (
        f"qiskit-vendor-provider/{__version__} qiskit/{qiskit_version} "
        f"python/{platform.python_version()}"
    )


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (where plain http is acceptable).

    >>> is_loopback_url("http://127.0.0.1:8765"), is_loopback_url("http://localhost/")
    (True, True)
    >>> is_loopback_url("http://[::1]:80"), is_loopback_url("http://example.com")
    (True, False)
    """
    return is_loopback_host(urlsplit(url).hostname or "")


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class ApiClient:
    """Typed access to the vendor REST API v1.

    Args:
        base_url: Server root, e.g. ``https://api.vendor.example`` (``/v1`` is added).
        token: Bearer token; ``None`` for a server without authentication.
        timeouts: Connect and read timeouts of each request.
        retry: The retry policy of idempotent requests and keyed submissions.
        transport: A :class:`requests.adapters.BaseAdapter` to send requests through
            instead of the network; the embedded emulator and tests use this seam.
        sleep: The function used to wait between retries (injectable for tests).
        clock: The monotonic clock the retry deadline is measured with (injectable for
            tests, with ``sleep``); ``deadline`` arguments are moments of this clock.

    Raises:
        VendorValidationError: ``base_url`` holds a user name or password, a query or a
            fragment (a credential there would be logged and quoted everywhere), or is
            neither http nor https.
        VendorAuthError: a token would be sent over plain http to a host that is not
            this machine.
    """

    def __init__(
        self,
        base_url: str,
        token: Token | str | None = None,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        transport: BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = check_server_url(base_url, "base_url").rstrip("/")
        self._token = Token.of(token)
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.long_poll = True
        """Whether waits ask this server to hold status requests (set False when it does
        not: a wait then polls it with growing intervals)."""
        self._sleep = sleep
        self._clock = clock
        scheme = urlsplit(self.base_url).scheme
        if scheme not in ("http", "https"):
            raise VendorValidationError(
                f"URL {self.base_url!r} must start with https:// (or http:// for a server on "
                "this machine)"
            )
        if (
            self._token is not None
            and scheme == "http"
            and transport is None
            and not is_loopback_url(self.base_url)
        ):
            raise VendorAuthError(
                f"refusing to send a token over plain http to {urlsplit(self.base_url).hostname}: "
                "use an https:// URL (plain http is allowed only for 127.0.0.1/localhost)"
            )
        self.session = requests.Session()
        self.session.headers["User-Agent"] = _user_agent()
        self.session.headers["Accept"] = "application/json"
        # Which API and package this is, on every request (docs/api-contract.md).
        self.session.headers[API_VERSION_HEADER] = API_VERSION
        self.server_api_version: tuple[int, int] | None = None
        """The API version the server's last answer named (None: none yet, or a server
        before 1.1, which names none)."""
        self.session.headers[CLIENT_VERSION_HEADER] = f"qiskit-vendor-provider/{__version__}"
        if transport is not None:
            self.session.mount(self.base_url + "/", transport)
        self.is_local = transport is not None or is_loopback_url(self.base_url)
        if self.is_local:
            # No proxy, .netrc or CA bundle applies to this machine or to the embedded
            # emulator, and reading them from the environment costs about 0.4 ms a request.
            self.session.trust_env = False

    def __repr__(self) -> str:
        auth = "token set" if self._token is not None else "no token"
        return f"ApiClient({self.base_url!r}, {auth})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    # ----------------------------------------------------------------- routes

    def list_devices(self) -> list[DeviceSummary]:
        """``GET /v1/devices``."""
        body = self._request("GET", "/devices")
        return [self._model(DeviceSummary, item) for item in _as_list(body, "devices")]

    def get_device(self, name: str) -> DeviceSpec:
        """``GET /v1/devices/{name}``."""
        return self._model(DeviceSpec, self._request("GET", f"/devices/{_segment(name)}"))

    def get_calibration(
        self, name: str, at: datetime | None = None, calibration_id: str | None = None
    ) -> Calibration:
        """``GET /v1/devices/{name}/calibration``: in force at ``at``, or by id, or now.

        ``calibration_id`` needs API 1.3 (an older server ignores it: see
        ``qiskit_vendor_provider.calibrations``).
        """
        params = {} if at is None else {"at": at.isoformat()}
        if calibration_id is not None:
            params["calibration_id"] = calibration_id
        body = self._request("GET", f"/devices/{_segment(name)}/calibration", params=params or None)
        return self._model(Calibration, body)

    def list_calibrations(self, name: str) -> CalibrationList:
        """``GET /v1/devices/{name}/calibrations``: the calibrations kept (API 1.3)."""
        body = self._request("GET", f"/devices/{_segment(name)}/calibrations")
        return self._model(CalibrationList, body)

    def get_reservations(
        self, name: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[Reservation]:
        """``GET /v1/devices/{name}/reservations``: windows overlapping [start, end)."""
        params = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
        body = self._request("GET", f"/devices/{_segment(name)}/reservations", params=params)
        return self._model(ReservationList, body).reservations

    def get_device_status(self, name: str) -> DeviceStatus:
        """``GET /v1/devices/{name}/status``."""
        body = self._request("GET", f"/devices/{_segment(name)}/status")
        return self._model(DeviceStatus, body)

    def submit_payload(
        self, payload: bytes | str, idempotency_key: str, *, wait: float | None = None
    ) -> SubmittedJob:
        """``POST /v1/jobs`` of an encoded submission (see :func:`.wire.encode_submission`).

        A caller that may post again after a crash stores the payload and the key first,
        and posts them unchanged: the server answers a known key with the job it made.

        Args:
            payload: The encoded submission.
            idempotency_key: The submission's key.
            wait: Let the server hold the answer up to this many seconds while a job that
                starts at once runs (``?wait=``, API 1.5): a job that ends DONE within it
                comes with its result (``SubmittedJob.result``), which saves a request.
                Sent only to a server that names API 1.5 or newer; an older one answers
                with the job alone, as it always did.
        """
        params = None
        read_extra = 0.0
        if wait is not None and self.speaks(EARLY_RESULT_API_VERSION):
            params = {"wait": f"{wait:.3f}"}
            read_extra = wait
        body = self._request(
            "POST",
            "/jobs",
            data=payload.encode("utf-8") if isinstance(payload, str) else payload,
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
            params=params,
            retryable=True,
            read_extra=read_extra,
        )
        result = body.pop("result", None) if isinstance(body, dict) else None
        submitted = self._model(SubmittedJob, body)
        if result is not None:
            submitted.result = self._early_result(result)
        return submitted

    def _early_result(self, body: Any) -> JobResult | None:
        """The result that came with a submission's answer, or None if it cannot be read.

        The job exists whatever its result looks like: a result this client cannot read
        is left for ``GET /v1/jobs/{id}/result``, whose answer then says what is wrong,
        rather than failing the submission.
        """
        try:
            return unpack_result(self._model(JobResult, body))
        except VendorError as exc:
            logger.debug("the result that came with a submission is left unread: %s", exc)
            return None

    def speaks(self, version: tuple[int, int]) -> bool:
        """Whether the server's last answer named API ``version`` or newer."""
        spoken = self.server_api_version
        return spoken is not None and spoken >= version

    def list_jobs(self, query: JobQuery) -> JobPage:
        """``GET /v1/jobs``: one page of the account's jobs matching ``query``."""
        params = query.model_dump(mode="json", exclude_defaults=True)
        return self._model(JobPage, self._request("GET", "/jobs", params=params))

    def get_account(self) -> AccountInfo:
        """``GET /v1/account``: the account's job limit and active jobs."""
        return self._model(AccountInfo, self._request("GET", "/account"))

    def get_job(
        self, job_id: str, *, deadline: float | None = None, wait: float | None = None
    ) -> JobInfo:
        """``GET /v1/jobs/{id}``.

        Args:
            job_id: The job.
            deadline: A ``time.monotonic()`` moment no attempt or retry may outlast.
            wait: Long poll: ask the server to answer once the job is final, or after
                this many seconds (``?wait=``). A server that does not hold requests
                answers at once, and one that does not know the parameter refuses it.
        """
        path = f"/jobs/{_segment(job_id)}"
        params = None if wait is None else {"wait": f"{wait:.3f}"}
        body = self._request("GET", path, params=params, deadline=deadline, read_extra=wait or 0.0)
        return self._model(JobInfo, body)

    def get_result(
        self, job_id: str, *, wait: float | None = None, deadline: float | None = None
    ) -> JobResult:
        """``GET /v1/jobs/{id}/result``.

        Args:
            job_id: The job.
            wait: Long poll: ask the server to wait up to this many seconds for the job
                to end before it answers (``?wait=``); a job still running is a 409.
            deadline: A ``time.monotonic()`` moment no attempt or retry may outlast.
        """
        params = None if wait is None else {"wait": f"{wait:.3f}"}
        body = self._request(
            "GET",
            f"/jobs/{_segment(job_id)}/result",
            params=params,
            deadline=deadline,
            read_extra=wait or 0.0,
        )
        return unpack_result(self._model(JobResult, body))

    def cancel_job(self, job_id: str) -> JobInfo:
        """``POST /v1/jobs/{id}/cancel`` (idempotent: cancelling twice is harmless)."""
        body = self._request("POST", f"/jobs/{_segment(job_id)}/cancel", retryable=True)
        return self._model(JobInfo, body)

    def create_session(self, request: SessionRequest) -> SessionInfo:
        """``POST /v1/sessions``: open a session or batch.

        Not retried: a lost answer would leave a second session open. One that never
        runs a job holds nothing, so a retry by the caller is harmless.
        """
        body = self._request(
            "POST",
            "/sessions",
            data=request.model_dump_json(exclude_none=True).encode(),
            headers={"Content-Type": "application/json"},
            retryable=False,
        )
        return self._model(SessionInfo, body)

    def get_session(self, session_id: str) -> SessionInfo:
        """``GET /v1/sessions/{id}``."""
        return self._model(SessionInfo, self._request("GET", f"/sessions/{_segment(session_id)}"))

    def list_sessions(self, limit: int = 50) -> list[SessionInfo]:
        """``GET /v1/sessions``: the account's newest sessions and batches."""
        body = self._request("GET", "/sessions", params={"limit": limit})
        return self._model(SessionList, body).sessions

    def close_session(self, session_id: str) -> SessionInfo:
        """``POST /v1/sessions/{id}/close`` (idempotent)."""
        body = self._request("POST", f"/sessions/{_segment(session_id)}/close", retryable=True)
        return self._model(SessionInfo, body)

    def cancel_session(self, session_id: str) -> SessionInfo:
        """``POST /v1/sessions/{id}/cancel`` (idempotent)."""
        body = self._request("POST", f"/sessions/{_segment(session_id)}/cancel", retryable=True)
        return self._model(SessionInfo, body)

    # ----------------------------------------------------------------- plumbing

    def _model(self, model: type[ModelT], body: Any) -> ModelT:
        try:
            return model.model_validate(body)
        except PydanticValidationError as exc:
            # Without the input values: they are the server's text, which may be anything.
            problems = [
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False, include_input=False)[:3]
            ]
            raise VendorApiError(
                f"the server's answer is not a valid {model.__name__}: {'; '.join(problems)}"
            ) from None

    def _prepare(
        self,
        method: str,
        url: str,
        path: str,
        *,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
    ) -> requests.PreparedRequest:
        """The request as it will be sent, or a typed error if it cannot be built."""
        all_headers = dict(headers or {})
        if self._token is not None:
            all_headers["Authorization"] = f"Bearer {self._token.reveal()}"
        try:
            if self.is_local and not self.session.trust_env:
                return self._prepare_local(method, url, all_headers, data, params)
            request = requests.Request(method, url, data=data, headers=all_headers, params=params)
            return self.session.prepare_request(request)
        except _BUILD_ERRORS as exc:
            error = _local_error(method, path, exc)
        # Raised outside the handler, so the original (which may quote a header) is not
        # even kept as the error's __context__.
        raise error

    def _prepare_local(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None,
        params: Mapping[str, Any] | None,
    ) -> requests.PreparedRequest:
        """What ``session.prepare_request`` makes of a request to this machine, made directly.

        The session's own headers and cookies go with it, as they would; what this skips
        is the environment (a proxy, ``.netrc``), which applies to no request here
        (``trust_env`` is off), and the session's general merging of settings this client
        never sets (auth, params): about 0.1 ms of a small request's time.
        """
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=method,
            url=url,
            headers={**self.session.headers, **headers},
            data=data,
            params=params,
            cookies=self.session.cookies,
            hooks=self.session.hooks,
        )
        return prepared

    def _request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        retryable: bool | None = None,
        deadline: float | None = None,
        read_extra: float = 0.0,
    ) -> Any:
        """Send one request, retrying as the policy allows; return the decoded JSON body.

        GETs are always retryable; a POST is retryable only when the caller says so
        (it carries an idempotency key, or is idempotent by nature). A ``deadline``
        (``time.monotonic()``) bounds the whole call: each attempt's timeouts are cut to
        the time left, and no retry starts or sleeps past it. ``read_extra`` seconds are
        added to the read timeout, for a server asked to hold the request (long poll).
        """
        url = f"{self.base_url}/v1{path}"
        can_retry = method == "GET" if retryable is None else retryable
        prepared = self._prepare(method, url, path, data=data, headers=headers, params=params)
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            fatal = False
            timeouts = (self.timeouts.connect, self.timeouts.read + read_extra)
            if deadline is not None:
                left = max(deadline - self._clock(), 0.001)
                timeouts = (min(timeouts[0], left), min(timeouts[1], left))
            try:
                response = self.session.send(
                    prepared,
                    timeout=timeouts,
                    # A redirect could carry the Authorization header to another host.
                    allow_redirects=False,
                    **settings,
                )
            except _LOCAL_ERRORS as exc:
                # Built wrong here: sending it again would fail the same way.
                error: VendorError = _local_error(method, path, exc)
                retry_after, fatal = None, True
            except requests.RequestException as exc:
                error = VendorConnectionError(
                    f"{method} {path} failed: {type(exc).__name__}: {_safe_reason(exc)}. "
                    "Check the URL and your network, or raise the timeouts "
                    "(VendorProvider(timeout=...))"
                )
                retry_after = None
            else:
                spoken = parse_api_version(response.headers.get(API_VERSION_HEADER))
                if spoken is not None:
                    self.server_api_version = spoken
                for notice in client_notices(
                    self.base_url,
                    response.headers.get(API_VERSION_HEADER),
                    response.headers.get(WARNING_HEADER),
                ):
                    _show_once(notice)
                if response.status_code < 300:
                    try:
                        return _decode_json(response, method, path)
                    except VendorApiError as garbled:
                        # A body cut short in transit: asking again gets it whole.
                        error, retry_after = garbled, None
                else:
                    error = error_from_response(response, method, path)
                    # A job limit is a 429 that waiting seconds will not lift: not retried.
                    if response.status_code not in RETRYABLE_STATUS or isinstance(
                        error, JobLimitError
                    ):
                        _not_retrying(method, path, attempt, error)
                        raise error
                    retry_after = _retry_after_seconds(response)
            if fatal:
                # Raised outside the handler: the original is not kept as __context__.
                raise error
            delay = retry_delay(self.retry, attempt, retry_after=retry_after)
            elapsed = self._clock() - started
            if (
                not can_retry
                or attempt >= self.retry.max_attempts
                or elapsed + delay > self.retry.deadline
                or (deadline is not None and self._clock() + delay >= deadline)
            ):
                _not_retrying(method, path, attempt, error)
                raise error
            logger.debug(
                "retrying %s %s in %.2fs after attempt %d: %s",
                method,
                path,
                delay,
                attempt,
                error,
            )
            self._sleep(delay)


def _not_retrying(method: str, path: str, attempt: int, error: VendorError) -> None:
    """Log, at debug level, a failed answer that the retry policy leaves to the caller."""
    logger.debug("not retrying %s %s after attempt %d: %s", method, path, attempt, error)


# Errors of building a request, not of sending it: never retried as network failures.
_LOCAL_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.InvalidHeader,
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidJSONError,
    UnicodeError,
)


_BUILD_ERRORS: tuple[type[BaseException], ...] = (
    *_LOCAL_ERRORS,
    requests.RequestException,
    ValueError,
)


def _local_error(method: str, path: str, exc: BaseException) -> VendorValidationError:
    return VendorValidationError(
        f"{method} {path} could not be sent: {type(exc).__name__}: {_safe_reason(exc)}. "
        "Nothing was sent; check the URL and the values given (a token or name with "
        "characters an HTTP request cannot carry)"
    )


def new_idempotency_key() -> str:
    """A fresh idempotency key for one submission."""
    return uuid.uuid4().hex


def _segment(value: str) -> str:
    """Quote a value for use as one path segment (no ``/`` or ``..`` can slip through)."""
    return quote(value, safe="")


def _safe_reason(exc: BaseException) -> str:
    # requests quotes headers (so the token) in some messages: redacted, and kept short.
    text = redact(str(exc))
    return text if len(text) < 300 else text[:300] + "..."


def _as_list(body: Any, key: str) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return list(body[key])
    raise VendorApiError(f"the server's answer has no list {key!r}")


def _decode_json(response: requests.Response, method: str, path: str) -> Any:
    try:
        # The wire module's reader: a job's result can be megabytes of counts.
        return wire.loads(response.content)
    except ValueError:
        raise VendorApiError(
            f"{method} {path}: the server answered HTTP {response.status_code} with a body "
            "that is not JSON",
            status_code=response.status_code,
            request_id=response.headers.get("X-Request-Id"),
        ) from None


# Problem types that name their own error class; the server's detail says the rest.
_PROBLEM_ERRORS: dict[str, type[VendorError]] = {
    PROBLEM_CALIBRATION_NOT_KEPT: CalibrationNotKeptError,
    PROBLEM_DEVICE_UNAVAILABLE: DeviceUnavailableError,
    PROBLEM_JOB_LIMIT: JobLimitError,
    PROBLEM_SESSION_CLOSED: SessionClosedError,
    PROBLEM_SESSION_DEVICE: SessionDeviceError,
    PROBLEM_SESSION_LIMIT: SessionLimitError,
    PROBLEM_STORAGE_FULL: ServerStorageFullError,
}


def error_from_response(response: requests.Response, method: str, path: str) -> VendorError:
    """Turn a non-2xx answer into the matching typed error, keeping the server's detail."""
    request_id = response.headers.get("X-Request-Id")
    problem_type = "about:blank"
    try:
        problem = Problem.model_validate(response.json())
        detail = problem.detail or problem.title
        problem_type = problem.type
    except (ValueError, PydanticValidationError):
        detail = response.reason or ""
    status = response.status_code
    error_type: type[VendorError]
    if problem_type in _PROBLEM_ERRORS:
        error_type = _PROBLEM_ERRORS[problem_type]
        hint = ""
    elif status == 507:
        error_type = ServerStorageFullError
        hint = "nothing was stored; resume() sends a journalled job again once there is room"
    elif status == 426:
        error_type = VendorUpgradeRequiredError
        hint = "upgrade the package: pip install -U qiskit-vendor-provider"
    elif 300 <= status < 400:
        error_type = VendorApiError
        hint = (
            f"redirects to {response.headers.get('Location', '?')} are not followed, so the "
            "token stays with this server; configure the final URL instead"
        )
    elif status in (401, 403):
        error_type = VendorAuthError
        hint = "check your token (VendorProvider(token=...) or QISKIT_VENDOR_TOKEN)"
    elif status == 404:
        error_type = VendorNotFoundError
        hint = ""
    elif status in (400, 413, 422):
        error_type = VendorValidationError
        hint = ""
    else:
        error_type = VendorApiError
        hint = "the server had a problem; try again later" if status >= 500 else ""
    message = f"{method} {path} failed with HTTP {status}: {detail}"
    if hint:
        message += f" ({hint})"
    return error_type(message, status_code=status, detail=detail, request_id=request_id)
