"""The in-process transport: requests to an ASGI app in this process, no socket between."""

from __future__ import annotations

import threading

import requests
from fastapi import FastAPI

from qiskit_vendor_provider.emulator import InProcessTransport


def test_the_app_thread_pool_is_reused_across_requests() -> None:
    # FastAPI runs a plain route in anyio's thread pool. Its threads belong to the event
    # loop's root task: if each request were its own root, every request would start a
    # thread and stop it when it ended (several per job, a good part of a small job's time).
    app = FastAPI()
    seen: list[threading.Thread] = []  # the threads themselves: their ids cannot be reused

    @app.get("/where")
    def where() -> dict[str, str]:
        seen.append(threading.current_thread())
        return {"thread": threading.current_thread().name}

    session = requests.Session()
    session.mount("http://app.invalid", InProcessTransport(app))
    for _ in range(5):
        answer = session.get("http://app.invalid/where", timeout=30)
        assert answer.status_code == 200
    assert len(seen) == 5
    assert all(thread is seen[0] for thread in seen), [t.name for t in seen]
    assert seen[0].is_alive()
