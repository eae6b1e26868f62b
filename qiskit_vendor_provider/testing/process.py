"""The emulator as a separate process on loopback.

For tests and benchmarks that kill it, restart it, or must not share a Python process
(and its GIL) with the clients.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(
    url: str, process: subprocess.Popen[str] | None = None, timeout: float = 60.0
) -> None:
    """Return once ``url`` answers ``GET /v1/devices``.

    Raises:
        RuntimeError: ``process`` ended, or nothing answered within ``timeout`` seconds,
            with what the process wrote to stderr.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/v1/devices", timeout=2)
            return
        except requests.ConnectionError:
            ended = process is not None and process.poll() is not None
            if ended or time.monotonic() > deadline:
                errors = process.communicate()[1] if process is not None and ended else ""
                raise RuntimeError(f"the emulator at {url} did not start: {errors}") from None
            time.sleep(0.05)


@contextmanager
def emulator_process(
    port: int,
    database: Path,
    *extra_args: str,
    wait_ready: bool = True,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """``python -m qiskit_vendor_provider.emulator --port PORT --database FILE ...``.

    Yields the process once it answers (unless ``wait_ready`` is False); ends it, if it
    still runs, on leaving. Its output is piped, to be read when it ends; with ``log``,
    its stderr goes to that file instead (for a long run: a full pipe nobody reads would
    stall it) and its stdout is dropped.
    """
    with contextlib.ExitStack() as stack:
        stderr: Any = subprocess.PIPE
        if log is not None:
            stderr = stack.enter_context(log.open("w"))
        process = subprocess.Popen(  # noqa: S603 - this interpreter, this package
            [
                sys.executable,
                "-m",
                "qiskit_vendor_provider.emulator",
                "--port",
                str(port),
                "--database",
                str(database),
                *extra_args,
            ],
            stdout=subprocess.PIPE if log is None else subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
        try:
            if wait_ready:
                try:
                    wait_until_serving(f"http://127.0.0.1:{port}", process)
                except RuntimeError as exc:
                    if log is None:
                        raise
                    raise RuntimeError(f"{exc}; its log: {log.read_text()[-2000:]}") from None
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
            process.communicate(timeout=30)
