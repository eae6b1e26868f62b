"""The connection a provider hands down to its backends, jobs and sessions.

One object, built once by :class:`~qiskit_vendor_provider.VendorProvider`, holds what
everything below it needs to reach the server: the API client, the job journal and the
scope its entries are kept under, the polling intervals, and the reference a pickle
holds instead of credentials. Backends, jobs, sessions and crash recovery take this
object instead of reaching back through the provider's private attributes (IBM's
runtime passes its service to its backends the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qiskit_vendor_provider.references import ProviderReference

if TYPE_CHECKING:  # the journal imports the job, which takes a Connection
    from qiskit_vendor_provider.api.client import ApiClient
    from qiskit_vendor_provider.journal import JobJournal

__all__ = ["DEFAULT_POLL_INTERVAL", "Connection"]

DEFAULT_POLL_INTERVAL: tuple[float, float] = (0.02, 2.0)
"""``(first, longest)`` seconds between job status polls, unless the provider is told."""


@dataclass(frozen=True, eq=False)
class Connection:
    """What a provider's backends, jobs and sessions share to reach the server.

    Compared by identity: two connections are the same only if they are one object,
    as two clients with the same token are still two connections.

    Attributes:
        client: The REST API client (it holds the token; never pickled).
        journal: The job journal submissions are written to first, or None.
        journal_scope: The (server, account fingerprint) journal entries are kept under.
        poll_interval: ``(first, longest)`` seconds between job status polls.
        reference: What a pickle of the provider (or its backends and jobs) holds.
    """

    client: ApiClient
    journal: JobJournal | None
    journal_scope: tuple[str, str]
    poll_interval: tuple[float, float]
    reference: ProviderReference

    def __deepcopy__(self, memo: dict[int, object]) -> Connection:
        # One connection per provider: a copy would be a second client with the token.
        return self
