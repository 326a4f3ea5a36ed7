"""Opening the ledger file: WAL mode, the schema created on first use, a clear error for a
file that is not a ledger."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from ..clock import Clock, SystemClock
from .schema import ensure_schema


def utc_iso(when: datetime | str) -> str:
    """Every time in the ledger is stored in UTC, so that comparing the text compares the
    instants (the store's clock may be +08:00, the server's UTC)."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if when.tzinfo is None:
        raise ValueError(f"naive time {when!r}: the ledger needs time-zone-aware times")
    return when.astimezone(timezone.utc).isoformat()


class LedgerError(RuntimeError):
    """The ledger could not be written; nothing of the failed write was kept."""


class LedgerBase:
    def __init__(self, path: Path | str, clock: Clock | None = None, *,
                 any_thread: bool = False):
        """`any_thread`: the connection may be handed from thread to thread (never used by two
        at once), as a web server's pool of connections is."""
        self.path = Path(path)
        self.clock = clock or SystemClock()
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=not any_thread)
            self.db = sqlite_utils.Database(conn)
            self.db.enable_wal()
            ensure_schema(self.db)
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.path}: not a usable storeaudit ledger ({e})") from e

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _now(self) -> str:
        return utc_iso(self.clock.now())

    def _one(self, sql: str, params: list) -> dict | None:
        return next(iter(self.db.query(sql, params)), None)

    # Every acknowledge, waive and approve is written down: who, what, when.
    def _event(self, actor: str, action: str, *, finding_id: int | None = None,
               approval_id: int | None = None, detail: str | None = None) -> None:
        self.db["events"].insert({"at": self._now(), "actor": actor, "action": action,
                                  "finding_id": finding_id, "approval_id": approval_id,
                                  "detail": detail})
