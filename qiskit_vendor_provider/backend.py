"""``VendorBackend``: a vendor device as a Qiskit :class:`~qiskit.providers.BackendV2`."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike
from pydantic import ValidationError
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from qiskit_vendor_provider import job as job_module
from qiskit_vendor_provider import rules
from qiskit_vendor_provider.api import wire
from qiskit_vendor_provider.api.client import new_idempotency_key
from qiskit_vendor_provider.api.models import (
    Calibration,
    CalibrationInfo,
    DeviceLimits,
    DeviceSpec,
    JobInfo,
    JobResult,
    JobSubmission,
    Reservation,
    SubmittedJob,
    WireProgram,
)
from qiskit_vendor_provider.api.versions import ROW_BLOCK_API_VERSION
from qiskit_vendor_provider.calibrations import (
    current_calibration_id,
    kept_calibrations,
    warn_on_drift,
)
from qiskit_vendor_provider.configuration import (
    BackendConfiguration,
    BackendDefaults,
    backend_configuration,
    backend_defaults,
)
from qiskit_vendor_provider.connection import Connection
from qiskit_vendor_provider.device_time import DeviceTimeEstimate, submission_device_time
from qiskit_vendor_provider.errors import (
    VendorConnectionError,
    VendorError,
    VendorNotFoundError,
    VendorValidationError,
    is_refusal,
)
from qiskit_vendor_provider.ibm_arguments import refuse_arguments
from qiskit_vendor_provider.job import VendorJob, check_job_id, journal_state
from qiskit_vendor_provider.job_listing import ACTIVE, StatusFilter, aware_moment, given_filters
from qiskit_vendor_provider.properties import (
    BackendStatus,
    DeviceProperties,
    GateProperties,
    JobLimit,
)
from qiskit_vendor_provider.qiskit_compat import free_parameters
from qiskit_vendor_provider.run_options import (
    ACCEPTED_RUN_OPTIONS,
    COMPAT_RUN_OPTIONS,
    RUN_OPTION_NAMES,
    check_label,
    check_run_options,
    default_run_options,
    text_problem,
)
from qiskit_vendor_provider.serialization import circuit_to_wire
from qiskit_vendor_provider.target import build_target, device_faulty_elements, forget_memos
from qiskit_vendor_provider.transpilation import PLUGIN_NAME
from qiskit_vendor_provider.validation import check_faulty, validate_circuit

if TYPE_CHECKING:
    from qiskit_vendor_provider.provider import VendorProvider

RUN_OPTIONS = RUN_OPTION_NAMES
# Named here as before; they live with the run-options model (run_options.py).
__all__ = [
    "ACCEPTED_RUN_OPTIONS",
    "COMPAT_RUN_OPTIONS",
    "RUN_OPTIONS",
    "VendorBackend",
    "check_label",
    "check_run_options",
    "parameter_tables",
    "session_id_for",
    "text_problem",
]

ParameterTable = tuple[list[Parameter], list[list[float]]]


def parameter_tables(
    circuits: Sequence[QuantumCircuit],
    binds: Sequence[Mapping[Parameter, ArrayLike]] | None,
) -> list[ParameterTable | None]:
    """Per circuit, its parameters and the table of their values (None: no parameters).

    How many rows a device takes is the rule book's to say (:mod:`~.rules`).

    Raises:
        VendorValidationError: binds that do not match the circuits, or ragged or
            non-finite values.
    """
    if binds is None:
        return [None] * len(circuits)
    if isinstance(binds, Mapping) or len(binds) != len(circuits):
        raise VendorValidationError(
            "parameter_binds takes one dict per circuit (an empty dict for a circuit "
            f"without parameters): got {type(binds).__name__} for {len(circuits)} circuit(s)"
        )
    tables: list[ParameterTable | None] = []
    for index, (circuit, bind) in enumerate(zip(circuits, binds, strict=True)):
        parameters = free_parameters(circuit)
        if not isinstance(bind, Mapping):
            raise VendorValidationError(
                f"parameter_binds[{index}] is a {type(bind).__name__}; give a dict from each "
                "Parameter of the circuit to its list of values"
            )
        if set(bind) != set(parameters):
            missing = sorted(p.name for p in set(parameters) - set(bind))
            extra = sorted(str(p) for p in set(bind) - set(parameters))
            raise VendorValidationError(
                f"parameter_binds[{index}] must bind exactly the parameters of circuit "
                f"{circuit.name!r}: missing {missing}, not in the circuit {extra}"
            )
        if not parameters:
            tables.append(None)
            continue
        try:
            columns = np.array([np.asarray(bind[p], dtype=float) for p in parameters])
        except ValueError:
            raise VendorValidationError(
                f"parameter_binds[{index}]: every parameter needs a list of numbers, all of "
                "one length"
            ) from None
        if columns.ndim != 2 or columns.shape[1] == 0:
            raise VendorValidationError(
                f"parameter_binds[{index}]: give each parameter a non-empty 1-D list of values"
            )
        if not np.isfinite(columns).all():
            raise VendorValidationError(f"parameter_binds[{index}] holds NaN or infinite values")
        tables.append((parameters, columns.T.tolist()))
    return tables


_aware = aware_moment


class VendorBackend(BackendV2):  # type: ignore[misc]
    """A vendor device. Get it from :meth:`VendorProvider.get_backend`.

    Its :attr:`target` is built from the device spec the server sends: native
    operations on their qubit tuples with calibrated durations and errors, measure,
    reset and delay, qubit T1/T2/frequency and ``dt``.

    Args:
        provider: The provider that made it.
        connection: The provider's connection: the API client, the journal and polling.
        spec: The device spec.
        pinned: Its jobs run on the spec's calibration, whatever the server's current
            one (``provider.get_backend(name, calibration_id=...)``).
    """

    def __init__(
        self,
        provider: VendorProvider,
        connection: Connection,
        spec: DeviceSpec,
        *,
        pinned: bool = False,
    ) -> None:
        super().__init__(
            provider=provider,
            name=spec.name,
            description=spec.description,
            backend_version=spec.version,
        )
        self._connection = connection
        self._client = connection.client
        self._spec = spec
        # Built whole before anyone can read coupling_map, which BackendV2 caches.
        self._target = build_target(spec)
        self.options.update_options(shots=spec.limits.default_shots)
        self.options.set_validator("shots", (1, spec.limits.max_shots))
        self.options.set_validator("memory", bool)
        self.poll_interval: tuple[float, float] = connection.poll_interval
        self._pinned = pinned
        self._drift_warned: set[str] = set()

    _session: Any = None
    """The session or batch :meth:`run` submits to by default (see ``Session.bound_backend``)."""

    def __repr__(self) -> str:
        return f"<VendorBackend {self.name!r} ({self.num_qubits} qubits)>"

    def __reduce__(self) -> tuple[Any, ...]:
        # By reference: the provider's URL and credential source, and the device name.
        # Never the token, nor the client (its session holds locks and the token).
        if self._pinned:  # a pinned backend comes back pinned to the same calibration
            return (_restore_backend, (self.provider, self.name, self.calibration_id))
        return (_restore_backend, (self.provider, self.name))

    def __copy__(self) -> VendorBackend:
        """A copy with its own options, sharing everything else."""
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__dict__)
        copied._options = copy.copy(self._options)
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> VendorBackend:
        """A copy with its own options and Target, sharing the provider's client.

        qiskit-experiments deep-copies the backend to change its options: the copy must
        work without a second connection or a copy of the token.
        """
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        shared = {"_client", "_connection", "_provider"}
        for key, value in self.__dict__.items():
            copied.__dict__[key] = value if key in shared else copy.deepcopy(value, memo)
        return copied

    @classmethod
    def _default_options(cls) -> Options:
        return Options(**default_run_options())

    def get_translation_stage_plugin(self) -> str:
        """The ``vendor`` translation stage: native operations in the device's normal form."""
        return PLUGIN_NAME

    def get_scheduling_stage_plugin(self) -> str:
        """The ``vendor`` scheduling stage: restores the native form, then schedules."""
        return PLUGIN_NAME

    @property
    def provider(self) -> VendorProvider:
        """The provider that made this backend."""
        provider: VendorProvider = self._provider
        return provider

    @property
    def connection(self) -> Connection:
        """The provider's connection this backend, its jobs and sessions use."""
        return self._connection

    @property
    def target(self) -> Target:
        """The device as a Qiskit Target."""
        return self._target

    @property
    def max_circuits(self) -> int:
        """The most circuits one job may hold."""
        return self._spec.limits.max_circuits

    @property
    def spec(self) -> DeviceSpec:
        """The device spec as the server sent it."""
        return self._spec

    @property
    def limits(self) -> DeviceLimits:
        """What one job on this device may ask for."""
        return self._spec.limits

    def properties(
        self, refresh: bool = False, datetime: dt.datetime | None = None
    ) -> DeviceProperties | None:
        """The device's calibration, or None for a device without one (ideal simulators).

        Args:
            refresh: Fetch the current calibration from the server, and update the
                Target's errors, durations and qubit properties with it (as
                :meth:`refresh`, which unpins a pinned backend).
            datetime: Instead, return the calibration that was in force at this time
                (a naive datetime is taken as local time). The Target is not changed.

        Raises:
            VendorNotFoundError: no calibration exists as early as ``datetime``.
        """
        moment = aware_moment(datetime, "datetime")
        if moment is not None:
            past = self._client.get_calibration(self.name, at=moment)
            return DeviceProperties(self.name, past)
        if refresh:
            self.refresh()
        if self._spec.calibration is None:
            return None
        return DeviceProperties(self.name, self._spec.calibration)

    @property
    def calibration_id(self) -> str | None:
        """The id of the calibration the Target was built from.

        None for a device without calibrations, or from a server older than API 1.3.
        """
        calibration = self._spec.calibration
        return None if calibration is None else calibration.calibration_id

    @property
    def pinned(self) -> bool:
        """Whether this backend's jobs run on its own calibration (see ``calibration_id``)."""
        return self._pinned

    def refresh(self) -> None:
        """Rebuild the Target from the server's current calibration; jobs then run on it.

        A pinned backend is pinned no longer. Transpile again afterwards: a qubit or
        coupler may have gone out of service.
        """
        if self._spec.calibration is not None:
            self._apply_calibration(self._client.get_calibration(self.name))
        self._pinned = False
        self._drift_warned.clear()

    def calibrations(self) -> list[CalibrationInfo]:
        """The calibrations the server keeps for this device (id and time), oldest first.

        Raises:
            VendorApiError: the server keeps no calibrations by id (older than API 1.3).
        """
        return kept_calibrations(self._client, self.name)

    def _apply_calibration(self, calibration: Calibration) -> None:
        self._spec = self._spec.model_copy(update={"calibration": calibration})
        fresh = build_target(self._spec)
        if device_faulty_elements(fresh) != device_faulty_elements(self._target):
            # A qubit or coupler went out of service or came back: the Target's shape
            # changes, which update_instruction_properties cannot do. The backend takes
            # the new Target whole, and forgets the coupling map BackendV2 cached.
            self._target = fresh
            self._coupling_map = None
            return
        # The Target object stays the same (the transpiler and the coupling map cache
        # hold it); only its figures change.
        for name in fresh.operation_names:
            for qargs, props in fresh[name].items():
                if qargs is not None and props is not None:
                    self._target.update_instruction_properties(name, qargs, props)
        self._target.qubit_properties = fresh.qubit_properties
        forget_memos(self._target)  # tables read off the old figures (durations)

    def faulty_qubits(self) -> list[int]:
        """The qubits the current calibration marks out of service, ascending.

        The Target leaves them out (no operation acts on them), so the preset pass
        managers place no circuit qubit there; a circuit that uses one is refused before
        it is sent (:meth:`check_faulty`).
        """
        return list(device_faulty_elements(self._target).qubits)

    def faulty_gates(self) -> list[GateProperties]:
        """The gates (each with its ``gate`` name and ``qubits``) marked out of service.

        For a two-qubit gate the coupler is out: the Target has no two-qubit operation
        on those qubits, in that order.
        """
        return [
            GateProperties(gate=name, qubits=list(qargs))
            for name, qargs in device_faulty_elements(self._target).gates
        ]

    def check_faulty(self, circuit: QuantumCircuit) -> None:
        """Raise if ``circuit`` uses a faulty qubit or coupler, as IBM's ``check_faulty``.

        Every instruction but barriers (those of control-flow blocks included) is
        checked, on the circuit's qubit indices as device qubits. :meth:`run` and the
        primitives refuse such circuits too, before anything is sent.

        Raises:
            FaultyElementError: naming the instruction and the faulty element (also a
                ``ValueError``, as IBM's is).
            VendorValidationError: ``circuit`` is not a ``QuantumCircuit``.
        """
        if not isinstance(circuit, QuantumCircuit):
            raise VendorValidationError(
                f"check_faulty() takes a QuantumCircuit, not {type(circuit).__name__}"
            )
        check_faulty(circuit, device_faulty_elements(self._target), device=self.name)

    def configuration(self) -> BackendConfiguration:
        """The device's static description, for tools that still read it (mthree).

        Qiskit 2 backends describe themselves with :attr:`target`; this is the
        ``QasmBackendConfiguration`` subset such tools read, taken from the same spec
        (see :mod:`~qiskit_vendor_provider.configuration`).
        """
        return backend_configuration(self._spec, self._target)

    def defaults(self) -> BackendDefaults | None:
        """The qubit frequency estimates (what is left of pulse defaults); None if ideal."""
        return backend_defaults(self._spec)

    def status(self) -> BackendStatus:
        """Whether the device accepts jobs now, its queue length and the vendor's message."""
        status = self._client.get_device_status(self.name)
        return BackendStatus(
            backend_name=self.name,
            backend_version=self.backend_version,
            operational=status.operational,
            pending_jobs=status.pending_jobs,
            status_msg=status.status_message,
        )

    def run(
        self,
        run_input: QuantumCircuit | Sequence[QuantumCircuit],
        parameter_binds: Sequence[Mapping[Parameter, ArrayLike]] | None = None,
        **options: Any,
    ) -> VendorJob:
        """Validate circuits against the device, then submit them as one job.

        Args:
            run_input: A circuit or a list of circuits in the device's native operations
                (transpile with ``generate_preset_pass_manager(backend=backend)``).
            parameter_binds: As in Aer: per circuit, a dict from each of its parameters
                to a list of values (all lists of one length). The circuit is sent once
                with the table and the server binds each row; the result has one
                experiment per row, circuit by circuit.
            **options: ``shots``, ``memory``, ``seed_simulator``, ``job_name``,
                ``job_tags``, ``max_execution_time`` (seconds the job may run, at most
                ``limits.max_execution_time``); defaults from :attr:`options`. ``session``: a
                :class:`~qiskit_vendor_provider.Session` or
                :class:`~qiskit_vendor_provider.Batch` of this device to run the job in.

        Returns:
            The submitted job.

        Raises:
            CircuitValidationError: a circuit does not run on this device as it is.
            VendorValidationError: a bad option, too many circuits or too large a job.
            SessionClosedError: ``session`` accepts no new jobs (nothing is sent).
            SessionDeviceError: ``session`` is on another device (nothing is sent).
        """
        # First: a job for the wrong device or a closed session is refused whatever it holds.
        session_id = session_id_for(options.pop("session", self._session), self)
        circuits, settings, submission, payload = self._checked_submission(
            run_input, parameter_binds, options, session_id=session_id
        )
        return self._post(circuits, settings, submission, payload)

    def run_programs(
        self,
        circuits: Sequence[QuantumCircuit],
        programs: Sequence[WireProgram],
        *,
        early_result: bool = True,
        **options: Any,
    ) -> VendorJob:
        """:meth:`run` for circuits already checked and written as wire programs.

        The primitives' way in (and that of any tool that plans jobs itself): each
        circuit passed :func:`~qiskit_vendor_provider.validation.validate_circuit` and
        the rule book's program rules (:func:`~qiskit_vendor_provider.rules.check_program`)
        when it was written, with
        :func:`~qiskit_vendor_provider.serialization.circuit_to_wire`, as ``programs``;
        neither is done again. Options, the job's own rules and its size are checked
        here as :meth:`run` checks them.

        Args:
            circuits: The circuits, for the result's metadata; one per program.
            programs: What is sent, in order.
            early_result: Let the server hold the submission while a job that starts at
                once runs, and answer with its result (API 1.5). False for a job that
                more submissions follow before any is waited for: they are sent at once.
            **options: As in :meth:`run`.

        Returns:
            The submitted job.

        Raises:
            VendorValidationError: a bad option, too many programs or too large a job.
        """
        session_id = session_id_for(options.pop("session", self._session), self)
        settings = self._settings(options)
        submission, payload = self._sealed(list(programs), settings, session_id)
        return self._post(list(circuits), settings, submission, payload, early_result)

    def estimate_programs(
        self, programs: Sequence[WireProgram], **options: Any
    ) -> DeviceTimeEstimate:
        """:meth:`estimate` of the programs :meth:`run_programs` would send; submits nothing.

        What the primitives estimate is so exactly what they submit (every row of every
        program's table, whether or not it binds a parameter).

        Args:
            programs: As in :meth:`run_programs`.
            **options: As in :meth:`run`.

        Returns:
            The predicted device time, per program, and the device's queue now.
        """
        options.pop("session", None)  # a session changes nothing of the device time
        submission, _ = self._sealed(list(programs), self._settings(options), None)
        return self._estimate(submission)

    def _post(
        self,
        circuits: list[QuantumCircuit],
        settings: dict[str, Any],
        submission: JobSubmission,
        payload: bytes,
        early_result: bool = True,
    ) -> VendorJob:
        wait = job_module.SUBMIT_WAIT_SECONDS if early_result else None
        info = self._journalled_post(payload, submission, wait)
        self._check_drift(info)
        # A job that ended within the submission's wait came with its result: the job
        # keeps it for result(), and its status without it.
        result, info.result = info.result, None
        return self._job(
            info,
            metadata=[dict(c.metadata) if c.metadata else None for c in circuits],
            with_progress_bar=settings["with_progress_bar"],
            result=result,
        )

    def _check_drift(self, info: JobInfo) -> None:
        """Warn once if the server has moved to a calibration the Target is not from."""
        if self.calibration_id is None:
            return
        server = (
            current_calibration_id(self._client, self.name) if self._pinned else info.calibration_id
        )
        warn_on_drift(
            self.name, self.calibration_id, server, self._drift_warned, pinned=self._pinned
        )

    def estimate(
        self,
        run_input: QuantumCircuit | Sequence[QuantumCircuit],
        parameter_binds: Sequence[Mapping[Parameter, ArrayLike]] | None = None,
        **options: Any,
    ) -> DeviceTimeEstimate:
        """The device time :meth:`run` with these arguments would be charged; submits nothing.

        The circuits and options are checked exactly as :meth:`run` checks them, and the
        time is computed by :func:`~qiskit_vendor_provider.device_time.submission_device_time`,
        the formula the server charges with (see :meth:`VendorJob.usage
        <qiskit_vendor_provider.job.VendorJob.usage>`). The one request made is
        ``GET /v1/devices/{name}/status``, for the jobs queued ahead.

        Args:
            run_input: As in :meth:`run`.
            parameter_binds: As in :meth:`run`: every row is charged ``shots`` shots.
            **options: As in :meth:`run`.

        Returns:
            The predicted device time, per program, and the device's queue now.

        Raises:
            CircuitValidationError: a circuit does not run on this device as it is.
            VendorValidationError: a bad option, too many circuits or too large a job.
        """
        options.pop("session", None)  # a session changes nothing of the device time
        _, _, submission, _ = self._checked_submission(run_input, parameter_binds, options)
        return self._estimate(submission)

    def _estimate(self, submission: JobSubmission) -> DeviceTimeEstimate:
        """The estimate of a checked submission, with the device's queue now."""
        seconds, programs = submission_device_time(submission, self._spec, self._target)
        status = self._client.get_device_status(self.name)
        return DeviceTimeEstimate(
            device_seconds=seconds,
            overhead_seconds=self._spec.job_overhead_seconds,
            per_program=tuple(programs),
            pending_jobs=status.pending_jobs,
        )

    def _checked_submission(
        self,
        run_input: QuantumCircuit | Sequence[QuantumCircuit],
        parameter_binds: Sequence[Mapping[Parameter, ArrayLike]] | None,
        options: Mapping[str, Any],
        *,
        session_id: str | None = None,
    ) -> tuple[list[QuantumCircuit], dict[str, Any], JobSubmission, bytes]:
        """Every check :meth:`run` makes before it sends; the submission and its bytes."""
        circuits = self._circuit_list(run_input)
        settings = self._settings(options)
        tables = parameter_tables(circuits, parameter_binds)
        for index, circuit in enumerate(circuits):
            validate_circuit(
                circuit,
                self._target,
                device=self.name,
                index=index,
                allow_parameters=tables[index] is not None,
            )
        programs = [
            # No parameters when there is no table: validate_circuit saw none unbound (on
            # Qiskit < 2.4 circuit.parameters, the default, also lists loop parameters).
            circuit_to_wire(circuit, parameters=())
            if table is None
            else circuit_to_wire(circuit, parameters=table[0], parameter_values=table[1])
            for circuit, table in zip(circuits, tables, strict=True)
        ]
        submission, payload = self._sealed(programs, settings, session_id)
        return circuits, settings, submission, payload

    def _settings(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The run options, the backend's defaults filled in, checked."""
        return check_run_options(
            {**self.options.__dict__, **options},
            self.limits,
            self._spec.rep_delay_range,
            device=self.name,
        )

    def _sealed(
        self, programs: list[WireProgram], settings: dict[str, Any], session_id: str | None
    ) -> tuple[JobSubmission, bytes]:
        """The job of these programs, its bytes, and the rule book's verdict on both."""
        submission = self._submission(programs, settings)
        if session_id is not None:
            submission = submission.model_copy(update={"session_id": session_id})
        payload = wire.encode_submission(submission)
        rules.check(submission, self.limits, size=len(payload))
        return submission, payload

    def _journalled_post(
        self, payload: bytes, submission: JobSubmission, wait: float | None = None
    ) -> SubmittedJob:
        """Journal the submission, post it, and journal the job id it got.

        With ``wait``, the server may hold its answer that long while a job that starts
        at once runs: a short job's answer is then its result, and the journal notes the
        job and its final state in one write.
        """
        key = new_idempotency_key()
        journal = self._connection.journal
        if journal is not None:
            server, account = self._connection.journal_scope
            journal.record_submission(
                key=key,
                server=server,
                account=account,
                device=self.name,
                name=submission.name,
                tags=list(submission.tags),
                payload=payload,
                session_id=submission.session_id,
            )
        try:
            info = self._client.submit_payload(payload, key, wait=wait)
        except VendorConnectionError as exc:
            if journal is None:
                raise
            raise VendorConnectionError(
                f"{exc.message}. The submission is in the job journal (key {key}): "
                "provider.resume() finds the job if the server made it, or submits it once "
                "if it did not"
            ) from exc
        except VendorError as exc:
            if journal is not None and is_refusal(exc):
                # Refused (invalid, unauthorised, over the job limit): the same request
                # would be refused again, so resume() must never post it.
                journal.record_failure(key, str(exc))
            raise
        if journal is not None:
            journal.record_job(key, info.job_id, journal_state(info))
        return info

    def _job(
        self,
        info: JobInfo,
        *,
        metadata: list[dict[str, Any] | None] | None = None,
        with_progress_bar: bool | None = None,
        result: JobResult | None = None,
    ) -> VendorJob:
        option = self.options.with_progress_bar if with_progress_bar is None else with_progress_bar
        return VendorJob(
            self,
            info.job_id,
            self._client,
            info=info,
            metadata=metadata,
            journal=self._connection.journal,
            with_progress_bar=option,
            result=result,
        )

    # ----------------------------------------------------------------- job management

    def retrieve_job(self, job_id: str) -> VendorJob:
        """The job with this id, which must have run on this device.

        Raises:
            VendorNotFoundError: no such job for this account, or it ran on another device.
        """
        info = self._client.get_job(check_job_id(job_id))
        if info.device != self.name:
            raise VendorNotFoundError(
                f"job {job_id} ran on {info.device!r}, not on {self.name!r}; use "
                "provider.retrieve_job(job_id) to get it whatever its device"
            )
        return self._job(info)

    def jobs(  # noqa: PLR0917 - positional order of the classic IBM backend.jobs()
        self,
        limit: int | None = 10,
        skip: int = 0,
        status: StatusFilter = None,
        job_name: str | None = None,
        start_datetime: dt.datetime | None = None,
        end_datetime: dt.datetime | None = None,
        job_tags: Sequence[str] | None = None,
        job_tags_operator: str = "OR",
        descending: bool = True,
        **unsupported: Any,
    ) -> list[VendorJob]:
        """This device's jobs, newest first; filtered by the server, all pages followed.

        Args:
            limit: How many jobs at the most (None: all).
            skip: How many matching jobs to pass over first.
            status: A :class:`JobStatus` or status name, or a list of them.
            job_name: A regular expression the job name must contain a match of.
            start_datetime: Only jobs created at or after this time (naive: local time).
            end_datetime: Only jobs created before this time.
            job_tags: Only jobs with these tags.
            job_tags_operator: ``"OR"``: any of the tags; ``"AND"``: all of them.
            descending: Newest first (True) or oldest first.
            **unsupported: IBM's ``db_filter``, ``experiment_id``...: refused by name,
                with what to use instead (see :mod:`~qiskit_vendor_provider.ibm_arguments`).
        """
        refuse_arguments(unsupported, self.jobs)
        return self.provider.jobs(backend_name=self.name, **given_filters(locals()))

    def active_jobs(self, limit: int | None = 10) -> list[VendorJob]:
        """This device's jobs that are not finished (queued or running), newest first."""
        return self.jobs(limit=limit, status=list(ACTIVE))

    def job_limit(self) -> JobLimit:
        """How many jobs the account may have active at once, and how many it has."""
        account = self._client.get_account()
        return JobLimit(maximum_jobs=account.max_active_jobs, active_jobs=account.active_jobs)

    def remaining_jobs_count(self) -> int:
        """How many more jobs the account may submit before it reaches its limit."""
        limit = self.job_limit()
        return max(0, limit.maximum_jobs - limit.active_jobs)

    def reservations(
        self, start_datetime: dt.datetime | None = None, end_datetime: dt.datetime | None = None
    ) -> list[Reservation]:
        """Reservation windows of this device that overlap [start_datetime, end_datetime)."""
        start = _aware(start_datetime, "start_datetime")
        end = _aware(end_datetime, "end_datetime")
        if start is not None and end is not None and start >= end:
            # An empty window overlaps nothing: [] would hide the swapped arguments.
            raise VendorValidationError(
                f"start_datetime ({start.isoformat()}) must be before end_datetime "
                f"({end.isoformat()})"
            )
        return self._client.get_reservations(self.name, start, end)

    def _circuit_list(
        self, run_input: QuantumCircuit | Sequence[QuantumCircuit]
    ) -> list[QuantumCircuit]:
        if isinstance(run_input, QuantumCircuit):
            circuits = [run_input]
        elif isinstance(run_input, Sequence) and not isinstance(run_input, (str, bytes)):
            circuits = list(run_input)
        else:
            raise VendorValidationError(
                f"run() takes a QuantumCircuit or a list of them, not "
                f"{type(run_input).__name__}; e.g. backend.run(circuit) or "
                "backend.run([circuit_a, circuit_b])"
            )
        for index, item in enumerate(circuits):
            if not isinstance(item, QuantumCircuit):
                raise VendorValidationError(
                    f"run() takes a QuantumCircuit or a list of them; item {index} is a "
                    f"{type(item).__name__}"
                )
        if not circuits:
            raise VendorValidationError("run() was given no circuits")
        return circuits

    def _submission(self, programs: list[WireProgram], settings: dict[str, Any]) -> JobSubmission:
        spoken = self._client.server_api_version
        if not isinstance(spoken, tuple) or spoken < ROW_BLOCK_API_VERSION:
            # A server before API 1.2 refuses a field it does not know; the blocks only
            # save it work, so they are left out for it.
            programs = [
                p.model_copy(update={"row_block": 1}) if p.row_block != 1 else p for p in programs
            ]
        try:
            return JobSubmission(
                device=self.name,
                programs=programs,
                shots=settings["shots"],
                memory=settings["memory"],
                seed_simulator=settings["seed_simulator"],
                name=settings["job_name"],
                tags=settings["job_tags"],
                rep_delay=settings.get("rep_delay"),
                max_execution_time=settings.get("max_execution_time"),
                calibration_id=self.calibration_id if self._pinned else None,
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"])
            raise VendorValidationError(f"invalid job ({where}): {first['msg']}") from None


def session_id_for(session: object, backend: VendorBackend) -> str | None:
    """The id of the session a job on ``backend`` joins, once it may (never POSTs).

    Raises:
        VendorValidationError: ``session`` is not a ``Session`` or ``Batch``.
        SessionClosedError: the session is known to accept no new jobs.
        SessionDeviceError: the session is on another device.
    """
    if session is None:
        return None
    admit = getattr(session, "_admit", None)
    if admit is None:
        raise VendorValidationError(
            f"session={session!r} must be a Session or Batch of this provider, e.g. "
            "with Session(backend=backend) as session: backend.run(circuit, session=session)"
        )
    session_id: str = admit(backend)
    return session_id


def _restore_backend(
    provider: VendorProvider, name: str, calibration_id: str | None = None
) -> VendorBackend:
    """Unpickle a backend: the device ``name`` of the (restored) provider (pinned again)."""
    return provider.get_backend(name, calibration_id=calibration_id)
