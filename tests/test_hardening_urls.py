"""A server URL carries no credentials: every way a URL enters refuses one that could.

A user name or password, a query or a fragment in a server URL would be echoed in
``repr(provider)``, pickles, the job journal, ``saved_accounts()``, ``qiskit-vendor
account show``, connection errors and urllib3's DEBUG log, and (``http://10.1.2.3/?token=``)
sent over plain http. Each entry point refuses it before any of those exists, with a
typed error that names the problem, says to pass ``token=``, and never repeats the secret.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from qiskit_vendor_provider import VendorProvider
from qiskit_vendor_provider.accounts import config_path
from qiskit_vendor_provider.api.client import ApiClient
from qiskit_vendor_provider.api.hosts import check_server_url, masked_url
from qiskit_vendor_provider.cli import main
from qiskit_vendor_provider.errors import VendorValidationError
from qiskit_vendor_provider.provider import ProviderReference, provider_from_reference

SECRET = "Sekr1t-in-the-url-0042"
TOKEN = "a-real-token-0123456789"

BAD_URLS = [
    pytest.param(f"http://10.1.2.3/?token={SECRET}", "a query", id="query over plain http"),
    pytest.param(f"https://api.vendor.test/?token={SECRET}", "a query", id="query"),
    pytest.param(f"https://api.vendor.test/#token={SECRET}", "a fragment", id="fragment"),
    pytest.param(f"https://me:{SECRET}@api.vendor.test", "'@'", id="userinfo"),
    pytest.param(f"https://{SECRET}@api.vendor.test/v1", "'@'", id="user only"),
    # No parser accepts this one (the port is not a number): still never echoed.
    pytest.param(f"https://me:{SECRET}@api.vendor.test:port", "'@'", id="unparseable"),
    pytest.param(f"http://127.0.0.1:8765/base?key={SECRET}#x", "a query", id="loopback"),
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.setenv("QISKIT_VENDOR_JOURNAL", str(tmp_path / "journal.sqlite3"))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)


@pytest.fixture
def no_network() -> Iterator[responses.RequestsMock]:
    """Every HTTP request is recorded and refused; tests assert there were none."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def assert_refused(error: BaseException, what: str) -> None:
    text = str(error)
    assert isinstance(error, VendorValidationError)
    assert SECRET not in text and SECRET not in repr(error)
    assert what in text and "token" in text and "refused" in text


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_argument_url_is_refused_before_anything_is_made_or_sent(
    url: str,
    what: str,
    tmp_path: Path,
    no_network: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3's DEBUG log names every URL it opens
    with pytest.raises(VendorValidationError) as caught:
        VendorProvider(url=url, token=TOKEN)
    assert_refused(caught.value, what)
    with pytest.raises(VendorValidationError) as caught:
        VendorProvider(url=url)  # no token: the URL's own secret is refused all the same
    assert_refused(caught.value, what)
    assert not no_network.calls
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    journal = tmp_path / "journal.sqlite3"
    assert not journal.exists() or SECRET.encode() not in journal.read_bytes()


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_environment_url_is_refused(url: str, what: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QISKIT_VENDOR_URL", url)
    monkeypatch.setenv("QISKIT_VENDOR_TOKEN", TOKEN)
    with pytest.raises(VendorValidationError) as caught:
        VendorProvider()
    assert_refused(caught.value, what)
    assert "QISKIT_VENDOR_URL" in str(caught.value)


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_save_account_refuses_and_writes_nothing(url: str, what: str) -> None:
    with pytest.raises(VendorValidationError) as caught:
        VendorProvider.save_account(token=TOKEN, url=url)
    assert_refused(caught.value, what)
    assert not config_path().exists()


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_api_client_refuses_it_too(url: str, what: str) -> None:
    with pytest.raises(VendorValidationError) as caught:
        ApiClient(url, TOKEN)
    assert_refused(caught.value, what)


def test_a_pickle_of_such_a_url_cannot_be_loaded_into_a_provider() -> None:
    """A pickle made before the rule (which held the URL) is refused when loaded."""
    reference = ProviderReference(
        url=f"https://api.vendor.test/?token={SECRET}",
        source="argument",
        account=None,
        has_token=False,
        instance="gone",
    )
    with pytest.raises(VendorValidationError) as caught:
        pickle.loads(pickle.dumps(reference)) and provider_from_reference(reference)
    assert_refused(caught.value, "a query")


def _write_accounts(accounts: dict[str, dict[str, str]]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(json.dumps({"accounts": accounts}), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_a_saved_file_edited_by_hand_is_masked_and_refused(
    url: str, what: str, no_network: responses.RequestsMock
) -> None:
    _write_accounts({"default": {"url": url, "token": TOKEN}, "work": {"url": url, "token": TOKEN}})
    shown = VendorProvider.saved_accounts()
    assert SECRET not in json.dumps(shown)
    assert shown["work"]["url"] == masked_url(url) and "***" in str(shown["work"]["url"])
    for attempt in (VendorProvider, lambda: VendorProvider(name="work")):
        with pytest.raises(VendorValidationError) as caught:
            attempt()
        assert_refused(caught.value, what)
        assert "save the account again" in str(caught.value)
    # A URL argument never borrows the token of an account whose URL is refused.
    with pytest.raises(VendorValidationError) as caught:
        VendorProvider(url="https://api.vendor.test", name="work")
    assert SECRET not in str(caught.value)
    assert not no_network.calls


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_cli_refuses_with_exit_3_and_never_prints_the_secret(url: str, what: str) -> None:
    runner = CliRunner()
    for args in (
        ["--url", url, "--token", TOKEN, "devices"],
        ["account", "save", "--url", url, "--token", TOKEN],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
        assert what in result.stderr and "--token" in result.stderr
        assert SECRET not in result.stdout + result.stderr
    assert not config_path().exists()


@pytest.mark.parametrize(("url", "what"), BAD_URLS)
def test_cli_account_show_masks_a_hand_edited_url(url: str, what: str) -> None:
    _write_accounts({"work": {"url": url, "token": TOKEN}})
    runner = CliRunner()
    for args in (["account", "show"], ["account", "show", "--json"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert SECRET not in result.stdout + result.stderr
        assert "***" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://api.vendor.test",
        "https://api.vendor.test:8443/base/",
        "http://127.0.0.1:8765",
        "http://[::1]:8765",
    ],
)
def test_ordinary_urls_still_pass(url: str) -> None:
    assert check_server_url(url) == url
    assert masked_url(url) == url
