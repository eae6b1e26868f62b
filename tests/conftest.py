"""Fixtures: an Aer-backed emulator, reached through mocked HTTP or a real loopback server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import responses

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.emulator import (
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    InProcessTransport,
    create_app,
)
from qiskit_vendor_provider.emulator.recalibration import PERIOD_ENV
from qiskit_vendor_provider.emulator.transport import dispatch

# Emulators made without a schedule recalibrate daily, by the wall clock: a run that
# crossed midnight UTC would see the shipped devices drift half-way. Here they keep the
# device files' calibration for ~30 years; tests of recalibration give a clock of their own.
os.environ.setdefault(PERIOD_ENV, str(10**9))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow: thousands of differential examples, and the "
        "wall-clock claims of tests/test_latency.py (how soon a cancel or a timeout acts)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


MOCK_URL = "https://api.vendor.test"
MOCK_TOKEN = "unit-test-token-0123456789"


class MockedApi:
    """The vendor API mocked at the requests layer; every answer comes from the emulator."""

    def __init__(self, emulator: Emulator, mock: responses.RequestsMock) -> None:
        self.emulator = emulator
        self.mock = mock
        self.app = create_app(emulator)
        self._lost: tuple[str, str] | None = None
        self._refusals: dict[tuple[str, str], int] = {}
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(MOCK_URL) + r"/.*"), self._answer)

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        for (method, prefix), left in self._refusals.items():
            if left and request.method == method and request.path_url.startswith(prefix):
                self._refusals[method, prefix] = left - 1
                raise requests.ConnectionError("connection refused (injected)")
        body = request.body or b""
        status, headers, content = dispatch(
            self.app,
            request.method or "GET",
            request.url or "",
            dict(request.headers),
            body.encode() if isinstance(body, str) else body,
        )
        if (
            self._lost is not None
            and (request.method, urlsplit(request.path_url).path) == self._lost
        ):
            # The server did the work; the client never hears of it.
            raise requests.ConnectionError("connection reset by peer (injected)")
        return status, dict(headers), content

    def refuse(self, method: str, path_prefix: str, times: int) -> None:
        """Refuse the next ``times`` requests to ``method path_prefix...`` (server down)."""
        self._refusals[method, path_prefix] = times

    def lose_answers(self, method: str | None, path: str = "") -> None:
        """From now on, answers to ``method path`` are lost after the server acted (None: stop)."""
        self._lost = None if method is None else (method, path)

    def calls(self, method: str | None = None, path: str = "") -> list[responses.Call]:
        """The HTTP requests made, optionally only those of one method and path prefix."""
        return [
            call
            for call in self.mock.calls
            if (method is None or call.request.method == method)
            and (call.request.url or "").startswith(MOCK_URL + path)
        ]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the session (in-memory store); tests must not depend on its jobs."""
    emu = Emulator(EmulatorConfig(database=":memory:", poll_interval=0.05)).start()
    yield emu
    emu.stop()


@pytest.fixture
def api(emulator: Emulator) -> Iterator[MockedApi]:
    """The vendor API at MOCK_URL, mocked with `responses`, answered by the emulator."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield MockedApi(emulator, mock)


@pytest.fixture
def provider(api: MockedApi) -> VendorProvider:
    """A provider with a URL and token, whose HTTP goes to the mocked API."""
    return VendorProvider(url=MOCK_URL, token=MOCK_TOKEN, poll_interval=(0.005, 0.05))


@pytest.fixture(scope="session")
def provider_session(emulator: Emulator) -> VendorProvider:
    """A provider reaching the session emulator in process (for tests that make no jobs)."""
    return VendorProvider(transport=InProcessTransport(create_app(emulator)))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    """A real emulator server on 127.0.0.1, on a free port, with a SQLite file."""
    database = Path(tmp_path_factory.mktemp("live")) / "jobs.sqlite3"
    server = EmulatorServer(Emulator(EmulatorConfig(database=database, poll_interval=0.05)))
    with server:
        yield server
