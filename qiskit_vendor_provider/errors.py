"""The exceptions this package raises.

Every error a user can meet is a :class:`VendorError`, itself a
:class:`~qiskit.exceptions.QiskitError`, so ``except QiskitError`` keeps working in code
written for other providers. Errors that come from the server carry its HTTP status, the
problem ``title``/``detail`` and the request id, which is what vendor support asks for.

This module imports only ``qiskit.exceptions`` and the redaction leaf; the wire layer
(``api/``) raises these errors without depending on anything else in Qiskit.

Every message and server detail passes through
:func:`~qiskit_vendor_provider.api.redaction.redact` (a module that imports nothing of
the package) when the error is made, so no error of this package can carry a token,
whoever wrote its text (a server that echoes the ``Authorization`` header included).
"""

from __future__ import annotations

from qiskit.exceptions import QiskitError

from qiskit_vendor_provider.api.redaction import redact


class VendorError(QiskitError):  # type: ignore[misc]
    """Base class of every error raised by this package.

    Args:
        message: What went wrong and how to fix it.
        status_code: HTTP status of the server's answer, if the error came from the server.
        detail: The server's ``detail`` text, if any.
        request_id: The server's request id, to quote to vendor support.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        detail: str | None = None,
        request_id: str | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.detail = None if detail is None else redact(detail)
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments are not restored by the default exception pickling.
        return (
            _rebuild_error,
            (type(self), self.message, self.status_code, self.detail, self.request_id),
        )


def _rebuild_error(
    cls: type[VendorError],
    message: str,
    status_code: int | None,
    detail: str | None,
    request_id: str | None,
) -> VendorError:
    return cls(message, status_code=status_code, detail=detail, request_id=request_id)


class VendorAuthError(VendorError):
    """The server refused the credentials (HTTP 401 or 403), or no usable token was found."""


class VendorNotFoundError(VendorError):
    """A device or job does not exist, or is not visible to this account (HTTP 404)."""


class VendorValidationError(VendorError):
    """A request was rejected as invalid, by this package before sending it or by the server."""


class CircuitValidationError(VendorValidationError):
    """A circuit cannot run on the device as it is; the message names the circuit and the fix."""


class FaultyElementError(CircuitValidationError, ValueError):
    """A circuit uses a qubit or a gate the device's calibration marks out of service.

    The message names the circuit, the instruction and the faulty element, and says to
    transpile again. Also a ``ValueError``, which IBM's ``check_faulty`` raises.
    """


class DatabaseFileError(VendorError):
    """A local SQLite file (the job journal, the emulator's job store) cannot be used.

    It is damaged or not a database, the path is a directory, or its directory is not
    writable. The message names the file and the fix.

    Attributes:
        path: The file.
        damaged: True if the file exists but is not a usable database (its content is at
            fault, not where it is): moving it aside and starting a new one would work.
    """

    def __init__(self, message: str, *, path: str = "", damaged: bool = False) -> None:
        super().__init__(message)
        self.path = path
        self.damaged = damaged

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_database_error, (type(self), self.message, self.path, self.damaged))


def _rebuild_database_error(
    cls: type[DatabaseFileError], message: str, path: str, damaged: bool
) -> DatabaseFileError:
    return cls(message, path=path, damaged=damaged)


class DamagedJournalWarning(UserWarning):
    """The job journal was damaged: it was moved aside and a new one started.

    The message names both files. The old one is kept for whoever wants to recover its
    unfinished submissions by hand; nothing reads it any more.
    """


class VendorApiError(VendorError):
    """The server answered with an error that is not about the request's content (5xx, 409...)."""


class VendorConnectionError(VendorApiError):
    """The server could not be reached, or did not answer in time."""


class VendorJobError(VendorError):
    """A job failed, was cancelled, or did not finish within the time allowed."""


class VendorJobTimeoutError(VendorJobError):
    """Waiting for a job took longer than the ``timeout`` the caller gave."""


class DeviceUnavailableError(VendorApiError):
    """The device is offline or in maintenance and does not accept jobs."""


class JobLimitError(VendorError):
    """The account has as many active jobs as it may; wait for one to finish (HTTP 429)."""


class SessionClosedError(VendorValidationError):
    """The session or batch accepts no new jobs: it was closed or cancelled, or it expired."""


class SessionDeviceError(VendorValidationError):
    """A job was sent to a session or batch of another device."""


class SessionLimitError(VendorValidationError):
    """The account has as many open sessions and batches as the server allows (HTTP 409).

    Close one (``session.close()``, or ``provider.sessions()`` to find them) and open again.
    """


class ServerStorageFullError(VendorApiError):
    """The server could not store the request: its storage is full (HTTP 507).

    Nothing was stored. A submission stays in the job journal, and ``provider.resume()``
    sends it again (with the same key, so never twice) once the server has room.
    """


class DeviceRetiredError(VendorNotFoundError):
    """The server no longer serves the device a job or session ran on (it was retired).

    The job's status, result and device name (``job.device_name``) are still available;
    only what needs the device itself (``job.backend()``, running on it) is not.
    """


class UnknownJobStateError(VendorJobError):
    """A job ended in a state this version of the package does not know, without a result.

    The message names the state; a newer version of the package may know it.
    """


class VendorUpgradeRequiredError(VendorApiError):
    """The server refuses this version of the package (HTTP 426): upgrade it."""


class VendorCompatibilityWarning(UserWarning):
    """The server is newer than this package knows, or warns that the package is too old.

    Shown once per server and message; everything the package did before still works.
    """


def is_refusal(error: VendorError) -> bool:
    """Whether a request was refused for good: sent again unchanged, it would be again.

    A 4xx is a refusal, except 408, 425 and a 429 that is not the job limit (waiting
    lifts those), and 426 (upgrading the package lifts it, so the journal keeps the
    job). A connection error, a 5xx or an answer that is not the API's is not: the
    request may have been carried out. An error made before sending (no status) is.

    >>> is_refusal(VendorValidationError("bad", status_code=422))
    True
    >>> is_refusal(VendorApiError("busy", status_code=429)), is_refusal(JobLimitError("full"))
    (False, True)
    >>> is_refusal(VendorConnectionError("reset")), is_refusal(VendorApiError("garbled"))
    (False, False)
    """
    if isinstance(error, JobLimitError):
        return True
    if isinstance(error, VendorConnectionError):
        return False
    status = error.status_code
    if status is None:
        return isinstance(error, (VendorValidationError, VendorAuthError))
    return 400 <= status < 500 and status not in (408, 425, 426, 429)


class CalibrationNotKeptError(VendorNotFoundError):
    """The server does not keep the calibration asked for (it was dropped, or never was).

    The message names the calibrations it keeps (``backend.calibrations()`` lists them).
    """


class CalibrationDriftWarning(UserWarning):
    """A backend built from one calibration submits while the server has moved to another.

    Shown once per backend and server calibration. The job still runs on the calibration
    the backend asked for (pinned) or on the server's current one (not pinned); call
    ``backend.refresh()`` to rebuild the Target from the current calibration.
    """


class DeviceFileError(VendorValidationError):
    """A device file (a snapshot, or a fake device) is missing, unreadable or malformed.

    The message names the file and the first fields at fault.
    """
