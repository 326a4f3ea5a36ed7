"""Running the crawler's async work to completion from synchronous code."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on a loop of its own. Called from inside a running event loop (a test
    runner's, a notebook's), it gets a loop on a worker thread rather than fail."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crawler") as pool:
        return pool.submit(asyncio.run, work).result()
