"""``python -m qiskit_vendor_provider.emulator``: serve the emulator on loopback."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from qiskit_vendor_provider.emulator.catalog import CatalogError, builtin_device_dir
from qiskit_vendor_provider.emulator.faults import FaultConfig
from qiskit_vendor_provider.emulator.recalibration import (
    PERIOD_ENV,
    SEED_ENV,
    schedule_from_env,
)
from qiskit_vendor_provider.emulator.server import EmulatorServer
from qiskit_vendor_provider.emulator.service import Emulator, EmulatorConfig
from qiskit_vendor_provider.emulator.sessions import DEFAULT_IDLE_GRACE, DEFAULT_MAX_SESSIONS
from qiskit_vendor_provider.errors import DatabaseFileError, DeviceFileError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qiskit_vendor_provider.emulator",
        description="Serve the Aer-backed emulator of the vendor REST API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765, 0: any)")
    parser.add_argument(
        "--database",
        default="vendor-emulator.sqlite3",
        help="SQLite file of the job store (default ./vendor-emulator.sqlite3; ':memory:' keeps "
        "nothing)",
    )
    parser.add_argument(
        "--devices",
        "--devices-dir",
        dest="devices",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a directory of extra device files, served beside the built-in devices "
        "(repeatable); a device may not be defined twice",
    )
    parser.add_argument(
        "--device-file",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a device file of any name, e.g. a snapshot from `qiskit-vendor device "
        "snapshot` (repeatable), served beside the other devices",
    )
    parser.add_argument(
        "--recalibrate-every",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="recalibrate the noisy devices this often (default: daily, or "
        f"{PERIOD_ENV}); each calibration drifts from the one before",
    )
    parser.add_argument(
        "--calibration-seed",
        type=int,
        default=None,
        metavar="N",
        help=f"seed of the calibration drift and defects (default 0, or {SEED_ENV})",
    )
    parser.add_argument(
        "--no-builtin-devices",
        action="store_true",
        help="serve only the devices of the --devices directories, not the built-in ones",
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN[=ACCOUNT]",
        help="accept this bearer token (repeatable); without any, no authentication",
    )
    parser.add_argument(
        "--offline",
        action="append",
        default=[],
        metavar="DEVICE[=MESSAGE]",
        help="mark a device as not accepting jobs (repeatable), e.g. "
        "'superconducting_27q=maintenance until 18:00 UTC'",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="simulator processes at most, so devices running at once (default: CPUs)",
    )
    parser.add_argument(
        "--max-memory-mb",
        type=int,
        default=4096,
        help="memory one simulation may use; each simulator process's ceiling derives "
        "from it (default 4096)",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=2,
        help="how often a job may be started; one interrupted on its last attempt is "
        "quarantined in ERROR (default 2: an interrupted job runs once more)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=10.0,
        help="how long a running job stays this server's without a renewal (default 10)",
    )
    parser.add_argument(
        "--session-idle-grace",
        type=float,
        default=DEFAULT_IDLE_GRACE,
        metavar="SECONDS",
        help="how long a session with nothing to run keeps its device from other "
        f"accounts' queued jobs (default {DEFAULT_IDLE_GRACE:g})",
    )
    parser.add_argument(
        "--max-sessions",
        type=int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"sessions one account may have open at once (default {DEFAULT_MAX_SESSIONS})",
    )
    parser.add_argument(
        "--worker-fault",
        action="append",
        default=[],
        metavar="JOB_NAME=FAULT",
        help="for tests: the simulator process running a job of this name misbehaves "
        "(segfault, abort, kill, exit, memory, sleep=SECONDS)",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default=None,
        metavar="KEY=VALUE,... | JSON",
        help="inject faults into HTTP answers, e.g. 'error_503=0.1,drop=0.05,seed=1' "
        "(kinds: error_500, error_503, error_429, drop, malformed, latency; also "
        "latency_seconds, retry_after, seed, paths); off by default",
    )
    return parser


def device_directories(extra: list[Path], *, builtin: bool = True) -> tuple[Path, ...]:
    """The device directories the emulator serves: the built-in one (unless not), then ``extra``.

    >>> [path.name for path in device_directories([Path("mine")], builtin=False)]
    ['mine']
    >>> device_directories([Path("mine")]) == (builtin_device_dir(), Path("mine"))
    True
    """
    return (builtin_device_dir(), *extra) if builtin else tuple(extra)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _faults(text: str) -> FaultConfig:
    try:
        return FaultConfig.parse(text)
    except ValueError as exc:
        # argparse turns this into a usage error naming the option.
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    config = config_from(args, parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        emulator = Emulator(config)
    except (CatalogError, DeviceFileError) as exc:
        hint = ""
        if "defined twice" in str(exc):
            hint = "; rename your device, or serve only your own with --no-builtin-devices"
        parser.error(f"{exc}{hint}")
    except DatabaseFileError as exc:
        # Not a usage error: the command line was right, the file is not (the CLI's exit 3).
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    server = EmulatorServer(emulator, host=args.host, port=args.port)
    print(
        f"Vendor emulator serving on {server.url} (jobs in {args.database}); Ctrl-C stops it",
        flush=True,
    )
    # uvicorn stops serving on SIGTERM, then raises it again; this handler turns that
    # into an exception, so the supervisor gives back running jobs instead of the
    # process just vanishing.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def config_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> EmulatorConfig:
    """The emulator's set-up from its parsed command line (usage errors through ``parser``)."""
    if args.no_builtin_devices and not (args.devices or args.device_file):
        parser.error("--no-builtin-devices needs at least one --devices or --device-file")
    try:
        schedule = schedule_from_env()
    except ValueError as exc:
        parser.error(str(exc))
    if args.recalibrate_every is not None:
        schedule = dataclasses.replace(schedule, period=args.recalibrate_every)
    if args.calibration_seed is not None:
        schedule = dataclasses.replace(schedule, seed=args.calibration_seed)
    tokens = {}
    for index, item in enumerate(args.token):
        token, _, account = item.partition("=")
        tokens[token] = account or f"account{index + 1}"
    offline = dict(item.partition("=")[::2] for item in args.offline)
    return EmulatorConfig(
        database=args.database,
        device_dirs=device_directories(args.devices, builtin=not args.no_builtin_devices),
        device_files=tuple(args.device_file),
        recalibration=schedule,
        tokens=tokens,
        offline={name: message or "offline" for name, message in offline.items()},
        faults=args.faults,
        workers=args.workers,
        max_memory_mb=args.max_memory_mb,
        max_attempts=args.max_attempts,
        lease_seconds=args.lease_seconds,
        worker_faults=dict(item.partition("=")[::2] for item in args.worker_fault),
        session_idle_grace=args.session_idle_grace,
        max_sessions_per_account=args.max_sessions,
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    main()
