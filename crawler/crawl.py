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
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Protocol
from urllib.parse import urljoin

import httpx

from .adaptive import RenderingPredictor
from .config import CrawlConfig
from .discover import Discovery, unique, urls_from_categories, urls_from_sitemap
from .fetch import HttpFetcher
from .guarded import crawl_client
from .hash_workers import HashWorkers, usable_cores
from .images import ImageHasher
from .not_modified import NotModifiedCheck, check_share
from .page_reader import LazyBrowser, PageReader
from .polite import Politeness
from .presets import Preset, preset_for
from .run_sync import run_sync
from .same_photo import one_per_photo
from .shared_images import find_shared, leave_out
from .snapshot import (CrawlResult, ImageInfo, KnownPage, PageState, Snapshot,
                       values_changed)

log = logging.getLogger(__name__)

PROCESS_HASHING_FROM = 100  # listings: below, starting worker processes costs more than it saves


class CrawlProgress(Protocol):
    def discovered(self, total: int) -> None: ...
    def page_done(self, snapshot: Snapshot) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class CrawlFailed(RuntimeError):
    """The crawl could not see the store at all; the message says why."""


# A page the crawl's deadline overtook: recorded as not read, never as empty values.
NOT_READ = "not read: the crawl's deadline ({s:g} s) passed before this page was read"


async def discover(config: CrawlConfig, client: httpx.AsyncClient,
                   preset: Preset | None = None) -> Discovery:
    if config.urls:
        urls = unique(urljoin(config.base_url, u) for u in config.urls)[: config.max_pages]
        return Discovery(urls)
    listing_re = re.compile(config.listing_pattern)
    found = Discovery()
    urls: list[str] = []
    if preset is not None:  # the platform's catalogue first; the sitemap if it says nothing
        urls = await preset.listing_urls(client, config.base_url.rstrip("/"), config.max_pages,
                                         config.page_timeout_s, found)
    if not urls and config.sitemap_url:
        urls = await urls_from_sitemap(
            client, urljoin(config.base_url, config.sitemap_url), listing_re,
            config.allowed_origins(), deadline_s=config.page_timeout_s, found=found,
        )
    if not urls:
        urls = await urls_from_categories(
            client, config.base_url, re.compile(config.category_pattern), config.selectors,
            config.allowed_origins(), deadline_s=config.page_timeout_s, found=found,
        )
    urls = unique(urls)
    found.urls = urls[: config.max_pages]
    found.over_max_pages = max(0, len(urls) - config.max_pages)
    if found.over_max_pages:
        log.warning("the store lists %d listing pages; a crawl reads at most %d "
                    "([crawl] max_pages): %d are not read", len(urls), config.max_pages,
                    found.over_max_pages)
    return found


async def crawl(
    config: CrawlConfig,
    *,
    known_images: Mapping[str, ImageInfo] | None = None,
    known_pages: Mapping[str, KnownPage] | None = None,
    known_urls: Iterable[str] = (),
    known_shared: Iterable[str] = (),
    now: Callable[[], datetime] = _utcnow,
    progress: CrawlProgress | None = None,
    whole_store: bool | None = None,
) -> CrawlResult:
    """Crawl the store: every listing page HTTP first, in the browser when it needs one.

    `known_pages` (listing URL -> its state and last snapshot) and `known_images` come from
    the caller's records of earlier crawls: unchanged pages and images cost a conditional
    request each, and the snapshot of an unchanged page is the previous one, marked so. The
    result's `thumbnails` and `features` are those of the images hashed this time; an image
    known to the caller gets neither, so one whose thumbnail or features it does not keep is
    best left out of `known_images` (it is then downloaded whole, once).

    Pictures shown on many listings (the store's placeholder, its logo) are left out of each
    listing's images (`crawler.shared_images`): those a whole-store crawl finds, which the
    result names (`shared_images`); a crawl of a few pages leaves out the `known_shared` ones
    the last whole-store crawl found. `whole_store`: the given `config.urls` are all the
    store's listings (a first look at a store), so the crawl tells for itself.

    `known_urls` are listing pages the caller knows: each is read through its own URL even
    when discovery does not list it (its snapshot then says `undiscovered`), because a store
    that leaves a listing out of its sitemap has not removed it. Whether it is still there is
    what its own URL answers (`Snapshot.absent`).

    The whole crawl keeps to `config.deadline_s`: once it has passed, what was read is
    returned and every page not read yet is a snapshot with the error NOT_READ. A discovery
    that finds no listing where the caller knew some (`known_pages`) is CrawlFailed: the
    store's sitemap and category pages could not be read, which is not an empty store."""
    started = now().isoformat()
    known_pages = dict(known_pages or {})
    preset = preset_for(config.platform)
    politeness = Politeness(config.concurrency, config.max_requests_per_second)
    deadline = asyncio.get_running_loop().time() + config.deadline_s
    async with crawl_client(config.allowed_origins(), timeout_s=config.page_timeout_s,
                            concurrency=config.concurrency) as client:
        try:
            async with asyncio.timeout_at(deadline):
                found = await discover(config, client, preset)
        except TimeoutError:
            raise CrawlFailed(f"finding the store's listings took longer than the crawl's "
                              f"deadline ({config.deadline_s:g} s)") from None
        listing_urls = found.urls
        known_urls = list(dict.fromkeys(known_urls))
        if not listing_urls and (known_pages or known_urls):
            why = "; ".join(found.problems[:5]) or "they list no listing page"
            raise CrawlFailed(f"no listing found on the store's sitemap or category pages, where "
                              f"{len(known_urls) or len(known_pages)} were known: {why}")
        listed = set(listing_urls)
        undiscovered = [u for u in known_urls if u not in listed]
        if undiscovered:
            log.info("%d known listings are not on the sitemap or category pages; read "
                     "through their own URLs", len(undiscovered))
        to_read = listing_urls + undiscovered
        if progress:
            progress.discovered(len(to_read))
        workers = _hash_workers(config, len(to_read))
        not_modified = NotModifiedCheck(
            check_share(config.check_not_modified_share, len(known_pages)),
            trusted=config.trust_not_modified)
        hasher = ImageHasher(client, dict(known_images or {}), politeness=politeness, now=now,
                             not_modified=not_modified,
                             reuse_fresh_s=config.reuse_fresh_images_s,
                             deadline_s=config.page_timeout_s,
                             hash_with=workers.hash if workers else None)
        images: dict[str, ImageInfo] = {}
        image_tasks: dict[str, asyncio.Task] = {}
        pages: dict[str, PageState] = {}
        http = HttpFetcher(client, politeness, deadline_s=config.page_timeout_s)
        browser = LazyBrowser(config, politeness, config.allowed_origins())
        predictor = RenderingPredictor((k.state for k in known_pages.values()),
                                       seed=config.seed, recheck_share=config.recheck_share)
        reader = PageReader(config, http, browser, predictor, known_pages, now, not_modified)
        if _browser_expected(config, known_pages.values()):
            browser.start_soon()

        async def hash_once(url: str) -> None:
            images[url] = await hasher.fetch(url)

        async def one(url: str) -> Snapshot:
            snap, state = await reader.read(url)
            if preset is not None:  # the platform's own word on the values, over the page's
                snap = await preset.refine(snap, client, config.page_timeout_s)
            if state is not None:
                pages[url] = state
            for image_url in snap.image_urls:
                if image_url not in image_tasks:
                    image_tasks[image_url] = asyncio.create_task(hash_once(image_url))
            await asyncio.gather(*(image_tasks[u] for u in snap.image_urls))
            if progress:
                progress.page_done(snap)
            return snap

        tasks = [asyncio.create_task(one(u)) for u in to_read]
        try:
            snapshots = await _until(deadline, tasks, to_read, config.deadline_s,
                                     image_tasks, progress)
            for snap in snapshots[len(listing_urls):]:
                snap.undiscovered = True
        finally:
            for task in tasks:
                task.cancel()
            await browser.close()
            if workers:
                await asyncio.to_thread(workers.close)
    # A whole-store crawl tells for itself; a few pages (a spot-check) go by the last one's.
    whole = not config.urls if whole_store is None else whole_store
    shared = find_shared(snapshots, images) if whole else {}
    leave_out(snapshots, images, shared if whole else known_shared)
    one_per_photo(snapshots, images)  # a thumbnail and its full-size copy are one image
    for url, snap in zip(to_read, snapshots):
        # A page whose bytes changed under a checked 304, against what the 304 vouched for
        # (the last crawl's values, kept the same way: images shared by many left out).
        if url in reader.checking and snap.ok:
            changed = values_changed(known_pages[url].snapshot, snap)
            if changed:
                not_modified.found_false(url, f"its {', '.join(changed)}")
    stats = dict(reader.stats, page_downloads=http.downloads, renders=browser.renders,
                 browser_launched=int(browser.launched),
                 listings_over_max_pages=found.over_max_pages,
                 stuck_pages=browser.stuck,
                 image_downloads=hasher.downloads, images_fresh=hasher.reused_fresh,
                 not_modified_checked=not_modified.checked,
                 not_modified_false=len(not_modified.false))
    log.info("crawl done: %d pages (%s)", len(snapshots),
             ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
    return CrawlResult(
        snapshots=snapshots,
        images=images,
        listing_urls=listing_urls,
        started_at=started,
        finished_at=now().isoformat(),
        image_downloads=hasher.downloads,
        thumbnails=hasher.thumbnails,
        features=hasher.features,
        pages=pages,
        stats=stats,
        shared_images=shared,
        false_not_modified=not_modified.false,
    )


async def _until(deadline: float, tasks: list[asyncio.Task], urls: list[str],
                 deadline_s: float, image_tasks: dict[str, asyncio.Task],
                 progress: CrawlProgress | None) -> list[Snapshot]:
    """Every page's snapshot, those not read by `deadline` (loop time) as NOT_READ; the
    pages and images still under way then are cancelled."""
    if tasks:
        await asyncio.wait(tasks, timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
    late = [t for t in tasks if not t.done()]
    for task in late + [t for t in image_tasks.values() if not t.done()]:
        task.cancel()
    if late:
        await asyncio.gather(*late, return_exceptions=True)
        log.warning("crawl deadline (%g s) passed: %d of %d pages not read", deadline_s,
                    len(late), len(tasks))
    snapshots = []
    for task, url in zip(tasks, urls):
        if task in late:
            snapshots.append(Snapshot(url, error=NOT_READ.format(s=deadline_s)))
            if progress:
                progress.page_done(snapshots[-1])
        else:
            snapshots.append(task.result())  # a page's own error is in its snapshot
    return snapshots


def _browser_expected(config: CrawlConfig, known: Iterable[KnownPage]) -> bool:
    """Pages the browser read last time are rendered again when they changed, and a share
    of them when they did not (`recheck_share`, so that "unchanged" stays honest): with one
    such render expected at least, the browser is launched at the crawl's start, beside the
    pages read over plain HTTP, rather than when the first one comes (a second or more of a
    nightly where nothing changed). Always-rendered crawls launch it anyway."""
    if config.render == "always":
        return False
    rendered = sum(1 for k in known if k.state.fetched_with == "browser")
    return rendered > 0 and rendered * config.recheck_share >= 1


def _hash_workers(config: CrawlConfig, listings: int) -> HashWorkers | None:
    processes = config.hash_processes
    if processes is None:
        spare = usable_cores() > 1 and listings >= PROCESS_HASHING_FROM
        processes = usable_cores() if spare else 0
    return HashWorkers(processes) if processes > 0 else None


def crawl_sync(config: CrawlConfig, **kwargs) -> CrawlResult:
    """Run a crawl to completion from synchronous code."""
    return run_sync(crawl(config, **kwargs))
