"""Serving an ASGI app for real on 127.0.0.1 in a background thread, for end-to-end tests;
and waiting for an API run in a process of its own to answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_healthy(url: str, what: str, *, ended: Callable[[], str | None] = lambda: None,
                       timeout_s: float = 30) -> None:
    """Wait until `url`/healthz answers 200; fail the test with what `ended()` says if the
    server's process ended meanwhile, or when `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url.rstrip("/") + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        gone = ended()
        assert gone is None, gone
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.05)


@contextmanager
def serve(app, host: str = "127.0.0.1"):
    """Yield the base URL of `app` served by uvicorn; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
