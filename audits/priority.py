"""A whole-store audit yields the CPU to people: it runs at a lower priority (nice +10), so the
API and the dashboard on the same machine answer promptly while it crawls, and it takes the
CPU they leave (on an idle machine a lower priority costs nothing).

Linux sets priorities per thread: the audit's thread is lowered, and what it starts inherits
it (the browser, the image workers). Elsewhere the whole process is. A priority is only
lowered, never raised back: an unprivileged process may not, and the thread is the audit's.
"""

from __future__ import annotations

import os
import sys
import threading

AUDIT_NICENESS = 10


def yield_cpu(niceness: int = AUDIT_NICENESS) -> int | None:
    """Lower this thread's CPU priority by `niceness` (once: a thread already lowered stays
    as it is). The thread's niceness after, or None where it cannot be set."""
    if not hasattr(os, "setpriority"):
        return None
    who = threading.get_native_id() if sys.platform.startswith("linux") else 0
    try:
        now = os.getpriority(os.PRIO_PROCESS, who)
        if now < niceness:
            os.setpriority(os.PRIO_PROCESS, who, min(19, now + niceness))
        return os.getpriority(os.PRIO_PROCESS, who)
    except OSError:
        return None


__all__ = ["AUDIT_NICENESS", "yield_cpu"]
