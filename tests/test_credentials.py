"""Tokens: where they come from, how they are saved, and that they never leak."""

from __future__ import annotations

import logging
import os
import pickle
import stat
from pathlib import Path

import pytest
import responses
from qiskit import QuantumCircuit

from qiskit_vendor_provider import (
    VendorAuthError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.accounts import resolve
from qiskit_vendor_provider.api.client import RetryPolicy
from tests.conftest import MOCK_URL, MockedApi

SECRET = "tok-SECRET-0123456789abcdef"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "accounts.json"
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(path))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)
    return path


def test_sources_in_order_argument_environment_config(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    VendorProvider.save_account(token="from-config-123456", url="https://config.vendor.test")
    found = resolve(None, None, None)
    assert (found.url, found.token.reveal() if found.token else None) == (
        "https://config.vendor.test",
        "from-config-123456",
    )
    assert found.source == "account 'default'"
    monkeypatch.setenv("QISKIT_VENDOR_TOKEN", "from-env-123456")
    found = resolve(None, None, None)
    assert found.token is not None and found.token.reveal() == "from-env-123456"
    # One source gives the pair: the environment's token never goes to the saved URL.
    assert found.url == "https://api.quantum.vendor.example"
    assert found.source == "environment"
    monkeypatch.setenv("QISKIT_VENDOR_URL", "https://env.vendor.test")
    found = resolve("https://arg.vendor.test", "from-arg-123456", None)
    assert (found.url, found.token.reveal() if found.token else None, found.source) == (
        "https://arg.vendor.test",
        "from-arg-123456",
        "argument",
    )
    assert SECRET not in repr(found)


def test_named_accounts(config: Path) -> None:
    VendorProvider.save_account(
        token="work-token-123456", url="https://work.vendor.test", name="work"
    )
    found = resolve(None, None, "work")
    assert found.url == "https://work.vendor.test"
    with pytest.raises(
        VendorValidationError, match=r"no saved account named 'home' \(saved: work\)"
    ):
        resolve(None, None, "home")
    provider = VendorProvider(name="work", journal=False)
    assert provider.client.base_url == "https://work.vendor.test"


def test_save_account_writes_a_private_file_atomically(config: Path) -> None:
    path = VendorProvider.save_account(token=SECRET, url="https://api.vendor.test")
    assert path == config
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert [p.name for p in config.parent.iterdir()] == ["accounts.json"]  # no temp file left
    with pytest.raises(VendorValidationError, match="already saved"):
        VendorProvider.save_account(token="other-token-123456")
    VendorProvider.save_account(token="other-token-123456", overwrite=True)
    shown = VendorProvider.saved_accounts()
    assert shown == {"default": {"url": None, "token": "********3456"}}
    assert VendorProvider.delete_account() is True
    assert VendorProvider.delete_account() is False
    assert VendorProvider.saved_accounts() == {}


def test_a_file_others_can_read_is_refused(config: Path) -> None:
    VendorProvider.save_account(token=SECRET)
    os.chmod(config, 0o644)
    with pytest.raises(VendorAuthError) as info:
        VendorProvider(journal=False)
    assert "chmod 600" in str(info.value)
    assert SECRET not in str(info.value)


def test_a_broken_file_says_how_to_fix_it(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text("{not json")
    os.chmod(config, 0o600)
    with pytest.raises(VendorValidationError, match="not a valid accounts file"):
        VendorProvider(journal=False)


def test_token_never_leaks_into_reprs_logs_errors_journal_or_pickles(
    emulator: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "journal.sqlite3"
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = MockedApi(emulator, mock)  # type: ignore[arg-type]
        provider = VendorProvider(
            url=MOCK_URL, token=SECRET, journal=journal, retry=RetryPolicy(base_delay=0.001)
        )
        backend = provider.get_backend("ideal_simulator")
        circuit = QuantumCircuit(1, 1)
        circuit.measure(0, 0)
        job = backend.run(circuit, shots=5)
        job.result()
        with pytest.raises(VendorNotFoundError) as failure:
            provider.retrieve_job("0" * 32)
        assert api.calls("GET", "/v1/jobs/")
    with responses.RequestsMock() as mock:
        # A retried request logs at debug level: with its request id, without the token.
        mock.add(
            responses.GET,
            f"{MOCK_URL}/v1/account",
            status=503,
            headers={"X-Request-Id": "rid-42"},
            json={"title": "busy", "status": 503, "detail": "try later"},
        )
        mock.add(
            responses.GET,
            f"{MOCK_URL}/v1/account",
            json={"account": "a", "max_active_jobs": 3, "active_jobs": 0},
        )
        assert backend.job_limit().maximum_jobs == 3
    texts = [
        repr(provider),
        str(provider),
        repr(provider.client),
        repr(backend),
        repr(job),
        str(vars(provider.client)),
        str(failure.value),
        repr(failure.value),
        caplog.text,
    ]
    assert any(
        "rid-42" in record.getMessage()
        for record in caplog.records
        if record.levelno == logging.DEBUG
    )
    for text in texts:
        assert SECRET not in text
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))
    assert raw and SECRET.encode() not in raw
    # The client (session, token) is not picklable; the Qiskit objects pickle by
    # reference, without the token.
    with pytest.raises(TypeError, match="not picklable") as info:
        pickle.dumps(provider.client)
    assert SECRET not in str(info.value)
    for thing in (provider, backend, job):
        assert SECRET.encode() not in pickle.dumps(thing)
