"""`make bench` section "crawl": a full audit of the 2,000-listing sample store, measured beside
the naive way (every page rendered in a fresh Playwright page, sequentially, no cache) in the
same run.

Rows: cold full audit (wall, pages/s, peak RSS of this process and its Chromium; the median
of RUNS audits, each on a ledger of its own), warm re-audit with nothing changed (the median
of RUNS), a re-audit after one scenario day of changes, a spot-check of
one product page (median of 20), and the rules pass over 2,000 listings x 30 nights of
history (`bench/overlay.py` loads the API on that history).

The store runs in its own process (`bench.store_process`) so the audit and the store do not
share an interpreter; so does the memory poller (`bench.peak_memory`). The naive way is
measured on a sample of pages and extrapolated to the store's size (said so in its note), so
the whole section stays within a few minutes.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import httpx

from storeaudit.children import URL_PATTERN, serving_child

from .peak_memory import PeakRss
from .table import RUNS, Row, spread

SECTION = "crawl"
SIZE = 2000
CONCURRENCY = 8  # the bench contract's [crawl] concurrency (per origin)


# ------------------------------------------------------------------ processes
def _process(args: list[str], what: str, pattern: str = URL_PATTERN):
    """A child server that prints its URL; yields (url, pid)."""
    return serving_child(args, what, pattern, startup_s=60)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the contract
def _bench_contract(folder: Path, store_url: str, size: int, max_pages: int | None = None):
    from audits.contract import load_contract
    from storeaudit.sample_store import demostore_dir
    from demostore.catalog import write_catalog_csv

    text = (demostore_dir() / "contract.toml").read_text(encoding="utf-8")
    text = text.replace("concurrency = 4", f"concurrency = {CONCURRENCY}"
                        + (f"\nmax_pages = {max_pages}" if max_pages else ""))
    text = re.sub(r'base_url = ".*"', f'base_url = "{store_url}"', text, count=1)
    text = text.replace('outbox = "outbox"', "")
    (folder / "contract.toml").write_text(text, encoding="utf-8")
    write_catalog_csv(folder / "catalog.csv", size)
    return load_contract(folder / "contract.toml")


# ------------------------------------------------------------------ the naive way
# The naive way waits as a Playwright user would: wait_for_function, then page.content().
_FILLED_JS = """(selector) => {
  const els = document.querySelectorAll(selector);
  return els.length === 0 || Array.from(els).every(e => e.textContent.trim().length > 0);
}"""


async def _naive_pages(urls: list[str], config, *, launch_each: bool = False) -> list[float]:
    """Seconds per page: a fresh Playwright page each, rendered with everything it loads,
    then extracted, then its images downloaded and hashed, one page after another, no cache.
    `launch_each`: a fresh browser per page too (the naive spot-check)."""
    from playwright.async_api import async_playwright

    from crawler.browser import LAUNCH_ARGS, find_chromium
    from crawler.fetch import FetchedPage
    from crawler.page_reader import snapshot_from_page
    from imaging import hash_image_bytes

    times = []
    async with async_playwright() as pw:
        browser = None
        async with httpx.AsyncClient(timeout=30) as client:
            for url in urls:
                t0 = time.perf_counter()
                if browser is None or launch_each:
                    if browser is not None:
                        await browser.close()
                    browser = await pw.chromium.launch(
                        executable_path=find_chromium(prefer_headless_shell=True),
                        args=LAUNCH_ARGS)
                page = await browser.new_page()
                response = await page.goto(url, wait_until="load")
                try:
                    await page.wait_for_function(_FILLED_JS, arg=config.selectors.price,
                                                 timeout=3000)
                except Exception:
                    pass
                html = await page.content()
                await page.close()
                snap = snapshot_from_page(
                    FetchedPage(url, url, response.status if response else None, html),
                    config, datetime.now(timezone.utc).isoformat())
                for image_url in snap.image_urls:
                    data = (await client.get(image_url)).content
                    hash_image_bytes(data)
                times.append(time.perf_counter() - t0)
        if browser is not None:
            await browser.close()
    return times


# ------------------------------------------------------------------ history for the rules
def _build_history(path: Path, contract, size: int, nights: int):
    """A ledger of `size` listings x `nights` nightly crawls, written through the ledger API:
    each night about 3% of titles and 2% of prices change, a few listings fail to load."""
    import random

    from audits.clock import ManualClock
    from audits.ledger import Ledger
    from crawler.snapshot import CrawlResult, Snapshot
    from demostore.catalog import build_products

    rng = random.Random(8)
    clock = ManualClock(datetime(2026, 10, 1, 18, 0, tzinfo=timezone.utc))
    base = contract.store.base_url
    products = build_products(size)
    titles = {p.sku: p.title for p in products}
    prices = {p.sku: p.price for p in products}
    run = None
    with Ledger(path, clock) as ledger:
        for night in range(nights):
            clock.advance(timedelta(days=1))
            at = clock.now().isoformat()
            snaps = []
            for p in products:
                url = f"{base}/p/{p.slug}"
                if night and rng.random() < 0.002:
                    snaps.append(Snapshot(url=url, error="HTTP 503", fetched_at=at))
                    continue
                if night and rng.random() < 0.03:
                    titles[p.sku] = f"{p.title} 第{night}版"[:58]
                if night and rng.random() < 0.02:
                    prices[p.sku] = (prices[p.sku] * Decimal("0.9")).quantize(Decimal("0.01"))
                snaps.append(Snapshot(
                    url=url, sku=p.sku, title=titles[p.sku], price=prices[p.sku],
                    list_price=p.list_price, currency="CNY", availability="InStock",
                    stock_count=p.stock if p.shows_stock_count else None, promoted=p.promoted,
                    image_urls=[base + i for i in p.images], fetched_at=at,
                    fetched_with="http"))
            run_id = ledger.start_run("nightly")
            run = ledger.record_crawl(run_id, CrawlResult(
                snapshots=snaps, images={}, listing_urls=[s.url for s in snaps],
                started_at=at, finished_at=at))
    return clock, run


# ------------------------------------------------------------------ the section
def run(quick: bool) -> list[Row]:
    from audits.catalog import load_catalog
    from storeaudit.sample_store import set_store_day
    from audits.ledger import Ledger
    from audits.runner import run_audit
    from audits.spot_check import run_spot_check

    size = 400 if quick else SIZE
    naive_sample = 10 if quick else 100
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="storeaudit-bench-"))
    try:
        with _process(["-m", "bench.store_process", "--size", str(size)],
                      "the bench store") as (store_url, store_pid):
            contract = _bench_contract(work, store_url, size)
            catalog = load_catalog(contract.catalog_path())
            config = contract.crawl_config()
            ledger = Ledger(work / "ledger.db")
            exclude = {store_pid}

            # Warm the store's own caches (its photos are drawn on first request) so that the
            # audit is timed, not the store's first drawing of each photo.
            _warm_store(store_url, size)

            # -- cold full audit, each run on a ledger of its own (the last one's kept)
            runs = 1 if quick else RUNS
            colds, peaks = [], []
            for n in range(runs):
                if n:
                    ledger.close()
                    for old in work.glob("ledger.db*"):
                        old.unlink()
                    ledger = Ledger(work / "ledger.db")
                with PeakRss(exclude) as rss:
                    t0 = time.perf_counter()
                    cold = run_audit(contract, ledger, kind="nightly", catalog=catalog)
                    colds.append(time.perf_counter() - t0)
                peaks.append(rss.peak_kb / 1024)
            cold_s = statistics.median(colds)
            cold_stats = _run_stats(ledger, cold.run.id)

            # -- the naive way, on a sample, extrapolated
            listing_urls = [s.url for s in ledger.run_snapshots(cold.run.id)]
            step = max(1, len(listing_urls) // naive_sample)
            sample = listing_urls[::step][:naive_sample]
            naive_times = asyncio.run(_naive_pages(sample, config))
            naive_full = statistics.mean(naive_times) * len(listing_urls)
            naive_note = (f"naive: {len(sample)} pages measured "
                          f"({statistics.mean(naive_times) * 1000:.0f} ms each), x{len(listing_urls)}")

            rows.append(Row(SECTION, f"cold full audit ({len(listing_urls)} listings)", cold_s, "s",
                            naive=naive_full, target="<= 60 s, >= 10x naive",
                            met=cold_s <= 60 and naive_full / cold_s >= 10,
                            note=f"{spread(colds, '{:.0f}')} s; {cold_stats}; {naive_note}"))
            rows.append(Row(SECTION, "cold: pages per second", len(listing_urls) / cold_s,
                            "pages/s", naive=len(listing_urls) / naive_full,
                            note="naive shown as pages/s too"))
            rows.append(Row(SECTION, "cold: peak RSS incl. Chromium", statistics.median(peaks),
                            "MB", note=f"{spread(peaks, '{:.0f}')} MB; PSS of this process and "
                                       f"its children (Chromium); the store not counted"))

            # -- warm re-audit, nothing changed
            warms = []
            for _ in range(runs):
                t0 = time.perf_counter()
                warm = run_audit(contract, ledger, kind="nightly", catalog=catalog)
                warms.append(time.perf_counter() - t0)
            warm_s = statistics.median(warms)
            rows.append(Row(SECTION, "warm re-audit, nothing changed", warm_s, "s",
                            naive=naive_full, target="<= 5 s", met=warm_s <= 5,
                            note=f"{spread(warms, '{:.2f}')} s; "
                                 f"{_run_stats(ledger, warm.run.id)}"))

            # -- one day of changes
            events = set_store_day(store_url, 1)["events"]
            t0 = time.perf_counter()
            day = run_audit(contract, ledger, kind="nightly", catalog=catalog)
            day_s = time.perf_counter() - t0
            changed = len({c.listing_id for c in ledger.changes_in_run(day.run.id)})
            rows.append(Row(SECTION, "re-audit after one day of changes", day_s, "s",
                            naive=naive_full, note=f"{len(events)} scenario events, "
                            f"{changed} listings changed; {_run_stats(ledger, day.run.id)}"))

            # -- spot-check of one product page
            spot_urls = listing_urls[::max(1, len(listing_urls) // 20)][:20]
            spot_times = []
            for url in spot_urls:
                t0 = time.perf_counter()
                run_spot_check(contract, ledger, [url])
                spot_times.append(time.perf_counter() - t0)
            naive_spot = asyncio.run(_naive_pages(spot_urls[:5], config, launch_each=True))
            spot = statistics.median(spot_times)
            rows.append(Row(SECTION, "spot-check one product page (median of 20)", spot, "s",
                            naive=statistics.median(naive_spot), target="<= 1.5 s",
                            met=spot <= 1.5,
                            note=f"max {max(spot_times):.2f} s (a JavaScript-priced page "
                                 f"launches the browser); naive: browser launched per check"))
            ledger.close()

        # -- rules over 2,000 listings x 30 nights (the overlay section loads the API on it)
        rows += _rules_pass(work, contract, catalog, size, nights=10 if quick else 30,
                                   quick=quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _warm_store(store_url: str, size: int) -> None:
    """Ask the store for every listing photo once (its drawing cache), in parallel."""
    from demostore.catalog import build_products

    paths = [i for p in build_products(size) for i in p.images]

    async def go() -> None:
        async with httpx.AsyncClient(base_url=store_url, timeout=60) as client:
            slots = asyncio.Semaphore(16)

            async def one(path: str) -> None:
                async with slots:
                    await client.get(path)

            await asyncio.gather(*(one(p) for p in paths))

    asyncio.run(go())


def _run_stats(ledger, run_id: int) -> str:
    snaps = ledger.run_snapshots(run_id)
    run = ledger.run(run_id)
    by = {}
    for s in snaps:
        key = "unchanged" if s.unchanged else (s.fetched_with or "failed")
        by[key] = by.get(key, 0) + 1
    parts = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
    return f"{parts}; {run.image_downloads} image downloads; {run.pages_failed} failed"


def _rules_pass(work: Path, contract, catalog, size: int, nights: int,
                quick: bool) -> list[Row]:
    from audits.engine import audit_run
    from audits.ledger import Ledger

    path = work / "history.db"
    t0 = time.perf_counter()
    clock, last = _build_history(path, contract, size, nights)
    built_s = time.perf_counter() - t0
    rows = []
    with Ledger(path, clock) as ledger:
        t0 = time.perf_counter()
        audit_run(ledger, contract, catalog, last, full=True)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        outcome = audit_run(ledger, contract, catalog, last, full=True)
        rules_s = time.perf_counter() - t0
        open_findings = len(outcome.update.still_open) + len(outcome.update.new)
    rows.append(Row(SECTION, f"rules pass, {size} listings x {nights} nights", rules_s, "s",
                    target="< 1 s", met=rules_s < 1,
                    note=f"first pass (all findings new) {first_s:.2f} s; {open_findings} open "
                         f"findings; history built in {built_s:.0f} s"))

    return rows


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")
