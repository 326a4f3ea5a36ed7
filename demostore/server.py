"""Serve a DemoStore with uvicorn in a background thread (tests, `storeaudit demo`)."""

from __future__ import annotations

import threading
import time

import uvicorn

from .app import DemoStore


class RunningStore:
    """A DemoStore being served; `.url` is its base URL ("http://127.0.0.1:54321")."""

    def __init__(self, store: DemoStore, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.store = store
        self.server = server
        self.thread = thread
        self.url = url

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 5.0) -> None:
        """Stop promptly, even with requests still hanging (open "timeout" faults)."""
        if not self.thread.is_alive():
            return
        self.server.should_exit = True
        self.thread.join(timeout=min(timeout, 2.0))
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=timeout)

    def __enter__(self) -> "RunningStore":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningStore {self.url} day={self.store.day} size={self.store.size}>"


def run_in_thread(store: DemoStore, host: str = "127.0.0.1", port: int = 0,
                  startup_timeout: float = 15.0) -> RunningStore:
    """Start serving `store`; return once the server accepts connections."""
    config = uvicorn.Config(
        store.asgi,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=5,
    )
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.run()
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)

    thread = threading.Thread(target=serve, name=f"demostore-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if errors or not thread.is_alive():
            raise RuntimeError(f"demo store failed to start on {host}:{port}") from (errors[0] if errors else None)
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"demo store did not start within {startup_timeout}s")
        time.sleep(0.01)
    sock = server.servers[0].sockets[0]
    bound_port = sock.getsockname()[1]
    shown_host = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    return RunningStore(store, server, thread, f"http://{shown_host}:{bound_port}")
