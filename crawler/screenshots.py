"""Screenshots of listing pages as the crawler's browser renders them: evidence that holds in
a dispute ("the page showed ¥199 at 14:05"), kept by the audits beside a finding.

A `PageShooter` is the crawl's browser fetcher (`crawler.browser_fetch`) with the pictures and
styles let through, so the page looks as a shopper sees it. Every request still goes through
its guard (the store's origins only, each redirect hop checked, no network of its own), under
the page timeout and the render's hard deadline; a picture or stylesheet over
MAX_RESOURCE_BYTES is not given to the page, and a screenshot is a JPEG of the first screen
(1280 × 720), retaken at a lower quality when it comes out over MAX_SHOT_BYTES.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError

from .browser_fetch import BrowserFetcher
from .config import CrawlConfig
from .origins import refusal
from .polite import Politeness
from .run_sync import run_sync

log = logging.getLogger(__name__)

QUALITIES = (55, 30)               # JPEG quality, then the retake's
MAX_SHOT_BYTES = 300 * 1024
MAX_RESOURCE_BYTES = 5 * 1024 * 1024
SHOWN_RESOURCES = {"image", "stylesheet", "font"}


@dataclass(frozen=True)
class Shot:
    url: str
    jpeg: bytes | None = None
    width: int | None = None
    height: int | None = None
    error: str | None = None


class PageShooter(BrowserFetcher):
    """`async with PageShooter(...) as s: shot = await s.shoot(url)`."""

    blocked_resources = frozenset({"media", "manifest", "texttrack"})
    loads_images = True

    async def _fetch_hops(self, route, request) -> dict | None:
        answer = await super()._fetch_hops(route, request)
        response = answer and answer.get("response")
        if response is not None and request.resource_type in SHOWN_RESOURCES:
            try:
                too_big = len(await response.body()) > MAX_RESOURCE_BYTES
            except PlaywrightError:
                too_big = True
            if too_big:
                await route.abort("blockedbyclient")
                return None
        return answer

    async def shoot(self, url: str) -> Shot:
        assert self.pool.started, "use PageShooter as an async context manager"
        problem = refusal(url, self.origins)
        if problem:
            return Shot(url, error=f"not fetched: {problem}")
        return await self.in_a_page(url, lambda page: self._shoot(page, url),
                                    lambda why: Shot(url, error=why))

    async def _shoot(self, page, url: str) -> Shot:
        response, failed = await self._navigate(page, url)
        if failed is not None:
            return Shot(url, error=failed.error)
        if response is not None and response.status >= 400:
            return Shot(url, error=f"HTTP {response.status}")
        left = self._navigations.pop(page, None)
        if left:
            return Shot(url, error=f"the page went to {left[1]}, not followed: {left[2]}")
        viewport = page.viewport_size or {"width": None, "height": None}
        jpeg = b""
        for quality in QUALITIES:
            try:
                jpeg = await page.screenshot(type="jpeg", quality=quality,
                                             timeout=self.timeout_ms, animations="disabled")
            except PlaywrightError as e:
                return Shot(url, error=f"no screenshot: {str(e).splitlines()[0]}")
            if len(jpeg) <= MAX_SHOT_BYTES:
                return Shot(url, jpeg, viewport["width"], viewport["height"])
        return Shot(url, error=f"the screenshot is {len(jpeg) // 1024} KB even at quality "
                               f"{QUALITIES[-1]}")


async def shoot_pages(config: CrawlConfig, urls: list[str]) -> dict[str, Shot]:
    """A screenshot of each page (one browser, the crawl's politeness and origins)."""
    if not urls:
        return {}
    politeness = Politeness(config.concurrency, config.max_requests_per_second)
    async with PageShooter(concurrency=min(config.concurrency, len(urls)),
                           timeout_s=config.page_timeout_s, politeness=politeness,
                           origins=config.allowed_origins()) as shooter:
        shots = await asyncio.gather(*(shooter.shoot(u) for u in urls))
    return {s.url: s for s in shots}


def shoot_pages_sync(config: CrawlConfig, urls: list[str]) -> dict[str, Shot]:
    """`shoot_pages` from synchronous code."""
    return run_sync(shoot_pages(config, urls))


__all__ = ["PageShooter", "Shot", "shoot_pages", "shoot_pages_sync"]
