"""One Chromium with a pool of reused pages, for `crawler.browser_fetch`: a page a store's
scripts froze is closed and replaced, and a browser that will not even close that page is
replaced whole.

Chromium itself reaches no network: its proxy is a loopback address that refuses every
connection (bound, never listening), so what it would send on its own (a preconnect to where
a script navigates, an iframe's origin) reaches no one, and WebRTC may not send UDP outside
that proxy. Every request a page makes goes through the `prepare`d context's route handler
instead (the fetcher's). Each page says it is a desktop Chromium (`crawler.identity`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from playwright.async_api import Browser, BrowserContext, Error as PlaywrightError
from playwright.async_api import async_playwright

from .browser import LAUNCH_ARGS, find_chromium
from .identity import NOT_AUTOMATED_ARGS, present_as_desktop

log = logging.getLogger(__name__)

# How long closing a stuck page or browser may take before the next step is taken.
CLOSE_WAIT_S = 5.0
# Renders a page serves before a fresh one takes its place: a page navigated again and again
# keeps growing (its renderer process, and what Playwright's driver keeps of it: ~120 MB
# each after ~45 pages, 8 of them at once), so a big store's memory would grow with it.
PAGE_USES = 20


def no_network_args(sink_port: int, images: bool = False) -> list[str]:
    """Chromium's flags for a browser whose only way out is the route handler (`images`: it
    loads pictures, for a screenshot; else it does not ask for them at all)."""
    return [f"--proxy-server=http://127.0.0.1:{sink_port}",
            "--proxy-bypass-list=<-loopback>",
            *([] if images else ["--blink-settings=imagesEnabled=false"]),
            # WebRTC does not go through a proxy: without this a page's RTCPeerConnection
            # sends STUN over UDP to any address it names.
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]


class PagePool:
    """`await start()`, then `take()` a page and `give_back()` it; `stop()` at the end.

    `prepare(context)` sets up each new browser context (its routes) before pages open."""

    def __init__(self, size: int, prepare: Callable[[BrowserContext], Awaitable[None]],
                 headless: bool = True, images: bool = False):
        self.size = max(1, size)
        self.images = images  # its pages load pictures (a screenshot's), else never ask
        self.prepare = prepare
        self.headless = headless
        self.replaced_pages = 0     # pages closed because their scripts froze them
        self.replaced_browsers = 0  # browsers replaced because closing a page hung
        self._generation = 0  # of the browser: pages of a replaced one are not reused
        self._pw = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._pages: asyncio.Queue = asyncio.Queue()
        self._uses: dict[object, int] = {}   # page -> renders it served
        self._replacing = asyncio.Lock()
        self._sink: socket.socket | None = None

    @property
    def started(self) -> bool:
        return self._context is not None

    async def start(self) -> None:
        self._sink = socket.socket()
        self._sink.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        try:
            await self._launch()
        except BaseException:
            await self._close_browser()
            self._sink.close()
            raise

    async def stop(self) -> None:
        try:
            await self._close_browser()
        finally:
            if self._sink:
                self._sink.close()

    async def take(self) -> tuple[int, object]:
        """A free page, and the browser generation it belongs to (for `give_back`)."""
        generation, page = await self._pages.get()
        while generation != self._generation:  # a page of a browser replaced since
            generation, page = await self._pages.get()
        return generation, page

    async def give_back(self, generation: int, page, stuck: bool = False) -> None:
        """Return a page to the pool: a stuck one closed and a new one in its place (the
        browser replaced if even closing it hangs), a crashed one replaced, one of a
        replaced browser dropped, one that served PAGE_USES renders closed and replaced."""
        uses = self._uses.pop(page, 0) + 1
        if stuck or uses >= PAGE_USES:
            self.replaced_pages += stuck
            try:
                await asyncio.wait_for(page.close(run_before_unload=False), CLOSE_WAIT_S)
            except (asyncio.TimeoutError, PlaywrightError):
                await self._replace_browser(generation)
        if generation != self._generation:
            return  # its browser was replaced, with a full pool of new pages
        if page.is_closed():
            page = await self._new_page()
        else:
            self._uses[page] = uses
        self._pages.put_nowait((generation, page))

    async def _launch(self) -> None:
        """Playwright, one Chromium, its context and the pool's pages."""
        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(
            executable_path=find_chromium(prefer_headless_shell=self.headless),
            args=LAUNCH_ARGS + NOT_AUTOMATED_ARGS + no_network_args(self._sink.getsockname()[1],
                                                                    self.images),
            headless=self.headless,
        )
        self._context = await self._browser.new_context(
            locale="zh-CN", service_workers="block", java_script_enabled=True
        )
        await self.prepare(self._context)
        for _ in range(self.size):
            self._pages.put_nowait((self._generation, await self._new_page()))

    async def _new_page(self):
        page = await self._context.new_page()
        await present_as_desktop(page, self._browser.version)
        return page

    async def _close_browser(self) -> None:
        """Close the browser, and if that does not come back in time, stop Playwright (its
        driver takes the browser's processes with it)."""
        try:
            if self._browser:
                await asyncio.wait_for(self._browser.close(), CLOSE_WAIT_S)
        except (asyncio.TimeoutError, PlaywrightError) as e:
            log.warning("the browser did not close (%s): stopping it",
                        str(e).splitlines()[0] if str(e) else "timeout")
        finally:
            if self._pw:
                try:
                    await asyncio.wait_for(self._pw.stop(), CLOSE_WAIT_S)
                except (asyncio.TimeoutError, PlaywrightError):
                    log.warning("Playwright did not stop in time")
            self._browser = self._context = self._pw = None
            self._uses = {}

    async def _replace_browser(self, generation: int) -> None:
        """A page would not even close: the browser goes and a new one comes (once, however
        many renders found it stuck)."""
        async with self._replacing:
            if generation != self._generation:
                return  # replaced already
            self._generation += 1
            self.replaced_browsers += 1
            log.warning("the browser was stuck: replacing it")
            await self._close_browser()
            await self._launch()
