"""``VendorJob``: a job on a vendor device, followed over the REST API."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from qiskit.providers import JobStatus, JobV1
from qiskit.result import Result

from qiskit_vendor_provider.api.client import ApiClient
from qiskit_vendor_provider.api.models import JobInfo, JobResult, JobState
from qiskit_vendor_provider.api.secret import redact, redacting_logger
from qiskit_vendor_provider.api.states import (
    FINAL_SERVER_STATES,
    STATES,
    is_known_state,
    normalize_state,
    state_meaning,
)
from qiskit_vendor_provider.calibrations import job_properties
from qiskit_vendor_provider.connection import DEFAULT_POLL_INTERVAL
from qiskit_vendor_provider.errors import (
    DeviceRetiredError,
    UnknownJobStateError,
    VendorApiError,
    VendorConnectionError,
    VendorError,
    VendorJobError,
    VendorJobTimeoutError,
    VendorValidationError,
)
from qiskit_vendor_provider.progress import WaitProgress, show_progress
from qiskit_vendor_provider.properties import DeviceProperties
from qiskit_vendor_provider.serialization import to_qiskit_result
from qiskit_vendor_provider.wait_timeout import check_wait_timeout

if TYPE_CHECKING:
    from qiskit_vendor_provider.backend import VendorBackend
    from qiskit_vendor_provider.journal import JobJournal
    from qiskit_vendor_provider.provider import VendorProvider

logger = redacting_logger(__name__)

_STATES = {state: JobStatus[name] for state, (name, _) in STATES.items()}
_warned_states: set[str] = set()

FINAL = frozenset(_STATES[state] for state in FINAL_SERVER_STATES)


def job_status(state: str | JobInfo) -> JobStatus:
    """The one mapping from server job states to Qiskit's :class:`JobStatus`.

    A state this client does not know (a newer server may add some, e.g. ``EXPIRED``)
    is RUNNING while the job has not ended, and ERROR, a final state, once the server
    says it ended (the job's ``ended_at`` is set): so a wait for it ends when the job
    does. Given only a state's name, as the journal keeps it, an unknown state is
    RUNNING (see :func:`qiskit_vendor_provider.api.states.state_meaning`).

    >>> job_status("QUEUED"), job_status("done"), job_status("FAILED")
    (<JobStatus.QUEUED: 'job is queued'>, <JobStatus.DONE: 'job has successfully run'>, \
<JobStatus.ERROR: 'job incurred error'>)
    >>> job_status("COMPILING")
    <JobStatus.RUNNING: 'job is actively running'>
    """
    if isinstance(state, JobInfo):
        name, ended = state.status, state.ended_at is not None
    else:
        name, ended = state, False
    meaning, _ = state_meaning(name, ended=ended)
    normalized = normalize_state(name)
    if normalized not in STATES and normalized not in _warned_states:
        _warned_states.add(normalized)
        logger.warning(
            "job state %r from the server is unknown to this version of "
            "qiskit-vendor-provider: taken as RUNNING until the job ends, then as ERROR",
            name,
        )
    return JobStatus[meaning]


def journal_state(info: JobInfo) -> str:
    """The state to note in the journal: the server's, or, unknown, what it maps to.

    The journal keeps states by name, without ``ended_at``: an unknown state that
    ended is noted as ``ERROR``, so the journal sees the job finished.
    """
    return info.status if is_known_state(info.status) else job_status(info).name


def server_states(status: JobStatus) -> list[str]:
    """The v1 server states that :func:`job_status` maps to ``status`` (its inverse).

    >>> server_states(JobStatus.ERROR), server_states(JobStatus.VALIDATING)
    (['ERROR'], [])
    """
    v1_states = set(get_args(JobState))
    return [state for state, mapped in _STATES.items() if mapped is status and state in v1_states]


LONG_POLL_SECONDS = 10.0
"""Longest a status request asks the server to hold it (``GET /v1/jobs/{id}?wait=``)."""

MIN_LONG_POLL_SECONDS = 0.05
"""Below this much time left, a wait polls once more without holding."""

QUICK_RESULT_SECONDS = 1.0
"""How long ``result()`` first waits for the result itself, in one request."""

SUBMIT_WAIT_SECONDS: float | None = 0.1
"""How long ``backend.run()`` lets the server hold a submission while its job runs.

A server of API 1.5 holds the answer only for a job that starts at once (one queued
behind another is answered at once), and answers a job that ended DONE meanwhile with
its result: a short job then needs no request after its submission. A longer job costs
``run()`` this much more, while the job runs anyway.
"""


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

    Made by :meth:`VendorBackend.run`, or found again with ``retrieve_job``, ``jobs``,
    ``active_jobs`` or ``resume``; its result comes from the server, so it does not need
    the circuits in memory.

    A job of a device the server no longer serves (retired) has no backend: its
    status, result and :attr:`device_name` work as for any job, and :meth:`backend`
    raises :class:`~qiskit_vendor_provider.errors.DeviceRetiredError`.

    Args:
        backend: The backend the job runs on (None for a job of a retired device: see
            :meth:`VendorProvider.retrieve_job`).
        job_id: The server's job id.
        client: The API client.
        info: The job's status as last seen.
        metadata: Per circuit, the metadata of the original circuits (used in the result
            instead of their JSON copies).
        journal: The local journal to note the job's states in.
        with_progress_bar: Default of ``result()`` and ``wait_for_final_state()``: True,
            False, or None for "only in an interactive terminal".
        result: The job's result, if the server answered the submission with it (the
            job ended DONE while the submission was held).
    """

    def __init__(
        self,
        backend: VendorBackend | None,
        job_id: str,
        client: ApiClient,
        *,
        info: JobInfo | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
        journal: JobJournal | None = None,
        with_progress_bar: bool | None = None,
        result: JobResult | None = None,
    ) -> None:
        super().__init__(backend, job_id)
        self._client = client
        self._info = info
        self._metadata = metadata
        self._journal = journal
        self._with_progress_bar = with_progress_bar
        self._result: Result | None = None
        # The server's answer, read into a Result when first asked for.
        self._answer = result if result is not None and result.success else None
        self._unreachable = False
        # getattr: tests and tools stand in for the backend with objects that have less.
        device = getattr(backend, "name", None) or (info.device if info is not None else "")
        self._device: str = device
        # Only a job without a backend keeps its provider: to pickle by, and to poll as.
        self._provider: VendorProvider | None = None
        self._backend_error: VendorError | None = None

    @classmethod
    def _without_backend(
        cls,
        provider: VendorProvider,
        job_id: str,
        device: str,
        error: VendorError,
        *,
        info: JobInfo | None = None,
        metadata: list[dict[str, Any] | None] | None = None,
    ) -> VendorJob:
        """A job whose device has no backend here: everything but :meth:`backend` works.

        For a device the server no longer serves (retired), or whose spec this version
        of the package cannot read; ``error`` is what :meth:`backend` raises.
        """
        connection = provider.connection
        job = cls(
            None,
            job_id,
            connection.client,
            info=info,
            metadata=metadata,
            journal=connection.journal,
        )
        job._device = device
        job._provider = provider
        job._backend_error = error
        return job

    def __repr__(self) -> str:
        return f"<VendorJob {self.job_id()} on {self._device}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # By reference: the backend (itself by reference) and the job id; the state
        # and the result are fetched again. A job without a backend: its provider.
        if self._backend is None and self._provider is not None:
            return (
                _restore_detached_job,
                (self._provider, self._device, self.job_id(), self._metadata),
            )
        return (_restore_job, (self.backend(), self.job_id(), self._metadata))

    def backend(self) -> VendorBackend:
        """The backend the job ran on.

        Raises:
            DeviceRetiredError: the server no longer serves the device (its name is
                :attr:`device_name`; the job's status and result are still available).
            VendorApiError: the device's spec cannot be read by this version of the
                package.
        """
        if self._backend is None:
            error = self._backend_error or VendorJobError(f"job {self.job_id()} has no backend")
            raise type(error)(error.message)
        backend: VendorBackend = self._backend
        return backend

    @property
    def device_name(self) -> str:
        """The name of the device the job ran on (also when the device is retired)."""
        return self._device

    def __deepcopy__(self, memo: dict[int, Any]) -> VendorJob:
        """A copy sharing the client and the journal (which hold locks and the token)."""
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        shared = {"_client", "_journal"}
        for key, value in self.__dict__.items():
            copied.__dict__[key] = value if key in shared else copy.deepcopy(value, memo)
        return copied

    def submit(self) -> None:
        """Jobs are submitted by ``backend.run()``; calling this is an error."""
        raise VendorJobError(f"job {self.job_id()} was already submitted by backend.run()")

    def refresh(self, *, deadline: float | None = None) -> JobInfo:
        """Fetch the job's current state from the server (and note it in the journal).

        Args:
            deadline: A ``time.monotonic()`` moment the request (with its retries) must
                not outlast.
        """
        self._info = self._client.get_job(self.job_id(), deadline=deadline)
        if self._journal is not None:
            self._journal.record_state(self.job_id(), journal_state(self._info))
        return self._info

    def _known(self) -> JobInfo:
        return self._info if self._info is not None else self.refresh()

    def status(self) -> JobStatus:
        """The job's status, fetched from the server unless it is already final."""
        if self._info is None or job_status(self._info) not in FINAL:
            self.refresh()
        return job_status(self._known())

    def server_status(self) -> str:
        """The job's state in the server's own words (e.g. ``EXPIRED``), fetched unless final.

        :meth:`status` maps it to Qiskit's :class:`JobStatus`; a state this version of
        the package does not know maps to RUNNING, then ERROR once the job ended.
        """
        self.status()
        return self._known().status

    def name(self) -> str | None:
        """The job's name, if it was given one."""
        return self._known().name

    def session_id(self) -> str | None:
        """The id of the session or batch the job runs in (None: neither)."""
        return self._known().session_id

    def calibration_id(self) -> str | None:
        """The id of the calibration the job runs on (fetched unless the job is final).

        Pinned: that one. Otherwise the one in force when the job started (before it
        starts: the one in force when it was submitted). None for a device without
        calibrations, or from a server older than API 1.3.
        """
        self.status()
        return self._known().calibration_id

    def properties(self) -> DeviceProperties | None:
        """The calibration the job ran on: in force when it started, or the one pinned.

        Returns:
            None for a device without calibrations, or a job not started yet on a server
            that names no calibrations (older than API 1.3).

        Raises:
            CalibrationNotKeptError: the server no longer keeps the job's calibration.
        """
        self.status()
        return job_properties(self._client, self._device, self._known())

    def tags(self) -> list[str]:
        """The job's tags."""
        return list(self._known().tags)

    def creation_date(self) -> datetime:
        """When the server accepted the job (timezone-aware)."""
        return self._known().created_at

    def queue_position(self, refresh: bool = False) -> int | None:
        """Position in the device queue (1: next to run); None unless queued.

        Args:
            refresh: Ask the server instead of using the state last seen.
        """
        info = self.refresh() if refresh or self._info is None else self._info
        return info.queue_position if job_status(info) is JobStatus.QUEUED else None

    def usage(self) -> float | None:
        """Seconds of device time the job was charged; None until it is DONE.

        The server computes it with the formula of :meth:`VendorBackend.estimate
        <qiskit_vendor_provider.backend.VendorBackend.estimate>` (see
        :mod:`qiskit_vendor_provider.device_time`). A job stopped at its run-time limit
        (``max_execution_time``, ERROR) is charged the seconds it ran. Any other job that
        failed or was cancelled, or a server that does not report usage, gives None.
        """
        if self.status() not in (JobStatus.DONE, JobStatus.ERROR):
            return None
        # status() refreshed the info until the job was final; a final job's usage is fixed.
        return self._known().usage_seconds

    def error_message(self) -> str | None:
        """The server's error message of a failed job, else None."""
        if self.status() is JobStatus.ERROR:
            info = self._known()
            message = info.error or "the job failed without a message"
            if not is_known_state(info.status):
                message = f"{_unknown_state_text(info.status)}: {message}"
            # The server's free text, like every error message of the package, redacted.
            return redact(message)
        return None

    def cancel(self) -> bool:
        """Ask the server to cancel the job; True if it is cancelled afterwards."""
        self._info = self._client.cancel_job(self.job_id())
        if self._journal is not None:
            self._journal.record_state(self.job_id(), journal_state(self._info))
        return job_status(self._info) is JobStatus.CANCELLED

    def wait_for_final_state(
        self,
        timeout: float | None = None,
        wait: float | None = None,
        callback: Callable[[str, JobStatus, VendorJob], None] | None = None,
        *,
        with_progress_bar: bool | None = None,
    ) -> JobStatus:
        """Poll until the job is DONE, ERROR or CANCELLED, with a growing interval.

        Args:
            timeout: Seconds to wait at the most; None waits as long as it takes.
            wait: First polling interval in seconds (default: the provider's).
            callback: Called as ``callback(job_id, status, job)`` after every poll.
            with_progress_bar: Show a progress bar on stderr (default: the job's option).

        Raises:
            VendorJobTimeoutError: the job is not final within ``timeout``.
        """
        timeout = check_wait_timeout(timeout)
        initial, maximum = self._poll_interval()
        delays = poll_delays(wait or initial, maximum)
        deadline = None if timeout is None else time.monotonic() + timeout
        option = self._with_progress_bar if with_progress_bar is None else with_progress_bar
        status: JobStatus | None = None
        with WaitProgress(self.job_id(), show_progress(option)) as progress:
            while True:
                hold = self._long_poll_seconds(deadline)
                asked = time.monotonic()
                seen = self._poll(deadline, wait=hold)
                if seen is not None:
                    status = seen
                    progress.update(status, self.queue_position())
                    if callback is not None:
                        callback(self.job_id(), status, self)
                    if status in FINAL:
                        return status
                    if hold and time.monotonic() - asked >= hold / 2:
                        continue  # the server held the request: ask again at once
                    if hold:
                        # Answered at once although not final: the server does not hold
                        # requests, so this client polls it instead.
                        self._client.long_poll = False
                delay = next(delays)
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise VendorJobTimeoutError(self._timeout_message(timeout))
                    delay = min(delay, remaining)
                time.sleep(delay)

    def _poll_interval(self) -> tuple[float, float]:
        """(first, longest) seconds between polls: the backend's, else the provider's."""
        if self._backend is not None:
            interval: tuple[float, float] = self._backend.poll_interval
            return interval
        if self._provider is not None:
            return self._provider.poll_interval
        return DEFAULT_POLL_INTERVAL

    def _timeout_message(self, timeout: float | None) -> str:
        """What is known of the job when a wait for it runs out, and what to do."""
        known = None if self._info is None else job_status(self._info).name
        if self._info is not None and not is_known_state(self._info.status):
            known = f"in state {self._info.status!r} ({_unknown_state_text(None)})"
        if self._unreachable:
            last = f"; its last known status is {known}" if known else ""
            return (
                f"job {self.job_id()}: the server did not answer during the last poll of the "
                f"{timeout} s wait{last}. The job goes on on the server: call result() again "
                "later, or retrieve it by id"
            )
        return (
            f"job {self.job_id()} is still {known} after {timeout} s; call result() again "
            "later, or retrieve it by id"
        )

    def _long_poll_seconds(self, deadline: float | None) -> float | None:
        """How long to ask the server to hold the next status request, if at all."""
        if not self._client.long_poll or (
            self._info is not None and job_status(self._info) in FINAL
        ):
            return None
        hold = LONG_POLL_SECONDS
        if deadline is not None:
            hold = min(hold, deadline - time.monotonic())
        return hold if hold >= MIN_LONG_POLL_SECONDS else None

    def _poll(self, deadline: float | None = None, wait: float | None = None) -> JobStatus | None:
        """The job's status, or None while the server cannot be reached.

        A wait outlives a server restart or a network outage: the job goes on on the
        server, so being unable to ask about it is no reason to give up waiting. The
        request never outlasts ``deadline`` (a ``time.monotonic()`` moment); with
        ``wait``, the server is asked to answer once the job is final (long poll).
        """
        try:
            if self._info is None or job_status(self._info) not in FINAL:
                try:
                    self._info = self._client.get_job(self.job_id(), deadline=deadline, wait=wait)
                except VendorValidationError:
                    if wait is None:
                        raise
                    # An older server refuses ?wait=: poll it the old way from now on.
                    self._client.long_poll = False
                    self._info = self._client.get_job(self.job_id(), deadline=deadline)
                if self._journal is not None:
                    self._journal.record_state(self.job_id(), journal_state(self._info))
            status = job_status(self._known())
        except VendorApiError as exc:
            transient = isinstance(exc, VendorConnectionError) or (exc.status_code or 0) >= 500
            if not transient:
                raise
            if deadline is not None and time.monotonic() >= deadline:
                # Cut short by the wait's own deadline: no news of the server either way.
                return None
            # Once per outage: a wait may poll an unreachable server many times.
            log = logger.debug if self._unreachable else logger.warning
            log("job %s: status unavailable (%s); still waiting", self.job_id(), exc)
            self._unreachable = True
            return None
        if self._unreachable:
            logger.warning("job %s: the server answers again", self.job_id())
            self._unreachable = False
        return status

    def result(
        self,
        timeout: float | None = None,
        *,
        partial: bool = False,
        with_progress_bar: bool | None = None,
    ) -> Result:
        """Wait for the job and return its Result.

        Args:
            timeout: Seconds to wait at the most; None waits as long as it takes.
            partial: For a job that failed part-way, return the results of the programs
                that finished (failed ones have ``success=False`` and their error as
                ``status``) instead of raising.
            with_progress_bar: Show a progress bar on stderr while waiting.

        Raises:
            VendorJobError: the job failed or was cancelled (with the server's message).
            VendorJobTimeoutError: the job is not final within ``timeout``.
        """
        timeout = check_wait_timeout(timeout)
        if self._result is not None:
            return self._result
        option = self._with_progress_bar if with_progress_bar is None else with_progress_bar
        if self._answer is not None:
            # The job ended DONE while its submission was held: its result came with it.
            answer, self._answer = self._answer, None
            with WaitProgress(self.job_id(), show_progress(option)) as progress:
                progress.update(JobStatus.DONE, None)
            return self._finished_result(answer, JobStatus.DONE)
        started = time.monotonic()
        quick = None if show_progress(option) else self._quick_result(timeout)
        if quick is not None:
            return self._finished_result(quick, JobStatus.DONE)
        # The quick attempt's time counts against the timeout, which the message names.
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        try:
            status = self.wait_for_final_state(timeout=left, with_progress_bar=with_progress_bar)
        except VendorJobTimeoutError:
            raise VendorJobTimeoutError(self._timeout_message(timeout)) from None
        if status is JobStatus.CANCELLED:
            raise VendorJobError(f"job {self.job_id()} was cancelled; it has no result")
        if not is_known_state(self._known().status):
            return self._result_of_unknown_state(partial)
        if status is JobStatus.ERROR and not partial:
            raise VendorJobError(
                f"job {self.job_id()} failed: {self._known().error or 'no message'}; "
                "result(partial=True) returns what finished"
            )
        try:
            answer = self._client.get_result(self.job_id())
        except VendorApiError as exc:
            if status is JobStatus.ERROR:
                raise VendorJobError(
                    f"job {self.job_id()} failed before any program finished: "
                    f"{self._known().error or 'no message'}"
                ) from exc
            raise
        return self._finished_result(answer, status)

    def _result_of_unknown_state(self, partial: bool) -> Result:
        """The result of a job that ended in a state this client does not know.

        The server may still have one (a newer server's name for DONE): it is asked.
        Without one, a typed error names the state.
        """
        info = self._known()
        problem = None
        try:
            answer = self._client.get_result(self.job_id())
        except VendorApiError as exc:
            if isinstance(exc, VendorConnectionError) or (exc.status_code or 0) >= 500:
                raise
            problem = exc.detail or exc.message
        else:
            if answer.success or (partial and answer.results):
                return self._finished_result(
                    answer, JobStatus.DONE if answer.success else JobStatus.ERROR
                )
            problem = "its result says it did not succeed"
        raise UnknownJobStateError(
            f"job {self.job_id()} ended in state {info.status!r} "
            f"({_unknown_state_text(None)}) and has no result: "
            f"{info.error or problem or 'the server gave no message'}. "
            "job.server_status() gives the state; upgrade qiskit-vendor-provider to learn "
            "what it means"
        )

    def _finished_result(self, answer: JobResult, status: JobStatus) -> Result:
        backend = self._backend
        result = to_qiskit_result(
            answer,
            backend_name=self._device,
            backend_version="unknown" if backend is None else backend.backend_version,
            metadata=self._metadata,
            ended_at=None if self._info is None else self._info.ended_at,
        )
        if status is JobStatus.DONE:
            self._result = result  # a final, complete result never changes: keep it
        return result

    def _quick_result(self, timeout: float | None) -> JobResult | None:
        """The result of a job that ends within a second, in one long-polled request.

        Most jobs of a script or a sweep end within a second of being sent: asking for
        the result with a wait saves the status request that would come first. Anything
        else (a longer job, a failed or cancelled one, a server that does not wait on
        this route, an unreachable one) is None, and :meth:`result` waits as usual.
        """
        if not self._client.long_poll or (
            self._info is not None and (job_status(self._info) in FINAL)
        ):
            return None
        hold = QUICK_RESULT_SECONDS if timeout is None else min(QUICK_RESULT_SECONDS, timeout)
        if hold < MIN_LONG_POLL_SECONDS:
            return None
        # A little past the hold for the answer to travel, never past the caller's timeout.
        allowed = hold + 2.0 if timeout is None else min(hold + 2.0, timeout)
        try:
            answer = self._client.get_result(
                self.job_id(), wait=hold, deadline=time.monotonic() + allowed
            )
        except VendorError:
            return None
        if answer.status != "DONE" or not answer.success:
            return None
        if self._journal is not None:
            self._journal.record_state(self.job_id(), "DONE")
        return answer


def _unknown_state_text(state: str | None) -> str:
    """How messages describe a state this version of the package does not know."""
    prefix = "" if state is None else f"the job ended in state {state!r}, "
    return f"{prefix}a state this version of qiskit-vendor-provider does not know"


def _restore_detached_job(
    provider: VendorProvider,
    device: str,
    job_id: str,
    metadata: list[dict[str, Any] | None] | None,
) -> VendorJob:
    """Unpickle a job pickled without a backend (its device was retired)."""
    error = device_retired_error(device, f"job {job_id}")
    return VendorJob._without_backend(provider, job_id, device, error, metadata=metadata)


def check_job_id(job_id: object) -> str:
    """A job id as given to ``retrieve_job``, stripped; the one check of it.

    Raises:
        VendorValidationError: not a non-empty string.
    """
    if not isinstance(job_id, str) or not job_id.strip():
        raise VendorValidationError(f"a job id is a non-empty string, not {job_id!r}")
    return job_id.strip()


def device_retired_error(device: str, what: str) -> DeviceRetiredError:
    """The error of asking for the device of ``what`` (a job, a session) once it is retired."""
    return DeviceRetiredError(
        f"{what} ran on device {device!r}, which the server no longer serves (retired). "
        "Its status, result and device name (device_name) are still available; to run "
        "again, pick a device from provider.backends()"
    )


def _restore_job(
    backend: VendorBackend, job_id: str, metadata: list[dict[str, Any] | None] | None
) -> VendorJob:
    """Unpickle a job: job ``job_id`` on ``backend``, its state fetched when first asked."""
    connection = backend.connection
    return VendorJob(
        backend, job_id, connection.client, metadata=metadata, journal=connection.journal
    )
