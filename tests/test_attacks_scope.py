"""Attacks on credential scope: a token must reach only the URL it was given or saved with.

A capture server on 127.0.0.1 records the Authorization header of every request; each
case sets up arguments, environment and saved accounts, and asserts what the capture
server received.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qiskit_vendor_provider import VendorError, VendorProvider, VendorValidationError
from tests.test_attacks_tokens import CaptureServer

SAVED = "saved-token-1234567890"
ENV = "env-token-1234567890"
ARG = "arg-token-1234567890"
CLOUD = "https://api.vendor.example"


@pytest.fixture
def capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CaptureServer]:
    monkeypatch.setenv("QISKIT_VENDOR_CONFIG", str(tmp_path / "conf" / "accounts.json"))
    monkeypatch.delenv("QISKIT_VENDOR_URL", raising=False)
    monkeypatch.delenv("QISKIT_VENDOR_TOKEN", raising=False)
    with CaptureServer() as server:
        yield server


Setup = Callable[[str, pytest.MonkeyPatch], VendorProvider]


def _save(token: str, url: str | None, name: str = "default") -> None:
    VendorProvider.save_account(token=token, url=url, name=name)


def _env(monkeypatch: pytest.MonkeyPatch, url: str | None, token: str | None) -> None:
    if url is not None:
        monkeypatch.setenv("QISKIT_VENDOR_URL", url)
    if token is not None:
        monkeypatch.setenv("QISKIT_VENDOR_TOKEN", token)


def _case_saved_cloud_then_local_url(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, CLOUD)  # the README's cloud account...
    return VendorProvider(url=local, journal=False)  # ...then the README's local recipe


def _case_saved_for_local(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local)
    return VendorProvider(url=local, journal=False)


def _case_saved_for_local_with_slash(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local + "/")
    return VendorProvider(url=local, journal=False)


def _case_saved_without_url(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, None)  # goes to the vendor cloud only
    return VendorProvider(url=local, journal=False)


def _case_saved_other_port(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, "http://127.0.0.1:1")
    return VendorProvider(url=local, journal=False)


def _case_two_saved_for_local_none_default(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local, name="a")
    _save("other-token-1234567890", local, name="b")
    return VendorProvider(url=local, journal=False)  # ambiguous: no token guessed


def _case_env_token_only(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _env(mp, None, ENV)
    return VendorProvider(url=local, journal=False)


def _case_env_pair(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, CLOUD)
    _env(mp, local, ENV)
    return VendorProvider(journal=False)


def _case_env_url_only(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, CLOUD)
    _env(mp, local, None)
    return VendorProvider(journal=False)


def _case_env_url_only_saved_same(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local)
    _env(mp, local, None)
    return VendorProvider(journal=False)


def _case_env_pair_for_other_url(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _env(mp, CLOUD, ENV)
    return VendorProvider(url=local, journal=False)


def _case_env_pair_same_url(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _env(mp, local, ENV)
    return VendorProvider(url=local, journal=False)


def _case_named_beats_env(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local, name="lab")
    _env(mp, CLOUD, ENV)
    return VendorProvider(name="lab", journal=False)


def _case_arguments_beat_everything(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _save(SAVED, local)
    _env(mp, local, ENV)
    return VendorProvider(url=local, token=ARG, journal=False)


def _case_token_argument_without_url(local: str, mp: pytest.MonkeyPatch) -> VendorProvider:
    _env(mp, local, None)  # the env URL must not receive the argument's token
    provider = VendorProvider(token=ARG, journal=False)
    assert provider.client.base_url == "https://api.quantum.vendor.example"
    return VendorProvider(url=local, journal=False)


SCOPE_CASES = [
    pytest.param(_case_saved_cloud_then_local_url, None, id="saved cloud token, local url"),
    pytest.param(_case_saved_for_local, SAVED, id="saved for this url"),
    pytest.param(_case_saved_for_local_with_slash, SAVED, id="saved for this url with slash"),
    pytest.param(_case_saved_without_url, None, id="saved without url is cloud-only"),
    pytest.param(_case_saved_other_port, None, id="saved for another port"),
    pytest.param(_case_two_saved_for_local_none_default, None, id="two saved, none default"),
    pytest.param(_case_env_token_only, None, id="env token without env url"),
    pytest.param(_case_env_pair, ENV, id="env pair"),
    pytest.param(_case_env_url_only, None, id="env url only, saved for cloud"),
    pytest.param(_case_env_url_only_saved_same, SAVED, id="env url only, saved for it"),
    pytest.param(_case_env_pair_for_other_url, None, id="env pair for another url"),
    pytest.param(_case_env_pair_same_url, ENV, id="url argument equal to env url"),
    pytest.param(_case_named_beats_env, SAVED, id="named account beats env"),
    pytest.param(_case_arguments_beat_everything, ARG, id="arguments beat everything"),
    pytest.param(_case_token_argument_without_url, None, id="token argument goes to cloud"),
]


@pytest.mark.parametrize(("setup", "expected"), SCOPE_CASES)
def test_a_token_reaches_only_its_own_url(
    capture: CaptureServer,
    monkeypatch: pytest.MonkeyPatch,
    setup: Setup,
    expected: str | None,
) -> None:
    provider = setup(capture.url, monkeypatch)
    with pytest.raises(VendorError):
        provider.backends()  # the capture server answers 401
    assert capture.authorizations == [None if expected is None else f"Bearer {expected}"]


def test_a_named_account_for_another_url_is_refused_unsent(
    capture: CaptureServer,
) -> None:
    _save(SAVED, CLOUD, name="work")
    with pytest.raises(VendorValidationError, match=r"saved for https://api\.vendor\.example"):
        VendorProvider(url=capture.url, name="work", journal=False)
    assert capture.authorizations == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        pytest.param("ftp://x", "must start with https://", id="ftp"),
        pytest.param("http://example.com", "plain http to another machine", id="plain http"),
        pytest.param("https://", "must start with https://", id="no host"),
        pytest.param("https://a b.example", "spaces or control characters", id="space"),
        pytest.param("https://x.example:port", "not a valid URL", id="bad port"),
    ],
)
def test_save_account_refuses_urls_a_token_must_not_go_to(
    capture: CaptureServer, url: str, words: str
) -> None:
    with pytest.raises(VendorValidationError, match=words):
        VendorProvider.save_account(token=SAVED, url=url)
    assert VendorProvider.saved_accounts() == {}
