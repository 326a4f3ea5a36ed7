"""Fetching listing pages: plain HTTP first, a real browser when a page needs one.

Two fetchers behind one small interface (`Fetcher.fetch(url, state) -> FetchedPage`), as in
Crawlee's adaptive crawler; the crawl loop decides which one a page gets.

`HttpFetcher` asks for a page conditionally (ETag / Last-Modified from the last crawl), so an
unchanged page costs a 304 and no body. `BrowserFetcher` renders in one Chromium with a pool of
reused pages (opening a fresh page costs more than loading a listing into an open one). Only
the browser sees prices that a store's JavaScript fills in after load, so it waits until the
price element (if the page has one) holds text before it hands the HTML on. It loads nothing
extraction does not need: no images (downloaded and hashed separately, once), fonts, media,
stylesheets, nor anything from outside the store's origins. It notes the hash of every
script and data response the page used, so the next crawl can tell an unchanged rendered page.

Both go through the crawl's `Politeness`: per-origin slots and a request rate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

import httpx
from playwright.async_api import Browser, BrowserContext, Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from .browser import LAUNCH_ARGS, find_chromium
from .polite import Politeness, origin_of
from .snapshot import PageState

log = logging.getLogger(__name__)

BLOCKED_RESOURCES = {"image", "font", "media", "stylesheet", "manifest", "texttrack"}
# What a rendered page's values can depend on: noted (url -> sha256) for the next crawl.
TRACKED_RESOURCES = {"script", "xhr", "fetch"}
MAX_PAGE_BYTES = 10 * 1024 * 1024

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
    html: str | bytes | None = None
    error: str | None = None
    fetched_with: str = "browser"
    not_modified: bool = False  # 304: the page is as it was at `state`
    body_sha256: str | None = None  # of the HTML as served (not as rendered)
    etag: str | None = None
    last_modified: str | None = None
    resources: dict[str, str] = field(default_factory=dict)  # rendered pages: url -> sha256

    def state(self) -> PageState:
        return PageState(self.url, self.fetched_with, self.body_sha256, self.etag,
                         self.last_modified, dict(self.resources))


class Fetcher(Protocol):
    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage: ...


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def conditional_headers(state: PageState | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


class HttpFetcher:
    """Plain HTTP through the crawl's shared keep-alive client."""

    def __init__(self, client: httpx.AsyncClient, politeness: Politeness):
        self.client = client
        self.politeness = politeness
        self.downloads = 0  # page bodies received (a 304 is not one)

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        try:
            async with self.politeness.request(url):
                async with self.client.stream("GET", url, headers=conditional_headers(state)) as r:
                    if r.status_code == 304 or r.status_code >= 400:
                        # Read the (empty or small) rest: a response closed unread closes
                        # its keep-alive connection too.
                        await _read_capped(r)
                    if r.status_code == 304 and state is not None:
                        return FetchedPage(url, str(r.url), 304, fetched_with="http",
                                           not_modified=True, body_sha256=state.body_sha256,
                                           etag=r.headers.get("etag", state.etag),
                                           last_modified=r.headers.get("last-modified",
                                                                       state.last_modified))
                    if r.status_code >= 400:
                        return FetchedPage(url, str(r.url), r.status_code, fetched_with="http",
                                           error=f"HTTP {r.status_code}")
                    body = await _read_capped(r)
                    self.downloads += 1
                    charset = "charset=" in r.headers.get("content-type", "").lower()
                    html: str | bytes = body.decode(r.encoding or "utf-8", "replace") if charset else body
                    return FetchedPage(url, str(r.url), r.status_code, html, fetched_with="http",
                                       body_sha256=sha256(body), etag=r.headers.get("etag"),
                                       last_modified=r.headers.get("last-modified"))
        except httpx.TimeoutException:
            timeout = self.client.timeout.read
            return FetchedPage(url, fetched_with="http", error=f"timed out after {timeout:g} s")
        except (httpx.HTTPError, PageTooLarge) as e:
            return FetchedPage(url, fetched_with="http",
                               error=f"could not load page: {type(e).__name__}: {e}")

    async def resources_unchanged(self, resources: dict[str, str]) -> bool:
        """True when every script and data response a rendered page used is byte-identical."""
        for url, digest in resources.items():
            try:
                async with self.politeness.request(url):
                    r = await self.client.get(url)
            except httpx.HTTPError:
                return False
            if r.status_code >= 400 or sha256(r.content) != digest:
                return False
        return True


class PageTooLarge(ValueError):
    pass


async def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_PAGE_BYTES:
            raise PageTooLarge(f"over {MAX_PAGE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class BrowserFetcher:
    """Async context manager: `async with BrowserFetcher(...) as f: page = await f.fetch(url)`."""

    def __init__(
        self,
        concurrency: int = 4,
        timeout_s: float = 15.0,
        wait_for_filled: str | None = None,
        fill_timeout_s: float = 3.0,
        headless: bool = True,
        politeness: Politeness | None = None,
        origins: list[str] | None = None,
    ):
        self.concurrency = max(1, concurrency)
        self.timeout_ms = int(timeout_s * 1000)
        self.wait_for_filled = wait_for_filled
        self.fill_timeout_ms = int(fill_timeout_s * 1000)
        self.headless = headless
        self.politeness = politeness or Politeness(self.concurrency)
        # Requests to any other origin (analytics, ads, chat widgets) are not made. None: all.
        self.origins = {o.rstrip("/").lower() for o in origins} if origins else None
        self.renders = 0
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

    async def _route(self, route) -> None:
        request = route.request
        if request.resource_type in BLOCKED_RESOURCES or (
                self.origins is not None and origin_of(request.url) not in self.origins
                and not request.url.startswith(("data:", "blob:"))):
            await route.abort()
            return
        if not request.is_navigation_request():  # the navigation took its token already
            await self.politeness.token(request.url)
        await route.continue_()

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        assert self._context is not None, "use BrowserFetcher as an async context manager"
        async with self.politeness.request(url):
            page = await self._pages.get()
            try:
                self.renders += 1
                return await self._load(page, url)
            finally:
                if page.is_closed():  # a crashed page is replaced, not returned to the pool
                    page = await self._context.new_page()
                self._pages.put_nowait(page)

    async def _load(self, page, url: str) -> FetchedPage:
        bodies: dict[str, asyncio.Task] = {}

        def noted(response) -> None:
            if response.request.resource_type in TRACKED_RESOURCES and response.ok:
                bodies.setdefault(response.url, asyncio.ensure_future(response.body()))

        page.on("response", noted)
        try:
            return await self._render(page, url, bodies)
        finally:
            page.remove_listener("response", noted)
            for task in bodies.values():  # a body never read must not warn at exit
                if not task.done():
                    task.cancel()

    async def _render(self, page, url: str, bodies: dict[str, asyncio.Task]) -> FetchedPage:
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
        fetched = FetchedPage(url, final_url, status, html=html)
        if response is not None:
            headers = await response.all_headers()
            fetched.etag, fetched.last_modified = headers.get("etag"), headers.get("last-modified")
            try:
                fetched.body_sha256 = sha256(await response.body())
            except PlaywrightError:
                fetched.body_sha256 = None
        for resource_url, task in list(bodies.items()):
            try:
                fetched.resources[resource_url] = sha256(await task)
            except (PlaywrightError, asyncio.CancelledError):
                # A body we could not read: the next crawl cannot prove the page unchanged.
                fetched.body_sha256 = None
        return fetched


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
