"""``python -m qiskit_vendor_provider.emulator``: serve the emulator on loopback."""

from __future__ import annotations

import argparse
import contextlib
import logging
from pathlib import Path

from qiskit_vendor_provider.emulator.faults import FaultConfig
from qiskit_vendor_provider.emulator.server import EmulatorServer
from qiskit_vendor_provider.emulator.service import Emulator, EmulatorConfig


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
        "--devices", type=Path, action="append", default=[], help="extra device directory"
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
        "--faults",
        type=_faults,
        default=None,
        metavar="KEY=VALUE,... | JSON",
        help="inject faults into HTTP answers, e.g. 'error_503=0.1,drop=0.05,seed=1' "
        "(kinds: error_500, error_503, error_429, drop, malformed, latency; also "
        "latency_seconds, retry_after, seed, paths); off by default",
    )
    return parser


def _faults(text: str) -> FaultConfig:
    try:
        return FaultConfig.parse(text)
    except ValueError as exc:
        # argparse turns this into a usage error naming the option.
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    tokens = {}
    for index, item in enumerate(args.token):
        token, _, account = item.partition("=")
        tokens[token] = account or f"account{index + 1}"
    offline = dict(item.partition("=")[::2] for item in args.offline)
    config = EmulatorConfig(
        database=args.database,
        device_dirs=tuple(args.devices),
        tokens=tokens,
        offline={name: message or "offline" for name, message in offline.items()},
        faults=args.faults,
    )
    server = EmulatorServer(Emulator(config), host=args.host, port=args.port)
    print(f"Vendor emulator serving on {server.url} (jobs in {args.database}); Ctrl-C stops it")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
