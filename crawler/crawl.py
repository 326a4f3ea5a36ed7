"""The crawl loop: discover listing pages, fetch each (plain HTTP first, the browser when the
page needs it), extract, hash images.

Owns the crawl's one HTTP client, discovery, concurrency and bookkeeping; its settings are
`crawler.config`'s (`CrawlConfig`). Reading one page the adaptive way, with its retries, is
`crawler.page_reader`'s; fetching and parsing live in their own modules.
Returns plain snapshots; what they mean for the contract is the audits' business.

A page that cannot be read is a snapshot with an error, never one of empty values (see
`crawler.page_reader`). Nothing outside `CrawlConfig.origins` is ever fetched, on either path
(see `crawler.origins`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin

import httpx

from .adaptive import RenderingPredictor
from .config import CrawlConfig
from .discover import unique, urls_from_categories, urls_from_sitemap
from .fetch import HttpFetcher
from .guarded import crawl_client
from .hash_workers import HashWorkers, usable_cores
from .images import ImageHasher
from .page_reader import LazyBrowser, PageReader
from .polite import Politeness
from .snapshot import CrawlResult, ImageInfo, KnownPage, PageState, Snapshot

log = logging.getLogger(__name__)

PROCESS_HASHING_FROM = 100  # listings: below, starting worker processes costs more than it saves


class CrawlProgress(Protocol):
    def discovered(self, total: int) -> None: ...
    def page_done(self, snapshot: Snapshot) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


async def discover(config: CrawlConfig, client: httpx.AsyncClient) -> list[str]:
    if config.urls:
        return unique(urljoin(config.base_url, u) for u in config.urls)[: config.max_pages]
    listing_re = re.compile(config.listing_pattern)
    found: list[str] = []
    if config.sitemap_url:
        found = await urls_from_sitemap(
            client, urljoin(config.base_url, config.sitemap_url), listing_re,
            config.allowed_origins(),
        )
    if not found:
        found = await urls_from_categories(
            client, config.base_url, re.compile(config.category_pattern), config.selectors,
            config.allowed_origins(),
        )
    return unique(found)[: config.max_pages]


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
    async with crawl_client(config.allowed_origins(), timeout_s=config.page_timeout_s,
                            concurrency=config.concurrency) as client:
        listing_urls = await discover(config, client)
        if progress:
            progress.discovered(len(listing_urls))
        workers = _hash_workers(config, len(listing_urls))
        hasher = ImageHasher(client, dict(known_images or {}), politeness=politeness, now=now,
                             reuse_fresh_s=config.reuse_fresh_images_s,
                             hash_with=workers.hash if workers else None)
        images: dict[str, ImageInfo] = {}
        image_tasks: dict[str, asyncio.Task] = {}
        pages: dict[str, PageState] = {}
        http = HttpFetcher(client, politeness)
        browser = LazyBrowser(config, politeness, config.allowed_origins())
        predictor = RenderingPredictor((k.state for k in known_pages.values()),
                                       seed=config.seed, recheck_share=config.recheck_share)
        reader = PageReader(config, http, browser, predictor, known_pages, now)

        async def hash_once(url: str) -> None:
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
            if workers:
                await asyncio.to_thread(workers.close)
    stats = dict(reader.stats, page_downloads=http.downloads, renders=browser.renders,
                 image_downloads=hasher.downloads, images_fresh=hasher.reused_fresh)
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


def _hash_workers(config: CrawlConfig, listings: int) -> HashWorkers | None:
    processes = config.hash_processes
    if processes is None:
        spare = usable_cores() > 1 and listings >= PROCESS_HASHING_FROM
        processes = usable_cores() if spare else 0
    return HashWorkers(processes) if processes > 0 else None


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
