"""Opening the ledger file: WAL mode, the schema created on first use, a clear error for a
file that is not a ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
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


# How long a write waits for another connection (the API, `storeaudit schedule`, another
# command) to finish its own write before giving up with "locked by another process".
BUSY_TIMEOUT_SECONDS = 10.0

# SQLite's primary result codes that a person can act on (sqlite3.h).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_FULL = 5, 6, 8, 13


def _primary_code(e: sqlite3.Error) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)  # extended code, e.g. SQLITE_BUSY_SNAPSHOT
    return None if code is None else code & 0xFF


class LedgerBase:
    def __init__(self, path: Path | str, clock: Clock | None = None, *,
                 any_thread: bool = False, check_schema: bool = True):
        """`any_thread`: the connection may be handed from thread to thread (never used by two
        at once), as a web server's pool of connections is. `check_schema=False`: the caller
        has already checked this ledger's tables through another connection (a pool's first)."""
        self.path = Path(path)
        self.clock = clock or SystemClock()
        self.busy_timeout = BUSY_TIMEOUT_SECONDS
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=not any_thread,
                                   timeout=self.busy_timeout)
            self.db = sqlite_utils.Database(conn)
            self.db.enable_wal()
            if check_schema:
                ensure_schema(self.db)
        except sqlite3.OperationalError as e:
            if _primary_code(e) in (_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_FULL, _SQLITE_READONLY):
                raise self._write_error(e, "the ledger's tables") from e
            raise LedgerError(f"{self.path}: not a usable storeaudit ledger ({e})") from e
        except sqlite3.DatabaseError as e:
            raise LedgerError(f"{self.path}: not a usable storeaudit ledger ({e})") from e

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One write transaction, all or nothing, for `what` ("run 7's crawl").

        BEGIN IMMEDIATE takes the write lock before anything is read, waiting for another
        process's write at most `busy_timeout` seconds (a deferred BEGIN could fail half-way,
        when its read turns into a write). SQLite's errors come out as a LedgerError a person
        can act on: the disk is full, the database is locked by another process. Nested, it is
        a savepoint of the outer transaction."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise self._write_error(e, what) from e
        try:
            yield
            conn.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:  # SQLite rolls back itself when the file cannot be kept
                    pass
            if isinstance(e, sqlite3.OperationalError):
                raise self._write_error(e, what) from e
            raise

    def _write_error(self, e: sqlite3.Error, what: str) -> LedgerError:
        code = _primary_code(e)
        if code == _SQLITE_FULL:
            return LedgerError(
                f"the disk or database is full ({self.path}): {what} could not be written, "
                "and nothing of it was kept. Free some disk space, then run again.")
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
            return LedgerError(
                f"the database {self.path} is locked by another process (it kept a write "
                f"open for more than {self.busy_timeout:g} s): {what} could not be written, "
                "and nothing of it was kept. Try again when the other storeaudit command or "
                "server has finished writing.")
        if code == _SQLITE_READONLY:
            return LedgerError(f"the database {self.path} is read-only: {what} could not be "
                               "written. Check the file's permissions.")
        return LedgerError(f"could not write {what} to {self.path} ({e}); nothing of it "
                           "was kept.")

    def _finish_run(self, run_id: int) -> None:
        """The run is complete: its crawl is recorded, and for an audit its findings updated.
        Called inside the transaction that writes the last of it, so the two go together."""
        self.db.execute("UPDATE runs SET status = 'complete', finished = ? "
                        "WHERE id = ? AND status = 'running'", [self._now(), run_id])

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
