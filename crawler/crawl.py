"""The crawl loop: discover listing pages, fetch each in the browser, extract, hash images.

Owns concurrency, retries and bookkeeping; fetching and parsing live in their own modules.
Returns plain snapshots; what they mean for the contract is the audits' business.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin

import httpx

from .discover import unique, urls_from_categories, urls_from_sitemap
from .extract import Selectors, extract_listing
from .fetch import BrowserFetcher, FetchedPage
from .images import ImageHasher
from .snapshot import CrawlResult, ImageInfo, Snapshot

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
    base = dict(fetched_with="browser", http_status=page.status, fetched_at=fetched_at)
    if page.error or page.html is None:
        return Snapshot(page.url, error=page.error or "empty response", **base)
    data = extract_listing(page.html, page.final_url or page.url, config.selectors,
                           config.default_currency)
    missing = [f for f in ESSENTIAL_FIELDS if getattr(data, f) in (None, "")]
    if missing:
        # Keep the SKU so the failure is pinned to the right listing, nothing else.
        return Snapshot(page.url, sku=data.sku, error=f"missing {', '.join(missing)} on the page",
                        **base)
    return data.to_snapshot(page.url, source="+".join(sorted(set(data.sources.values()))) or None,
                            **base)


async def _fetch_with_retries(fetcher: BrowserFetcher, url: str, config: CrawlConfig) -> FetchedPage:
    attempt = 0
    while True:
        page = await fetcher.fetch(url)
        retryable = page.error and (page.status in RETRYABLE_STATUS or page.status is None)
        if not retryable or attempt >= config.retries:
            return page
        attempt += 1
        await asyncio.sleep(config.retry_backoff_s * 2 ** (attempt - 1))


async def crawl(
    config: CrawlConfig,
    *,
    known_images: Mapping[str, ImageInfo] | None = None,
    now: Callable[[], datetime] = _utcnow,
    progress: CrawlProgress | None = None,
) -> CrawlResult:
    started = now().isoformat()
    async with _http_client(config.page_timeout_s, config.concurrency) as client:
        listing_urls = await discover(config, client)
        if progress:
            progress.discovered(len(listing_urls))
        hasher = ImageHasher(client, dict(known_images or {}))
        images: dict[str, ImageInfo] = {}
        image_tasks: dict[str, asyncio.Task] = {}
        image_slots = asyncio.Semaphore(config.concurrency * 2)

        async def hash_once(url: str) -> None:
            async with image_slots:
                images[url] = await hasher.fetch(url)

        async def one(url: str) -> Snapshot:
            page = await _fetch_with_retries(fetcher, url, config)
            snap = snapshot_from_page(page, config, now().isoformat())
            for image_url in snap.image_urls:
                if image_url not in image_tasks:
                    image_tasks[image_url] = asyncio.create_task(hash_once(image_url))
            await asyncio.gather(*(image_tasks[u] for u in snap.image_urls))
            if progress:
                progress.page_done(snap)
            return snap

        async with BrowserFetcher(
            concurrency=config.concurrency,
            timeout_s=config.page_timeout_s,
            wait_for_filled=config.selectors.price,
        ) as fetcher:
            snapshots = list(await asyncio.gather(*(one(u) for u in listing_urls)))
    log.info("crawl done: %d pages, %d image downloads", len(snapshots), hasher.downloads)
    return CrawlResult(
        snapshots=snapshots,
        images=images,
        listing_urls=listing_urls,
        started_at=started,
        finished_at=now().isoformat(),
        image_downloads=hasher.downloads,
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
