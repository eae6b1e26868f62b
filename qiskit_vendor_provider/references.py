"""Pickling by reference: what a pickled provider, backend or job holds instead of a token.

A pickle names the server and where the credentials came from, never the token; loading
it finds the provider that made it if it is alive in this process, else resolves the
credentials again. This module knows nothing of the provider class: the provider passes
in how to make one (:func:`restore`), so it and this module import in one direction only.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from qiskit_vendor_provider.accounts import TOKEN_ENV, URL_ENV, same_url
from qiskit_vendor_provider.errors import VendorAuthError, VendorValidationError

__all__ = ["ProviderReference", "register_live", "restore"]


@dataclass(frozen=True)
class ProviderReference:
    """What a pickled provider, backend or job holds instead of credentials.

    Attributes:
        url: The server's URL.
        source: Where the credentials came from (``argument``, ``environment``,
            ``account 'NAME'``, ``nothing``, ``embedded``).
        account: The saved account the token came from, if any.
        has_token: Whether a token was used.
        instance: This provider's id in the process that pickled it.
        device_files: The device files of a ``VendorProvider(devices=...)``, as absolute
            paths: such a provider is restored by serving the same files again.
    """

    url: str
    source: str
    account: str | None
    has_token: bool
    instance: str
    device_files: tuple[str, ...] = ()


P = TypeVar("P")

# Providers alive in this process, by instance id: unpickling in the process that
# pickled (or a deep copy) finds its provider again instead of resolving credentials.
_live: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


def register_live(instance: str, provider: object) -> None:
    """Note a provider alive in this process, so a pickle of it loads as itself here."""
    _live[instance] = provider


def restore(
    reference: ProviderReference,
    *,
    embedded: Callable[[], P],
    named: Callable[[str], P],
    at_url: Callable[[str], P],
    reference_of: Callable[[P], ProviderReference],
    from_files: Callable[[tuple[str, ...]], P],
) -> P:
    """The provider a pickle refers to: the live one, or one with credentials resolved again.

    Args:
        reference: What the pickle holds.
        embedded: Makes a provider of this process's embedded emulator.
        named: Makes a provider from a saved account, by name.
        at_url: Makes a provider for a URL, credentials resolved as for ``VendorProvider(url=)``.
        reference_of: The reference of a provider these made (its URL, whether it has
            a token).
        from_files: Makes a provider serving these device files.

    Raises:
        VendorAuthError: the token is needed but nothing available in this process gives
            one for that URL; the message says how to supply it.
    """
    live: P | None = _live.get(reference.instance)
    if live is not None:
        return live
    if reference.device_files:
        return from_files(reference.device_files)
    if reference.source == "embedded":
        return embedded()
    if reference.account is not None:
        try:
            provider: P | None = named(reference.account)
        except VendorValidationError:
            provider = None
        if provider is not None and same_url(reference_of(provider).url, reference.url):
            return provider
    provider = at_url(reference.url)
    if not reference.has_token or reference_of(provider).has_token:
        return provider
    raise VendorAuthError(
        f"cannot restore a pickled object of {reference.url}: its token (from "
        f"{reference.source}) is not pickled, and nothing here gives a token for that URL. "
        f"Set {URL_ENV}={reference.url} and {TOKEN_ENV}, or save an account for it with "
        f"VendorProvider.save_account(token=..., url={reference.url!r}), then load it again"
    )
