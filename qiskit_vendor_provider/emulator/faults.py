"""Fault injection for the emulator served over HTTP: the failures a real network and server have.

Off unless configured (``EmulatorConfig(faults=FaultConfig(...))``, or ``--faults`` on the
command line). When on, a pure ASGI middleware in front of the app answers a share of
requests with a fault instead of (or after) running them:

* ``error_500``, ``error_503``, ``error_429``: an ``application/problem+json`` error
  *instead of* running the route (nothing is done); 503 and 429 carry ``Retry-After``;
* ``drop``: the route runs (a submitted job is stored), then the connection is closed
  after the status line, before the body: the client never learns the job id;
* ``malformed``: the route runs, then its JSON body is cut in half;
* ``latency``: the request waits up to ``latency_seconds`` before it is handled; it
  combines with the others.

Each request draws from one :class:`random.Random` seeded by ``seed``, so a run with the
same seed and the same sequence of requests injects the same faults. These faults exist
to test clients, so they are meant for a server on a socket
(:class:`~qiskit_vendor_provider.emulator.server.EmulatorServer`); through the in-process
transport a dropped connection arrives as an answer with an empty body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

logger = logging.getLogger(__name__)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

FaultKind = Literal["error_500", "error_503", "error_429", "drop", "malformed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("error_500", "error_503", "error_429", "drop", "malformed")
"""The faults of which one request gets at most one (``latency`` comes on top)."""

_STATUS = {"error_500": 500, "error_503": 503, "error_429": 429}
_TITLES = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}

Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class FaultConfig(BaseModel):
    """Which faults the emulator injects, and how often (each rate is a share of requests).

    Attributes:
        error_500: Share answered 500 without running the route.
        error_503: Share answered 503 with ``Retry-After`` without running the route.
        error_429: Share answered 429 with ``Retry-After`` without running the route.
        drop: Share whose route runs and whose connection is then closed before the body.
        malformed: Share whose route runs and whose JSON body is then cut in half.
        latency: Share delayed before they are handled (on top of any other fault).
        latency_seconds: Longest delay; each delayed request waits a uniform draw up to it.
        retry_after: Seconds sent in ``Retry-After`` (fractions are sent as decimals,
            which HTTP does not define but this package's client reads).
        seed: Seed of the random draws; None for a different run each time.
        paths: Path prefixes that get faults; other requests are left alone.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    error_500: Rate = 0.0
    error_503: Rate = 0.0
    error_429: Rate = 0.0
    drop: Rate = 0.0
    malformed: Rate = 0.0
    latency: Rate = 0.0
    latency_seconds: float = Field(default=0.05, ge=0.0, le=60.0)
    retry_after: float = Field(default=1.0, ge=0.0, le=3600.0)
    seed: int | None = None
    paths: tuple[str, ...] = ("/v1/",)

    @model_validator(mode="after")
    def _check_total(self) -> FaultConfig:
        total = sum(getattr(self, kind) for kind in FAULT_KINDS)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"the rates of {', '.join(FAULT_KINDS)} add up to {total:g}; a request gets "
                "at most one of them, so they may add up to 1 at most"
            )
        return self

    @property
    def enabled(self) -> bool:
        """Whether any fault has a rate above zero."""
        return self.latency > 0 or any(getattr(self, kind) > 0 for kind in FAULT_KINDS)

    @classmethod
    def parse(cls, text: str) -> FaultConfig:
        """A configuration from a JSON object or from ``key=value`` pairs split by commas.

        A repeated ``paths=`` adds a prefix.

        >>> FaultConfig.parse("error_503=0.1, drop=0.05, seed=7").drop
        0.05
        >>> FaultConfig.parse('{"malformed": 0.2, "paths": ["/v1/jobs"]}').paths
        ('/v1/jobs',)
        >>> FaultConfig.parse("paths=/v1/jobs,paths=/v1/account").paths
        ('/v1/jobs', '/v1/account')

        Raises:
            ValueError: not a JSON object, a pair without ``=``, or a value out of range.
        """
        try:
            return cls._parse(text.strip())
        except ValidationError as exc:
            # One line per problem, without pydantic's links: this lands in a usage error.
            raise ValueError(
                "; ".join(
                    f"{'.'.join(map(str, error['loc'])) or 'faults'}: {error['msg']}"
                    for error in exc.errors(include_url=False)
                )
            ) from None

    @classmethod
    def _parse(cls, text: str) -> FaultConfig:
        if text.startswith("{"):
            return cls.model_validate_json(text)
        values: dict[str, Any] = {}
        paths: list[str] = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"fault setting {item!r} is not KEY=VALUE")
            key = key.strip()
            if key == "paths":
                paths.append(value.strip())
            else:
                values[key] = value.strip()
        if paths:
            values["paths"] = tuple(paths)
        return cls.model_validate(values)


class _QuietDrops(logging.Filter):
    """Hides uvicorn's error line for an answer left unfinished: with drops on, it is the fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


_QUIET_DROPS = _QuietDrops()


class FaultInjector:
    """Draws the fault of each request and counts what it injected.

    Args:
        config: Rates and seed.

    Attributes:
        active: Set to False to let requests through untouched (and True to resume).
        counts: Requests seen (``requests``) and faults injected, by kind.
    """

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.active = True
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(config.seed)
        # Requests are drawn for on the server's event loop, but tests read the counts
        # from other threads.
        self._lock = threading.Lock()
        if config.drop > 0:
            # Adding the same filter object twice keeps one copy.
            logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)

    def applies_to(self, path: str) -> bool:
        """Whether requests to ``path`` may get faults."""
        return self.active and any(path.startswith(prefix) for prefix in self.config.paths)

    def draw(self) -> tuple[FaultKind | None, float]:
        """The fault of one request (None: none) and the seconds it waits first."""
        config = self.config
        with self._lock:
            delayed = self._rng.random() < config.latency
            wait = self._rng.uniform(0.0, config.latency_seconds) if delayed else 0.0
            point = self._rng.random()
            chosen: FaultKind | None = None
            for kind in FAULT_KINDS:
                point -= getattr(config, kind)
                if point < 0:
                    chosen = kind
                    break
            self.counts["requests"] += 1
            if delayed:
                self.counts["latency"] += 1
            if chosen is not None:
                self.counts[chosen] += 1
        return chosen, wait

    def snapshot(self) -> dict[str, int]:
        """A copy of :attr:`counts`."""
        with self._lock:
            return dict(self.counts)


def _retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class FaultMiddleware:
    """A pure ASGI middleware that injects the faults its :class:`FaultInjector` draws.

    Args:
        app: The app behind it.
        injector: Draws the faults and counts them.
    """

    def __init__(self, app: AsgiApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http" or not self.injector.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return
        kind, wait = self.injector.draw()
        if wait > 0:
            await asyncio.sleep(wait)
        if kind is None:
            await self.app(scope, receive, send)
        elif kind in _STATUS:
            logger.debug("fault: %s for %s %s", kind, scope["method"], scope["path"])
            await self._drain(receive)
            await self._problem(send, _STATUS[kind])
        else:
            logger.debug("fault: %s after %s %s", kind, scope["method"], scope["path"])
            await self._after_route(kind, scope, receive, send)

    @staticmethod
    async def _drain(receive: Receive) -> None:
        # Reading the request body first keeps the connection usable for the next request.
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def _problem(self, send: Send, status: int) -> None:
        request_id = uuid.uuid4().hex
        body = json.dumps(
            {
                "type": "about:blank",
                "title": _TITLES[status],
                "status": status,
                "detail": "fault injected by the emulator's fault configuration",
                "request_id": request_id,
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
        ]
        if status in (429, 503):
            headers.append(
                (b"retry-after", _retry_after(self.injector.config.retry_after).encode())
            )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _after_route(
        self, kind: FaultKind, scope: MutableMapping[str, Any], receive: Receive, send: Send
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        # The route runs in full: whatever it did (a job stored) stays done.
        await self.app(scope, receive, capture)
        if start is None:  # pragma: no cover - the app always answers
            return
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if kind == "drop":
            # Status line and headers, then nothing: the server closes the connection
            # when an app returns without finishing its answer.
            headers.append((b"content-length", str(len(body)).encode()))
            await send(
                {"type": "http.response.start", "status": start["status"], "headers": headers}
            )
            return
        # Half of a JSON object never parses: its closing brace is gone.
        cut = body[: len(body) // 2]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": cut, "more_body": False})
