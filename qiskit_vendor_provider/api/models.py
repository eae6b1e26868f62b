"""Pydantic models of the vendor REST API (v1): the single source of its schema.

Two families, on purpose:

* what a client *sends* (:class:`JobSubmission` and what it holds) forbids unknown fields,
  so a typo is an error, never a silently ignored option;
* what a server *answers* ignores unknown fields, so an older client keeps working
  against a newer server.

The emulator validates requests with the same models, which makes the OpenAPI document
it serves the contract both sides are tested against. Nothing here imports Qiskit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

from qiskit_vendor_provider.api.model_base import FiniteFloat as FiniteFloat
from qiskit_vendor_provider.api.model_base import RequestModel as RequestModel
from qiskit_vendor_provider.api.model_base import ResponseModel as ResponseModel
from qiskit_vendor_provider.api.op_columns import OpColumns, dump_columns, parse_columns

# The operations' layouts are defined by their codecs; the schema names them here.
from qiskit_vendor_provider.api.op_objects import CONTROL_FLOW_NAMES as CONTROL_FLOW_NAMES
from qiskit_vendor_provider.api.op_objects import Angle as Angle
from qiskit_vendor_provider.api.op_objects import CompactOp as CompactOp
from qiskit_vendor_provider.api.op_objects import ControlFlowName as ControlFlowName
from qiskit_vendor_provider.api.op_objects import Instruction as Instruction
from qiskit_vendor_provider.api.op_objects import Instructions as Instructions
from qiskit_vendor_provider.api.op_objects import Op as Op
from qiskit_vendor_provider.api.op_objects import ParameterExpression as ParameterExpression
from qiskit_vendor_provider.api.op_objects import SwitchCaseValue as SwitchCaseValue
from qiskit_vendor_provider.api.op_objects import WireExpr as WireExpr
from qiskit_vendor_provider.api.op_objects import WireInstruction as WireInstruction
from qiskit_vendor_provider.api.op_objects import WireType as WireType
from qiskit_vendor_provider.api.op_objects import check_bits, column_angle
from qiskit_vendor_provider.api.op_objects import dump_instructions as dump_instructions
from qiskit_vendor_provider.api.op_objects import expression_clbits as expression_clbits
from qiskit_vendor_provider.api.op_objects import nested_instructions as nested_instructions
from qiskit_vendor_provider.api.op_objects import parse_instructions as parse_instructions

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
_SESSION_ID_PATTERN = r"^[0-9a-f]{32}$"
CALIBRATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
"""What a calibration id looks like (API 1.3)."""
MAX_TAGS = 32
MAX_PAGE_SIZE = 100


# --------------------------------------------------------------------------- errors


PROBLEM_DEVICE_UNAVAILABLE = "urn:vendor:problem:device-unavailable"
"""Problem type of a job sent to a device that is offline or in maintenance."""
PROBLEM_JOB_LIMIT = "urn:vendor:problem:job-limit"
"""Problem type of a submission past the account's limit of active jobs (HTTP 429)."""
PROBLEM_SESSION_CLOSED = "urn:vendor:problem:session-closed"
"""Problem type of a job sent to a session or batch that no longer accepts jobs (HTTP 409)."""
PROBLEM_SESSION_DEVICE = "urn:vendor:problem:session-device"
"""Problem type of a job sent to a session or batch of another device (HTTP 409)."""
PROBLEM_SESSION_LIMIT = "urn:vendor:problem:session-limit"
"""Problem type of a session opened past the account's limit of open sessions (HTTP 409)."""
PROBLEM_STORAGE_FULL = "urn:vendor:problem:storage-full"
"""Problem type of a request the server could not store: its disk is full (HTTP 507)."""
PROBLEM_UPGRADE_REQUIRED = "urn:vendor:problem:upgrade-required"
"""Problem type of a request from a client older than the server's minimum (HTTP 426)."""
PROBLEM_CALIBRATION_NOT_KEPT = "urn:vendor:problem:calibration-not-kept"
"""Problem type of a calibration id the server does not keep (HTTP 404, API 1.3)."""


class Problem(ResponseModel):
    """An ``application/problem+json`` body (RFC 9457)."""

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    request_id: str | None = None


# --------------------------------------------------------------------------- devices


class DeviceLimits(ResponseModel):
    """What one job on a device may ask for."""

    max_shots: int = Field(default=100_000, ge=1)
    default_shots: int = Field(default=1024, ge=1)
    max_circuits: int = Field(default=300, ge=1)
    max_operations: int = Field(default=100_000, ge=1)
    max_payload_bytes: int = Field(default=50_000_000, ge=1)
    max_parameter_rows: int = Field(default=10_000, ge=1)
    max_loop_iterations: int = Field(default=100, ge=1)
    """The most times a loop may run its body in one shot (``for_loop`` and ``while_loop``)."""
    max_nesting_depth: int = Field(default=3, ge=1)
    """How deep control-flow blocks may nest (an ``if_else`` in a ``for_loop`` is 2)."""
    max_execution_time: float = Field(default=3600.0, gt=0, allow_inf_nan=False)
    """Seconds a job may run on the device before it is stopped (and ends in ERROR); a
    job may ask for less with its own ``max_execution_time``."""


class NativeOperation(ResponseModel):
    """One operation the device executes, named as in Qiskit's standard gate library.

    ``qubits`` lists the qubit tuples it acts on; ``None`` means every qubit (one-qubit
    operations) or every ordered pair of distinct qubits (two-qubit operations on an
    all-to-all device).
    """

    name: str
    num_qubits: int = Field(ge=0)
    qubits: list[list[int]] | None = None


class QubitCalibration(ResponseModel):
    """Calibrated figures of one qubit (SI units: seconds, hertz)."""

    t1: float | None = Field(default=None, gt=0)
    t2: float | None = Field(default=None, gt=0)
    frequency: float | None = Field(default=None, ge=0)
    readout_error: float = Field(default=0.0, ge=0, le=1)
    readout_duration: float | None = Field(default=None, ge=0)
    t2_star: float | None = Field(default=None, gt=0)
    """Ramsey (free-induction) dephasing time; absent: as ``t2``, no slow dephasing."""
    operational: bool = True
    """False: the qubit is out of service in this calibration (faulty). Nothing may act
    on it, and the Target leaves it out. Absent (an older server or device file): in
    service."""


class GateCalibration(ResponseModel):
    """Calibrated error and duration (seconds) of one operation on one qubit tuple."""

    name: str
    qubits: list[int]
    error: float | None = Field(default=None, ge=0, le=1)
    duration: float | None = Field(default=None, ge=0)
    over_rotation: float = Field(default=0.0, ge=-math.pi, le=math.pi)
    """The coherent part of ``error``: an over-rotation about the gate's own axis, in
    radians (``error`` stays the total average gate infidelity)."""
    operational: bool = True
    """False: this gate on these qubits is out of service in this calibration (a faulty
    coupler, for a two-qubit gate); the Target leaves it out. Absent (an older server
    or device file): in service."""


class CouplingCalibration(ResponseModel):
    """The always-on ZZ interaction of one pair of qubits, in hertz.

    ``zz_hz`` is the shift of either qubit's frequency when the other is in ``|1>``.
    """

    qubits: list[int] = Field(min_length=2, max_length=2)
    zz_hz: float = Field(default=0.0, allow_inf_nan=False)


class Calibration(ResponseModel):
    """A calibration snapshot: per-qubit and per-gate figures, valid from ``timestamp`` on."""

    timestamp: datetime
    qubits: list[QubitCalibration]
    gates: list[GateCalibration] = []
    couplings: list[CouplingCalibration] = []
    """Always-on interactions of qubit pairs (absent: none)."""
    calibration_id: str | None = Field(default=None, pattern=CALIBRATION_ID_PATTERN)
    """The calibration's identity (API 1.3); absent from older servers and device files."""


class CalibrationInfo(ResponseModel):
    """One calibration a server keeps: its id and when it took effect (API 1.3)."""

    calibration_id: str
    timestamp: datetime


class CalibrationList(ResponseModel):
    """``GET /v1/devices/{name}/calibrations``: the calibrations kept, oldest first."""

    calibrations: list[CalibrationInfo]


class DeviceSummary(ResponseModel):
    """One line of ``GET /v1/devices``."""

    name: str
    num_qubits: int
    simulator: bool
    operational: bool = True
    status_message: str = ""


class DeviceSpec(ResponseModel):
    """Everything a client needs to build a Qiskit ``Target`` for a device."""

    name: str = Field(pattern=_NAME_PATTERN)
    description: str = ""
    version: str = "1"
    num_qubits: int = Field(ge=1)
    simulator: bool = False
    operational: bool = True
    status_message: str = ""
    dt: float | None = Field(default=None, gt=0)
    native_operations: list[NativeOperation]
    limits: DeviceLimits = DeviceLimits()
    calibration: Calibration | None = None
    control_flow: list[Annotated[str, Field(min_length=1, max_length=64)]] = []
    """The dynamic-circuit operations the device runs (empty: none, static circuits only).

    Named as in Qiskit; :data:`CONTROL_FLOW_NAMES` are those this package sends. A name
    it does not know (a newer server's) makes only circuits that use it unrunnable."""
    rep_delay_range: tuple[FiniteFloat, FiniteFloat] | None = None
    """The shortest and longest wait between shots (seconds) a job may ask for."""
    default_rep_delay: FiniteFloat | None = None
    """The wait between shots (seconds) when a job does not ask for one."""
    job_overhead_seconds: FiniteFloat = Field(default=0.0, ge=0)
    """Device time charged once per job whatever it holds (loading, checks), in seconds."""

    @model_validator(mode="after")
    def _check_consistency(self) -> DeviceSpec:
        names = [op.name for op in self.native_operations]
        if len(set(names)) != len(names):
            raise ValueError(f"native operation listed twice in {names}")
        if len(set(self.control_flow)) != len(self.control_flow):
            raise ValueError(f"control-flow operation listed twice in {self.control_flow}")
        if self.rep_delay_range is not None:
            low, high = self.rep_delay_range
            if not 0 <= low <= high:
                raise ValueError(f"rep_delay_range {self.rep_delay_range} is not 0 <= low <= high")
            if self.default_rep_delay is not None and not low <= self.default_rep_delay <= high:
                raise ValueError(
                    f"default_rep_delay {self.default_rep_delay} is outside rep_delay_range"
                )
        for op in self.native_operations:
            for qargs in op.qubits or []:
                if len(qargs) != op.num_qubits:
                    raise ValueError(f"{op.name} acts on {op.num_qubits} qubits, got {qargs}")
                if any(q < 0 or q >= self.num_qubits for q in qargs):
                    raise ValueError(f"{op.name} on {qargs}: qubit out of range")
        if self.calibration is not None and len(self.calibration.qubits) != self.num_qubits:
            raise ValueError(
                f"calibration has {len(self.calibration.qubits)} qubits, device has "
                f"{self.num_qubits}"
            )
        for coupling in self.calibration.couplings if self.calibration else []:
            a, b = coupling.qubits
            if a == b or not (0 <= a < self.num_qubits and 0 <= b < self.num_qubits):
                raise ValueError(f"coupling on {coupling.qubits}: qubits out of range or equal")
        return self

    def summary(
        self, *, operational: bool | None = None, message: str | None = None
    ) -> DeviceSummary:
        """The device's line in the device list."""
        return DeviceSummary(
            name=self.name,
            num_qubits=self.num_qubits,
            simulator=self.simulator,
            operational=self.operational if operational is None else operational,
            status_message=self.status_message if message is None else message,
        )


class DeviceStatus(ResponseModel):
    """``GET /v1/devices/{name}/status``."""

    name: str
    operational: bool
    pending_jobs: int = 0
    status_message: str = ""


# --------------------------------------------------------------------------- programs


class _HeaderFields(BaseModel):
    name: str = Field(max_length=256)
    creg_sizes: list[tuple[str, int]] = []
    qreg_sizes: list[tuple[str, int]] = []
    memory_slots: int = Field(default=0, ge=0)
    metadata: dict[str, Any] = {}


class ProgramHeader(_HeaderFields, RequestModel):
    """What the client needs to rebuild a Qiskit result without the circuit in memory."""


class ResultHeader(_HeaderFields, ResponseModel):
    """The program header as the server echoes it back with the result."""


class OpColumnsSchema(RequestModel):
    """The ``ops`` of a program: its plain operations as columns (see :mod:`.op_columns`)."""

    kinds: list[tuple[str, int, int, int]]
    code: list[Annotated[int, Field(ge=0)]]
    qubits: list[Annotated[int, Field(ge=0)]]
    clbits: list[Annotated[int, Field(ge=0)]]
    params: list[Angle]


def _dump_ops(columns: OpColumns | None) -> Any:
    return None if columns is None else dump_columns(columns)


class WireProgram(RequestModel):
    """A circuit in the device's native operations, as JSON.

    Its operations are either ``ops`` (plain operations as columns, what clients send for
    a program without control flow) or ``instructions`` (one entry per operation: an
    array for a plain one, an object for control flow), not both. ``parameters`` names
    the free parameters its angles use; ``parameter_values`` is the table of values,
    one row per binding, one column per parameter.
    """

    num_qubits: int = Field(ge=0)
    num_clbits: int = Field(ge=0)
    instructions: Instructions = []
    ops: Annotated[
        Any,
        PlainValidator(lambda value: value, json_schema_input_type=OpColumnsSchema | None),
        PlainSerializer(_dump_ops),
    ] = None
    header: ProgramHeader
    parameters: list[str] = []
    parameter_values: list[list[FiniteFloat]] = []
    row_block: int = Field(default=1, ge=1)
    """Rows come in blocks of this many consecutive rows that the client pools into one
    figure (the twirled randomizations of one binding, say). A server may share per-block
    work between them: the emulator spreads its draws of slow noise over a block's rows
    instead of repeating them in each (API 1.2; absent means 1)."""

    @property
    def num_operations(self) -> int:
        """How many operations the program lists (a control-flow block's count as one)."""
        return len(self.ops) if self.ops is not None else len(self.instructions)

    @model_validator(mode="after")
    def _check_indices(self) -> WireProgram:
        if self.ops is not None:
            if self.instructions:
                raise ValueError("a program has ops or instructions, not both")
            # Columns built in Python (circuit_to_wire) were made from a valid circuit;
            # what arrives as JSON is read and checked here.
            if not isinstance(self.ops, OpColumns):
                self.ops = parse_columns(self.ops, self.num_qubits, self.num_clbits, column_angle)
        check_bits(self.instructions, self.num_qubits, self.num_clbits, "")
        width = len(self.parameters)
        for row_index, row in enumerate(self.parameter_values):
            if len(row) != width:
                raise ValueError(
                    f"parameter_values row {row_index} has {len(row)} values for {width} parameters"
                )
        if self.parameters and not self.parameter_values:
            raise ValueError(f"parameters {self.parameters} are declared but have no values")
        rows = len(self.parameter_values)
        if self.row_block > 1 and (rows == 0 or rows % self.row_block):
            raise ValueError(
                f"row_block={self.row_block} does not divide the {rows} rows of "
                "parameter_values (a block is whole rows of the table); send whole blocks, "
                "or row_block=1"
            )
        return self


class JobSubmission(RequestModel):
    """``POST /v1/jobs``: one job of one or more programs on one device."""

    device: str = Field(pattern=_NAME_PATTERN)
    programs: list[WireProgram] = Field(min_length=1)
    shots: int = Field(ge=1)
    memory: bool = False
    seed_simulator: int | None = Field(default=None, ge=0, lt=2**63)
    name: str | None = Field(default=None, max_length=256)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=[], max_length=MAX_TAGS
    )
    session_id: str | None = Field(default=None, pattern=_SESSION_ID_PATTERN)
    """The session or batch the job runs in (see ``POST /v1/sessions``); None: neither."""
    rep_delay: FiniteFloat | None = Field(default=None, ge=0)
    """Seconds the device waits after each shot, within its ``rep_delay_range``; None:
    its ``default_rep_delay``. Charged as device time (see ``device_time``)."""
    max_execution_time: FiniteFloat | None = Field(default=None, gt=0)
    """Seconds the job may run before it is stopped and ends in ERROR, at most the
    device's ``limits.max_execution_time``; None: the device's limit."""
    calibration_id: str | None = Field(default=None, pattern=CALIBRATION_ID_PATTERN)
    """Run on this calibration of the device (pinned, API 1.3); None: the one in force
    when the job starts."""


# --------------------------------------------------------------------------- jobs

JobState = Literal["QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"]
"""The states the v1 server reports. A client must tolerate others (see ``status``)."""

# A job state in a query: one of JobState, or one a newer server added (API 1.1).
_StateName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,31}$")]


class JobInfo(ResponseModel):
    """``GET /v1/jobs/{id}`` and the answer to a submission."""

    job_id: str
    device: str
    status: str
    name: str | None = None
    tags: list[str] = []
    shots: int = 0
    num_programs: int = 0
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    queue_position: int | None = None
    error: str | None = None
    usage_seconds: float | None = None
    """Device time the job was charged (see ``device_time``); None until it is DONE. A
    job stopped at its run-time limit (ERROR) is charged the seconds it ran."""
    session_id: str | None = None
    """The session or batch the job runs in, if any."""
    calibration_id: str | None = None
    """The calibration the job runs on (API 1.3): pinned, or the one in force when it
    started (before that, the one in force when it was submitted). None from older
    servers."""


class BindingResult(ResponseModel):
    """One row's counts (hex keys, bit *i* is clbit *i*) and optional per-shot memory.

    Result format 1 (``JobResult.result_format``) has ``counts`` and hex ``memory``;
    format 2 has ``packed_memory`` when memory was asked for (and then no ``counts``:
    the client counts the shots), else ``counts``. See :mod:`~.api.shots`.
    """

    counts: Mapping[str, int] | None = None
    """Hex key → count. Read by the client from packed memory: see :mod:`.shots`."""
    memory: Sequence[str] | None = None
    """Hex strings, one per shot. Read by the client from packed memory: a
    :class:`~.shots.PackedMemory`, which reads as that list without making it."""
    packed_memory: str | None = None
    """Base64 of every shot's ``ceil(num_clbits / 8)`` big-endian bytes, one after another."""


class ProgramResult(ResponseModel):
    """The result of one program: one entry in ``data`` per parameter row (one if none)."""

    header: ResultHeader
    shots: int
    success: bool
    status: str = ""
    data: list[BindingResult] = []
    seed_simulator: int | None = None
    num_clbits: int | None = None
    """Clbits per shot of ``packed_memory`` (format 2)."""


class JobResult(ResponseModel):
    """``GET /v1/jobs/{id}/result``."""

    job_id: str
    device: str
    status: str
    success: bool
    results: list[ProgramResult]
    time_taken: float = 0.0
    ended_at: datetime | None = None
    """When the job ended, as ``GET /v1/jobs/{id}`` reports it; older servers leave it out."""
    result_format: int = 1
    """How rows carry memory: 1, hex strings (older servers); 2, packed bits (API 1.4)."""


class SubmittedJob(JobInfo):
    """The answer to ``POST /v1/jobs``: the job, and its result if it is already DONE.

    A submission with ``?wait=`` (API 1.5) may be held while its job runs; a job that
    ended DONE within the wait comes with its result, as ``GET /v1/jobs/{id}/result``
    gives it, which saves that request. Without ``?wait=``, or from an older server, the
    answer is the job alone.
    """

    result: JobResult | None = None
    """The job's result, when it ended DONE while the submission was held (API 1.5)."""


class JobQuery(RequestModel):
    """``GET /v1/jobs`` query parameters: filters, pagination and order.

    Unknown parameters are rejected, so a misspelt filter never silently lists
    everything.
    """

    device: str | None = Field(default=None, pattern=_NAME_PATTERN)
    status: list[_StateName] = []
    """Only jobs in these states: any state name (a newer server's too); a server refuses
    one it does not have (422, naming its states)."""
    name: str | None = Field(default=None, max_length=256, description="regular expression")
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default=[], max_length=MAX_TAGS
    )
    tags_operator: Literal["OR", "AND"] = "OR"
    # With an offset: the server cannot know the sender's local time (the client's
    # job_listing.aware_moment turns a naive datetime into local time before sending).
    created_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    order: Literal["asc", "desc"] = "desc"
    session_id: str | None = Field(default=None, pattern=_SESSION_ID_PATTERN)
    """Only the jobs of this session or batch."""
    calibration_id: str | None = Field(default=None, pattern=CALIBRATION_ID_PATTERN)
    """Only the jobs that ran (or run) on this calibration (API 1.3)."""


class JobPage(ResponseModel):
    """One page of ``GET /v1/jobs``; ``next_offset`` is None on the last page."""

    jobs: list[JobInfo]
    next_offset: int | None = None


class AccountInfo(ResponseModel):
    """``GET /v1/account``: the account's limit of active (queued or running) jobs."""

    account: str
    max_active_jobs: int
    active_jobs: int


class Reservation(ResponseModel):
    """A window during which a device runs only one account's jobs."""

    device: str
    start: datetime
    end: datetime
    mode: str = "dedicated"
    reservation_id: str = ""


class ReservationList(ResponseModel):
    """``GET /v1/devices/{name}/reservations``."""

    reservations: list[Reservation]


# --------------------------------------------------------------------------- sessions

SessionMode = Literal["session", "batch"]
"""``session``: the device runs the session's jobs back to back, before anyone else's.
``batch``: the jobs are queued together, without holding the device."""

SessionState = Literal["open", "active", "inactive", "closed", "expired", "cancelled"]
"""The states the v1 server reports for a session. A client must tolerate others."""

MAX_SESSION_SECONDS = 8 * 3600.0
"""Longest ``max_time`` a session or batch may ask for."""
MAX_IDLE_SECONDS = 3600.0
"""Longest ``max_idle`` a session may ask for."""


class SessionRequest(RequestModel):
    """``POST /v1/sessions``: open a session or a batch on one device.

    The server fills in what is left out: ``max_time`` (default 900 s) counts from the
    start of the first job; ``max_idle`` (sessions only, default 60 s) is how long the
    device waits for the next job of a session that has none queued or running.
    """

    # Strict, as the job body is: "10" is not a number of seconds.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)

    device: str = Field(pattern=_NAME_PATTERN)
    mode: SessionMode = "session"
    max_time: FiniteFloat | None = Field(default=None, gt=0, le=MAX_SESSION_SECONDS)
    max_idle: FiniteFloat | None = Field(default=None, gt=0, le=MAX_IDLE_SECONDS)


class SessionInfo(ResponseModel):
    """``GET /v1/sessions/{id}`` and the answer to the other session routes.

    ``elapsed_seconds`` counts from the start of the session's first job; a session
    that has not started yet (``open``) has used none of its ``max_time``.
    """

    session_id: str
    device: str
    mode: str = "session"
    state: str
    accepting_jobs: bool = True
    max_time: float
    max_idle: float | None = None
    created_at: datetime
    started_at: datetime | None = None
    closed_at: datetime | None = None
    last_activity_at: datetime | None = None
    expires_at: datetime | None = None
    """When ``max_time`` runs out (None until the first job starts)."""
    elapsed_seconds: float = 0.0
    job_count: int = 0
    pending_jobs: int = 0
    """Jobs of the session that are queued or running."""


class SessionList(ResponseModel):
    """``GET /v1/sessions``: the account's sessions and batches, newest first."""

    sessions: list[SessionInfo]
