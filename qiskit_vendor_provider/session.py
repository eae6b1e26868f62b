"""Execution modes: :class:`Session` and :class:`Batch`, as in IBM Qiskit Runtime.

A **session** gives its jobs the device back to back: once its first job starts, the
server runs the session's queued jobs before anyone else's, and keeps the device free
for the session's next job for ``max_idle`` seconds after each one, until ``max_time``
runs out. It suits iterative work (VQE, QAOA) where each job depends on the last.

A **batch** groups independent jobs so they are queued together, without holding the
device: its jobs take the queue place of its first job, so they run one after another
rather than interleaved with other clients' jobs submitted meanwhile.

Both are context managers that close on exit (queued jobs still run; no new ones are
accepted). Jobs join them through the primitives (``VendorSampler(mode=session)``),
:meth:`ExecutionMode.run`, or ``backend.run(circuits, session=session)``. A job for a
session that is known to be closed, or that is on another device, fails with a typed
error before anything is sent; the server refuses the rest (expired meanwhile, closed
by another process) with the same errors.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

from numpy.typing import ArrayLike
from qiskit.circuit import Parameter, QuantumCircuit

from qiskit_vendor_provider.api.models import (
    MAX_IDLE_SECONDS,
    MAX_SESSION_SECONDS,
    SessionInfo,
    SessionRequest,
)
from qiskit_vendor_provider.errors import (
    SessionClosedError,
    SessionDeviceError,
    VendorError,
    VendorNotFoundError,
    VendorValidationError,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from qiskit_vendor_provider.backend import VendorBackend
    from qiskit_vendor_provider.job import VendorJob
    from qiskit_vendor_provider.provider import VendorProvider

__all__ = ["Batch", "ExecutionMode", "Session"]


def _seconds(value: object, name: str, maximum: float) -> float | None:
    """A positive number of seconds up to ``maximum``, or None; typed error otherwise."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= maximum
    ):
        raise VendorValidationError(
            f"{name}={value!r} must be a number of seconds greater than 0 and at most "
            f"{maximum:g}, or None for the server's default"
        )
    return float(value)


class ExecutionMode:
    """What :class:`Session` and :class:`Batch` share; use one of them.

    Args:
        backend: The device its jobs run on, from ``provider.get_backend(...)``.
        max_time: Seconds it lasts from the start of its first job (None: the server's
            default, 900 s on the emulator); at most 8 hours.

    Raises:
        VendorValidationError: ``backend`` is not a vendor device, or a bad time.
    """

    _mode: ClassVar[str] = ""

    def __init__(self, backend: VendorBackend, *, max_time: float | None = None) -> None:
        self._open(backend, max_time, None)

    def _open(self, backend: object, max_time: object, max_idle: object) -> None:
        from qiskit_vendor_provider.backend import VendorBackend  # noqa: PLC0415 - cycle

        kind = type(self).__name__
        if not isinstance(backend, VendorBackend):
            raise VendorValidationError(
                f"{kind}(backend=...) takes a VendorBackend (provider.get_backend(name)), "
                f"not {type(backend).__name__}"
            )
        request = SessionRequest(
            device=backend.name,
            mode=self._mode,  # type: ignore[arg-type]
            max_time=_seconds(max_time, "max_time", MAX_SESSION_SECONDS),
            max_idle=_seconds(max_idle, "max_idle", MAX_IDLE_SECONDS),
        )
        self._info = backend.connection.client.create_session(request)
        self._bind(backend.provider, backend.name, backend)

    def _bind(
        self,
        provider: VendorProvider,
        device: str,
        backend: VendorBackend | None,
        error: VendorError | None = None,
    ) -> None:
        self._backend = backend
        self._device = device
        self._provider = provider
        self._client = (provider if backend is None else backend).connection.client
        self._backend_error = error

    @classmethod
    def _attach(cls, backend: VendorBackend, info: SessionInfo) -> Self:
        """An object for a session that exists on the server (no request is made)."""
        attached = cls.__new__(cls)
        attached._info = info
        attached._bind(backend.provider, backend.name, backend)
        return attached

    @classmethod
    def _listed(
        cls,
        provider: VendorProvider,
        info: SessionInfo,
        lookup: Callable[[str, str], VendorBackend | VendorError],
    ) -> Self:
        """:meth:`_attach` for a listing: the backend comes from ``lookup``, if any.

        A session of a device the server no longer serves is still listed, and refuses
        only what needs the device (running jobs, :attr:`bound_backend`).
        """
        from qiskit_vendor_provider.backend import VendorBackend  # noqa: PLC0415 - cycle

        found = lookup(info.device, f"{info.mode} {info.session_id}")
        if isinstance(found, VendorBackend):
            return cls._attach(found, info)
        attached = cls.__new__(cls)
        attached._info = info
        attached._bind(provider, info.device, None, found)
        return attached

    def _live_backend(self) -> VendorBackend:
        """Its device's backend; a typed error when the device is retired."""
        if self._backend is None:
            error = self._backend_error or VendorNotFoundError(f"no device {self._device!r}")
            raise type(error)(error.message)
        return self._backend

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.session_id} on {self._device!r}, {self._info.state}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Closed, not cancelled, even on an error: the jobs already queued still run.
        if self._info.accepting_jobs:
            self.close()

    def __copy__(self) -> Self:
        return self  # one object per server session: copies share its known state

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    @property
    def session_id(self) -> str:
        """The server's id of this session or batch."""
        return self._info.session_id

    @property
    def mode(self) -> str:
        """``session`` or ``batch``."""
        return self._mode

    def backend(self) -> str:
        """The name of the device its jobs run on (as IBM Runtime's ``Session.backend()``)."""
        return self._device

    @property
    def bound_backend(self) -> VendorBackend:
        """A copy of the backend whose ``run()`` submits into this session or batch.

        For code that takes a backend and calls ``run`` (``qiskit-experiments``, your own
        loops); it shares the provider's connection.
        """
        bound = copy.copy(self._live_backend())
        bound._session = self
        return bound

    def details(self) -> SessionInfo:
        """Its state, times and job counts, fetched from the server now.

        ``elapsed_seconds`` counts from the start of its first job; ``job_count`` and
        ``pending_jobs`` count its jobs (all, and queued or running).
        """
        self._info = self._client.get_session(self.session_id)
        return self._info

    def status(self) -> str:
        """Its state, fetched now.

        One of ``open`` (no job started yet), ``active``, ``inactive``, ``closed``,
        ``expired`` or ``cancelled``.
        """
        return self.details().state

    def close(self) -> None:
        """Accept no new jobs; the ones queued still run. Closing twice is harmless."""
        self._info = self._client.close_session(self.session_id)

    def cancel(self) -> None:
        """Cancel its queued and running jobs, and close it."""
        self._info = self._client.cancel_session(self.session_id)

    def jobs(self, limit: int | None = 10) -> list[VendorJob]:
        """Its jobs, newest first."""
        return self._provider.jobs(limit=limit, session_id=self.session_id)

    def run(
        self,
        circuits: QuantumCircuit | Sequence[QuantumCircuit],
        parameter_binds: Sequence[Mapping[Parameter, ArrayLike]] | None = None,
        **options: Any,
    ) -> VendorJob:
        """Submit circuits as one job in this session or batch (``backend.run`` options).

        Raises:
            SessionClosedError: it accepts no new jobs; nothing is sent.
        """
        return self._live_backend().run(circuits, parameter_binds, session=self, **options)

    def _admit(self, backend: VendorBackend) -> str:
        """This session's id for a job on ``backend``, or a typed error; never POSTs.

        The state known here decides; when that says ``max_time`` has run out by this
        machine's clock, the server is asked (a GET) before the job is refused, since
        the clocks may differ.
        """
        if backend.name != self._device:
            raise SessionDeviceError(
                f"{self._mode} {self.session_id} runs on {self._device!r}, not "
                f"{backend.name!r}; run the job on {self._device!r}, or open a "
                f"{type(self).__name__} on {backend.name!r}"
            )
        if backend.connection.client is not self._client:
            raise VendorValidationError(
                f"{self._mode} {self.session_id} belongs to another provider; use a backend "
                "of the provider that opened it (provider.session(session_id) reattaches)"
            )
        info = self._info
        expires = info.expires_at
        if info.accepting_jobs and expires is not None and time.time() >= expires.timestamp():
            info = self.details()
        if not info.accepting_jobs:
            raise SessionClosedError(
                f"{self._mode} {self.session_id} is {info.state} and accepts no new jobs; "
                f"nothing was sent. Open a new {type(self).__name__}, or run the job without one"
            )
        return self.session_id


class Session(ExecutionMode):
    """A session: the device runs its jobs back to back, before other clients' jobs.

    Once its first job starts, the server runs the session's queued jobs first, and
    keeps the device for its next job for ``max_idle`` seconds after each, until
    ``max_time`` runs out (see :mod:`qiskit_vendor_provider.emulator.sessions`).

    Args:
        backend: The device, from ``provider.get_backend(...)``.
        max_time: Seconds from the start of its first job until it expires (None: the
            server's default, 900 s on the emulator); at most 8 hours.
        max_idle: Seconds the device waits for its next job while it has none queued
            or running (None: the server's default, 60 s); at most an hour. Past it the
            session is ``inactive``: its next job waits its turn in the queue, and the
            session is active again once that job starts.

    Raises:
        VendorValidationError: ``backend`` is not a vendor device, or a bad time.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> from qiskit_vendor_provider import Session, VendorProvider
        >>> backend = VendorProvider().get_backend("ideal_simulator")
        >>> bell = QuantumCircuit(2)
        >>> _ = bell.h(0), bell.cx(0, 1), bell.measure_all()
        >>> with Session(backend=backend, max_time=600) as session:
        ...     job = session.run(bell, shots=10)
        ...     _ = job.result()
        ...     job.session_id() == session.session_id
        True
        >>> session.status()
        'closed'
    """

    _mode: ClassVar[str] = "session"

    def __init__(
        self,
        backend: VendorBackend,
        *,
        max_time: float | None = None,
        max_idle: float | None = None,
    ) -> None:
        self._open(backend, max_time, max_idle)


class Batch(ExecutionMode):
    """A batch: independent jobs queued together, without holding the device.

    Each job of the batch takes the queue place of its first job, so its jobs run one
    after another instead of interleaved with jobs other clients submit meanwhile.
    Jobs queued before the batch's first still run first, and the device is never kept
    waiting for it.

    Args:
        backend: The device, from ``provider.get_backend(...)``.
        max_time: Seconds from the start of its first job until it accepts no more
            (None: the server's default, 900 s on the emulator); at most 8 hours.

    Raises:
        VendorValidationError: ``backend`` is not a vendor device, or a bad time.
    """

    _mode: ClassVar[str] = "batch"
