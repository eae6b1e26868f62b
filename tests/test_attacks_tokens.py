"""Attacks on the token promise: odd tokens, servers that echo it, retries that log it.

The promise: a token never appears in a repr, a log line, an exception or a file other
than the user's accounts file, and a token an HTTP header cannot carry is refused with a
typed error before anything is sent.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qiskit_vendor_provider import (
    VendorAuthError,
    VendorError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.api.client import ApiClient, RetryPolicy
from qiskit_vendor_provider.api.secret import REDACTED, Token, redact
from tests.conftest import MOCK_URL, MockedApi

SECRET = "tok-SECRET-1234"


class CaptureServer:
    """A tiny HTTP server on 127.0.0.1 that records every Authorization header it gets.

    ``answer`` decides the reply: a callable from (path, authorization) to
    (status, JSON body). By default it echoes the Authorization header back in a
    problem detail, as a careless server might.
    """

    def __init__(self) -> None:
        self.authorizations: list[str | None] = []
        self.paths: list[str] = []
        self.answer = self.echo
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                authorization = self.headers.get("Authorization")
                outer.authorizations.append(authorization)
                outer.paths.append(self.path)
                status, body = outer.answer(self.path, authorization)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @staticmethod
    def echo(path: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        return 401, {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": f"token rejected: {authorization} (raw {str(authorization)[7:]})",
        }

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


def _no_secret(*texts: object, secret: str = SECRET) -> None:
    for text in texts:
        assert secret not in str(text), text


# Each hostile token, and the words the typed error uses for it.
HOSTILE_TOKENS = [
    pytest.param(f"{SECRET}\n567890", "line break", id="newline"),
    pytest.param(f"{SECRET}\r\n567890", "line break", id="crlf"),
    pytest.param(f"{SECRET}\x00567890", "NUL", id="nul"),
    pytest.param(f"{SECRET}\t567890", "space or tab", id="tab"),
    pytest.param(f"{SECRET} 567890", "space or tab", id="inner space"),
    pytest.param(f"{SECRET}é567890", "not ASCII", id="latin-1"),
    pytest.param(f"{SECRET}токен", "not ASCII", id="cyrillic"),
    pytest.param(f"{SECRET}\u200b567890", "not ASCII", id="zero width space"),
    pytest.param(f"{SECRET}\x1b[2J", "control character", id="escape"),
    pytest.param(f"{SECRET}\x7f", "control character", id="delete"),
    pytest.param(SECRET + "x" * 5000, "characters long", id="very long"),
    pytest.param(f"{SECRET}'567890", "punctuation", id="quote"),
    pytest.param(f"{SECRET},567890", "punctuation", id="comma"),
    pytest.param(f"{SECRET};x=1", "punctuation", id="semicolon"),
    pytest.param(f"{SECRET}=567890", "only at its end", id="inner equals"),
]


@pytest.mark.parametrize(("token", "words"), HOSTILE_TOKENS)
def test_hostile_token_argument_is_refused_unsent_and_unquoted(
    api: MockedApi, caplog: pytest.LogCaptureFixture, token: str, words: str
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(VendorAuthError) as failure:
        VendorProvider(url=MOCK_URL, token=token, journal=False).backends()
    assert words in str(failure.value)
    assert "copy the token again" in str(failure.value) or "pasted only" in str(failure.value)
    _no_secret(failure.value, repr(failure.value), failure.value.args, caplog.text)
    assert api.calls() == []


# An environment variable cannot hold a NUL at all.
@pytest.mark.parametrize(("token", "words"), [p for p in HOSTILE_TOKENS[:8] if p.id != "nul"])
def test_hostile_token_from_environment_or_saved_file_is_refused_too(
    api: MockedApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    token: str,
    words: str,
) -> None:
    monkeypatch.setenv("QISKIT_VENDOR_URL", MOCK_URL)
    monkeypatch.setenv("QISKIT_VENDOR_TOKEN", token)
    with pytest.raises(VendorAuthError, match=words) as failure:
        VendorProvider(journal=False)
    _no_secret(failure.value, repr(failure.value))
    monkeypatch.delenv("QISKIT_VENDOR_URL")
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN")
    with pytest.raises(VendorAuthError, match=words) as failure:
        VendorProvider.save_account(token=token, url=MOCK_URL, name="hostile")
    _no_secret(failure.value, repr(failure.value))
    assert api.calls() == []


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("  padded-token-123456  \n", id="surrounding whitespace"),
        pytest.param("abc.DEF_123~+/-==", id="every RFC 6750 punctuation"),
        pytest.param("x" * 4096, id="longest"),
    ],
)
def test_usable_tokens_are_sent_as_given_without_surrounding_whitespace(
    capture: CaptureServer, token: str
) -> None:
    with pytest.raises(VendorAuthError):
        VendorProvider(url=capture.url, token=token, journal=False).backends()
    assert capture.authorizations == [f"Bearer {token.strip()}"]


@pytest.mark.parametrize("blank", ["", "   ", "\n"])
def test_blank_token_argument_means_no_token(capture: CaptureServer, blank: str) -> None:
    with pytest.raises(VendorAuthError):
        VendorProvider(url=capture.url, token=blank, journal=False).backends()
    assert capture.authorizations == [None]


# What a server may echo, and where.
ECHOES = [
    pytest.param(401, "detail", id="401 detail"),
    pytest.param(422, "detail", id="422 detail"),
    pytest.param(404, "title", id="404 title"),
    pytest.param(503, "detail", id="503 detail, retried"),
    pytest.param(200, "body", id="200 invalid body"),
]


@pytest.mark.parametrize(("status", "where"), ECHOES)
def test_a_server_echoing_the_token_cannot_put_it_in_errors_or_logs(
    capture: CaptureServer, caplog: pytest.LogCaptureFixture, status: int, where: str
) -> None:
    token = "echo-SECRET-0987654321"

    def answer(path: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        value = str(authorization)
        if where == "body":
            return 200, {"devices": [{"name": value, "num_qubits": value}]}
        problem: dict[str, Any] = {"type": "about:blank", "title": "t", "status": status}
        problem[where] = f"you sent Authorization: {value}; token={value[7:]}"
        return status, problem

    capture.answer = answer
    caplog.set_level(logging.DEBUG)
    provider = VendorProvider(
        url=capture.url,
        token=token,
        journal=False,
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.001),
    )
    with pytest.raises(VendorError) as failure:
        provider.backends()
    error = failure.value
    texts = [error, repr(error), error.args, error.detail, error.message, caplog.text]
    texts += [record.getMessage() for record in caplog.records]
    _no_secret(*texts, secret=token)
    if where != "body":
        assert REDACTED in str(error)  # the rest of the server's message is kept
    assert capture.authorizations[0] == f"Bearer {token}"  # it was sent, to its own URL
    if status == 503:
        assert len(capture.authorizations) == 3
        assert any("retrying" in r.getMessage() for r in caplog.records)


def test_a_request_that_cannot_be_built_fails_once_typed_and_is_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    slept: list[float] = []
    client = ApiClient(MOCK_URL, "build-SECRET-123456", sleep=slept.append)
    client.session.headers["X-Trace"] = "a\nb"  # a header value requests refuses
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{MOCK_URL}/v1/devices", json={"devices": []})
        with pytest.raises(VendorValidationError, match="could not be sent") as failure:
            client.list_devices()
        assert len(mock.calls) == 0
    assert slept == []  # not retried as a network failure
    _no_secret(failure.value, caplog.text, secret="build-SECRET-123456")


def test_authorization_values_are_redacted_wherever_they_appear() -> None:
    held = Token("redact-SECRET-55555")  # a token is redacted while something holds it
    samples = {
        "plain redact-SECRET-55555 text": "plain [REDACTED] text",
        "{'Authorization': 'Bearer zq-anything-at-all'}": "{'Authorization': '[REDACTED]'}",
        "authorization=Bearer zzz": "authorization=[REDACTED]",
        "header Bearer abc.def-ghi end": "header Bearer [REDACTED] end",
        "url ?t=redact%2DSECRET%2D55555": "url ?t=redact%2DSECRET%2D55555",
    }
    for text, expected in list(samples.items())[:4]:
        assert redact(text) == expected
    assert redact(redact("Bearer x")) == "Bearer [REDACTED]"
    del held
    assert redact("plain redact-SECRET-55555 text") == "plain redact-SECRET-55555 text"


def test_the_token_is_not_in_any_file_but_the_accounts_file(
    api: MockedApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "file-SECRET-1122334455"
    config = tmp_path / "conf" / "accounts.json"
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(config))
    VendorProvider.save_account(token=token, url=MOCK_URL)
    provider = VendorProvider(url=MOCK_URL, journal=tmp_path / "journal.sqlite3")
    from tests.helpers import bell

    provider.get_backend("ideal_simulator").run(bell(), shots=10).result()
    assert api.calls()[0].request.headers["Authorization"] == f"Bearer {token}"
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != config:
            assert token.encode() not in path.read_bytes(), path


def test_a_requests_error_quoting_the_header_is_redacted() -> None:
    """requests' own InvalidHeader message quotes the header value."""
    held = Token("quoted-SECRET-777777")  # noqa: F841 - redacted while held
    error = requests.exceptions.InvalidHeader(
        "Invalid leading whitespace, reserved character(s), or return character(s) in "
        "header value: 'Bearer quoted-SECRET-777777'"
    )
    wrapped = VendorValidationError(f"GET /devices could not be sent: {error}")
    _no_secret(wrapped, repr(wrapped), secret="quoted-SECRET-777777")


TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    token=st.text(alphabet=TOKEN_ALPHABET, min_size=8, max_size=80),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    form=st.sampled_from(
        [
            "{t}",
            "Bearer {t}",
            "Authorization: Bearer {t}",
            "{{'Authorization': 'Bearer {t}'}}",
            "token={t};",
        ]
    ),
)
def test_no_text_around_a_token_lets_it_through_redaction(
    token: str, before: str, after: str, form: str
) -> None:
    assume(token not in REDACTED)
    held = Token(token)  # noqa: F841 - redacted while held
    text = before + form.format(t=token) + after
    assert token not in redact(text)
    assert redact(redact(text)) == redact(text)
