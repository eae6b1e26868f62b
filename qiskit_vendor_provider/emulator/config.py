"""How an emulator is set up: one dataclass, read by the service, the supervisor and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qiskit_vendor_provider.api.models import Reservation
from qiskit_vendor_provider.emulator.recalibration import (
    RecalibrationSchedule,
    schedule_from_env,
)
from qiskit_vendor_provider.emulator.sessions import DEFAULT_IDLE_GRACE, DEFAULT_MAX_SESSIONS

if TYPE_CHECKING:
    # An annotation only: fault injection (a pydantic model and an ASGI middleware) is
    # loaded by whoever configures it, not by every emulator (the embedded one has none).
    from qiskit_vendor_provider.emulator.faults import FaultConfig


@dataclass
class EmulatorConfig:
    """How an emulator is set up.

    Attributes:
        database: SQLite file of the job store (``":memory:"`` keeps nothing).
        device_dirs: Directories of device files (default: the shipped devices, unless
            ``device_files`` are given).
        device_files: Device files of any name (snapshots), served beside ``device_dirs``.
        recalibration: When and how noisy devices are recalibrated (daily by default;
            ``QISKIT_VENDOR_RECALIBRATION_SECONDS`` and ``QISKIT_VENDOR_CALIBRATION_SEED``
            change the default).
        tokens: Token → account name. Empty: no authentication, one shared account.
        offline: Device name → status message, for devices that do not accept jobs.
        max_body_bytes: Largest request body accepted.
        poll_interval: How often the worker looks for jobs queued by other processes.
        max_active_jobs: Queued and running jobs one account may have at once.
        max_memory_mb: Memory one simulation may use; each simulator process's memory
            ceiling is derived from it.
        reservations: Reservation windows of the devices.
        faults: Faults to inject into HTTP answers (off when None); see
            :mod:`~qiskit_vendor_provider.emulator.faults`.
        workers: Simulator processes at most, so devices running at once (default: the
            number of CPUs; 0 runs no jobs, for a process that only serves the API next
            to others sharing its database). Each device runs one job at a time whatever
            this is.
        lease_seconds: How long a running job stays this emulator's without a renewal;
            another process sharing the database takes it back only after that.
        max_attempts: How often a job may be started; a job interrupted on its last
            attempt (its host stopped or died) is quarantined in ERROR. The default, 2,
            re-runs an interrupted job once.
        worker_faults: Job name → fault the simulator process injects before running
            it (``segfault``, ``abort``, ``kill``, ``exit``, ``memory``, ``sleep=S``): for
            tests of crash handling; empty by default.
        session_idle_grace: Seconds a session with nothing queued or running keeps its
            device from other accounts' queued jobs (its ``max_idle`` still decides
            when it becomes inactive; within it, its next job goes first once the
            device is free).
        max_sessions_per_account: Sessions one account may have open at once (batches
            are not counted: they never hold a device); one more is refused with a 409.
        min_client_api: The oldest client API version served (``"1.0"``: every
            client); an older client's requests get 426 (see ``docs/api-contract.md``).
    """

    database: Path | str = ":memory:"
    device_dirs: tuple[Path, ...] = ()
    device_files: tuple[Path, ...] = ()
    recalibration: RecalibrationSchedule = field(default_factory=schedule_from_env)
    tokens: dict[str, str] = field(default_factory=dict)
    offline: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 64 * 1024 * 1024
    poll_interval: float = 0.5
    max_active_jobs: int = 500
    max_memory_mb: int = 4096
    reservations: list[Reservation] = field(default_factory=list)
    faults: FaultConfig | None = None
    workers: int | None = None
    lease_seconds: float = 10.0
    max_attempts: int = 2
    worker_faults: dict[str, str] = field(default_factory=dict)
    session_idle_grace: float = DEFAULT_IDLE_GRACE
    max_sessions_per_account: int = DEFAULT_MAX_SESSIONS
    min_client_api: str = "1.0"
