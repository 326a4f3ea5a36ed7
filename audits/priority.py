"""A whole-store audit yields the CPU to people: it runs at a lower priority (nice +10), so the
API and the dashboard on the same machine answer promptly while it crawls, and it takes the
CPU they leave (on an idle machine a lower priority costs nothing).

Linux sets priorities per thread: the audit's thread is lowered, and what it starts inherits
it (the browser, the image workers). Elsewhere the whole process is. A priority is only
lowered, never raised back: an unprivileged process may not, and the thread is the audit's.

What the audit starts must not raise itself back either. Chromium gives its browser and GPU
processes a higher priority (nice -8) wherever it is allowed to, which a process running as
root is: measured, the browser of an audit then took the CPU before the API's requests and
the audit's own other work. So the audit's thread also gives up, for what it starts, the
capability to raise a priority (CAP_SYS_NICE, dropped from the thread's bounding set where it
holds it): a program it starts may lower its priority further, never raise it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading

AUDIT_NICENESS = 10
_PR_CAPBSET_DROP = 24   # prctl(2)
_CAP_SYS_NICE = 23      # capability(7)


def yield_cpu(niceness: int = AUDIT_NICENESS) -> int | None:
    """Lower this thread's CPU priority by `niceness` (once: a thread already lowered stays
    as it is), and keep what it starts from raising theirs. The thread's niceness after, or
    None where it cannot be set."""
    if not hasattr(os, "setpriority"):
        return None
    linux = sys.platform.startswith("linux")
    who = threading.get_native_id() if linux else 0
    try:
        now = os.getpriority(os.PRIO_PROCESS, who)
        if now < niceness:
            os.setpriority(os.PRIO_PROCESS, who, min(19, now + niceness))
        lowered = os.getpriority(os.PRIO_PROCESS, who)
    except OSError:
        return None
    if linux:
        _children_may_not_raise_priority()
    return lowered


def _children_may_not_raise_priority() -> None:
    """Drop CAP_SYS_NICE from this thread's bounding set, so programs it starts from now on
    never hold it. Without the right to (not root), there is nothing to drop: an unprivileged
    program cannot raise its priority anyway."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_CAPBSET_DROP, _CAP_SYS_NICE, 0, 0, 0)
    except (OSError, AttributeError):
        pass


__all__ = ["AUDIT_NICENESS", "yield_cpu"]
