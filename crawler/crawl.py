"""The crawl loop: discover listing pages, fetch each (plain HTTP first, the browser when the
page needs it), extract, hash images.

Owns concurrency, retries and bookkeeping; fetching and parsing live in their own modules.
Returns plain snapshots; what they mean for the contract is the audits' business.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin

import httpx

from .discover import unique, urls_from_categories, urls_from_sitemap
from .extract import Selectors, extract_listing
from .adaptive import RenderingPredictor
from .fetch import BrowserFetcher, FetchedPage, Fetcher, HttpFetcher
from .images import ImageHasher
from .polite import Politeness, origin_of
from .snapshot import CrawlResult, ImageInfo, KnownPage, PageState, Snapshot

log = logging.getLogger(__name__)

USER_AGENT = "storeaudit/0.1 (merchant contract audit)"
# Without these a page tells us nothing we can audit: it is recorded as failed.
ESSENTIAL_FIELDS = ("title", "price")
RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass
class CrawlConfig:
    base_url: str
    origins: list[str] = field(default_factory=list)
    sitemap_url: str | None = "/sitemap.xml"
    urls: list[str] = field(default_factory=list)  # explicit listing pages: no discovery
    listing_pattern: str = r"/(p|product|products|item|items|dp)/"
    category_pattern: str = r"/(c|category|categories|collections)/"
    selectors: Selectors = field(default_factory=Selectors.defaults)
    default_currency: str | None = None
    concurrency: int = 4
    page_timeout_s: float = 15.0
    retries: int = 1
    retry_backoff_s: float = 0.5
    max_pages: int = 5000
    # "auto": plain HTTP first, the browser for pages that need it; "always": every page
    # rendered in the browser.
    render: str = "auto"
    max_requests_per_second: float | None = None  # per origin; None: only `concurrency`
    recheck_share: float = 0.02  # pages HTTP was enough for that are rendered too, to compare
    seed: int = 0


class CrawlProgress(Protocol):
    def discovered(self, total: int) -> None: ...
    def page_done(self, snapshot: Snapshot) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _http_client(timeout_s: float, concurrency: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )


async def discover(config: CrawlConfig, client: httpx.AsyncClient) -> list[str]:
    if config.urls:
        return unique(urljoin(config.base_url, u) for u in config.urls)[: config.max_pages]
    listing_re = re.compile(config.listing_pattern)
    found: list[str] = []
    if config.sitemap_url:
        found = await urls_from_sitemap(
            client, urljoin(config.base_url, config.sitemap_url), listing_re
        )
    if not found:
        found = await urls_from_categories(
            client, config.base_url, re.compile(config.category_pattern), config.selectors,
            config.origins or [config.base_url],
        )
    return unique(found)[: config.max_pages]


def snapshot_from_page(page: FetchedPage, config: CrawlConfig, fetched_at: str) -> Snapshot:
    """Turn a fetched page into a snapshot; anything short of the required fields is an error."""
    return _read_page(page, config, fetched_at)[0]


def _read_page(page: FetchedPage, config: CrawlConfig,
               fetched_at: str) -> tuple[Snapshot, list[str]]:
    """The snapshot, and the essential fields the page left to its JavaScript (missing or an
    empty placeholder): the reasons a plain-HTTP page must go to the browser."""
    base = dict(fetched_with=page.fetched_with, http_status=page.status, fetched_at=fetched_at)
    if page.error or page.html is None:
        return Snapshot(page.url, error=page.error or "empty response", **base), []
    data = extract_listing(page.html, page.final_url or page.url, config.selectors,
                           config.default_currency)
    missing = [f for f in ESSENTIAL_FIELDS if getattr(data, f) in (None, "")]
    script_filled = list(dict.fromkeys(missing + data.placeholders))
    if missing:
        # Keep the SKU so the failure is pinned to the right listing, nothing else.
        return Snapshot(page.url, sku=data.sku, error=f"missing {', '.join(missing)} on the page",
                        **base), script_filled
    snap = data.to_snapshot(page.url, source="+".join(sorted(set(data.sources.values()))) or None,
                            **base)
    return snap, script_filled


async def _fetch_with_retries(fetcher: Fetcher, url: str, config: CrawlConfig,
                              state: PageState | None = None) -> FetchedPage:
    attempt = 0
    while True:
        page = await fetcher.fetch(url, state)
        retryable = page.error and (page.status in RETRYABLE_STATUS or page.status is None)
        if not retryable or attempt >= config.retries:
            return page
        attempt += 1
        await asyncio.sleep(config.retry_backoff_s * 2 ** (attempt - 1))


class _LazyBrowser:
    """The browser, started on the first page that needs it: a crawl whose pages all read
    over plain HTTP never launches Chromium."""

    def __init__(self, config: CrawlConfig, politeness: Politeness):
        self._fetcher = BrowserFetcher(
            concurrency=config.concurrency, timeout_s=config.page_timeout_s,
            wait_for_filled=config.selectors.price, politeness=politeness,
            origins=config.origins or [origin_of(config.base_url)],
        )
        self._started = False
        self._lock = asyncio.Lock()

    @property
    def renders(self) -> int:
        return self._fetcher.renders

    async def fetch(self, url: str, state: PageState | None = None) -> FetchedPage:
        async with self._lock:
            if not self._started:
                await self._fetcher.__aenter__()
                self._started = True
        return await self._fetcher.fetch(url, state)

    async def close(self) -> None:
        if self._started:
            await self._fetcher.__aexit__(None, None, None)


class _PageReader:
    """One listing page, the adaptive way (see the module doc): returns the snapshot and the
    state to remember for the page."""

    def __init__(self, config: CrawlConfig, http: HttpFetcher, browser: _LazyBrowser,
                 predictor: RenderingPredictor, known: Mapping[str, KnownPage],
                 now: Callable[[], datetime]):
        self.config, self.http, self.browser = config, http, browser
        self.predictor, self.known, self.now = predictor, known, now
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
        state = known.state if known else None
        page = await _fetch_with_retries(self.http, url, self.config, state)
        if known is not None and _same_document(page, known.state):
            return self._unchanged(url, page, known, known.state)
        snap, script_filled = _read_page(page, self.config, self._at())
        if page.error:
            return snap, None  # the browser would get the same HTTP error or timeout
        if script_filled:
            self.predictor.learn(url, needed_browser=True)
            self.stats["http_then_browser"] += 1
            return await self._render(url)
        self.predictor.learn(url, needed_browser=False)
        if self.predictor.recheck():
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
            page = await _fetch_with_retries(self.http, url, self.config, state)
            if (_same_document(page, state)
                    and await self.http.resources_unchanged(state.resources)):
                return self._unchanged(url, page, known, state)
        return await self._render(url)

    async def _render(self, url: str) -> tuple[Snapshot, PageState | None]:
        page = await _fetch_with_retries(self.browser, url, self.config)
        self.stats["rendered"] += 1
        snap, _ = _read_page(page, self.config, self._at())
        return snap, page.state() if snap.ok else None

    def _unchanged(self, url: str, page: FetchedPage, known: KnownPage, state: PageState):
        self.stats["unchanged"] += 1
        snap = replace(known.snapshot, url=url, fetched_with="http", http_status=page.status,
                       fetched_at=self._at(), error=None, unchanged=True)
        return snap, replace(state, etag=page.etag or state.etag,
                             last_modified=page.last_modified or state.last_modified)

    def _at(self) -> str:
        return self.now().isoformat()


def _same_document(page: FetchedPage, state: PageState) -> bool:
    if page.error:
        return False
    return page.not_modified or (page.body_sha256 is not None
                                 and page.body_sha256 == state.body_sha256)


async def crawl(
    config: CrawlConfig,
    *,
    known_images: Mapping[str, ImageInfo] | None = None,
    known_pages: Mapping[str, KnownPage] | None = None,
    now: Callable[[], datetime] = _utcnow,
    progress: CrawlProgress | None = None,
) -> CrawlResult:
    """Crawl the store: every listing page HTTP first, in the browser when it needs one.

    `known_pages` (listing URL -> its state and last snapshot) and `known_images` come from
    the caller's records of earlier crawls: unchanged pages and images cost a conditional
    request each, and the snapshot of an unchanged page is the previous one, marked so."""
    started = now().isoformat()
    known_pages = dict(known_pages or {})
    politeness = Politeness(config.concurrency, config.max_requests_per_second)
    async with _http_client(config.page_timeout_s, config.concurrency) as client:
        listing_urls = await discover(config, client)
        if progress:
            progress.discovered(len(listing_urls))
        hasher = ImageHasher(client, dict(known_images or {}))
        images: dict[str, ImageInfo] = {}
        image_tasks: dict[str, asyncio.Task] = {}
        pages: dict[str, PageState] = {}
        http = HttpFetcher(client, politeness)
        browser = _LazyBrowser(config, politeness)
        predictor = RenderingPredictor((k.state for k in known_pages.values()),
                                       seed=config.seed, recheck_share=config.recheck_share)
        reader = _PageReader(config, http, browser, predictor, known_pages, now)

        async def hash_once(url: str) -> None:
            async with politeness.request(url):
                images[url] = await hasher.fetch(url)

        async def one(url: str) -> Snapshot:
            snap, state = await reader.read(url)
            if state is not None:
                pages[url] = state
            for image_url in snap.image_urls:
                if image_url not in image_tasks:
                    image_tasks[image_url] = asyncio.create_task(hash_once(image_url))
            await asyncio.gather(*(image_tasks[u] for u in snap.image_urls))
            if progress:
                progress.page_done(snap)
            return snap

        try:
            snapshots = list(await asyncio.gather(*(one(u) for u in listing_urls)))
        finally:
            await browser.close()
    stats = dict(reader.stats, page_downloads=http.downloads, renders=browser.renders,
                 image_downloads=hasher.downloads)
    log.info("crawl done: %d pages (%s)", len(snapshots),
             ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    return CrawlResult(
        snapshots=snapshots,
        images=images,
        listing_urls=listing_urls,
        started_at=started,
        finished_at=now().isoformat(),
        image_downloads=hasher.downloads,
        pages=pages,
        stats=stats,
    )


def crawl_sync(config: CrawlConfig, **kwargs) -> CrawlResult:
    """Run a crawl to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(crawl(config, **kwargs))
    # Called from inside a running event loop (a test runner's, a notebook's): give the crawl
    # a loop of its own on a worker thread rather than fail.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crawl") as pool:
        return pool.submit(asyncio.run, crawl(config, **kwargs)).result()
