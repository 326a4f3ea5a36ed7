"""Politeness: at most N requests in flight and at most R request starts per second, per origin.

Both fetching paths go through the same `Politeness`: plain HTTP page requests, image
downloads, browser navigations and the requests a rendered page makes by itself (its scripts
and data calls take a rate token; the navigation that caused them already holds a slot).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from .origins import origin_of


class _OriginLimit:
    def __init__(self, concurrency: int, per_second: float | None):
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next_start = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> None:
        """Wait until the next request start is allowed (starts are spaced 1/R s apart)."""
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


class Politeness:
    """Per-origin limits, created on first use of each origin."""

    def __init__(self, concurrency: int = 4, per_second: float | None = None):
        self.concurrency = concurrency
        self.per_second = per_second
        self._origins: dict[str, _OriginLimit] = {}

    def _limit(self, url: str) -> _OriginLimit:
        origin = origin_of(url)
        limit = self._origins.get(origin)
        if limit is None:
            limit = self._origins[origin] = _OriginLimit(self.concurrency, self.per_second)
        return limit

    @asynccontextmanager
    async def request(self, url: str):
        """Hold one of the origin's slots for a whole request (or a page's whole rendering)."""
        limit = self._limit(url)
        async with limit.slots:
            await limit.token()
            yield

    async def token(self, url: str) -> None:
        """Only the rate: for requests made inside a rendering that already holds a slot."""
        await self._limit(url).token()
