"""Fetching listing pages in a real browser: one Chromium, a pool of reused pages.

Opening a fresh page costs more than loading a listing into an open one, so the pool's pages
are reused from listing to listing (navigation resets them).

Only the browser sees prices that a store's JavaScript fills in after load, so this fetcher
waits until the price element (if the page has one) holds text before it hands the HTML on.
Images, fonts and media are not loaded: images are downloaded and hashed separately, once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from playwright.async_api import Browser, BrowserContext, Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from .browser import LAUNCH_ARGS, find_chromium

log = logging.getLogger(__name__)

BLOCKED_RESOURCES = {"image", "font", "media"}

# True once every element the selector matches has text, or when there is none to wait for.
_FILLED_JS = """(selector) => {
  const els = document.querySelectorAll(selector);
  return els.length === 0 || Array.from(els).every(e => e.textContent.trim().length > 0);
}"""


@dataclass
class FetchedPage:
    url: str
    final_url: str | None = None
    status: int | None = None
    html: str | None = None
    error: str | None = None


class BrowserFetcher:
    """Async context manager: `async with BrowserFetcher(...) as f: page = await f.fetch(url)`."""

    def __init__(
        self,
        concurrency: int = 4,
        timeout_s: float = 15.0,
        wait_for_filled: str | None = None,
        fill_timeout_s: float = 3.0,
        headless: bool = True,
    ):
        self.concurrency = max(1, concurrency)
        self.timeout_ms = int(timeout_s * 1000)
        self.wait_for_filled = wait_for_filled
        self.fill_timeout_ms = int(fill_timeout_s * 1000)
        self.headless = headless
        self._pw = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._pages: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self) -> "BrowserFetcher":
        self._pw = await async_playwright().start()
        try:
            self._browser = await self._pw.chromium.launch(
                executable_path=find_chromium(), args=LAUNCH_ARGS, headless=self.headless
            )
            self._context = await self._browser.new_context(
                locale="zh-CN", service_workers="block", java_script_enabled=True
            )
            await self._context.route("**/*", self._route)
            for _ in range(self.concurrency):
                self._pages.put_nowait(await self._context.new_page())
        except BaseException:
            await self._pw.stop()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            if self._browser:
                await self._browser.close()
        finally:
            if self._pw:
                await self._pw.stop()

    @staticmethod
    async def _route(route) -> None:
        if route.request.resource_type in BLOCKED_RESOURCES:
            await route.abort()
        else:
            await route.continue_()

    async def fetch(self, url: str) -> FetchedPage:
        assert self._context is not None, "use BrowserFetcher as an async context manager"
        page = await self._pages.get()
        try:
            return await self._load(page, url)
        finally:
            if page.is_closed():  # a crashed page is replaced, not returned to the pool
                page = await self._context.new_page()
            self._pages.put_nowait(page)

    async def _load(self, page, url: str) -> FetchedPage:
        try:
            response = await page.goto(url, wait_until="load", timeout=self.timeout_ms)
        except PlaywrightTimeout:
            return FetchedPage(url, error=f"timed out after {self.timeout_ms / 1000:g} s")
        except PlaywrightError as e:
            return FetchedPage(url, error=f"could not load page: {_first_line(e)}")
        status = response.status if response else None
        final_url = page.url
        if status is not None and status >= 400:
            return FetchedPage(url, final_url, status, error=f"HTTP {status}")
        if self.wait_for_filled:
            try:
                await page.wait_for_function(
                    _FILLED_JS, arg=self.wait_for_filled, timeout=self.fill_timeout_ms
                )
            except PlaywrightTimeout:
                # Not an error by itself: extraction will report the field as missing.
                log.debug("%s: %s still empty after %d ms", url, self.wait_for_filled,
                          self.fill_timeout_ms)
            except PlaywrightError as e:
                return FetchedPage(url, final_url, status, error=f"page broke: {_first_line(e)}")
        try:
            html = await page.content()
        except PlaywrightError as e:
            return FetchedPage(url, final_url, status, error=f"could not read page: {_first_line(e)}")
        return FetchedPage(url, final_url, status, html=html)


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
