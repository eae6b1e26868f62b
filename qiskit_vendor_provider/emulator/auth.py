"""Who a request is: bearer tokens to accounts, compared in constant time.

>>> account_of({}, None)
'default'
>>> account_of({"tok-a": "alice"}, "Bearer tok-a")
'alice'
>>> account_of({"tok-a": "alice"}, "Bearer tok-b")
Traceback (most recent call last):
...
qiskit_vendor_provider.emulator.problems.ProblemError: a valid bearer token is required
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from qiskit_vendor_provider.emulator.problems import ProblemError

DEFAULT_ACCOUNT = "default"
"""The one account of an emulator configured without tokens."""


def account_of(tokens: Mapping[str, str], authorization: str | None) -> str:
    """The account an ``Authorization`` header belongs to.

    Args:
        tokens: Token → account; empty means no authentication (one shared account).
        authorization: The header's value, if any.

    Raises:
        ProblemError: 401, without saying which tokens exist.
    """
    if not tokens:
        return DEFAULT_ACCOUNT
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token:
        presented = token.strip().encode()
        for known, account in tokens.items():
            if hmac.compare_digest(known.encode(), presented):
                return account
    raise ProblemError(401, "Unauthorized", "a valid bearer token is required")
