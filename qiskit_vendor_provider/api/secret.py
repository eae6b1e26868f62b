"""A token that does not leak: hidden in ``repr``, ``str``, f-strings and pickles."""

from __future__ import annotations

from typing import NoReturn


class Token:
    """An API token. Only :meth:`reveal` gives the value, for the ``Authorization`` header.

    >>> token = Token("s3cr3t-value")
    >>> token, str(token), f"{token}"
    (Token('**********'), '**********', '**********')
    >>> token.reveal()
    's3cr3t-value'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise TypeError("a token must be a non-empty string")
        self._value = value.strip()

    @classmethod
    def of(cls, value: Token | str | None) -> Token | None:
        """``value`` as a Token; ``None`` and empty strings stay ``None``."""
        if value is None or isinstance(value, Token):
            return value
        if not value.strip():
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
        raise TypeError("a Token is not picklable: save it with VendorProvider.save_account")
