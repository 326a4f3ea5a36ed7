"""Running a coroutine to completion from a test."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run(coro):
    """asyncio.run, in a thread of its own: once a Playwright test has run in this session, its
    event loop is marked running in the main thread, and asyncio.run refuses to start there."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
