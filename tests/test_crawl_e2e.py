"""The crawler in real Chromium against the sample store: what it records must be exactly
what the store shows, on JSON-LD, microdata, plain and JavaScript-priced pages alike."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from storeaudit.sample_store import demo_contract
from audits.runner import run_crawl
from crawler.crawl import crawl_sync
from crawler.snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK

pytestmark = pytest.mark.e2e


def config_for(store, **overrides):
    config = demo_contract().with_base_url(store.url).crawl_config()
    return replace(config, **overrides)


def expected_stock(product):
    if product.stock == 0:
        return OUT_OF_STOCK, 0
    if product.stock <= 5:
        return LOW_STOCK, product.stock
    return IN_STOCK, (product.stock if product.shows_stock_count else None)


@pytest.mark.parametrize("day", [0, 9])
def test_every_listing_is_recorded_as_the_store_shows_it(store, day):
    store.day = day
    result = crawl_sync(config_for(store))
    truth = {p.sku: p for p in store.products() if not p.removed and not p.hidden}
    seen = {s.sku: s for s in result.snapshots}

    assert [s for s in result.snapshots if not s.ok] == []
    assert set(seen) == set(truth), "every listing on the store, and only those"
    assert {p.page_style for p in truth.values()} == {"jsonld", "microdata", "plain", "jsprice"}
    for sku, product in truth.items():
        got = seen[sku]
        assert got.title == product.title, sku
        assert got.price == product.price, (sku, product.page_style)
        assert got.list_price == product.list_price, sku
        assert got.currency == "CNY", sku
        assert (got.availability, got.stock_count) == expected_stock(product), sku
        assert got.promoted == product.promoted, sku
        assert len(got.image_urls) == len(product.images), sku
        assert all(result.images[u].core_phash for u in got.image_urls), sku


def test_a_javascript_price_is_seen_only_by_the_browser(store):
    product = next(p for p in store.products() if p.page_style == "jsprice")
    url = f"{store.url}/p/{product.slug}"
    plain_html = httpx.get(url).text
    assert f"{product.price:,.2f}" not in plain_html
    [snap] = crawl_sync(config_for(store, urls=[url])).snapshots
    assert snap.price == product.price


def test_timeouts_and_server_errors_are_recorded_as_errors_not_values(store, ledger):
    good, slow, broken = store.products()[:3]
    store.faults[f"/p/{slow.slug}"] = "timeout"
    store.faults[f"/p/{broken.slug}"] = "500"
    store.timeout_seconds = 20
    urls = [f"{store.url}/p/{p.slug}" for p in (good, slow, broken)]
    contract = demo_contract().with_base_url(store.url)
    config = replace(contract.crawl_config(), urls=urls, page_timeout_s=2, retries=0)

    run = run_crawl(contract, ledger, config=config)

    assert (run.pages_ok, run.pages_failed) == (1, 2)
    errors = {s.url: s for s in ledger.run_snapshots(run.id)}
    assert errors[urls[1]].error.startswith("timed out")
    assert errors[urls[2]].error == "HTTP 500"
    for failed in (errors[urls[1]], errors[urls[2]]):
        assert failed.title is None and failed.price is None and failed.availability is None


def test_a_recrawl_of_an_unchanged_store_downloads_no_image_again(store, ledger):
    urls = [f"{store.url}/p/{p.slug}" for p in store.products()[:6]]
    contract = demo_contract().with_base_url(store.url)
    # no 304 checked (crawler.not_modified): the 304s' own cost
    config = replace(contract.crawl_config(), urls=urls, check_not_modified_share=0)

    first = run_crawl(contract, ledger, config=config)
    second = run_crawl(contract, ledger, config=config)

    assert first.image_downloads > 0
    assert second.image_downloads == 0
    assert second.pages_ok == len(urls)


def test_known_listings_are_read_through_their_own_urls_listed_or_not(store):
    """Issue #16: the crawl reads every listing its caller knows, whether or not the sitemap
    and categories list it, and says what each one's own URL answered: still there (left out
    of discovery), not there (404, or redirected to a page with no listing), or a failure
    that says nothing (500)."""
    from demostore import scenario

    store.day = scenario.REMOVED_DAY
    by_sku = {p.sku: p for p in store.products()}
    url = lambda sku: f"{store.url}/p/{by_sku[sku].slug}"  # noqa: E731
    hidden, removed = url(scenario.HIDDEN_SKU), url(scenario.REMOVED_SKU)
    moved, broken = url("SH-0011"), url("SH-0012")
    store.faults[moved.removeprefix(store.url)] = "tohome"
    store.faults[broken.removeprefix(store.url)] = "500"
    result = crawl_sync(config_for(store, retries=0),
                        known_urls=[hidden, removed, moved, broken, url(scenario.JACKET_SKU)])
    snaps = {s.url: s for s in result.snapshots}
    assert hidden not in result.listing_urls and removed not in result.listing_urls
    assert (snaps[hidden].ok, snaps[hidden].undiscovered, snaps[hidden].absent) == \
        (True, True, False)
    assert snaps[hidden].price == by_sku[scenario.HIDDEN_SKU].price
    assert (snaps[removed].http_status, snaps[removed].absent) == (404, True)
    assert snaps[moved].absent and "redirected to a page that shows no listing" in \
        snaps[moved].error
    assert not snaps[broken].absent and snaps[broken].http_status == 500
    # Listed by discovery too: read once, not undiscovered.
    assert [s.url for s in result.snapshots].count(url(scenario.JACKET_SKU)) == 1
    assert not snaps[url(scenario.JACKET_SKU)].undiscovered
