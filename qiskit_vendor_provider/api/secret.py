"""Tokens that do not leak, and the one redaction step every message passes through.

A :class:`Token` is hidden in ``repr``, ``str``, f-strings and pickles, and only ever
holds visible ASCII: a line break, a NUL, a space or a non-ASCII letter in a token would
otherwise reach ``requests``, which quotes the whole header (token included) in its
error. :func:`redact` removes every token this process knows, and anything that looks
like an ``Authorization`` value, from a text; :class:`RedactingFilter` applies it to
every log record of the package, and the client applies it to every error message it
builds (server-provided detail included), so a server that echoes a token back cannot
put it in an exception.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import NoReturn
from urllib.parse import quote

from qiskit_vendor_provider.errors import VendorAuthError

MAX_TOKEN_LENGTH = 4096
"""Longest token accepted: more would not fit the header limits of common servers."""

REDACTED = "[REDACTED]"

# Below this length, replacing every occurrence would garble ordinary words; such a
# token is still removed wherever it follows "Bearer" or "Authorization".
_MIN_REDACTED_LENGTH = 4

_known_lock = threading.Lock()
_known: set[str] = set()

# An Authorization value (with or without its scheme), then a bare "Bearer <value>".
_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?(?!\[REDACTED\])[^\s\"',;)}\]]+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED\])[^\s\"',;)}\]]+")


def _character_problem(value: str) -> str | None:
    r"""Why ``value`` is not a usable token, naming positions and kinds, never characters.

    >>> _character_problem("abc-DEF_123.~+/="), _character_problem("ab\ncd")
    (None, 'character 3 is a line break')
    >>> _character_problem("tök")
    'character 2 is not ASCII'
    """
    for position, char in enumerate(value, start=1):
        code = ord(char)
        if 0x21 <= code <= 0x7E:
            continue
        if char in "\r\n":
            kind = "a line break"
        elif code == 0:
            kind = "a NUL character"
        elif char.isspace():
            kind = "a space or tab"
        elif code < 0x20 or code == 0x7F:
            kind = "a control character"
        else:
            kind = "not ASCII"
        return f"character {position} is {kind}"
    return None


def check_token_text(value: object) -> str:
    """``value`` with surrounding whitespace removed, if it is a usable token.

    A token is visible ASCII (``!`` to ``~``, the characters RFC 6750 bearer tokens and
    HTTP header values allow), 1 to :data:`MAX_TOKEN_LENGTH` characters long.

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
            f"the token is not usable: {problem} (a token is visible ASCII only, without "
            "spaces or line breaks); copy the token again from your vendor account page"
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
        with _known_lock:
            _known.add(self._value)

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


def redact(text: str) -> str:
    """``text`` without any token this process knows, nor any ``Authorization`` value.

    Every log record of the package and every error message the client builds goes
    through this one function.

    >>> redact("headers: {'Authorization': 'Bearer abc.def'}")
    "headers: {'Authorization': '[REDACTED]'}"
    """
    if not text:
        return text
    # Header values first, whole; then any known token left elsewhere in the text.
    text = _AUTHORIZATION.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda match: match.group(1) + " " + REDACTED, text)
    with _known_lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        if len(secret) < _MIN_REDACTED_LENGTH:
            continue
        # Also as a URL or a repr would show it.
        for form in {secret, quote(secret, safe=""), secret.replace("\\", "\\\\")}:
            if form in text:
                text = text.replace(form, REDACTED)
    return text


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
