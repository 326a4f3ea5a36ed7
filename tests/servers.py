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


class RawLoopback:
    """A loopback TCP service on a port of its own, for what a client does with the bytes on
    the wire: each connection's request head (empty when none came within 2 s) goes to
    `answer`, whose bytes are sent back before the connection is closed."""

    def __init__(self, answer: Callable[[bytes], bytes]):
        self._answer = answer
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                head = b""
                try:
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                except OSError:
                    pass
                try:
                    conn.sendall(self._answer(head))
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


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


def smtp_sections(outbox, port: int, *, user: str, password_env: str, extra: str = "") -> str:
    """A contract's [email] and [email.smtp] sections sending from audit@shop.test to
    merchant@shop.test through a plain SMTP server on loopback `port` (`extra`: more lines
    for [email.smtp])."""
    return f"""
[email]
from = "audit@shop.test"
to = ["merchant@shop.test"]
outbox = "{outbox}"

[email.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
user = "{user}"
password_env = "{password_env}"
{extra}"""
