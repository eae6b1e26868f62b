"""Saved accounts: where the URL and token come from, and the file that keeps them.

The URL and the token are resolved as a pair, from one source, so a token only ever goes
to the URL it was given with (the table is in ``docs/getting-started.md``):

1. arguments: ``url`` and ``token`` together; a ``token`` alone goes to the vendor cloud;
   a ``url`` alone uses no token, unless the environment or a saved account holds a
   token for that same URL;
2. a saved account named with ``name``: its URL (or the vendor cloud) and its token;
3. the environment (``QISKIT_VENDOR_URL``, ``QISKIT_VENDOR_TOKEN``), with the same rules
   as arguments;
4. the ``default`` saved account;
5. nothing: the embedded emulator.

The file is JSON in the user's config directory (``QISKIT_VENDOR_CONFIG`` moves it),
written atomically with mode 0600 in a 0700 directory; a file that other users can read
is refused, since its token would already be exposed.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_config_dir
from pydantic import BaseModel, ConfigDict, ValidationError

from qiskit_vendor_provider.api.hosts import check_server_url, is_loopback_host, masked_url
from qiskit_vendor_provider.api.secret import Token
from qiskit_vendor_provider.errors import VendorAuthError, VendorValidationError

URL_ENV = "QISKIT_VENDOR_URL"
TOKEN_ENV = "QISKIT_VENDOR_TOKEN"  # noqa: S105 - a variable name, not a secret
CONFIG_ENV = "QISKIT_VENDOR_CONFIG"
DEFAULT_ACCOUNT = "default"
DEFAULT_URL = "https://api.quantum.vendor.example"
"""The vendor cloud: where a token given without a URL goes."""


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
            ``account 'NAME'`` or ``nothing``; a URL whose token came from elsewhere
            reads e.g. ``argument (token of account 'work')``.
        account: The saved account the token came from, if any.
    """

    url: str | None
    token: Token | None
    source: str
    account: str | None = None

    def __repr__(self) -> str:
        token = "set" if self.token is not None else "none"
        return f"Credentials(url={self.url!r}, token={token}, source={self.source!r})"


def check_url(url: object, what: str = "url") -> str:
    """``url`` without a trailing slash, if a token may be sent to it.

    Raises:
        VendorValidationError: a user name or password, a query or a fragment in it
            (the message never repeats them); not https, nor http to this machine; or
            no host.

    >>> check_url("https://api.vendor.example/"), check_url("http://127.0.0.1:8765")
    ('https://api.vendor.example', 'http://127.0.0.1:8765')
    """
    if not isinstance(url, str) or not url.strip():
        raise VendorValidationError(f"{what} must be a non-empty string such as https://host")
    # First: every message below quotes the URL, which must not hold a credential.
    text = check_server_url(url.strip(), what).rstrip("/")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise VendorValidationError(f"{what}={text!r} is not a valid URL") from None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in text):
        raise VendorValidationError(
            f"{what}={text!r} holds spaces or control characters; give a plain https:// URL"
        )
    if parts.scheme == "https" and host:
        return text
    if parts.scheme == "http" and is_loopback_host(host):
        return text
    if parts.scheme == "http" and host:
        raise VendorValidationError(
            f"{what}={text!r} is plain http to another machine, which would expose the "
            "token; use https://, or http:// only for 127.0.0.1/localhost"
        )
    raise VendorValidationError(
        f"{what}={text!r} must start with https:// (or http:// for a server on this machine)"
    )


def same_url(first: str | None, second: str | None) -> bool:
    """Whether two server URLs name the same server (scheme, host, port and path).

    >>> same_url("https://API.vendor.example/", "https://api.vendor.example:443")
    True
    >>> same_url("http://127.0.0.1:8000", "http://127.0.0.1:8001")
    False
    """
    if first is None or second is None:
        return False
    return _url_key(first) == _url_key(second)


def _url_key(url: str) -> tuple[str, str, int | None, str]:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
        return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")
    except ValueError:
        return ("", url, None, "")


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
        VendorValidationError: the account exists and ``overwrite`` is False, the name
            is empty, or the URL is neither https nor http to this machine.
        VendorAuthError: the token is empty or not a usable token.
    """
    name = _check_name(name)
    secret = Token.of(token)
    if secret is None:
        raise VendorAuthError("save_account needs a token (token=...)")
    if url is not None:
        url = check_url(url)
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
    """Saved accounts by name, each with its URL and its token masked.

    A URL that holds a user name or password, a query or a fragment (a file edited by
    hand: :func:`save_account` refuses them) is shown with those parts masked; using
    that account raises an error that says to save it again.
    """
    return {
        name: {
            "url": None if account.url is None else masked_url(account.url),
            "token": _mask(account.token),
        }
        for name, account in _read(config_path()).accounts.items()
    }


def _usable_url(url: str | None) -> bool:
    """Whether a saved URL holds nothing that could carry a credential."""
    return url is None or url == masked_url(url)


def _mask(token: str | None) -> str | None:
    """Enough of a token to tell two apart, never enough to use.

    >>> _mask("abcdefghijklmnop"), _mask("short")
    ('********mnop', '********')
    """
    if token is None:
        return None
    return "********" + (token[-4:] if len(token) >= 12 else "")


def _saved_token(accounts: dict[str, _SavedAccount], url: str, name: str | None) -> str | None:
    """The saved account for ``url``: ``name``, else ``default``, else the only one.

    None if there is none, or several and none of them is ``default``.
    """
    matching = sorted(
        n
        for n, a in accounts.items()
        if a.token and _usable_url(a.url) and same_url(a.url or DEFAULT_URL, url)
    )
    if name is not None:
        return name if name in matching else None
    if DEFAULT_ACCOUNT in matching:
        return DEFAULT_ACCOUNT
    return matching[0] if len(matching) == 1 else None


def _pair(url: str | None, token: str | None, source: str, name: str | None) -> Credentials:
    """Credentials from one source that gave ``url`` and/or ``token``.

    Raises:
        VendorValidationError: ``url`` holds a user name or password, a query or a
            fragment (see :func:`~qiskit_vendor_provider.api.hosts.check_server_url`).
    """
    if url is not None:
        # Before the token is read: the URL's error must come first, and name no token.
        check_server_url(url.strip(), "url" if source == "argument" else URL_ENV)
    secret = Token.of(token)
    if url is None:
        # A token without a URL goes to the vendor cloud, never to a URL from elsewhere.
        return Credentials(url=DEFAULT_URL, token=secret, source=source)
    checked = url.strip().rstrip("/")
    if secret is not None:
        return Credentials(url=checked, token=secret, source=source)
    # A URL alone: a token only if one was given for this very URL.
    if source == "argument" and same_url(os.environ.get(URL_ENV), checked):
        env_token = Token.of(os.environ.get(TOKEN_ENV))
        if env_token is not None:
            return Credentials(
                url=checked, token=env_token, source=f"{source} (token of environment)"
            )
    accounts = _read(config_path()).accounts
    account = _saved_token(accounts, checked, name)
    if account is not None:
        return Credentials(
            url=checked,
            token=Token.of(accounts[account].token),
            source=f"{source} (token of account {account!r})",
            account=account,
        )
    return Credentials(url=checked, token=None, source=source)


def resolve(url: str | None, token: str | None, name: str | None) -> Credentials:
    """The URL and token to use, as a pair from one source (see the module docstring).

    Args:
        url: The ``url`` argument.
        token: The ``token`` argument.
        name: A saved account to use; None for ``default`` if it exists.

    Raises:
        VendorValidationError: ``name`` names no saved account, or names one saved for
            another URL than ``url``.
        VendorAuthError: a token that is not usable (empty, control characters,
            non-ASCII); the message never includes it.
    """
    if url is not None and not isinstance(url, str):
        raise VendorValidationError(f"url must be a string, not {type(url).__name__}")
    if token is not None and not isinstance(token, str):
        raise VendorAuthError(f"token must be a string, not {type(token).__name__}")
    wanted = None if name is None else _check_name(name)
    if url or (token and token.strip()):
        if wanted is not None and url and not token:
            _named(wanted)  # an unknown name is an error even next to a URL
            credentials = _pair(url, None, "argument", wanted)
            if credentials.account != wanted:
                saved_url = masked_url(_read(config_path()).accounts[wanted].url or DEFAULT_URL)
                raise VendorValidationError(
                    f"account {wanted!r} is saved for {saved_url}, not {url.strip()}; its token "
                    f"is sent only there. Drop url=, or save an account for {url.strip()}"
                )
            return credentials
        return _pair(url or None, token, "argument", None)
    if wanted is not None:
        return _account(wanted, _named(wanted))
    env_url, env_token = os.environ.get(URL_ENV) or None, os.environ.get(TOKEN_ENV) or None
    if env_url or (env_token and env_token.strip()):
        return _pair(env_url, env_token, "environment", None)
    saved = _read(config_path()).accounts.get(DEFAULT_ACCOUNT)
    if saved is not None and saved.token:
        return _account(DEFAULT_ACCOUNT, saved)
    return Credentials(url=None, token=None, source="nothing")


def _named(name: str) -> _SavedAccount:
    accounts = _read(config_path()).accounts
    if name not in accounts:
        known = ", ".join(sorted(accounts)) or "none"
        raise VendorValidationError(
            f"no saved account named {name!r} (saved: {known}); save one with "
            "VendorProvider.save_account(token=..., url=..., name=...)"
        )
    return accounts[name]


def _account(name: str, saved: _SavedAccount) -> Credentials:
    if saved.url is not None:
        check_server_url(
            saved.url,
            f"the URL of account {name!r} in {config_path()} ({masked_url(saved.url)})",
            fix="save the account again with VendorProvider.save_account(token=..., url=..., "
            "name=...); pass overwrite=True to replace it",
        )
    return Credentials(
        url=saved.url or DEFAULT_URL,
        token=Token.of(saved.token),
        source=f"account {name!r}",
        account=name,
    )
