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
    truth = {p.sku: p for p in store.products() if not p.removed}
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
    config = replace(contract.crawl_config(), urls=urls)

    first = run_crawl(contract, ledger, config=config)
    second = run_crawl(contract, ledger, config=config)

    assert first.image_downloads > 0
    assert second.image_downloads == 0
    assert second.pages_ok == len(urls)
