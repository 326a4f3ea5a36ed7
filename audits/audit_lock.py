"""The one audit slot: two audits never run at the same time in one process.

The spot-check (API or CLI) takes the slot without waiting and is refused while another audit
holds it; the scheduler's nightly audit waits for a running spot-check to finish. The slot
remembers who holds it, so a refusal can say what is running.

The slot is per process: `storeaudit serve` runs the API and the scheduler in one process, so
they share it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class AuditBusy(RuntimeError):
    """Another audit is running now."""


class _AuditSlot:
    """A lock that knows its holder. Used like threading.Lock (`with AUDIT_LOCK:`,
    `AUDIT_LOCK.release()`) by callers that do not care to name themselves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holder: str | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1, *,
                holder: str | None = None) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self.holder = holder
        return got

    def release(self) -> None:
        self.holder = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> "_AuditSlot":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


AUDIT_LOCK = _AuditSlot()


def busy_message(wanted: str = "a spot-check") -> str:
    running = AUDIT_LOCK.holder or "another audit"
    return (f"{running} is running now and {wanted} cannot run beside it; "
            "try again when it has finished")


def claim_audit_slot(holder: str = "a spot-check") -> None:
    """Take the one audit slot now, or AuditBusy saying what runs.
    Release it with AUDIT_LOCK.release()."""
    if not AUDIT_LOCK.acquire(blocking=False, holder=holder):
        raise AuditBusy(busy_message(holder))


def wait_for_audit_slot(holder: str, timeout: float | None = None) -> bool:
    """Wait for the slot (at most `timeout` seconds; None: as long as it takes)."""
    return AUDIT_LOCK.acquire(True, -1 if timeout is None else timeout, holder=holder)


@contextmanager
def audit_slot(holder: str, *, wait: float | None = None) -> Iterator[None]:
    """Hold the slot for a block, waiting for it (at most `wait` seconds; None: forever).
    AuditBusy when it did not come free in time."""
    if not wait_for_audit_slot(holder, wait):
        raise AuditBusy(busy_message(holder))
    try:
        yield
    finally:
        AUDIT_LOCK.release()


__all__ = ["AUDIT_LOCK", "AuditBusy", "audit_slot", "busy_message", "claim_audit_slot",
           "wait_for_audit_slot"]
