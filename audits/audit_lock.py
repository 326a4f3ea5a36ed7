"""The one audit slot: two audits never run at the same time on one ledger.

The spot-check (API or CLI) takes the slot without waiting and is refused while another audit
holds it; the scheduler's nightly audit waits for a running spot-check to finish. The slot
remembers who holds it, so a refusal can say what is running.

The slot has two parts:

* within a process, a lock (`AUDIT_LOCK`): `storeaudit serve` runs the API and the scheduler
  in one process, so they share it;
* across processes, given the ledger's path, an exclusive `flock` on a lock file beside it
  (`storeaudit.db.audit-lock`), so `storeaudit serve --no-schedule` beside a separate
  `storeaudit schedule`, or two `storeaudit audit` commands, never audit the same ledger at
  once. The holder writes who it is into the file (process id, what it runs, since when) for
  the refusal to name. The kernel drops the lock when its process dies, however it dies: a
  killed audit never leaves the slot taken. The file itself stays (removing a lock file
  races with the next taker).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: the slot is per process only
    fcntl = None

POLL_SECONDS = 0.2  # how often a waiting taker tries the lock file again


class AuditBusy(RuntimeError):
    """Another audit is running now."""


def lock_file(db: Path | str) -> Path:
    """The lock file beside a ledger: `<ledger>.audit-lock`."""
    return Path(f"{db}.audit-lock")


def _program() -> str:
    """What this process is, for a person: "storeaudit audit", "storeaudit schedule"."""
    if not sys.argv or not sys.argv[0] or sys.argv[0] == "-c":
        return "python -c"
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:2]])


class _FileLock:
    """An exclusive, non-blocking flock on a ledger's lock file, with the holder written in."""

    def __init__(self, db: Path | str):
        self.path = lock_file(db)
        self.fd: int | None = None

    def try_acquire(self, holder: str | None) -> bool:
        if fcntl is None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise AuditBusy(f"cannot take the audit lock {self.path}: {e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: another process holds it
            os.close(fd)
            return False
        info = {"pid": os.getpid(), "holder": holder or "an audit", "program": _program(),
                "since": datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.ftruncate(fd, 0)  # nobody holds it now
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def slot_holder(db: Path | str) -> dict | None:
    """Who holds the audit slot of this ledger now, as its lock file says: {"pid", "holder",
    "program", "since"}, or None when nobody does (the file is empty, or names a process that
    is gone: one killed while it held the slot)."""
    try:
        text = lock_file(db).read_text(encoding="utf-8")
        info = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    try:
        os.kill(info["pid"], 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    return info


def describe_holder(info: dict | None) -> str:
    """A slot holder (from `slot_holder`) in words, for a message."""
    if info is None:
        return "an audit in another storeaudit process"
    since = info.get("since", "")
    when = since[11:19] if len(since) >= 19 else since
    return (f"{info.get('holder', 'an audit')} (process {info['pid']}, {info.get('program', '?')}, "
            f"since {when})")


class _AuditSlot:
    """A lock that knows its holder. Used like threading.Lock (`with AUDIT_LOCK:`,
    `AUDIT_LOCK.release()`) by callers that do not care to name themselves; given `db`, it
    also holds that ledger's lock file against other processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holder: str | None = None
        self._file: _FileLock | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1, *,
                holder: str | None = None, db: Path | str | None = None) -> bool:
        deadline = time.monotonic() + timeout if blocking and timeout >= 0 else None
        if not self._lock.acquire(blocking, timeout):
            return False
        if db is not None:
            try:
                file = _FileLock(db)
                while not file.try_acquire(holder):
                    left = None if deadline is None else deadline - time.monotonic()
                    if not blocking or (left is not None and left <= 0):
                        self._lock.release()
                        return False
                    time.sleep(POLL_SECONDS if left is None else min(POLL_SECONDS, left))
            except BaseException:
                self._lock.release()
                raise
            self._file = file
        self.holder = holder
        return True

    def release(self) -> None:
        self.holder = None
        file, self._file = self._file, None
        try:
            if file is not None:
                file.release()
        finally:
            self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> "_AuditSlot":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


AUDIT_LOCK = _AuditSlot()


def busy_message(wanted: str = "a spot-check", db: Path | str | None = None) -> str:
    """Why `wanted` cannot run now: what holds the slot, in this process or (given the
    ledger) another one."""
    if AUDIT_LOCK.locked() or db is None:
        running = AUDIT_LOCK.holder or "another audit"
        where = ""
    else:
        running = describe_holder(slot_holder(db))
        where = f" on {db}"
    return (f"{running} is running now{where} and {wanted} cannot run beside it; "
            "try again when it has finished")


class HeldSlot:
    """The audit slot, taken: released once, by whoever finishes the audit (the API takes
    it for a spot-check in the request and hands it to the thread that runs the audit)."""

    def __init__(self, holder: str):
        self.holder = holder
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        AUDIT_LOCK.release()

    def __enter__(self) -> "HeldSlot":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def take_audit_slot(holder: str, *, wait: float | None = 0,
                    db: Path | str | None = None) -> HeldSlot:
    """Take the one audit slot, waiting for it at most `wait` seconds (0: not at all; None: as
    long as it takes), or AuditBusy saying what runs. With `db`, other processes auditing that
    ledger count too."""
    if wait == 0:
        taken = AUDIT_LOCK.acquire(blocking=False, holder=holder, db=db)
    else:
        taken = wait_for_audit_slot(holder, wait, db=db)
    if not taken:
        raise AuditBusy(busy_message(holder, db))
    return HeldSlot(holder)


def claim_audit_slot(holder: str = "a spot-check", *, db: Path | str | None = None) -> None:
    """Take the one audit slot now, or AuditBusy saying what runs. With `db`, other processes
    auditing that ledger count too. Release it with AUDIT_LOCK.release()."""
    take_audit_slot(holder, wait=0, db=db)


def wait_for_audit_slot(holder: str, timeout: float | None = None, *,
                        db: Path | str | None = None) -> bool:
    """Wait for the slot (at most `timeout` seconds; None: as long as it takes)."""
    return AUDIT_LOCK.acquire(True, -1 if timeout is None else timeout, holder=holder, db=db)


@contextmanager
def audit_slot(holder: str, *, wait: float | None = None,
               db: Path | str | None = None) -> Iterator[None]:
    """Hold the slot for a block, waiting for it (at most `wait` seconds; None: forever).
    AuditBusy when it did not come free in time."""
    with take_audit_slot(holder, wait=wait, db=db):
        yield


__all__ = ["AUDIT_LOCK", "AuditBusy", "HeldSlot", "audit_slot", "busy_message",
           "claim_audit_slot", "describe_holder", "lock_file", "slot_holder", "take_audit_slot",
           "wait_for_audit_slot"]
