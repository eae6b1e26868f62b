"""Tokens that do not leak, and the redaction of every log record of the package.

A :class:`Token` is hidden in ``repr``, ``str``, f-strings and pickles, and only ever
holds RFC 6750 token characters (visible ASCII without separators): a line break, a
NUL, a space or a non-ASCII letter in a token would otherwise reach ``requests``,
which quotes the whole header (token included) in its error. :func:`redact` removes
every token this process knows, and anything that looks like an ``Authorization``
value, from a text; :class:`RedactingFilter` applies it to every log record of the
package, and every error of the package applies it to its message (server-provided
detail included), so a server that echoes a token back cannot put it in an exception.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import NoReturn

from qiskit_vendor_provider.api.redaction import REDACTED, forget_secret, redact, remember_secret
from qiskit_vendor_provider.errors import VendorAuthError

# REDACTED and redact live in the redaction leaf and are named here as before.
__all__ = [
    "MAX_TOKEN_LENGTH",
    "REDACTED",
    "RedactingFilter",
    "Token",
    "check_token_text",
    "install_log_redaction",
    "redact",
    "redacting_logger",
]

MAX_TOKEN_LENGTH = 4096
"""Longest token accepted: more would not fit the header limits of common servers."""

# RFC 6750 b64token: letters, digits, - . _ ~ + /, then any number of "=".
_TOKEN_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
)


def _character_problem(value: str) -> str | None:
    r"""Why ``value`` is not a usable token, naming positions and kinds, never characters.

    >>> _character_problem("abc-DEF_123.~+/=="), _character_problem("ab\ncd")
    (None, 'character 3 is a line break')
    >>> _character_problem("tök"), _character_problem("a=b")
    ('character 2 is not ASCII', "character 2 is '=', which a token has only at its end")
    """
    body = value.rstrip("=")
    for position, char in enumerate(body, start=1):
        code = ord(char)
        if char in _TOKEN_CHARACTERS:
            continue
        if char in "\r\n":
            kind = "a line break"
        elif code == 0:
            kind = "a NUL character"
        elif char.isspace():
            kind = "a space or tab"
        elif code < 0x20 or code == 0x7F:
            kind = "a control character"
        elif code > 0x7F:
            kind = "not ASCII"
        elif char == "=":
            kind = "'=', which a token has only at its end"
        else:
            kind = "punctuation a bearer token cannot hold"
        return f"character {position} is {kind}"
    return None


def check_token_text(value: object) -> str:
    """``value`` with surrounding whitespace removed, if it is a usable token.

    A token is made of the characters RFC 6750 allows in a bearer token (letters, digits,
    ``- . _ ~ + /``, then any ``=`` at the end: visible ASCII without quotes, commas or
    other separators), 1 to :data:`MAX_TOKEN_LENGTH` characters long.

    Raises:
        VendorAuthError: not a string, empty, too long, or with a character that an HTTP
            header cannot carry. The message says where and what, never the token.
    """
    if not isinstance(value, str):
        raise VendorAuthError(f"a token must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise VendorAuthError(
            "the token is empty; give the token your vendor account page shows "
            "(VendorProvider(token=...), QISKIT_VENDOR_TOKEN or `qiskit-vendor account save`)"
        )
    if len(text) > MAX_TOKEN_LENGTH:
        raise VendorAuthError(
            f"the token is {len(text)} characters long, more than the {MAX_TOKEN_LENGTH} a "
            "request header can carry; check that you pasted only the token"
        )
    problem = _character_problem(text)
    if problem is not None:
        raise VendorAuthError(
            f"the token is not usable: {problem} (a token holds only letters, digits and "
            "- . _ ~ + /, with = at the end; no spaces or line breaks); copy the token "
            "again from your vendor account page"
        )
    return text


class Token:
    """An API token. Only :meth:`reveal` gives the value, for the ``Authorization`` header.

    Args:
        value: The token; surrounding whitespace is removed.

    Raises:
        VendorAuthError: the value is not a usable token (see :func:`check_token_text`).

    >>> token = Token("s3cr3t-value")
    >>> token, str(token), f"{token}"
    (Token('**********'), '**********', '**********')
    >>> token.reveal()
    's3cr3t-value'
    >>> redact("the server said: s3cr3t-value is wrong")
    'the server said: [REDACTED] is wrong'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = check_token_text(value)
        remember_secret(self._value)

    def __del__(self, _forget: Callable[[str], None] = forget_secret) -> None:
        # Bound as a default: a Token that outlives this module's globals (one in a
        # reference cycle, collected as the interpreter exits, after module globals were
        # cleared to None) still finds it.
        value = getattr(self, "_value", None)
        if value is not None:
            _forget(value)

    @classmethod
    def of(cls, value: Token | str | None) -> Token | None:
        """``value`` as a Token; ``None`` and empty or blank strings stay ``None``.

        Raises:
            VendorAuthError: a non-empty value that is not a usable token.
        """
        if value is None or isinstance(value, Token):
            return value
        if isinstance(value, str) and not value.strip():
            return None
        return cls(value)

    def reveal(self) -> str:
        """The token's value, for sending it; never log or print what this returns."""
        return self._value

    def __repr__(self) -> str:
        return "Token('**********')"

    def __str__(self) -> str:
        return "**********"

    def __format__(self, format_spec: str) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Token) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Token is not picklable: save it with VendorProvider.save_account, or set "
            "QISKIT_VENDOR_TOKEN where the pickle is loaded"
        )

    def __deepcopy__(self, memo: dict[int, object]) -> Token:
        return self


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record's message through :func:`redact`.

    Installed on the package's top-level logger (so on every one of its loggers): the
    message is formatted once, redacted, and stored without arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


_filter_lock = threading.Lock()


def redacting_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with a :class:`RedactingFilter` attached (idempotent)."""
    logger = logging.getLogger(name)
    with _filter_lock:
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    return logger


def install_log_redaction(logger_name: str = "qiskit_vendor_provider") -> None:
    """Attach one :class:`RedactingFilter` to the named logger (idempotent).

    Filters on a logger apply to records logged through that logger only, not to those
    of its children, so the filter is also attached to each child logger that exists.
    """
    with _filter_lock:
        manager = logging.Logger.manager
        names = [logger_name] + [
            name for name in list(manager.loggerDict) if name.startswith(logger_name + ".")
        ]
        for name in names:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())
