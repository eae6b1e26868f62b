"""The emulator's HTTP face: a FastAPI app over :class:`~.service.Emulator`.

Routes only translate: path and body in, model out, :class:`~.service.ProblemError` to an
``application/problem+json`` answer. Every answer carries an ``X-Request-Id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import gc
import logging
import re
import sqlite3
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import BackgroundTasks, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qiskit_vendor_provider import rules
from qiskit_vendor_provider._version import __version__
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.models import (
    CALIBRATION_ID_PATTERN,
    PROBLEM_UPGRADE_REQUIRED,
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
    JobSubmission,
    ReservationList,
    SessionInfo,
    SessionList,
    SessionRequest,
    SubmittedJob,
)
from qiskit_vendor_provider.api.states import is_final
from qiskit_vendor_provider.api.versions import (
    API_VERSION,
    API_VERSION_HEADER,
    BASELINE,
    BASELINE_API_VERSION,
    EARLY_RESULT_API_VERSION,
    PACKED_RESULTS_API_VERSION,
    SERVER_VERSION_HEADER,
    WARNING_HEADER,
    format_api_version,
    parse_api_version,
)
from qiskit_vendor_provider.emulator.problems import storage_problem
from qiskit_vendor_provider.emulator.result_format import result_for_client
from qiskit_vendor_provider.emulator.service import Emulator, ProblemError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_PROBLEM_HEADERS = {
    # RFC 6750: a 401 names the scheme it wants, and nothing about which tokens exist.
    401: {"WWW-Authenticate": 'Bearer realm="vendor"'},
    503: {"Retry-After": "30"},
}


def _problem_response(
    request: Request, status: int, title: str, detail: str, type: str = "about:blank"
) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse(
        {
            "type": type,
            "title": title,
            "status": status,
            "detail": detail,
            "request_id": request_id,
        },
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=_PROBLEM_HEADERS.get(status),
    )


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        if error.get("type") == "json_invalid":
            # FastAPI's location of a JSON error is a character offset, not a field.
            reason = (error.get("ctx") or {}).get("error") or error.get("msg", "invalid")
            parts.append(f"the body is not valid JSON: {reason}")
            continue
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _check_body_size(request: Request, limit: int, size: int | None = None) -> None:
    """A 413 (400 for a Content-Length that is not a number) when a body is too large."""
    if size is None:
        declared = request.headers.get("content-length")
        if declared is None:
            return
        if not declared.isdigit():
            raise ProblemError(400, "Bad Request", "Content-Length is not a number")
        size = int(declared)
    if size > limit:
        raise ProblemError(
            413,
            "Payload Too Large",
            f"request bodies are limited to {limit} bytes; split the job",
        )


class RequestGuard:
    """Every request's id, authentication and body size, before any body is read.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``)
    cost about 0.4 ms a request, most of a status request's time in process.

    * every answer carries ``X-Request-Id``;
    * a ``/v1/`` request without a valid token gets a 401 and nothing else, whatever it
      sent (the account is kept in ``request.state.account`` for the routes);
    * a body over ``max_body_bytes`` gets a 413: at once when its length is declared, and
      as soon as it passes the limit when it is not (chunked), so that no request can
      fill the memory.
    """

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call: guard an HTTP request, pass anything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        tagged = _with_request_id(send, request_id)
        request = Request(scope)
        limit = self.emulator.config.max_body_bytes
        try:
            if scope["path"].startswith("/v1/"):
                account = self.emulator.authenticate(request.headers.get("authorization"))
                scope["state"]["account"] = account
            _check_body_size(request, limit)
        except ProblemError as exc:
            problem = _problem_response(request, exc.status, exc.title, exc.detail, exc.type)
            await problem(scope, receive, tagged)
            return
        if request.headers.get("content-length") is None:
            receive = _limited(receive, limit)
        await self.app(scope, receive, tagged)


@dataclass(frozen=True)
class Feature:
    """Something a client older than ``since`` cannot handle, and where it shows."""

    since: tuple[int, int]
    prefixes: tuple[str, ...]
    message: str


FEATURES = (
    Feature(
        since=(1, 1),
        prefixes=("/v1/jobs", "/v1/sessions"),
        message=(
            "this client speaks API {client}; clients before API 1.1 (qiskit-vendor-provider "
            "0.1) fail to list or retrieve jobs and sessions of withdrawn devices, and wait "
            "forever on job states they do not know. Upgrade: pip install -U "
            "qiskit-vendor-provider"
        ),
    ),
)
"""What older clients are warned about (once each): see ``docs/api-contract.md``."""

_MAX_WARNED = 10_000


class VersionHeaders:
    """The version exchange of ``docs/api-contract.md``, around every request.

    * every answer names this server's API version and software;
    * a ``/v1/`` request from a client older than ``minimum`` (its
      ``X-Vendor-API-Version``; none means 1.0) gets a 426 problem naming the minimum;
    * a client older than a feature of :data:`FEATURES` that its request touches gets an
      ``X-Vendor-Warning`` header on a successful answer, once per client version and
      User-Agent.
    """

    def __init__(self, app: ASGIApp, minimum: str = BASELINE_API_VERSION) -> None:
        self.app = app
        parsed = parse_api_version(minimum)
        if parsed is None:
            raise ValueError(f"min_client_api={minimum!r} must be MAJOR.MINOR, e.g. '1.0'")
        self.minimum = parsed
        self._warned: set[tuple[str, str, int]] = set()
        self._answer_headers = [
            (API_VERSION_HEADER.lower().encode(), API_VERSION.encode()),
            (SERVER_VERSION_HEADER.lower().encode(), f"vendor-emulator/{__version__}".encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call: version an HTTP request, pass anything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        declared = request.headers.get(API_VERSION_HEADER)
        client = parse_api_version(declared) or BASELINE
        headers = list(self._answer_headers)
        path: str = scope["path"]
        if path.startswith("/v1/") and client < self.minimum:
            request_id = uuid.uuid4().hex
            scope.setdefault("state", {})["request_id"] = request_id
            problem = _problem_response(
                Request(scope),
                426,
                "Upgrade Required",
                f"this server serves clients of API {format_api_version(self.minimum)} and "
                f"newer; this one speaks {format_api_version(client)}. Upgrade: pip install "
                "-U qiskit-vendor-provider",
                type=PROBLEM_UPGRADE_REQUIRED,
            )
            send = _with_request_id(send, request_id)
            await problem(scope, receive, _with_headers(send, headers))
            return
        agent = request.headers.get("user-agent", "")[:200]
        due = [
            (key, feature)
            for number, feature in enumerate(FEATURES)
            if client < feature.since
            and path.startswith(feature.prefixes)
            and (key := (format_api_version(client), agent, number)) not in self._warned
        ]

        async def versioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(headers)
                # Only on a success: an error answer must not differ by what came before
                # (a 404 for another account's job looks exactly like one for no job).
                if message["status"] < 300:
                    for key, feature in due:
                        if len(self._warned) >= _MAX_WARNED:
                            self._warned.clear()  # bounded: User-Agents are the client's
                        self._warned.add(key)
                        text = feature.message.format(client=format_api_version(client))
                        extra.append((WARNING_HEADER.lower().encode(), text.encode()))
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, versioned)


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def versioned(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return versioned


def _with_request_id(send: Send, request_id: str) -> Send:
    header = (b"x-request-id", request_id.encode())

    async def tagged(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), header]
        await send(message)

    return tagged


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` of a body of undeclared length: a 413 as soon as it passes ``limit``."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                # Raised where the route reads its body: the app's handler answers 413.
                raise ProblemError(
                    413,
                    "Payload Too Large",
                    f"request bodies are limited to {limit} bytes; split the job",
                )
        return message

    return counted


def _is_json(content_type: str | None) -> bool:
    """Whether a Content-Type names JSON (a missing one is taken as JSON).

    >>> _is_json("application/json; charset=utf-8"), _is_json(None), _is_json("text/plain")
    (True, True, False)
    """
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _checked_job_id(job_id: str) -> str:
    if not _JOB_ID.fullmatch(job_id):
        raise ProblemError(404, "Not Found", "not a job id: job ids are 32 lowercase hex digits")
    return job_id


def _checked_session_id(session_id: str) -> str:
    if not _JOB_ID.fullmatch(session_id):
        raise ProblemError(
            404, "Not Found", "not a session id: session ids are 32 lowercase hex digits"
        )
    return session_id


async def _account(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    # async: a dependency this cheap is not worth a hop to the thread pool.
    # The middleware authenticated every /v1/ request before its body was read.
    account: str | None = getattr(request.state, "account", None)
    if account is not None:
        return account
    emulator: Emulator = request.app.state.emulator
    return emulator.authenticate(authorization)


Account = Annotated[str, Depends(_account)]


MAX_WAIT_SECONDS = 30.0
"""Longest long poll (``GET /v1/jobs/{id}?wait=``, ``GET /v1/jobs/{id}/result?wait=``)."""


def _wait_query(description: str) -> Any:
    """The ``wait`` parameter of a long poll: seconds, at most ``MAX_WAIT_SECONDS``."""
    return Query(ge=0, le=MAX_WAIT_SECONDS, description=f"long poll: {description}")


StatusWait = Annotated[
    float | None,
    _wait_query(
        "answer as soon as the job is final, or after this many seconds "
        f"(at most {MAX_WAIT_SECONDS:g})"
    ),
]
SubmitWait = Annotated[
    float | None,
    _wait_query(
        "hold the answer while the job runs, if it starts at once, for at most this many "
        "seconds; a job that ended DONE meanwhile comes with its result (API 1.5)"
    ),
]
ResultWait = Annotated[
    float | None,
    _wait_query(
        "wait up to this many seconds for the job to end first (a job that did not end, "
        "or has no result, is still a 409)"
    ),
]


async def _job_bytes(request: Request) -> bytes:
    """A job's body as sent, once its media type and size pass; the route parses it.

    Parsed strictly, by :func:`_decode_and_submit`: ``"10"`` is not a number, ``1`` not a
    bool. FastAPI would validate a declared body (which also documents it in the OpenAPI
    document) in pydantic's lax mode, which would coerce such values, and on the event
    loop; the body is documented by the route instead. It is kept as received, for the
    device's payload limit and the job store.
    """
    if not _is_json(request.headers.get("content-type")):
        raise ProblemError(
            415, "Unsupported Media Type", "send the job as JSON (Content-Type: application/json)"
        )
    emulator: Emulator = request.app.state.emulator
    return await _job_body(request, emulator)


class _InvalidJobError(Exception):
    """A job body that does not parse as a ``JobSubmission`` (the route answers 422)."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class _Submitted:
    """What :func:`_decode_and_submit` did: the job, whether it is new, whether to hold."""

    info: JobInfo
    created: bool
    hold: bool


def _decode_and_submit(
    emulator: Emulator, account: str, body: bytes, key: str | None, wait: float | None
) -> _Submitted:
    """Parse, check and store a job, and say whether its answer may wait for it to end.

    All in one trip to the thread pool: a large job takes a while to validate, and the
    event loop keeps answering other requests meanwhile; a small one pays for each trip.

    Raises:
        _InvalidJobError: the body is not a valid job.
    """
    try:
        submission = wire.decode_submission(body)
    except ValidationError as exc:
        raise _InvalidJobError(exc) from None
    # The device's payload limit is the rule book's to check, with the route's other rules.
    info, created = emulator.submit(account, submission, key, body=body)
    hold = bool(wait) and emulator.starts_at_once(info)
    return _Submitted(info, created, hold)


_DEVICE_FIRST = re.compile(rb'\A\s*\{\s*"device"\s*:\s*"([A-Za-z0-9][A-Za-z0-9_.\-]{0,63})"')
"""A body that names its device first, as the SDK writes every job."""
_SNIFF_BYTES = 4096


def _too_large(size: int, largest: int, *, at_least: bool = False) -> ProblemError:
    """The 413 of a body larger than any device takes."""
    return ProblemError(
        413,
        "Payload Too Large",
        f"the job is {'more than ' if at_least else ''}{size} bytes, more than any device "
        f"accepts (the largest payload limit is {largest} bytes); split the circuits over "
        "several jobs",
    )


def _device_named_first(head: bytes, emulator: Emulator) -> str | None:
    """The device a body names first, if the emulator serves it.

    >>> _DEVICE_FIRST.match(b' {"device": "ideal_simulator", "shots": 1').group(1)
    b'ideal_simulator'
    """
    found = _DEVICE_FIRST.match(head)
    name = found.group(1).decode() if found else None
    return name if name is not None and name in emulator.catalog else None


async def _job_body(request: Request, emulator: Emulator) -> bytes:
    """A job's body, read only while it can still fit a device's payload limit.

    A body larger than every device's ``max_payload_bytes`` is refused by its declared
    length before a byte is read. When the body names its device first (as the SDK
    writes it), that device's limit applies as soon as the name has arrived: to the
    declared length, or to the bytes read so far (a chunked body is not read past it).
    Either way a 413 comes before anything is parsed; the rule book checks the exact
    size again after parsing, for a body that names its device later.
    """
    largest = emulator.largest_payload()
    declared_text = request.headers.get("content-length")
    declared = int(declared_text) if declared_text and declared_text.isdigit() else None
    if declared is not None and declared > largest:
        raise _too_large(declared, largest)
    device: str | None = None
    chunks: list[bytes] = []
    size = 0
    sniffing = True
    try:
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if sniffing and (size >= _SNIFF_BYTES or not chunk):
                sniffing = False
                device = _device_named_first(b"".join(chunks)[:_SNIFF_BYTES], emulator)
                if device is not None and declared is not None:
                    limits = emulator.catalog.spec(device).limits
                    rules.check_payload_size(declared, limits, device)
            if device is not None:
                limits = emulator.catalog.spec(device).limits
                rules.check_payload_size(size, limits, device, at_least=True)
            elif size > largest:
                raise _too_large(size, largest, at_least=True)
    except rules.DeviceLimitError as exc:
        raise ProblemError(413, "Payload Too Large", str(exc)) from None
    return b"".join(chunks)


_TRIM_AFTER_BYTES = 4 * 1024 * 1024


def release_freed_memory() -> None:
    """Return the allocator's free memory to the system (glibc only; a no-op elsewhere).

    A large job is parsed into many small objects; once they are freed, glibc keeps the
    pages for reuse, and the server's RSS would stay at its peak for good.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


_STORE_CHECK_SECONDS = 0.25
"""How often a long poll looks at the store, for jobs another process ends."""


Seen = TypeVar("Seen")


async def _held(
    emulator: Emulator,
    job_id: str,
    wait: float,
    read: Callable[[], Seen],
    status_of: Callable[[Seen], str],
    *,
    seen: Seen | None = None,
    read_where_ended: bool = False,
) -> Seen:
    """What ``read()`` gives once the job is final, or when ``wait`` seconds have passed.

    ``read`` runs in the thread pool; ``seen`` is a first reading already made (else one
    is made here, so that a request for a job that is not the account's is refused
    before anything waits). A job that is not final is then watched, and one that ended
    between that reading and the watch wakes the wait at once (the emulator remembers
    recent ends), not at the next store check.

    With ``read_where_ended`` (for a ``read`` that is quick whatever the job holds), the
    thread that ends the job (the supervisor's, a cancel's) reads it there and hands the
    reading over with the wake-up: the end of a short job then costs the event loop no
    trip to its thread pool.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    if seen is None:
        seen = await run_in_threadpool(read)
    if is_final(status_of(seen)) or wait <= 0:
        return seen
    ended = asyncio.Event()
    readings: list[Seen] = []
    failures: list[Exception] = []
    loop_thread = threading.get_ident()

    def hand_over(reading: Seen | None, failure: Exception | None) -> None:
        if failure is not None:
            failures.append(failure)
        elif reading is not None:
            readings.append(reading)
        ended.set()

    def wake() -> None:  # called by whatever ended the job, on its own thread
        reading, failure = None, None
        if read_where_ended and threading.get_ident() != loop_thread:
            try:
                reading = read()
            except Exception as exc:  # raised where the request is answered
                failure = exc
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(hand_over, reading, failure)

    unwatch = emulator.watch(job_id, wake)
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining > 0 and not ended.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(ended.wait(), min(remaining, _STORE_CHECK_SECONDS))
            ended.clear()
            if failures:
                raise failures[-1]
            seen = readings[-1] if readings else await run_in_threadpool(read)
            readings.clear()
            if is_final(status_of(seen)) or loop.time() >= deadline:
                return seen
    finally:
        unwatch()


async def _long_poll(emulator: Emulator, account: str, job_id: str, wait: float) -> JobInfo:
    """The job once it is final, or as it is when ``wait`` seconds have passed."""
    read = functools.partial(emulator.job, account, job_id)
    return await _held(emulator, job_id, wait, read, _status, read_where_ended=True)


def _status(info: JobInfo) -> str:
    return info.status


def _status_with(seen: tuple[JobInfo, str | None]) -> str:
    return seen[0].status


def _job_with_result(
    emulator: Emulator, account: str, job_id: str, client: tuple[int, int], with_result: bool
) -> tuple[JobInfo, str | None]:
    """The job and, once it is DONE, its result as this client reads it (one store read).

    Without ``with_result``, the job alone (and None).
    """
    if not with_result:
        return emulator.job(account, job_id), None
    info, result = emulator.job_with_result(account, job_id)
    return info, None if result is None else result_for_client(result, client)


def _result_answer(emulator: Emulator, account: str, job_id: str, client: tuple[int, int]) -> str:
    """``GET /v1/jobs/{id}/result``'s body: the stored result, as this client reads it."""
    # Results are stored as validated JSON: sent as they are, not parsed again.
    return result_for_client(emulator.result_json(account, job_id), client)


def _submitted_response(info: JobInfo, result: str | None, status_code: int) -> Response:
    """A submission's answer (``SubmittedJob``): the job, and its result JSON if given.

    The result is put in as the text it is stored as, not parsed and written again.
    """
    text = info.model_dump_json()
    if result is not None:
        text = f'{text[:-1]},"result":{result}}}'
    return Response(text, status_code=status_code, media_type="application/json")


def _json_response(info: JobInfo, status_code: int = 200) -> Response:
    """A job's state as JSON, written by its model directly.

    The job routes declare ``response_model=JobInfo`` for the OpenAPI document but
    answer with this: FastAPI would validate the model it was handed a second time
    before writing it, a good part of a small job's time in process.
    """
    return Response(info.model_dump_json(), status_code=status_code, media_type="application/json")


def _document_submission(app: FastAPI) -> None:
    """Put the job body's schema in the OpenAPI document (the route reads it by itself)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schema = JobSubmission.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas.setdefault(name, definition)
            schemas["JobSubmission"] = schema
            app.openapi_schema = dict(sorted(document.items()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_job_routes(app: FastAPI, emulator: Emulator) -> None:
    """The ``/v1/jobs`` routes (submit, list, status, result, cancel) and ``/v1/account``."""

    @app.post(
        "/v1/jobs",
        tags=["jobs"],
        status_code=201,
        response_model=SubmittedJob,
        # The body is read by _job_bytes, not declared as a parameter: FastAPI would
        # parse a declared one a second time, on the event loop. Documented here.
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/JobSubmission"}}
                },
            }
        },
    )
    async def submit_job(
        *,
        body: Annotated[bytes, Depends(_job_bytes)],
        request: Request,
        background: BackgroundTasks,
        user: Account,
        idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
        wait: SubmitWait = None,
    ) -> Response:
        try:
            submitted = await run_in_threadpool(
                _decode_and_submit, emulator, user, body, idempotency_key, wait
            )
        except _InvalidJobError as exc:
            raise RequestValidationError(exc.error.errors(include_url=False)) from None
        if int(request.headers.get("content-length") or 0) >= _TRIM_AFTER_BYTES:
            # Once the answer is sent, the parsed job is garbage: hand its memory back.
            # (Not after small jobs: a collection costs tens of milliseconds.)
            background.add_task(release_freed_memory)
        status_code = 201 if submitted.created else 200
        client = parse_api_version(request.headers.get(API_VERSION_HEADER)) or BASELINE
        if not submitted.hold or wait is None:
            return _json_response(submitted.info, status_code)
        job_id = submitted.info.job_id
        # Held while the job runs: a short job's answer is its result (API 1.5). A client
        # that cannot know the field is not sent it (nor is its result read).
        with_result = client >= EARLY_RESULT_API_VERSION
        read = functools.partial(_job_with_result, emulator, user, job_id, client, with_result)
        first: tuple[JobInfo, str | None] = (submitted.info, None)
        info, result = await _held(
            emulator, job_id, wait, read, _status_with, seen=first, read_where_ended=True
        )
        return _submitted_response(info, result, status_code)

    @app.get("/v1/jobs", tags=["jobs"])
    def list_jobs(user: Account, query: Annotated[JobQuery, Query()]) -> JobPage:
        return emulator.list_jobs(user, query)

    @app.get("/v1/account", tags=["account"])
    def get_account(user: Account) -> AccountInfo:
        return emulator.account(user)

    @app.get("/v1/jobs/{job_id}", tags=["jobs"], response_model=JobInfo)
    async def get_job(
        job_id: str,
        user: Account,
        wait: StatusWait = None,
    ) -> Response:
        checked = _checked_job_id(job_id)
        if not wait:
            return _json_response(await run_in_threadpool(emulator.job, user, checked))
        return _json_response(await _long_poll(emulator, user, checked, wait))

    @app.get("/v1/jobs/{job_id}/result", tags=["jobs"], response_model=JobResult)
    async def get_result(
        job_id: str,
        user: Account,
        request: Request,
        wait: ResultWait = None,
    ) -> Response:
        checked = _checked_job_id(job_id)
        client = parse_api_version(request.headers.get(API_VERSION_HEADER)) or BASELINE
        body = None
        if wait:
            # The status and the result in one request: a short job's whole wait. (Read
            # where the job ends unless the result must be rewritten for an old client.)
            read = functools.partial(_job_with_result, emulator, user, checked, client, True)
            quick = client >= PACKED_RESULTS_API_VERSION
            _, body = await _held(
                emulator, checked, wait, read, _status_with, read_where_ended=quick
            )
        if body is None:  # not DONE: a partial result, or a 409 saying why there is none
            body = await run_in_threadpool(_result_answer, emulator, user, checked, client)
        return Response(body, media_type="application/json")

    @app.post("/v1/jobs/{job_id}/cancel", tags=["jobs"])
    def cancel_job(job_id: str, user: Account) -> JobInfo:
        return emulator.cancel(user, _checked_job_id(job_id))


def _add_session_routes(app: FastAPI, emulator: Emulator) -> None:
    """The ``/v1/sessions`` routes: open, read, list, close and cancel sessions and batches."""

    @app.post("/v1/sessions", tags=["sessions"], status_code=201)
    def create_session(body: SessionRequest, user: Account) -> SessionInfo:
        return emulator.create_session(user, body)

    @app.get("/v1/sessions", tags=["sessions"])
    def list_sessions(
        user: Account, limit: Annotated[int, Query(ge=1, le=100)] = 50
    ) -> SessionList:
        return SessionList(sessions=emulator.list_sessions(user, limit))

    @app.get("/v1/sessions/{session_id}", tags=["sessions"])
    def get_session(session_id: str, user: Account) -> SessionInfo:
        return emulator.session(user, _checked_session_id(session_id))

    @app.post("/v1/sessions/{session_id}/close", tags=["sessions"])
    def close_session(session_id: str, user: Account) -> SessionInfo:
        return emulator.close_session(user, _checked_session_id(session_id))

    @app.post("/v1/sessions/{session_id}/cancel", tags=["sessions"])
    def cancel_session(session_id: str, user: Account) -> SessionInfo:
        return emulator.cancel_session(user, _checked_session_id(session_id))


def create_app(emulator: Emulator) -> FastAPI:
    """The FastAPI app serving ``emulator`` under ``/v1``.

    With ``emulator.config.faults`` set, a :class:`~.faults.FaultMiddleware` in front of
    everything injects them; its :class:`~.faults.FaultInjector` is ``app.state.faults``
    (None without faults).

    Args:
        emulator: The service behind the routes; the app does not start or stop it.
    """
    app = FastAPI(
        title="Vendor quantum REST API (emulator)",
        version=__version__,
        description="The vendor REST API v1, served by the Aer-backed emulator.",
    )
    app.state.emulator = emulator

    # Outermost, so that even a 401 or 413 carries its request id.
    app.add_middleware(RequestGuard, emulator=emulator)
    # Around that: every answer, a 401 included, names the server's versions.
    app.add_middleware(VersionHeaders, minimum=emulator.config.min_client_api)

    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return _problem_response(request, exc.status, exc.title, exc.detail, exc.type)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem_response(request, 422, "Invalid Request", _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem_response(request, exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(sqlite3.Error)
    async def on_store_error(request: Request, exc: sqlite3.Error) -> JSONResponse:
        problem = storage_problem(exc)
        if problem is None:
            return await on_crash(request, exc)
        logger.error("emulator: the job store failed: %s", exc)
        return _problem_response(
            request, problem.status, problem.title, problem.detail, problem.type
        )

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("emulator: unhandled error")
        return _problem_response(request, 500, "Internal Server Error", "the emulator failed")

    @app.get("/v1/devices", tags=["devices"])
    def list_devices(_: Account) -> dict[str, list[DeviceSummary]]:
        return {"devices": emulator.list_devices()}

    @app.get("/v1/devices/{name}", tags=["devices"])
    def get_device(name: str, _: Account) -> DeviceSpec:
        return emulator.device(name)

    @app.get("/v1/devices/{name}/calibration", tags=["devices"])
    def get_calibration(
        name: str,
        _: Account,
        at: Annotated[
            AwareDatetime | None,
            Query(description="the calibration in force at this time (ISO 8601, with offset)"),
        ] = None,
        calibration_id: Annotated[
            str | None,
            Query(
                pattern=CALIBRATION_ID_PATTERN,
                description="this calibration, by id (404 naming those kept if not kept)",
            ),
        ] = None,
    ) -> Calibration:
        return emulator.calibration(name, at, calibration_id)

    @app.get("/v1/devices/{name}/calibrations", tags=["devices"])
    def list_calibrations(name: str, _: Account) -> CalibrationList:
        return CalibrationList(calibrations=emulator.calibration_list(name))

    @app.get("/v1/devices/{name}/reservations", tags=["devices"])
    def get_reservations(
        name: str,
        _: Account,
        start: AwareDatetime | None = None,
        end: AwareDatetime | None = None,
    ) -> ReservationList:
        return ReservationList(reservations=emulator.reservations(name, start, end))

    @app.get("/v1/devices/{name}/status", tags=["devices"])
    async def get_device_status(name: str, _: Account) -> DeviceStatus:
        # async with one explicit hop to the thread pool: FastAPI would take several for
        # a plain def (handler, then the answer's validation), a third of a status
        # request's time in process.
        return await run_in_threadpool(emulator.device_status, name)

    _add_job_routes(app, emulator)
    _add_session_routes(app, emulator)
    _document_submission(app)
    faults = emulator.config.faults
    app.state.faults = None
    if faults is not None and faults.enabled:
        # Imported here: an emulator without faults (the embedded one) never loads them.
        from qiskit_vendor_provider.emulator.faults import (  # noqa: PLC0415
            FaultInjector,
            FaultMiddleware,
        )

        # Added last, so it wraps every other middleware: a fault hits the request before
        # anything else sees it, and the whole answer after everything else made it.
        app.state.faults = FaultInjector(faults)
        app.add_middleware(FaultMiddleware, injector=app.state.faults)
        logger.warning("emulator: injecting faults: %s", faults.model_dump(exclude_defaults=True))
    return app
