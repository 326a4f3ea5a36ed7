"""A per-caller sliding-window limit, in memory: enough for one API process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[object, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, who: object) -> float | None:
        """None when allowed (and counted); else seconds until the next one is."""
        now = self.clock()
        with self._lock:
            hits = self._hits[who]
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return 60 - (now - hits[0])
            hits.append(now)
            return None
