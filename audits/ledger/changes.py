"""The ledger's change counter, for caches of views derived from it (the overlay's answers,
who a token is): a number that moves whenever anything is written to the ledger, by any
connection of any process, read without a query.

SQLite's `PRAGMA data_version` on a connection of its own changes when another connection
commits. A thread asks it every INTERVAL; `check()` asks at once (after a write this process
made, so its own action is seen by the next request; and before a kept token is trusted,
so a revocation counts at once). A cache of answers takes `generation`: an
attribute, no SQL, no lock.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

INTERVAL = 0.05   # s: how stale a cache may be after another process writes


class ChangeWatch:
    def __init__(self, path: str | Path, *, interval: float = INTERVAL):
        self._path = str(path)
        self._interval = interval
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._seen: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.generation = 0

    def check(self) -> int:
        """Ask the ledger now; the generation, moved on if anything was written since."""
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(self._path, check_same_thread=False,
                                                 isolation_level=None)
                version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                # The ledger unreadable for a moment (locked past the timeout, being made):
                # caches are not trusted until it reads again.
                self._close()
                version = None
            if version is None or version != self._seen:
                self._seen = version
                self.generation += 1
            return self.generation

    def start(self) -> "ChangeWatch":
        if self._thread is None:
            self.check()
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="ledger-change-watch",
                                            daemon=True)
            self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


__all__ = ["ChangeWatch", "INTERVAL"]
