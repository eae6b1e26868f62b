"""Saved accounts: where the URL and token come from, and the file that keeps them.

Sources, first match wins: the argument, then the environment (``QISKIT_VENDOR_URL``,
``QISKIT_VENDOR_TOKEN``), then the saved account (``default`` unless named). The file is
JSON in the user's config directory (``QISKIT_VENDOR_CONFIG`` moves it), written
atomically with mode 0600 in a 0700 directory; a file that other users can read is
refused, since its token would already be exposed.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, ValidationError

from qiskit_vendor_provider.api.secret import Token
from qiskit_vendor_provider.errors import VendorAuthError, VendorValidationError

URL_ENV = "QISKIT_VENDOR_URL"
TOKEN_ENV = "QISKIT_VENDOR_TOKEN"  # noqa: S105 - a variable name, not a secret
CONFIG_ENV = "QISKIT_VENDOR_CONFIG"
DEFAULT_ACCOUNT = "default"


class _SavedAccount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = None
    token: str | None = None


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    accounts: dict[str, _SavedAccount] = {}


@dataclass(frozen=True)
class Credentials:
    """Where to connect and with what.

    Attributes:
        url: The server root, or None when no source gave one.
        token: The token, or None.
        source: Where they came from, for messages: ``argument``, ``environment``,
            ``account 'NAME'`` or ``nothing``.
    """

    url: str | None
    token: Token | None
    source: str

    def __repr__(self) -> str:
        token = "set" if self.token is not None else "none"
        return f"Credentials(url={self.url!r}, token={token}, source={self.source!r})"


def config_path() -> Path:
    """The accounts file (``QISKIT_VENDOR_CONFIG`` overrides)."""
    configured = os.environ.get(CONFIG_ENV)
    if configured:
        return Path(configured)
    return Path(user_config_dir("qiskit-vendor-provider", appauthor=False)) / "accounts.json"


def _read(path: Path) -> _ConfigFile:
    if not path.exists():
        return _ConfigFile()
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise VendorAuthError(
            f"refusing to read {path}: other users can read it (mode {mode:o}); its token "
            f"may be exposed. Run `chmod 600 {path}` and consider renewing the token"
        )
    try:
        return _ConfigFile.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise VendorValidationError(
            f"{path} is not a valid accounts file ({type(exc).__name__}); fix it or delete "
            "it and save the account again with VendorProvider.save_account(...)"
        ) from None


def _write(path: Path, config: _ConfigFile) -> None:
    """Replace the file atomically; it is never, even briefly, readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(prefix=".accounts-", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(config.model_dump(exclude_none=True), indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise VendorValidationError(f"an account name is a non-empty string, not {name!r}")
    return name.strip()


def save_account(
    *, token: str, url: str | None = None, name: str = DEFAULT_ACCOUNT, overwrite: bool = False
) -> Path:
    """Save an account to the accounts file; returns the file's path.

    Raises:
        VendorValidationError: the account exists and ``overwrite`` is False, or an
            argument is empty.
    """
    name = _check_name(name)
    secret = Token.of(token)
    if secret is None:
        raise VendorValidationError("save_account needs a token")
    path = config_path()
    config = _read(path)
    if name in config.accounts and not overwrite:
        raise VendorValidationError(
            f"an account named {name!r} is already saved in {path}; pass overwrite=True to "
            "replace it"
        )
    config.accounts[name] = _SavedAccount(url=url, token=secret.reveal())
    _write(path, config)
    return path


def delete_account(name: str = DEFAULT_ACCOUNT) -> bool:
    """Remove a saved account; False if there was none of that name."""
    name = _check_name(name)
    path = config_path()
    config = _read(path)
    if config.accounts.pop(name, None) is None:
        return False
    _write(path, config)
    return True


def saved_accounts() -> dict[str, dict[str, str | None]]:
    """Saved accounts by name, each with its URL and its token masked."""
    return {
        name: {"url": account.url, "token": _mask(account.token)}
        for name, account in _read(config_path()).accounts.items()
    }


def _mask(token: str | None) -> str | None:
    """Enough of a token to tell two apart, never enough to use.

    >>> _mask("abcdefghijklmnop"), _mask("short")
    ('********mnop', '********')
    """
    if token is None:
        return None
    return "********" + (token[-4:] if len(token) >= 12 else "")


def resolve(url: str | None, token: str | None, name: str | None) -> Credentials:
    """The URL and token to use: argument, then environment, then the saved account.

    Args:
        url: The ``url`` argument.
        token: The ``token`` argument.
        name: A saved account to use; None for ``default`` if it exists.

    Raises:
        VendorValidationError: ``name`` names no saved account.
    """
    if url is not None and not isinstance(url, str):
        raise VendorValidationError(f"url must be a string, not {type(url).__name__}")
    if token is not None and not isinstance(token, str):
        raise VendorValidationError(f"token must be a string, not {type(token).__name__}")
    sources: list[str] = []
    found_url, found_token = url or None, Token.of(token)
    if found_url or found_token:
        sources.append("argument")
    if found_url is None and os.environ.get(URL_ENV):
        found_url = os.environ[URL_ENV]
        sources.append("environment")
    if found_token is None and os.environ.get(TOKEN_ENV):
        found_token = Token.of(os.environ[TOKEN_ENV])
        sources.append("environment")
    if found_url is None or found_token is None or name is not None:
        accounts = _read(config_path()).accounts
        wanted = DEFAULT_ACCOUNT if name is None else _check_name(name)
        if name is not None and wanted not in accounts:
            known = ", ".join(sorted(accounts)) or "none"
            raise VendorValidationError(
                f"no saved account named {wanted!r} (saved: {known}); save one with "
                "VendorProvider.save_account(token=..., url=..., name=...)"
            )
        saved = accounts.get(wanted)
        if saved is not None:
            if found_url is None and saved.url:
                found_url = saved.url
                sources.append(f"account {wanted!r}")
            if found_token is None and saved.token:
                found_token = Token.of(saved.token)
                sources.append(f"account {wanted!r}")
    source = " and ".join(dict.fromkeys(sources)) or "nothing"
    return Credentials(url=found_url, token=found_token, source=source)
