"""The one redaction step every message of the package passes through.

:func:`redact` removes every token this process holds, and anything that looks like an
``Authorization`` value, from a text. Errors (:mod:`qiskit_vendor_provider.errors`)
apply it to their messages and log records (:mod:`qiskit_vendor_provider.api.secret`)
to theirs. This module imports nothing of the package: both of those import it, and
neither imports the other for it (``api.secret`` raises errors, so ``errors`` must not
import ``api.secret``).
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

__all__ = ["REDACTED", "forget_secret", "redact", "remember_secret"]

REDACTED = "[REDACTED]"

# Below this length, replacing every occurrence would garble ordinary words; such a
# token is still removed wherever it follows "Bearer" or "Authorization".
_MIN_REDACTED_LENGTH = 4

# Token values alive in this process, with how many Token objects hold each: a token is
# forgotten once nothing holds it, so one that a finished session used (or a test made)
# cannot go on redacting ordinary words that happen to equal it.
_known_lock = threading.Lock()
_known: dict[str, int] = {}

# An Authorization value (with or without its scheme), then a bare "Bearer <value>".
# A value runs to the next space or quote: wider than any token (RFC 6750 characters have
# neither), so a header value is always removed whole, never cut at its punctuation.
# What follows "bearer" in a server's own words ("a valid bearer token is required") is
# prose, not a secret: those few words are kept. A token this process holds is removed
# wherever it appears, whatever word precedes it (see redact()).
# A word counts as prose only if it ends the value (then a space, a quote, sentence
# punctuation or the end): "bearer token-9f3a" is still a value and removed.
_PROSE = (
    r"(?!(?:tokens?|auth|authentication|authorization|scheme|header|credentials?|realm)"
    r"[.,;:!?)]*(?:[\s\"']|$))"
)
_AUTHORIZATION = re.compile(
    r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)"
    r"(?:bearer\s+(?!\[REDACTED\])" + _PROSE + r"|(?!bearer\b)(?!\[REDACTED\]))[^\s\"']+"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+(?!\[REDACTED\])" + _PROSE + r"[^\s\"']+")


def remember_secret(value: str) -> None:
    """Redact ``value`` from now on, until each :func:`remember_secret` of it is forgotten."""
    with _known_lock:
        _known[value] = _known.get(value, 0) + 1


def forget_secret(
    value: str, _lock: threading.Lock = _known_lock, _counts: dict[str, int] = _known
) -> None:
    """Undo one :func:`remember_secret`: once nothing holds a value, it is no longer redacted.

    A token that a finished session used (or a test made) must not go on redacting
    ordinary words that happen to equal it.
    """
    # The lock and the table are bound as defaults: this runs from Token.__del__, which
    # may come after module globals were cleared to None at interpreter exit.
    with _lock:
        left = _counts.get(value, 0) - 1
        if left > 0:
            _counts[value] = left
        else:
            _counts.pop(value, None)


def redact(text: str) -> str:
    """``text`` without any token this process knows, nor any ``Authorization`` value.

    Every log record of the package and every error message the client builds goes
    through this one function.

    >>> redact("headers: {'Authorization': 'Bearer abc.def'}")
    "headers: {'Authorization': '[REDACTED]'}"
    >>> redact("HTTP 401: a valid bearer token is required")
    'HTTP 401: a valid bearer token is required'
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
