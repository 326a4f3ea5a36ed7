"""The browser fetcher: listing pages rendered in a real Chromium, for the pages whose values a
store's JavaScript fills in after load (the interface and `FetchedPage` are `crawler.fetch`'s).

`BrowserFetcher` renders in one Chromium with a pool of reused pages (opening a fresh page
costs more than loading a listing into an open one). Only the browser sees prices that a
store's JavaScript fills in after load, so it waits until the price element (if the page has
one) holds text before it hands the HTML on. It loads nothing extraction does not need: no
images (downloaded and hashed separately, once), fonts, media, stylesheets, nor anything from
outside the store's origins. It notes the hash of every script and data response the page
used, so the next crawl can tell an unchanged rendered page.

It goes through the crawl's `Politeness`, as the plain-HTTP fetcher does.

No page holds the crawl: a render has a hard deadline (`hard_deadline_s`: the navigation's
timeout, the wait for the price, the read, and a grace), and a page whose scripts keep it
busy past it (a `while(true){}` after load freezes everything that runs in its world,
Playwright's own reads included) is closed and replaced in the pool (`crawler.browser_pool`);
if even closing it does not come back, the whole browser is replaced. The page is recorded
as not read, with why.

It fetches nothing outside the store's origins. Every request goes through
`BrowserFetcher._route`, which checks it (`crawler.origins.refusal`) and makes it itself, one
redirect hop at a time (Chromium never shows a route handler the hops of a redirect);
Chromium has no network of its own (`crawler.browser_pool`: its proxy is an address that
refuses every connection, and WebRTC may not go around it), so nothing it might try by
itself, such as preconnecting to where a script navigates or a STUN request, reaches anyone.
No WebSocket is opened.
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .browser_pool import PagePool
from .fetch import (MAX_REDIRECTS, TOO_MANY_REDIRECTS, FetchedPage, looks_cut_off,
                    parse_retry_after, sha256)
from .origins import normal_origins, refusal
from .page_scripts import READ_WHEN_FILLED_JS
from .polite import Politeness
from .snapshot import PageState

log = logging.getLogger(__name__)

BLOCKED_RESOURCES = {"image", "font", "media", "stylesheet", "manifest", "texttrack"}
# What a rendered page's values can depend on: noted (url -> sha256) for the next crawl.
TRACKED_RESOURCES = {"script", "xhr", "fetch"}
REDIRECT_STATUS = {301, 302, 303, 307, 308}
_REDIRECT_STUB = "<!DOCTYPE html><html><head><title></title></head><body></body></html>"

# How long past the fill timeout a read in the page's world may take before it is given up.
READ_GRACE_S = 2.0
STUCK = "the page's scripts kept it busy: not read within {s:g} s (the page was closed)"


class PageStuck(Exception):
    """A page gave nothing back in time, not even to Playwright's own world."""


class BrowserFetcher:
    """Async context manager: `async with BrowserFetcher(...) as f: page = await f.fetch(url)`."""

    # What the page is not given (a subclass that shows the page, crawler.screenshots, needs
    # its pictures and styles).
    blocked_resources = frozenset(BLOCKED_RESOURCES)
    loads_images = False

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
        # Requests to any other origin (analytics, ads, chat widgets) are not made, and a
        # navigation there (a redirect, a script's location change) is refused. None: all.
        self.origins = normal_origins(origins) if origins else None
        self.renders = 0
        # The most a render may take, all included: a store's page cannot hold it longer.
        self.hard_deadline_s = timeout_s + fill_timeout_s + 2 * READ_GRACE_S
        # page -> ("redirect" | "refused", address, why) of its navigation, for `_render`
        self._navigations: dict[object, tuple[str, str, str | None]] = {}
        self.pool = PagePool(self.concurrency, self._prepare, headless=headless,
                             images=self.loads_images)

    @property
    def replaced_pages(self) -> int:
        """Pages closed because their scripts froze them."""
        return self.pool.replaced_pages

    async def __aenter__(self) -> "BrowserFetcher":
        await self.pool.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.pool.stop()

    async def _prepare(self, context) -> None:
        """Every request of the browser's pages through `_route`."""
        await context.route("**/*", self._route)
        # WebSockets bypass `_route`: none is opened (a listing's values do not come
        # over one, and Chromium has no network of its own to open it on).
        await context.route_web_socket(re.compile(".*"), _refuse_socket)

    async def _route(self, route) -> None:
        """Every request the browser makes comes here first. Chromium never shows a route
        handler the hops of a redirect, so requests are made here (`route.fetch`) without
        following redirects, and each hop is checked against the store's origins: a hop of
        the page itself is handed back to `_render` (which navigates to it, or refuses), any
        other hop is followed here or refused."""
        request = route.request
        navigation = request.is_navigation_request()
        try:
            if not navigation and request.url.startswith(("data:", "blob:")):
                await route.continue_()  # in-page data, nothing goes out
                return
            problem = refusal(request.url, self.origins)
            if problem or (not navigation and request.resource_type in self.blocked_resources):
                if problem and navigation:
                    self._note(request, "refused", request.url, problem)
                await route.abort("blockedbyclient")
                return
            if not navigation:  # the navigation took its token already
                await self.politeness.token(request.url)
            answer = await self._fetch_hops(route, request)
            if answer is not None:
                try:
                    await route.fulfill(**answer)
                finally:
                    if "response" in answer:
                        await _dispose(answer["response"])
        except PlaywrightError as e:
            # The page moved on (a timeout, another navigation) while this request was out.
            log.debug("%s: request dropped: %s", request.url, _first_line(e))
            try:
                await route.abort()
            except PlaywrightError:
                pass

    async def _fetch_hops(self, route, request) -> dict | None:
        """What to fulfill the request with (fulfill's keyword arguments), its redirects
        checked hop by hop; None when it was aborted."""
        url = request.url
        for hop in range(MAX_REDIRECTS + 1):
            response = await route.fetch(url=url, max_redirects=0, timeout=self.timeout_ms)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUS or not location:
                return {"response": response}
            await _dispose(response)  # a hop's own body is never used
            target = urljoin(url, location)
            if self._note(request, "redirect", target):
                # The page's own redirect: `_navigate` decides whether to go on. Meanwhile
                # the page gets an empty document (an abort would leave an error page
                # committing late, over the next URL loaded into this page).
                return {"status": 200, "content_type": "text/html", "body": _REDIRECT_STUB}
            if refusal(target, self.origins) or hop == MAX_REDIRECTS:
                log.info("%s: redirect to %s not followed", request.url, target[:200])
                await route.abort("blockedbyclient")
                return None
            await self.politeness.token(target)
            url = target
        return None

    def _note(self, request, kind: str, target: str, problem: str | None = None) -> bool:
        """Note, for `_render`, a redirect or refused navigation of a page itself (not an
        iframe's, a script's or a data request's); False when it is not one."""
        if not request.is_navigation_request():
            return False
        try:
            frame = request.frame
            if frame.parent_frame is not None:
                return False
            self._navigations[frame.page] = (kind, target, problem)
        except PlaywrightError:
            return False
        return True

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        assert self.pool.started, "use BrowserFetcher as an async context manager"
        problem = refusal(url, self.origins)
        if problem:
            return FetchedPage(url, error=f"not fetched: {problem}", permanent=True)
        self.renders += 1
        return await self.in_a_page(url, lambda page: self._load(page, url),
                                    lambda why: FetchedPage(url, error=why, permanent=True))

    async def in_a_page(self, url: str, work, stuck):
        """`await work(page)` in one of the pool's pages, under the origin's politeness and
        the render's hard deadline; `stuck(why)` when the page's scripts froze it (the page
        is then replaced in the pool)."""
        async with self.politeness.request(url):
            generation, page = await self.pool.take()
            frozen = False
            try:
                async with asyncio.timeout(self.hard_deadline_s):
                    return await work(page)
            except (TimeoutError, PageStuck):
                frozen = True
                log.warning("%s: %s", url, STUCK.format(s=self.hard_deadline_s))
                return stuck(STUCK.format(s=self.hard_deadline_s))
            finally:
                await self.pool.give_back(generation, page, frozen)

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

    async def _navigate(self, page, url: str) -> tuple[object, FetchedPage | None]:
        """page.goto, following the page's redirects (each hop checked in `_route`):
        (the response, None) or (None, the failed page)."""
        target = url
        for _ in range(MAX_REDIRECTS + 1):
            self._navigations.pop(page, None)
            try:
                response = await page.goto(target, wait_until="load", timeout=self.timeout_ms)
            except PlaywrightTimeout:
                return None, FetchedPage(url, error=f"timed out after {self.timeout_ms / 1000:g} s")
            except PlaywrightError as e:
                kind, target, problem = self._navigations.pop(page, (None, target, None))
                if kind == "refused":
                    return None, FetchedPage(url, error=f"redirected to {target}, not followed: "
                                                        f"{problem}", permanent=True)
                return None, FetchedPage(url, error=f"could not load page: {_first_line(e)}")
            kind, next_target, _ = self._navigations.get(page, (None, None, None))
            if kind != "redirect":
                return response, None  # a refused navigation stays noted, for `_render`
            del self._navigations[page]
            problem = refusal(next_target, self.origins)
            if problem:
                return None, FetchedPage(url, error=f"redirected to {next_target}, not followed: "
                                                    f"{problem}", permanent=True)
            target = next_target
        return None, FetchedPage(url, error=TOO_MANY_REDIRECTS.format(n=MAX_REDIRECTS),
                                 permanent=True)

    async def _render(self, page, url: str, bodies: dict[str, asyncio.Task]) -> FetchedPage:
        response, failed = await self._navigate(page, url)
        if failed is not None:
            return failed
        status = response.status if response else None
        final_url = page.url
        if status is not None and status >= 400:
            return FetchedPage(url, final_url, status, error=f"HTTP {status}",
                               retry_after=parse_retry_after(response.headers.get("retry-after")))
        try:
            html = await self._read_when_filled(page, url)
        except PlaywrightError as e:
            html = None
            failed = f"could not read page: {_first_line(e)}"
        left = self._navigations.pop(page, None)
        if left:  # a script or a meta refresh tried to leave the store: refused
            return FetchedPage(url, final_url, status, permanent=True,
                               error=f"the page went to {left[1]}, not followed: {left[2]}")
        if html is None:
            return FetchedPage(url, final_url, status, error=failed)
        fetched = FetchedPage(url, final_url, status, html=html)
        if response is not None:
            headers = await response.all_headers()
            fetched.etag, fetched.last_modified = headers.get("etag"), headers.get("last-modified")
            try:
                body = await response.body()
            except PlaywrightError:
                fetched.body_sha256 = None
            else:
                fetched.body_sha256 = sha256(body)
                fetched.cut_off = looks_cut_off(body, headers.get("content-type"))
        for resource_url, task in list(bodies.items()):
            try:
                fetched.resources[resource_url] = sha256(await task)
            except (PlaywrightError, asyncio.CancelledError):
                # A body we could not read: the next crawl cannot prove the page unchanged.
                fetched.body_sha256 = None
        return fetched

    async def _read_when_filled(self, page, url: str) -> str:
        """The page's HTML, once the price element (if any) holds text or the fill timeout
        has passed (then extraction reports the field as missing)."""
        try:
            html = await asyncio.wait_for(
                page.evaluate(READ_WHEN_FILLED_JS,
                              [self.wait_for_filled or "", self.fill_timeout_ms]),
                self.fill_timeout_ms / 1000 + READ_GRACE_S)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            failed = _first_line(e)
        else:
            if isinstance(html, str):
                return html
            failed = f"it gave {type(html).__name__}, not text"
        # The page's own world would not give its HTML (a script replaced what the read
        # uses, or navigated away): Playwright's isolated world still can, unless the page's
        # scripts keep its main thread busy, which freezes every world.
        log.debug("%s: read in the page's world failed (%s)", url, failed)
        try:
            return await asyncio.wait_for(page.content(), READ_GRACE_S)
        except asyncio.TimeoutError:
            raise PageStuck(url) from None


async def _refuse_socket(ws) -> None:
    log.info("WebSocket to %s not opened", ws.url[:200])
    await ws.close(code=1008, reason="storeaudit opens no WebSockets")


async def _dispose(response) -> None:
    """Let the browser's driver drop a fetched body once the page has it: a body fetched for
    a route stays in the driver's memory until disposed or the context closes, and one
    context serves the whole crawl (measured: the driver grew past 230 MB a third of the way
    through a 20,000-listing crawl)."""
    try:
        await response.dispose()
    except PlaywrightError:
        pass  # the context is closing: it drops the body itself


def _first_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
