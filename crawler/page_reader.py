"""Reading one listing page the adaptive way, as in Crawlee's adaptive crawler: plain HTTP
first, the browser when the page needs it, and the snapshot made from what came back.

A page that needed the browser last time is unchanged only if its HTML and every script and
data response it used are byte-identical; else it is rendered again. A kind of page that
nearly always needs the browser (`crawler.adaptive`) goes straight to it. Any other page is
asked for over HTTP, conditionally: a 304 or the same bytes keep the previous snapshot, and a
page whose title or price is missing, or left for its JavaScript to fill, is rendered. Now and
then a page HTTP was enough for is rendered too, and the two compared.

A page that cannot be read is a snapshot with an error, never one of empty values:
timeouts, connection failures and HTTP 429/500/502/503/504 are retried with exponential
backoff (a Retry-After is honoured up to `max_retry_wait_s`); a page cut off part-way is
fetched once more; a login or verification wall, a redirect loop and a redirect off the
store's origins are recorded as what they are, without a retry.

The crawl loop (`crawler.crawl`) calls `PageReader.read` for each listing, with the crawl's
settings (`crawler.config.CrawlConfig`); fetching is `crawler.fetch`'s and
`crawler.browser_fetch`'s, parsing `crawler.extract`'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime

from .adaptive import RenderingPredictor
from .browser_fetch import BrowserFetcher
from .config import CrawlConfig
from .extract import extract_listing
from .extract.walls import wall_reason
from .fetch import FetchedPage, Fetcher, HttpFetcher
from .not_modified import NotModifiedCheck
from .polite import Politeness
from .snapshot import (ABSENT_STATUSES, DISCONTINUED, OUT_OF_STOCK, KnownPage, PageState,
                       Snapshot)

log = logging.getLogger(__name__)

# Without these a page tells us nothing we can audit: it is recorded as failed.
ESSENTIAL_FIELDS = ("title", "price")
# ... except that a listing the page says cannot be bought may show no price.
NOT_FOR_SALE = (OUT_OF_STOCK, DISCONTINUED)
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
CUT_OFF = "page cut off part-way: the HTML stops before </html> (a truncated response)"
WALL = "login or verification wall instead of the listing"
REDIRECTED_AWAY = "redirected to a page that shows no listing"


def snapshot_from_page(page: FetchedPage, config: CrawlConfig, fetched_at: str) -> Snapshot:
    """Turn a fetched page into a snapshot; anything short of the required fields is an error."""
    return _read_page(page, config, fetched_at)[0]


def _read_page(page: FetchedPage, config: CrawlConfig,
               fetched_at: str) -> tuple[Snapshot, list[str]]:
    """The snapshot, and the essential fields the page left to its JavaScript (missing or an
    empty placeholder): the reasons a plain-HTTP page must go to the browser."""
    base = dict(fetched_with=page.fetched_with, http_status=page.status, fetched_at=fetched_at)
    if page.error or page.html is None:
        return Snapshot(page.url, error=page.error or "empty response",
                        absent=page.status in ABSENT_STATUSES, **base), []
    if page.cut_off:
        # What a truncated page lacks (a badge, a stock line, an image) cannot be told from
        # what the listing dropped: none of its values are used.
        return Snapshot(page.url, error=CUT_OFF, **base), []
    data = extract_listing(page.html, page.final_url or page.url, config.selectors,
                           config.default_currency, rendered=page.fetched_with == "browser")
    missing = [f for f in ESSENTIAL_FIELDS if getattr(data, f) in (None, "")]
    if missing == ["price"] and data.availability in NOT_FOR_SALE and "price" not in data.placeholders:
        # A listing out of stock or discontinued often shows no price at all: that is what
        # the page says ("no price shown"), not a page we could not read.
        missing, data.price_note = [], data.price_note or "no price shown"
    script_filled = list(dict.fromkeys(missing + data.placeholders))
    wall = None
    if missing and not (data.placeholders or data.sku or data.sources.get("price")):
        wall = wall_reason(page.html)
    if wall:
        return Snapshot(page.url, error=f"{WALL}: {wall}", **base), []
    if missing and not data.sku and page.fetched_with == "browser" and _moved(page):
        # Sent elsewhere (the home page, a category) where even the rendered page shows no
        # listing: the store no longer has this one at this address. (Over plain HTTP the
        # page goes to the browser first: its script may fill it in.)
        return Snapshot(page.url, error=f"{REDIRECTED_AWAY}: {page.final_url}", absent=True,
                        **base), []
    if missing:
        # Keep the SKU so the failure is pinned to the right listing, nothing else.
        return Snapshot(page.url, sku=data.sku, error=f"missing {', '.join(missing)} on the page",
                        **base), script_filled
    snap = data.to_snapshot(page.url, source="+".join(sorted(set(data.sources.values()))) or None,
                            **base)
    return snap, script_filled


def _moved(page: FetchedPage) -> bool:
    return bool(page.final_url) and page.final_url.rstrip("/") != page.url.rstrip("/")


async def _fetch_with_retries(fetcher: Fetcher, url: str, config: CrawlConfig,
                              state: PageState | None = None) -> FetchedPage:
    """The page, tried again after a timeout, a dropped connection or a 429/5xx, up to
    `config.retries` more times; an error that persists says how many tries it had."""
    attempt = 0
    while True:
        page = await fetcher.fetch(url, state)
        if not _transient(page):
            return page
        if attempt >= config.retries:
            if attempt:
                page.error = f"{page.error} ({attempt + 1} tries)"
            return page
        attempt += 1
        await asyncio.sleep(retry_wait(page, attempt, config))


def _transient(page: FetchedPage) -> bool:
    return bool(page.error) and not page.permanent and (
        page.status in RETRYABLE_STATUS or page.status is None)


def retry_wait(page: FetchedPage, attempt: int, config: CrawlConfig) -> float:
    """Seconds before retry number `attempt` (1, 2 ...): the backoff doubling from
    `retry_backoff_s`, or longer if the store's Retry-After asks; never over
    `max_retry_wait_s`."""
    wait = config.retry_backoff_s * 2 ** (attempt - 1)
    if page.retry_after is not None:
        wait = max(wait, page.retry_after)
    return min(wait, config.max_retry_wait_s)


class LazyBrowser:
    """The browser, started on the first page that needs it: a crawl whose pages all read
    over plain HTTP never launches Chromium. `start_soon` launches it at once, beside the
    pages read over plain HTTP, when the crawl will almost surely need it."""

    def __init__(self, config: CrawlConfig, politeness: Politeness, origins: list[str]):
        self._fetcher = BrowserFetcher(
            concurrency=config.concurrency, timeout_s=config.page_timeout_s,
            wait_for_filled=config.selectors.price, politeness=politeness,
            origins=origins,
        )
        self._started = False
        self._lock = asyncio.Lock()
        self._launch: asyncio.Task | None = None

    @property
    def renders(self) -> int:
        return self._fetcher.renders

    @property
    def stuck(self) -> int:
        """Pages closed because their scripts froze them."""
        return self._fetcher.replaced_pages

    @property
    def launched(self) -> bool:
        return self._started

    def start_soon(self) -> None:
        """Launch in the background. A launch that fails is tried again by the first page
        that needs the browser, which then says why."""
        if self._launch is None:
            self._launch = asyncio.create_task(self._start())
            self._launch.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _start(self) -> None:
        async with self._lock:
            if not self._started:
                await self._fetcher.__aenter__()
                self._started = True

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        await self._start()
        return await self._fetcher.fetch(url, state)

    async def close(self) -> None:
        if self._launch is not None:
            # a launch still under way ends first: a browser cut off mid-launch could be left
            # running with nothing to close it
            await asyncio.wait([self._launch])
        if self._started:
            await self._fetcher.__aexit__(None, None, None)


class PageReader:
    """One listing page, the adaptive way (see the module doc): returns the snapshot and the
    state to remember for the page."""

    def __init__(self, config: CrawlConfig, http: HttpFetcher, browser: LazyBrowser,
                 predictor: RenderingPredictor, known: Mapping[str, KnownPage],
                 now: Callable[[], datetime], not_modified: NotModifiedCheck | None = None):
        self.config, self.http, self.browser = config, http, browser
        self.predictor, self.known, self.now = predictor, known, now
        self.not_modified = not_modified or NotModifiedCheck(0)
        # Pages whose 304 was checked and whose bytes had changed under it: compared with
        # what the 304 vouched for once the platform's values are in (crawler.crawl).
        self.checking: set[str] = set()
        self.stats: Counter[str] = Counter()

    async def read(self, url: str) -> tuple[Snapshot, PageState | None]:
        known = self.known.get(url)
        if self.config.render == "always":
            return await self._render(url)
        if known is not None and known.state.fetched_with == "browser":
            return await self._rendered_before(url, known)
        if self.predictor.browser_first(url):
            self.stats["browser_first"] += 1
            return await self._render(url)
        return await self._http_first(url, known)

    async def _http_first(self, url: str, known: KnownPage | None):
        state = self.not_modified.validators(known.state if known else None)
        for last_try in self._cut_off_tries():
            page = await _fetch_with_retries(self.http, url, self.config, state)
            if known is not None and _same_document(page, known.state):
                if not self._check_drawn(page):
                    return self._unchanged(url, page, known, known.state)
                page = await _fetch_with_retries(self.http, url, self.config)   # whole
                if _same_bytes(page, known.state):   # the 304 was true
                    return self._unchanged(url, page, known, known.state)
                self.checking.add(url)
            snap, script_filled = _read_page(page, self.config, self._at())
            if last_try or not page.cut_off:
                break
        if snap.error and not script_filled:
            # An HTTP error, a timeout, a wall, a page cut off: the browser would get the same.
            return snap, None
        if script_filled:
            self.predictor.learn(url, needed_browser=True)
            self.stats["http_then_browser"] += 1
            return await self._render(url)
        self.predictor.learn(url, needed_browser=False)
        # (a page checked for a false 304 is compared with its last HTTP read, not rendered)
        if url not in self.checking and self.predictor.recheck():
            self.stats["rechecked"] += 1
            rendered, rendered_state = await self._render(url)
            if rendered.ok and rendered.content_hash() != snap.content_hash():
                log.warning("%s: plain HTTP and the browser disagree; its page type goes to "
                            "the browser from now on", url)
                self.stats["recheck_mismatch"] += 1
                self.predictor.mismatch(url)
                return rendered, rendered_state
        self.stats["http"] += 1
        return snap, page.state() if snap.ok else None

    async def _rendered_before(self, url: str, known: KnownPage):
        """A page that needed the browser last time: unchanged only if its HTML and every
        script and data response it used are byte-identical; else render it again."""
        state = known.state
        if state.body_sha256 and not self.predictor.recheck():
            page = await _fetch_with_retries(self.http, url, self.config,
                                             self.not_modified.validators(state))
            if page.error:  # retried already; the browser would get the same
                return _read_page(page, self.config, self._at())[0], None
            if _same_document(page, state) and self._check_drawn(page):
                page = await _fetch_with_retries(self.http, url, self.config)   # whole
                if page.error:
                    return _read_page(page, self.config, self._at())[0], None
                if not _same_bytes(page, state):   # changed under a 304: rendered, compared
                    self.checking.add(url)
                    return await self._render(url)
            if (_same_document(page, state)
                    and await self.http.resources_unchanged(state.resources)):
                return self._unchanged(url, page, known, state)
        return await self._render(url)

    def _check_drawn(self, page: FetchedPage) -> bool:
        """Whether this answer is a 304 drawn to be checked (crawler.not_modified): the page
        is then asked for whole, and compared with the last read only if its bytes differ
        (a rendered page may read differently twice, and a true 304 has the same bytes)."""
        if not (page.not_modified and self.not_modified.draw()):
            return False
        self.stats["not_modified_checked"] += 1
        return True

    async def _render(self, url: str) -> tuple[Snapshot, PageState | None]:
        for last_try in self._cut_off_tries():
            page = await _fetch_with_retries(self.browser, url, self.config)
            self.stats["rendered"] += 1
            snap, _ = _read_page(page, self.config, self._at())
            if last_try or not page.cut_off:
                break
        return snap, page.state() if snap.ok else None

    def _cut_off_tries(self) -> Iterator[bool]:
        """A page cut off part-way is often a passing fault: it gets one more try (when
        the crawl retries at all). Yields True for the last try."""
        yield self.config.retries == 0
        if self.config.retries:
            self.stats["cut_off_retried"] += 1
            yield True

    def _unchanged(self, url: str, page: FetchedPage, known: KnownPage, state: PageState):
        self.stats["unchanged"] += 1
        snap = replace(known.snapshot, url=url, fetched_with="http", http_status=page.status,
                       fetched_at=self._at(), error=None, unchanged=True)
        return snap, replace(state, etag=page.etag or state.etag,
                             last_modified=page.last_modified or state.last_modified)

    def _at(self) -> str:
        return self.now().isoformat()


def _same_bytes(page: FetchedPage, state: PageState) -> bool:
    return page.body_sha256 is not None and page.body_sha256 == state.body_sha256


def _same_document(page: FetchedPage, state: PageState) -> bool:
    if page.error:
        return False
    return page.not_modified or _same_bytes(page, state)
