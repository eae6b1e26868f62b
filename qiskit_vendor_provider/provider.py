"""``VendorProvider``: the entry point, from which users get backends."""

from __future__ import annotations

import difflib
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from requests.adapters import BaseAdapter

from qiskit_vendor_provider.api.client import ApiClient, RetryPolicy, Timeouts
from qiskit_vendor_provider.api.models import DeviceSummary
from qiskit_vendor_provider.api.secret import Token
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.errors import VendorNotFoundError, VendorValidationError

logger = logging.getLogger(__name__)

URL_ENV = "QISKIT_VENDOR_URL"
TOKEN_ENV = "QISKIT_VENDOR_TOKEN"  # noqa: S105 - a variable name, not a secret
EMULATOR_DB_ENV = "QISKIT_VENDOR_EMULATOR_DB"
DEFAULT_URL = "https://api.quantum.vendor.example"
EMBEDDED_URL = "http://embedded-emulator.invalid"

_embedded_lock = threading.Lock()
_embedded: Any = None


def embedded_database() -> Path:
    """Where the embedded emulator keeps its jobs (``QISKIT_VENDOR_EMULATOR_DB`` overrides)."""
    configured = os.environ.get(EMULATOR_DB_ENV)
    if configured:
        return Path(configured)
    return Path(user_data_dir("qiskit-vendor-provider", appauthor=False)) / "emulator.sqlite3"


def _embedded_transport() -> BaseAdapter:
    """The in-process transport to this process's emulator, started on first use."""
    global _embedded  # noqa: PLW0603 - one embedded emulator per process
    # Imported here: the emulator (and Aer's noise code) loads only when it is used.
    from qiskit_vendor_provider.emulator import (  # noqa: PLC0415
        Emulator,
        EmulatorConfig,
        InProcessTransport,
        create_app,
    )

    with _embedded_lock:
        if _embedded is None:
            database = embedded_database()
            emulator = Emulator(EmulatorConfig(database=database)).start()
            _embedded = InProcessTransport(create_app(emulator))
            logger.info(
                "VendorProvider: no URL or token configured, so jobs run on the embedded "
                "emulator in this process (jobs kept in %s). Give url= and token= (or set %s "
                "and %s) to use the vendor cloud.",
                database,
                URL_ENV,
                TOKEN_ENV,
            )
        return _embedded  # type: ignore[no-any-return]


def _timeouts(timeout: float | tuple[float, float] | Timeouts | None) -> Timeouts:
    if timeout is None:
        return Timeouts()
    if isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, tuple):
        return Timeouts(connect=float(timeout[0]), read=float(timeout[1]))
    return Timeouts(connect=float(timeout), read=float(timeout))


class VendorProvider:
    """Access to the vendor's devices.

    With nothing configured, ``VendorProvider()`` runs jobs on an emulator embedded in
    this process (Aer-backed fake devices, the same REST API and client code, no
    socket). With ``url`` and ``token`` (or ``QISKIT_VENDOR_URL`` and
    ``QISKIT_VENDOR_TOKEN``) it talks to that server.

    Args:
        url: Server root; https, or http to 127.0.0.1/localhost only.
        token: API token (never shown in reprs, logs or errors).
        timeout: Seconds for connect and read, or a ``(connect, read)`` pair.
        retry: Retry policy of idempotent requests.
        poll_interval: ``(first, longest)`` seconds between job status polls.
        transport: A requests transport adapter to use instead of the network (tests,
            or an emulator of your own: ``InProcessTransport(create_app(emulator))``).

    Example:
        >>> from qiskit_vendor_provider import VendorProvider
        >>> provider = VendorProvider()
        >>> [b.name for b in provider.backends(simulator=True)]
        ['ideal_simulator']
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | tuple[float, float] | Timeouts | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: tuple[float, float] = (0.02, 2.0),
        transport: BaseAdapter | None = None,
    ) -> None:
        url = url or os.environ.get(URL_ENV) or None
        secret = Token.of(token if token is not None else os.environ.get(TOKEN_ENV))
        if transport is None and url is None and secret is None:
            transport = _embedded_transport()
            url = EMBEDDED_URL
        self.poll_interval = poll_interval
        self._client = ApiClient(
            url or DEFAULT_URL,
            secret,
            timeouts=_timeouts(timeout),
            retry=retry,
            transport=transport,
        )
        self._backends: dict[str, VendorBackend] = {}

    def __repr__(self) -> str:
        return f"<VendorProvider {self._client.base_url}>"

    @property
    def client(self) -> ApiClient:
        """The REST API client this provider uses."""
        return self._client

    def _summaries(self) -> list[DeviceSummary]:
        return self._client.list_devices()

    def get_backend(self, name: str) -> VendorBackend:
        """The backend of device ``name``.

        Raises:
            VendorNotFoundError: no such device; the message lists the ones there are.
        """
        if not isinstance(name, str):
            raise VendorValidationError(f"a backend name is a string, not {type(name).__name__}")
        if name not in self._backends:
            names = [s.name for s in self._summaries()]
            if name not in names:
                close = difflib.get_close_matches(name, names, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise VendorNotFoundError(
                    f"no backend named {name!r}.{hint} Available: {', '.join(sorted(names))}"
                )
            self._backends[name] = VendorBackend(self, self._client, self._client.get_device(name))
        return self._backends[name]

    def backends(
        self,
        name: str | None = None,
        *,
        simulator: bool | None = None,
        operational: bool | None = None,
        min_num_qubits: int | None = None,
    ) -> list[VendorBackend]:
        """The backends that match every filter given.

        Args:
            name: Exact name, or a regular expression matched against the whole name.
            simulator: Only simulators (True) or only hardware (False).
            operational: Only devices that accept jobs now (True) or that do not (False).
            min_num_qubits: Only devices with at least this many qubits.
        """
        pattern = None
        if name is not None:
            try:
                pattern = re.compile(name)
            except re.error as exc:
                raise VendorValidationError(f"name={name!r} is not a valid regex: {exc}") from None
        chosen = []
        for summary in sorted(self._summaries(), key=lambda s: s.name):
            if pattern is not None and not (
                summary.name == name or pattern.fullmatch(summary.name)
            ):
                continue
            if simulator is not None and summary.simulator != simulator:
                continue
            if operational is not None and summary.operational != operational:
                continue
            if min_num_qubits is not None and summary.num_qubits < min_num_qubits:
                continue
            chosen.append(self.get_backend(summary.name))
        return chosen
