"""Overload answered fast: under more load than the API can serve, a read is refused at once
with 503 and Retry-After instead of waiting in a queue that grows without limit (the
extension asks on every page view of every person; it backs off and shows its last answer).

Two signs of overload, both cheap to read: requests in hand past MAX_IN_FLIGHT, and the event
loop running late — a ticker that should wake every TICK wakes, on a moving average, LAG_LIMIT
late or more, so requests already wait that long before anything is done for them (a kept
answer is made at once, so a queue of them shows only as the loop's lateness). The average
lets one pause go (a garbage collection, a burst): only lateness that lasts refuses, and only
while requests keep coming (MIN_ARRIVALS a tick, on average): a loop late for another reason
(the machine busy with something else) with a request now and then is answered. Only reads under /api/ are
refused: a person's action (a POST) and the dashboard's pages are served however busy.
"""

from __future__ import annotations

import asyncio
import time

MAX_IN_FLIGHT = 64       # requests being answered at once (reads wait on threads past that)
TICK = 0.005             # s: how often the loop's lateness is sampled
LAG_LIMIT = 0.025        # s: the loop this late (moving average) means requests queue
SMOOTHING = 0.2          # the weight of each tick's lateness in the average
MIN_ARRIVALS = 4         # requests a tick (moving average) for lateness to mean a queue
RETRY_AFTER = "1"        # s
_BUSY = b'{"detail":"the server is busy: try again in a moment"}'


class ShedOverload:
    def __init__(self, app):
        self.app = app
        self.in_flight = 0
        self.lag = 0.0
        self.arrivals = 0          # requests since the last tick
        self.rate = 0.0            # requests a tick, moving average
        self.ticked = time.perf_counter()   # when the ticker last ran
        self._ticker: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        self.arrivals += 1
        if (scope["method"] in ("GET", "HEAD") and scope["path"].startswith("/api/")
                and (self.in_flight >= MAX_IN_FLIGHT or self._queueing())):
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"retry-after", RETRY_AFTER.encode()),
                                    (b"content-length", str(len(_BUSY)).encode())]})
            await send({"type": "http.response.body", "body": _BUSY})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _queueing(self) -> bool:
        """Requests are queueing: the loop late on average while they keep coming, or late
        now (the ticker kept from running) with many come since it last ran (a burst: every
        one of them was ready before the first was answered)."""
        stalled = time.perf_counter() - self.ticked - TICK
        return ((self.lag >= LAG_LIMIT and self.rate >= MIN_ARRIVALS)
                or (stalled >= LAG_LIMIT and self.arrivals >= MIN_ARRIVALS))

    async def _tick(self) -> None:
        """The loop's lateness, as a moving average."""
        while True:
            self.ticked = time.perf_counter()
            await asyncio.sleep(TICK)
            late = max(0.0, time.perf_counter() - self.ticked - TICK)
            self.lag += SMOOTHING * (late - self.lag)
            self.rate += SMOOTHING * (self.arrivals - self.rate)
            self.arrivals = 0


__all__ = ["LAG_LIMIT", "MAX_IN_FLIGHT", "MIN_ARRIVALS", "ShedOverload"]
