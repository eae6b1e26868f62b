"""Attacks on the command line: every path ends with its documented exit code, speaks in
flags, never prints a token, and escapes what a server or another client wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.api.client import new_idempotency_key
from qiskit_vendor_provider.api.models import JobSubmission
from qiskit_vendor_provider.api.wire import encode_submission
from qiskit_vendor_provider.cli import main
from qiskit_vendor_provider.serialization import circuit_to_wire
from tests.helpers import bell

TOKEN = "cli-SECRET-1234567890"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)
    return CliRunner()


def invoke(runner: CliRunner, *args: str, **kwargs: Any) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args), **kwargs)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


SAVE_CASES = [
    pytest.param(["--url", "ftp://x"], 3, "must start with https://", id="ftp url"),
    pytest.param(["--url", "http://example.com"], 3, "plain http", id="plain http remote"),
    pytest.param(["--url", "https://"], 3, "must start with https://", id="no host"),
    pytest.param(["--url", "http://127.0.0.1:8765"], 0, "saved account", id="http loopback"),
    pytest.param(["--url", "https://api.vendor.test/"], 0, "saved account", id="https"),
]


@pytest.mark.parametrize(("args", "code", "words"), SAVE_CASES)
def test_account_save_accepts_only_urls_a_token_may_go_to(
    cli: CliRunner, args: list[str], code: int, words: str
) -> None:
    got, out, err = invoke(cli, "account", "save", "--token", TOKEN, *args)
    assert got == code and words in out + err
    assert TOKEN not in out + err
    _, shown, _ = invoke(cli, "account", "show", "--json")
    assert bool(json.loads(shown)) is (code == 0)


PROMPT_CASES = [
    pytest.param("\n", id="empty line"),
    pytest.param("   \n", id="blank line"),
    pytest.param("", id="end of input"),
]


@pytest.mark.parametrize("typed", PROMPT_CASES)
def test_no_token_at_the_prompt_exits_5_not_1(cli: CliRunner, typed: str) -> None:
    code, _, err = invoke(cli, "account", "save", input=typed)
    assert code == 5
    assert "no token was given" in err and "--token" in err


def test_ctrl_c_at_the_prompt_exits_130(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> str:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.Abort from None  # as click.prompt does

    monkeypatch.setattr(click, "prompt", interrupted)
    code, _, err = invoke(cli, "account", "save")
    assert code == 130 and "interrupted" in err


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(f"{TOKEN}\n1", id="newline"),
        pytest.param(f"{TOKEN}\x00", id="nul-free tail"),
        pytest.param(f"{TOKEN} 1", id="space"),
        pytest.param(f"{TOKEN}ü", id="non-ascii"),
    ],
)
def test_a_hostile_token_exits_5_without_printing_it(cli: CliRunner, token: str) -> None:
    if "\x00" in token:
        token = token.replace("\x00", "\x07")  # argv cannot hold NUL; BEL is as bad
    for args in (
        ["account", "save", "--token", token, "--url", "https://api.vendor.test"],
        ["--url", "https://api.vendor.test", "--token", token, "devices"],
    ):
        code, out, err = invoke(cli, *args)
        assert code == 5, (args, out, err)
        assert TOKEN not in out + err


def test_existing_account_names_the_flag_not_the_argument(cli: CliRunner) -> None:
    invoke(cli, "account", "save", "--token", TOKEN, "--url", "https://api.vendor.test")
    code, _, err = invoke(cli, "account", "save", "--token", TOKEN)
    assert code == 3
    assert "--overwrite" in err and "overwrite=True" not in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["jobs", "--name", "(a+"], ["--name ", "not a valid regular"], id="invalid"),
        pytest.param(["jobs", "--since", "0001-01-01T00:00+05:00"], ["--since "], id="year 0"),
        pytest.param(["jobs", "--limit", "-1"], ["--limit "], id="negative limit"),
    ],
)
def test_listing_mistakes_exit_3_in_cli_words(
    cli: CliRunner, args: list[str], words: list[str]
) -> None:
    code, _, err = invoke(cli, *args)
    assert code == 3, err
    for word in words:
        assert word in err


def test_names_written_by_other_clients_are_printed_escaped(cli: CliRunner) -> None:
    # Another client (or an older version) stored names this client now refuses.
    provider = VendorProvider(journal=False)
    evil = "evil\x1b[2J\r\nfake-row\x00"
    submission = JobSubmission(
        device="ideal_simulator",
        programs=[circuit_to_wire(bell())],
        shots=5,
        name=evil,
        tags=["t\nag"],
    )
    job_id = provider.client.submit_payload(
        encode_submission(submission), new_idempotency_key()
    ).job_id
    code, out, _ = invoke(cli, "jobs", "--name", "^evil")
    assert code == 0
    assert "\x1b" not in out and "\r" not in out and "\x00" not in out
    assert "evil\\x1b[2J\\r\\nfake-row\\x00" in out and "t\\nag" in out
    [row] = [line for line in out.splitlines() if job_id in line]
    assert "fake-row" in row  # one row, not two
    code, out, _ = invoke(cli, "job", job_id)
    assert code == 0 and "\x1b" not in out and "name: evil\\x1b" in out


def test_retry_policy_is_importable_from_the_package() -> None:
    from qiskit_vendor_provider import RetryPolicy, Timeouts

    assert RetryPolicy(max_attempts=2).max_attempts == 2
    assert Timeouts(read=3.0).read == 3.0


def test_the_cli_resolves_credentials_as_the_library_does(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_attacks_tokens import CaptureServer

    with CaptureServer() as server:
        saved, env = "saved-cli-token-123456", "env-cli-token-123456"
        invoke(cli, "account", "save", "--token", saved, "--url", server.url, "--name", "lab")
        monkeypatch.setenv("QISKIT_VENDOR_URL", server.url)
        monkeypatch.setenv("QISKIT_VENDOR_TOKEN", env)
        assert invoke(cli, "--account", "lab", "devices")[0] == 5  # the server says 401
        assert invoke(cli, "devices")[0] == 5
        monkeypatch.setenv("QISKIT_VENDOR_URL", "https://elsewhere.vendor.test")
        assert invoke(cli, "--url", server.url, "devices")[0] == 5
    # A named account beats the environment; the environment's pair goes together; a
    # --url alone never borrows the token of an environment URL that is not the same,
    # only that of the account saved for it.
    assert server.authorizations == [f"Bearer {saved}", f"Bearer {env}", f"Bearer {saved}"]
