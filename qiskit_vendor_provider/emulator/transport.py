"""Send ``requests`` to an ASGI app in this process, with no socket in between.

:class:`InProcessTransport` is a :class:`requests.adapters.BaseAdapter`: mounted on a
``requests.Session``, it hands each request to the emulator app and returns the app's
answer as a :class:`requests.Response`. The client code above it is exactly the code that
talks to a remote server, which is what makes the embedded default honest.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

AsgiApp = Any
Message = MutableMapping[str, Any]


class _EventLoopThread:
    """One asyncio loop on a daemon thread, shared by every in-process request."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, name="vendor-emulator-asgi", daemon=True
        )
        self._thread.start()

    def _serve(self) -> None:
        # run_until_complete on a task that never ends, not run_forever: the app's thread
        # pool (anyio's, behind FastAPI's run_in_threadpool) keeps its threads for the
        # loop's root task, the one run_until_complete runs. Under run_forever each
        # request's task was its own root, so every request started threads of its own
        # and stopped them when it ended: several thread starts per job.
        self.loop.run_until_complete(_idle_forever())


async def _idle_forever() -> None:
    await asyncio.get_running_loop().create_future()


_LOOP: _EventLoopThread | None = None
_LOOP_LOCK = threading.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP  # noqa: PLW0603 - one loop per process, made on first use
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = _EventLoopThread()
        return _LOOP.loop


async def _call_asgi(
    app: AsgiApp, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method.upper(),
        "scheme": parts.scheme,
        "path": unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 0),
        "server": (parts.hostname or "localhost", port),
    }
    request_sent = False
    response_done = asyncio.Event()
    status = 500
    response_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await response_done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            response_headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                response_done.set()

    await app(scope, receive, send)
    response_done.set()
    return status, response_headers, b"".join(chunks)


def dispatch(
    app: AsgiApp,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    timeout: float | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run one request through an ASGI app from synchronous code.

    Returns:
        The status, the headers and the body of the app's answer.
    """
    future = asyncio.run_coroutine_threadsafe(_call_asgi(app, method, url, headers, body), _loop())
    return future.result(timeout)


def _body_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _read_timeout(timeout: object) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if isinstance(timeout, (int, float)) else None


class InProcessTransport(BaseAdapter):
    """A requests transport that answers from an ASGI app in this process.

    Args:
        app: The ASGI app, normally :func:`~qiskit_vendor_provider.emulator.app.create_app`.
    """

    def __init__(self, app: AsgiApp) -> None:
        super().__init__()
        self.app = app

    def send(  # type: ignore[override]  # noqa: PLR0917 - requests' adapter signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Hand the request to the app and wrap its answer as a ``requests.Response``."""
        try:
            status, headers, body = dispatch(
                self.app,
                request.method or "GET",
                request.url or "/",
                dict(request.headers),
                _body_bytes(request.body),
                timeout=_read_timeout(timeout),
            )
        except TimeoutError as exc:
            raise requests.ReadTimeout(f"in-process emulator did not answer: {exc}") from None
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response._content = body
        response.url = request.url or ""
        response.request = request
        response.reason = (
            HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        )
        response.encoding = "utf-8"
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to release: the app outlives the sessions that use it."""
