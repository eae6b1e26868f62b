"""Serve the emulator over real HTTP (uvicorn) on a loopback address."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from qiskit_vendor_provider.api.hosts import is_loopback_host
from qiskit_vendor_provider.emulator.app import create_app
from qiskit_vendor_provider.emulator.service import Emulator


def _check_loopback(host: str) -> None:
    if not is_loopback_host(host):
        raise ValueError(
            f"the emulator serves only on loopback (127.0.0.1, ::1, localhost), not {host!r}"
        )


class EmulatorServer:
    """The emulator app on ``http://host:port``, served by uvicorn in a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Port 0 picks a free
    port; :attr:`url` tells which.

    Args:
        emulator: The service to serve (started and stopped with the server).
        host: A loopback address.
        port: TCP port; 0 for any free one.

    Attributes:
        app: The FastAPI app it serves (``app.state.faults`` counts injected faults).
    """

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        _check_loopback(host)
        self.emulator = emulator
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this. Without it, a response written in two parts
        # waits for the client's delayed ACK: 40 ms per request on loopback instead of 3.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.host = host
        self.port = int(self._socket.getsockname()[1])
        self.app = create_app(emulator)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # A stop waits this long for requests in flight, then closes them.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Start the emulator and serve; returns once the server accepts connections."""
        self.emulator.start()
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="vendor-emulator-http",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the emulator server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C)."""
        self.emulator.start()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self.emulator.stop()

    def stop(self) -> None:
        """Stop serving and stop the emulator's worker."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._socket.close()
        self.emulator.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
