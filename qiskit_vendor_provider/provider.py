"""``VendorProvider``: the entry point, from which users get backends."""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import os
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platformdirs import user_data_dir
from requests.adapters import BaseAdapter

from qiskit_vendor_provider.accounts import (
    DEFAULT_ACCOUNT,
    DEFAULT_URL,
    TOKEN_ENV,
    URL_ENV,
    Credentials,
    delete_account,
    resolve,
    same_url,
    save_account,
    saved_accounts,
)
from qiskit_vendor_provider.api.client import ApiClient, RetryPolicy, Timeouts
from qiskit_vendor_provider.api.device_file import read_device_file
from qiskit_vendor_provider.api.models import DeviceSummary, JobInfo
from qiskit_vendor_provider.api.secret import install_log_redaction, redacting_logger
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.calibrations import check_calibration_id, pinned_calibration
from qiskit_vendor_provider.connection import DEFAULT_POLL_INTERVAL, Connection
from qiskit_vendor_provider.errors import (
    VendorApiError,
    VendorError,
    VendorNotFoundError,
    VendorValidationError,
)
from qiskit_vendor_provider.ibm_arguments import refuse_arguments
from qiskit_vendor_provider.job import VendorJob, check_job_id, device_retired_error
from qiskit_vendor_provider.job_listing import (
    StatusFilter,
    build_query,
    check_window,
    given_filters,
    iter_jobs,
)
from qiskit_vendor_provider.journal import JobJournal, JournalEntry, SQLiteJobJournal
from qiskit_vendor_provider.recovery import ResumeOutcome, ResumeReport, resume
from qiskit_vendor_provider.references import ProviderReference, register_live, restore

if TYPE_CHECKING:
    from qiskit_vendor_provider.session import Batch, Session

logger = redacting_logger(__name__)

EMULATOR_DB_ENV = "QISKIT_VENDOR_EMULATOR_DB"
JOURNAL_ENV = "QISKIT_VENDOR_JOURNAL"
EMBEDDED_URL = "http://embedded-emulator.invalid"

__all__ = [
    "DEFAULT_URL",
    "EMBEDDED_URL",
    "ProviderReference",
    "ResumeOutcome",
    "ResumeReport",
    "VendorProvider",
    "default_journal_path",
    "embedded_database",
]

_embedded_lock = threading.Lock()
_embedded: Any = None


def embedded_database() -> Path:
    """Where the embedded emulator keeps its jobs (``QISKIT_VENDOR_EMULATOR_DB`` overrides)."""
    configured = os.environ.get(EMULATOR_DB_ENV)
    if configured:
        return Path(configured)
    return Path(user_data_dir("qiskit-vendor-provider", appauthor=False)) / "emulator.sqlite3"


def default_journal_path() -> Path:
    """Where the job journal lives (``QISKIT_VENDOR_JOURNAL`` overrides)."""
    configured = os.environ.get(JOURNAL_ENV)
    if configured:
        return Path(configured)
    return Path(user_data_dir("qiskit-vendor-provider", appauthor=False)) / "journal.sqlite3"


def _open_journal(journal: JobJournal | str | Path | bool | None) -> JobJournal | None:
    if journal is False:
        return None
    if journal is None or journal is True:
        return SQLiteJobJournal(default_journal_path())
    if isinstance(journal, (str, Path)):
        return SQLiteJobJournal(journal)
    return journal


def _embedded_transport() -> BaseAdapter:
    """The in-process transport to this process's emulator, started on first use."""
    global _embedded  # noqa: PLW0603 - one embedded emulator per process
    # Imported here: the emulator (and Aer's noise code) loads only when it is used.
    from qiskit_vendor_provider.emulator import workers  # noqa: PLC0415

    with _embedded_lock:
        if _embedded is None:
            # A simulator process takes longer to start than the rest of a first job, so
            # one starts now and the supervisor adopts it. With a processor idle, it
            # starts first and gets ready while this process sets up the emulator.
            spare = workers.start_spare() if workers.a_processor_is_idle() else None
            try:
                from qiskit_vendor_provider.emulator import (  # noqa: PLC0415
                    Emulator,
                    EmulatorConfig,
                    InProcessTransport,
                    create_app,
                )

                database = embedded_database()
                emulator = Emulator(EmulatorConfig(database=database))
                app = create_app(emulator)
                if spare is None and workers.spare_forks():
                    # A busy machine, and a spare forked from here: made once the set-up
                    # is done, so as not to slow it, but before the emulator starts its
                    # threads (forking is safe only without them).
                    spare = workers.start_spare()
            except BaseException:
                if spare is not None:  # nobody will adopt it: not left running meanwhile
                    spare.close()
                raise
            if spare is not None:
                emulator.supervisor.adopt(spare)
            emulator.start()
            _embedded = InProcessTransport(app)
            if spare is None:  # a busy machine: a spawned one starts once the set-up is done
                late = workers.start_spare()
                if late is not None:
                    emulator.supervisor.adopt(late)
            # The emulator's modules are loaded now: their loggers get the filter too.
            install_log_redaction()
            logger.info(
                "VendorProvider: no URL or token configured, so jobs run on the embedded "
                "emulator in this process (jobs kept in %s). Give url= and token= (or set %s "
                "and %s) to use the vendor cloud.",
                database,
                URL_ENV,
                TOKEN_ENV,
            )
        return _embedded  # type: ignore[no-any-return]


def _device_file_transport(
    devices: Sequence[str | Path],
    url: str | None,
    transport: BaseAdapter | None,
    token: str | None = None,
    name: str | None = None,
) -> tuple[BaseAdapter, Callable[[], None]]:
    """An in-process transport to an emulator serving exactly these device files.

    Returns:
        The transport, and what stops the emulator.

    Raises:
        VendorValidationError: ``devices`` is not a list of paths, or comes with a URL,
            a transport, a token or an account name.
        DeviceFileError: a file is missing or malformed (naming the file and field).
    """
    given = [
        what
        for what, value in (
            ("url", url),
            ("transport", transport),
            ("token", token),
            ("name", name),
        )
        if value is not None
    ]
    if given:
        raise VendorValidationError(
            "devices= serves the device files on an emulator in this process, which needs "
            f"no server or credentials; give it without {'= or '.join(given)}="
        )
    if isinstance(devices, (str, Path)) or not all(isinstance(d, (str, Path)) for d in devices):
        raise VendorValidationError(
            f"devices={devices!r} must be a list of device file paths, e.g. "
            "devices=['superconducting_27q.json']"
        )
    if not devices:
        raise VendorValidationError("devices= is empty; give at least one device file")
    for path in devices:
        read_device_file(path)  # a malformed file is named before anything starts
    from qiskit_vendor_provider.emulator import (  # noqa: PLC0415
        Emulator,
        EmulatorConfig,
        InProcessTransport,
        create_app,
    )

    config = EmulatorConfig(device_files=tuple(Path(d) for d in devices))
    try:
        emulator = Emulator(config).start()
    except ValueError as exc:  # the catalog's CatalogError: a device defined twice
        raise VendorValidationError(f"devices=: {exc}") from None
    return InProcessTransport(create_app(emulator)), emulator.stop


def _positive(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise VendorValidationError(f"{what}={value!r} must be a positive number of seconds")
    return float(value)


def _timeouts(timeout: float | tuple[float, float] | Timeouts | None) -> Timeouts:
    if timeout is None:
        return Timeouts()
    if isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return Timeouts(
            connect=_positive(timeout[0], "timeout[0]"), read=_positive(timeout[1], "timeout[1]")
        )
    seconds = _positive(timeout, "timeout")
    return Timeouts(connect=seconds, read=seconds)


def _poll_interval(value: object) -> tuple[float, float]:
    if not isinstance(value, tuple) or len(value) != 2:
        raise VendorValidationError(
            f"poll_interval={value!r} must be a pair (first, longest) of seconds, e.g. (0.5, 10)"
        )
    first, longest = (
        _positive(value[0], "poll_interval[0]"),
        _positive(value[1], "poll_interval[1]"),
    )
    if first > longest:
        raise VendorValidationError(
            f"poll_interval={value!r}: the first must not exceed the longest"
        )
    return first, longest


def provider_from_reference(reference: ProviderReference) -> VendorProvider:
    """The provider a pickle refers to: the live one, or one with credentials resolved again.

    Raises:
        VendorAuthError: the token is needed but nothing available in this process gives
            one for that URL; the message says how to supply it.
    """
    return restore(
        reference,
        embedded=lambda: VendorProvider(transport=_embedded_transport(), url=EMBEDDED_URL),
        named=lambda account: VendorProvider(name=account),
        at_url=lambda url: VendorProvider(url=url),
        reference_of=lambda provider: provider.reference,
        from_files=lambda files: VendorProvider(devices=list(files)),
    )


class VendorProvider:
    """Access to the vendor's devices.

    With nothing configured, ``VendorProvider()`` runs jobs on an emulator embedded in
    this process (Aer-backed fake devices, the same REST API and client code, no
    socket). With ``url`` and ``token`` (or ``QISKIT_VENDOR_URL`` and
    ``QISKIT_VENDOR_TOKEN``) it talks to that server.

    The URL and the token are resolved as a pair from one source (arguments, a saved
    account named with ``name``, the environment, the ``default`` saved account), so a
    token is only sent to the URL it was given or saved with; a URL given alone uses no
    token, unless the environment or a saved account has one for that same URL.

    A provider (and its backends and jobs) pickles as its URL and where its credentials
    came from, never the token; loading the pickle resolves them again.

    Args:
        url: Server root; https, or http to 127.0.0.1/localhost only.
        token: API token: RFC 6750 token characters only (never shown in reprs, logs or
            errors).
        timeout: Seconds for connect and read, or a ``(connect, read)`` pair.
        retry: Retry policy of idempotent requests.
        poll_interval: ``(first, longest)`` seconds between job status polls.
        transport: A requests transport adapter to use instead of the network (tests,
            or an emulator of your own: ``InProcessTransport(create_app(emulator))``).
        name: A saved account (see :meth:`save_account`) to take the URL and token
            from; beats the environment. Default: ``"default"`` if it exists and neither
            arguments nor the environment give credentials.
        journal: Where submissions are journalled before they are sent: a path, a
            :class:`~qiskit_vendor_provider.journal.JobJournal`, None for the default
            file in your data directory (``QISKIT_VENDOR_JOURNAL`` overrides), or False
            for no journal.
        devices: Device files (``qiskit-vendor device snapshot`` writes them) to serve
            as fake devices on an emulator of their own in this process, instead of any
            server; jobs are kept in memory and not journalled unless ``journal`` says.

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
        poll_interval: tuple[float, float] = DEFAULT_POLL_INTERVAL,
        transport: BaseAdapter | None = None,
        journal: JobJournal | str | Path | bool | None = None,
        name: str | None = None,
        devices: Sequence[str | Path] | None = None,
    ) -> None:
        # Loggers of modules imported since (an emulator started by hand) redact too.
        install_log_redaction()
        files: tuple[str, ...] = ()
        if devices is not None:
            transport, stop = _device_file_transport(devices, url, transport, token, name)
            # The emulator serving the files is this provider's: it stops with it.
            weakref.finalize(self, stop)
            journal = False if journal is None else journal
            files = tuple(str(Path(d).resolve()) for d in devices)
            # Nothing of the user's accounts or environment applies to a server of files.
            credentials = Credentials(url=EMBEDDED_URL, token=None, source="device files")
        else:
            credentials = resolve(url, token, name)
        embedded = transport is None and credentials.url is None
        if embedded:
            transport = _embedded_transport()
            credentials = type(credentials)(url=EMBEDDED_URL, token=None, source="embedded")
        client = ApiClient(
            credentials.url or DEFAULT_URL,
            credentials.token,
            timeouts=_timeouts(timeout),
            retry=retry,
            transport=transport,
        )
        self._backends: dict[str, VendorBackend] = {}
        opened = _open_journal(journal)
        # Entries belong to one server and one account; every embedded emulator has the
        # same URL, so its database tells them apart.
        server = client.base_url
        if files:
            server = f"{EMBEDDED_URL}#files:{','.join(files)}"
        elif embedded or same_url(client.base_url, EMBEDDED_URL):
            server = f"{EMBEDDED_URL}#{embedded_database().resolve()}"
        account = opened.fingerprint(credentials.token) if opened is not None else ""
        instance = uuid.uuid4().hex
        self._connection = Connection(
            client=client,
            journal=opened,
            journal_scope=(server, account),
            poll_interval=_poll_interval(poll_interval),
            reference=ProviderReference(
                url=client.base_url,
                source=credentials.source,
                account=credentials.account,
                has_token=credentials.token is not None,
                instance=instance,
                device_files=files,
            ),
        )
        self._client = client
        register_live(instance, self)

    def __repr__(self) -> str:
        return f"<VendorProvider {self._client.base_url}>"

    @property
    def reference(self) -> ProviderReference:
        """What a pickle of this provider (or of its backends and jobs) holds."""
        return self._connection.reference

    @property
    def connection(self) -> Connection:
        """What this provider hands its backends, jobs and sessions: client, journal, polling."""
        return self._connection

    @property
    def poll_interval(self) -> tuple[float, float]:
        """``(first, longest)`` seconds between job status polls (backends made from now on)."""
        return self._connection.poll_interval

    @poll_interval.setter
    def poll_interval(self, value: tuple[float, float]) -> None:
        self._connection = dataclasses.replace(
            self._connection, poll_interval=_poll_interval(value)
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (provider_from_reference, (self.reference,))

    def __deepcopy__(self, memo: dict[int, Any]) -> VendorProvider:
        # One provider per connection: a copy would be a second client with the same token.
        return self

    @staticmethod
    def save_account(
        *, token: str, url: str | None = None, name: str = DEFAULT_ACCOUNT, overwrite: bool = False
    ) -> Path:
        """Save a token (and URL) for later ``VendorProvider()`` calls; returns the file.

        The file is written atomically with mode 0600; see :mod:`qiskit_vendor_provider.accounts`.
        """
        return save_account(token=token, url=url, name=name, overwrite=overwrite)

    @staticmethod
    def saved_accounts() -> dict[str, dict[str, str | None]]:
        """The saved accounts, tokens masked."""
        return saved_accounts()

    @staticmethod
    def delete_account(name: str = DEFAULT_ACCOUNT) -> bool:
        """Remove a saved account; False if there was none of that name."""
        return delete_account(name)

    @property
    def client(self) -> ApiClient:
        """The REST API client this provider uses."""
        return self._client

    def _summaries(self) -> list[DeviceSummary]:
        return self._client.list_devices()

    def get_backend(self, name: str, *, calibration_id: str | None = None) -> VendorBackend:
        """The backend of device ``name``.

        Args:
            name: The device.
            calibration_id: Build the Target from this calibration of the device, and run
                its jobs on it (pinned) whatever the server's current one; None: the
                current one (the backend is then shared by every call).

        Raises:
            VendorNotFoundError: no such device; the message lists the ones there are.
            CalibrationNotKeptError: the server does not keep ``calibration_id``; the
                message names those it keeps.
        """
        if not isinstance(name, str):
            raise VendorValidationError(f"a backend name is a string, not {type(name).__name__}")
        if calibration_id is not None:
            check_calibration_id(calibration_id)  # refused before any request
        backend = self._backend_named(name)
        if calibration_id is None:
            return backend
        calibration = pinned_calibration(self._client, name, calibration_id)
        spec = backend.spec.model_copy(update={"calibration": calibration})
        return VendorBackend(self, self._connection, spec, pinned=True)

    def _backend_named(self, name: str, names: Sequence[str] | None = None) -> VendorBackend:
        """:meth:`get_backend`, given the device names when they are known already."""
        if name not in self._backends:
            names = [s.name for s in self._summaries()] if names is None else names
            if name not in names:
                close = difflib.get_close_matches(name, names, n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise VendorNotFoundError(
                    f"no backend named {name!r}.{hint} Available: {', '.join(sorted(names))}"
                )
            backend = VendorBackend(self, self._connection, self._client.get_device(name))
            unknown = getattr(backend.target, "unknown_operations", {})
            if unknown:
                # Once per device and provider: the backend is kept below.
                logger.warning(
                    "device %r lists operations this version of qiskit-vendor-provider "
                    "cannot use (%s); circuits that need them cannot run there, every "
                    "other circuit can. Upgrade qiskit-vendor-provider to use them",
                    name,
                    ", ".join(sorted(unknown)),
                )
            self._backends[name] = backend
        return self._backends[name]

    def _device_lookup(self) -> Callable[[str, str], VendorBackend | VendorError]:
        """For listings: the backend of a device a job or session ran on, or why none.

        The device list is fetched at most once per lookup. A device the server no
        longer lists is retired (:class:`DeviceRetiredError`); one whose spec this
        client cannot read gives that error. Either way the job or session is still
        listed, without a backend.
        """
        names: list[str] | None = None

        def lookup(device: str, what: str) -> VendorBackend | VendorError:
            nonlocal names
            if device in self._backends:
                return self._backends[device]
            if names is None:
                names = [s.name for s in self._summaries()]
            if device not in names:
                return device_retired_error(device, what)
            try:
                return self._backend_named(device, names)
            except VendorNotFoundError:  # withdrawn since the list was fetched
                return device_retired_error(device, what)
            except VendorApiError as exc:  # a spec this client cannot read
                return exc

        return lookup

    def _job_of(
        self, info: JobInfo, lookup: Callable[[str, str], VendorBackend | VendorError]
    ) -> VendorJob:
        """A job object for ``info``, with its backend, or without one (see ``lookup``)."""
        found = lookup(info.device, f"job {info.job_id}")
        if isinstance(found, VendorBackend):
            return found._job(info)
        return VendorJob._without_backend(self, info.job_id, info.device, found, info=info)

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
        _check_device_filters(name, simulator, operational, min_num_qubits)
        pattern = None
        if name is not None:
            try:
                pattern = re.compile(name)
            except re.error as exc:
                raise VendorValidationError(f"name={name!r} is not a valid regex: {exc}") from None
        chosen = []
        summaries = sorted(self._summaries(), key=lambda s: s.name)
        names = [summary.name for summary in summaries]
        for summary in summaries:
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
            try:
                chosen.append(self._backend_named(summary.name, names))
            except VendorApiError as exc:
                # One device a newer server describes in a way this client cannot read
                # must not hide the others; get_backend(name) raises this error.
                logger.warning("device %r is left out: %s", summary.name, exc)
        return chosen

    def least_busy(
        self,
        name: str | None = None,
        *,
        simulator: bool | None = None,
        operational: bool | None = True,
        min_num_qubits: int | None = None,
    ) -> VendorBackend:
        """The operational device with the fewest pending jobs, among those that match.

        Takes the filters of :meth:`backends`. Each candidate's status is asked for now
        (one request per device), so a device that went offline since the list was
        fetched is passed over. Ties go to the first name in alphabetical order.

        Args:
            name: Exact name, or a regular expression matched against the whole name.
            simulator: Only simulators (True) or only hardware (False).
            operational: Must be True or None: a device that does not accept jobs is
                never the least busy one.
            min_num_qubits: Only devices with at least this many operational qubits
                (qubits the calibration marks out of service do not count).

        Raises:
            VendorValidationError: ``operational=False``.
            VendorNotFoundError: no operational device matches; the message says which
                filters were given.
        """
        _check_device_filters(name, simulator, operational, min_num_qubits)
        if operational is False:
            raise VendorValidationError(
                "least_busy(operational=False) cannot choose: it picks among devices that "
                "accept jobs; use backends(operational=False) to list the others"
            )
        best: tuple[int, str] | None = None
        short: list[str] = []
        for backend in self.backends(name, simulator=simulator, min_num_qubits=min_num_qubits):
            usable = backend.num_qubits - len(backend.faulty_qubits())
            if min_num_qubits is not None and usable < min_num_qubits:
                # Qubits out of service cannot hold a circuit qubit.
                short.append(f"{backend.name} has {usable} operational qubits")
                continue
            status = backend.status()
            if not status.operational:
                continue
            if best is None or (status.pending_jobs, backend.name) < best:
                best = (status.pending_jobs, backend.name)
        if best is None:
            filters = {"name": name, "simulator": simulator, "min_num_qubits": min_num_qubits}
            given = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v is not None)
            raise VendorNotFoundError(
                f"no operational device matches {given or 'no filter'}"
                + (f" ({'; '.join(short)})" if short else "")
                + "; see provider.backends() for every device and backend.status() for why "
                "one is not accepting jobs"
            )
        return self.get_backend(best[1])

    # ----------------------------------------------------------------- jobs

    @property
    def journal_store(self) -> JobJournal | None:
        """The job journal this provider writes to (None if disabled)."""
        return self._connection.journal

    def retrieve_job(self, job_id: str) -> VendorJob:
        """The job with this id, on whichever device it ran.

        Raises:
            VendorNotFoundError: no such job for this account.
        """
        info = self._client.get_job(check_job_id(job_id))
        return self._job_of(info, self._device_lookup())

    def jobs(  # noqa: PLR0917 - positional order of the classic IBM backend.jobs()
        self,
        limit: int | None = 10,
        skip: int = 0,
        backend_name: str | None = None,
        status: StatusFilter = None,
        job_name: str | None = None,
        start_datetime: datetime | None = None,
        end_datetime: datetime | None = None,
        job_tags: Sequence[str] | None = None,
        job_tags_operator: str = "OR",
        descending: bool = True,
        *,
        session_id: str | None = None,
        calibration_id: str | None = None,
        **unsupported: Any,
    ) -> list[VendorJob]:
        """The account's jobs on every device (or ``backend_name``), newest first.

        Filtering is done by the server and pages are followed past its page size; see
        :meth:`VendorBackend.jobs` for the filters. ``session_id`` keeps only the jobs of
        that session or batch; ``calibration_id`` only those that ran (or run) on that
        calibration (a server of API 1.3 and later). IBM's ``db_filter``,
        ``experiment_id``... are refused by name, with what to use instead.
        """
        refuse_arguments(unsupported, self.jobs)
        check_window(limit, skip)
        filters = given_filters(locals(), leave_out=("limit", "skip", "backend_name"))
        query = build_query(device=backend_name, **filters)
        lookup = self._device_lookup()
        return [
            self._job_of(info, lookup)
            for info in iter_jobs(self._client, query, limit=limit, skip=skip)
        ]

    # ----------------------------------------------------------------- sessions

    def session(self, session_id: str) -> Session | Batch:
        """Reattach to a session or batch by its id (one request; nothing is opened).

        Returns:
            A :class:`~qiskit_vendor_provider.Session` or
            :class:`~qiskit_vendor_provider.Batch`, as the server says it is, with its
            current state; jobs may join it while it accepts them.

        Raises:
            VendorNotFoundError: no such session for this account.
        """
        from qiskit_vendor_provider.session import Batch, Session  # noqa: PLC0415 - cycle

        if not isinstance(session_id, str) or not session_id.strip():
            raise VendorValidationError(
                f"a session id is a non-empty string (session.session_id), not {session_id!r}"
            )
        info = self._client.get_session(session_id.strip())
        kind = Batch if info.mode == "batch" else Session
        return kind._listed(self, info, self._device_lookup())

    def sessions(self, limit: int = 50) -> list[Session | Batch]:
        """This account's newest sessions and batches (``limit`` at most, up to 100)."""
        from qiskit_vendor_provider.session import Batch, Session  # noqa: PLC0415 - cycle

        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise VendorValidationError(f"limit={limit!r} must be a whole number from 1 to 100")
        lookup = self._device_lookup()
        return [
            (Batch if info.mode == "batch" else Session)._listed(self, info, lookup)
            for info in self._client.list_sessions(limit)
        ]

    @property
    def journal_scope(self) -> tuple[str, str]:
        """The (server, account fingerprint) this provider's journal entries are kept under."""
        return self._connection.journal_scope

    def journal(self) -> list[JournalEntry]:
        """This account's submissions to this server, newest first, with their last state."""
        journal = self._connection.journal
        if journal is None:
            return []
        return journal.entries(*self.journal_scope)

    def resume(self) -> ResumeReport:
        """Re-attach to every journalled job of this account that is not known to be finished.

        A submission whose answer never came is posted again with its original
        idempotency key: the server answers with the job it made then, or makes it now,
        so either way it exists exactly once. A submission the server refuses (a 4xx)
        ends FAILED with its message and is never posted again. Every entry is tried:
        one that fails does not stop the others. Each entry's new state is written as
        soon as it is known, so an interrupted ``resume()`` (Ctrl-C) can be run again.

        Returns:
            The unfinished jobs, newest first (their states refreshed), as a list with
            :attr:`ResumeReport.outcomes`: what happened to each entry, and why.
        """
        return resume(self._connection, lambda info: self._job_of(info, self._device_lookup()))


# Every logger of the package imported so far (client, job, journal, ...) redacts tokens.
install_log_redaction()


def _check_device_filters(
    name: object, simulator: object, operational: object, min_num_qubits: object
) -> None:
    """Refuse a filter of the wrong type by name, before any request (``'3'`` for 3...)."""
    if name is not None and not isinstance(name, str):
        raise VendorValidationError(
            f"name={name!r} must be a device name or a regular expression (a str)"
        )
    for label, flag in (("simulator", simulator), ("operational", operational)):
        if flag is not None and not isinstance(flag, bool):
            raise VendorValidationError(f"{label}={flag!r} must be True, False or None")
    if min_num_qubits is not None and (
        isinstance(min_num_qubits, bool)
        or not isinstance(min_num_qubits, numbers.Integral)
        or int(min_num_qubits) < 0
    ):
        raise VendorValidationError(
            f"min_num_qubits={min_num_qubits!r} must be a whole number of qubits, 0 or more "
            "(e.g. min_num_qubits=5), or None"
        )
