"""``VendorJob``: a job on a vendor device, followed over the REST API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from qiskit.providers import JobStatus, JobV1
from qiskit.result import Result

from qiskit_vendor_provider.api.client import ApiClient
from qiskit_vendor_provider.api.models import JobInfo
from qiskit_vendor_provider.errors import VendorJobError, VendorJobTimeoutError
from qiskit_vendor_provider.serialization import to_qiskit_result

if TYPE_CHECKING:
    from qiskit_vendor_provider.backend import VendorBackend

logger = logging.getLogger(__name__)

_STATES = {
    "INITIALIZING": JobStatus.INITIALIZING,
    "VALIDATING": JobStatus.VALIDATING,
    "QUEUED": JobStatus.QUEUED,
    "RUNNING": JobStatus.RUNNING,
    "DONE": JobStatus.DONE,
    "ERROR": JobStatus.ERROR,
    "FAILED": JobStatus.ERROR,
    "CANCELLED": JobStatus.CANCELLED,
}
_warned_states: set[str] = set()

FINAL = frozenset({JobStatus.DONE, JobStatus.ERROR, JobStatus.CANCELLED})


def job_status(state: str) -> JobStatus:
    """The one mapping from server job states to Qiskit's :class:`JobStatus`.

    A state this client does not know (a newer server may add some) is taken as a job
    still in progress, never as final, so a wait keeps waiting instead of failing.

    >>> job_status("QUEUED"), job_status("done"), job_status("FAILED")
    (<JobStatus.QUEUED: 'job is queued'>, <JobStatus.DONE: 'job has successfully run'>, \
<JobStatus.ERROR: 'job incurred error'>)
    >>> job_status("COMPILING")
    <JobStatus.RUNNING: 'job is actively running'>
    """
    normalized = state.strip().upper()
    if normalized in _STATES:
        return _STATES[normalized]
    if normalized not in _warned_states:
        _warned_states.add(normalized)
        logger.warning("unknown job state %r from the server: treated as running", state)
    return JobStatus.RUNNING


def poll_delays(initial: float, maximum: float, factor: float = 1.5) -> Iterator[float]:
    """Seconds between status polls: growing by ``factor`` from ``initial`` up to ``maximum``.

    >>> delays = poll_delays(0.1, 1.0, factor=2.0)
    >>> [round(next(delays), 2) for _ in range(6)]
    [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    """
    delay = initial
    while True:
        yield delay
        delay = min(maximum, delay * factor)


class VendorJob(JobV1):  # type: ignore[misc]
    """A job submitted to a vendor device.

    Made by :meth:`VendorBackend.run`; its result is fetched from the server, so it does
    not need the circuits in memory.

    Args:
        backend: The backend the job runs on.
        job_id: The server's job id.
        client: The API client.
        info: The job's status as last seen.
        metadata: Per circuit, the metadata of the original circuits (used in the result
            instead of their JSON copies).
    """

    def __init__(
        self,
        backend: VendorBackend,
        job_id: str,
        client: ApiClient,
        *,
        info: JobInfo | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
    ) -> None:
        super().__init__(backend, job_id)
        self._client = client
        self._info = info
        self._metadata = metadata
        self._result: Result | None = None

    def __repr__(self) -> str:
        return f"<VendorJob {self.job_id()} on {self.backend().name}>"

    def submit(self) -> None:
        """Jobs are submitted by ``backend.run()``; calling this is an error."""
        raise VendorJobError(f"job {self.job_id()} was already submitted by backend.run()")

    def refresh(self) -> JobInfo:
        """Fetch the job's current state from the server."""
        self._info = self._client.get_job(self.job_id())
        return self._info

    def status(self) -> JobStatus:
        """The job's status, fetched from the server unless it is already final."""
        if self._info is None or job_status(self._info.status) not in FINAL:
            self.refresh()
        assert self._info is not None
        return job_status(self._info.status)

    def error_message(self) -> str | None:
        """The server's error message of a failed job, else None."""
        if self.status() is JobStatus.ERROR and self._info is not None:
            return self._info.error or "the job failed without a message"
        return None

    def cancel(self) -> bool:
        """Ask the server to cancel the job; True if it is cancelled afterwards."""
        self._info = self._client.cancel_job(self.job_id())
        return job_status(self._info.status) is JobStatus.CANCELLED

    def wait_for_final_state(
        self,
        timeout: float | None = None,
        wait: float | None = None,
        callback: Callable[[str, JobStatus, VendorJob], None] | None = None,
    ) -> JobStatus:
        """Poll until the job is DONE, ERROR or CANCELLED, with a growing interval.

        Args:
            timeout: Seconds to wait at the most; None waits as long as it takes.
            wait: First polling interval in seconds (default: the provider's).
            callback: Called as ``callback(job_id, status, job)`` after every poll.

        Raises:
            VendorJobTimeoutError: the job is not final within ``timeout``.
        """
        backend = self.backend()
        initial, maximum = backend.poll_interval
        delays = poll_delays(wait or initial, maximum)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status()
            if callback is not None:
                callback(self.job_id(), status, self)
            if status in FINAL:
                return status
            delay = next(delays)
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise VendorJobTimeoutError(
                        f"job {self.job_id()} is still {status.name} after {timeout} s; call "
                        "result() again later, or retrieve it by id"
                    )
                delay = min(delay, remaining)
            time.sleep(delay)

    def result(self, timeout: float | None = None) -> Result:
        """Wait for the job and return its Result.

        Args:
            timeout: Seconds to wait at the most; None waits as long as it takes.

        Raises:
            VendorJobError: the job failed or was cancelled (with the server's message).
            VendorJobTimeoutError: the job is not final within ``timeout``.
        """
        if self._result is not None:
            return self._result
        status = self.wait_for_final_state(timeout=timeout)
        if status is JobStatus.CANCELLED:
            raise VendorJobError(f"job {self.job_id()} was cancelled; it has no result")
        if status is JobStatus.ERROR:
            message = self._info.error if self._info is not None else None
            raise VendorJobError(f"job {self.job_id()} failed: {message or 'no message'}")
        backend = self.backend()
        self._result = to_qiskit_result(
            self._client.get_result(self.job_id()),
            backend_name=backend.name,
            backend_version=backend.backend_version,
            metadata=self._metadata,
        )
        return self._result
