"""A store answering "304 Not Modified" for what it changed (crawler.not_modified): the agency
freezing what the audit sees. The sample store, real HTTP on 127.0.0.1: on day 2 the jacket's
price drops under its floor while the store tells the crawler every page is as it was."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from audits.random_checks import random_check_config
from audits.runner import run_audit
from crawler.crawl import crawl_sync
from crawler.not_modified import NotModifiedCheck, check_share
from crawler.snapshot import ImageInfo, KnownPage
from demostore import scenario
from storeaudit.sample_store import demo_contract

pytestmark = pytest.mark.e2e


@pytest.fixture
def store():
    """The sample store cut to its first twelve listings (the day-2 jacket among them): a
    whole audit of it takes a second, not five."""
    from demostore.app import DemoStore
    from demostore.server import run_in_thread

    shop = DemoStore(size=12, day=0)
    with run_in_thread(shop) as running:
        shop.url = running.url
        yield shop


def audit(store, ledger, *, share: float):
    contract = demo_contract().with_base_url(store.url)
    config = replace(contract.crawl_config(), check_not_modified_share=share)
    return run_audit(contract, ledger, config=config)


def open_rules(ledger, sku=None) -> set[str]:
    return {f.rule_id for f in ledger.findings(status=["open", "acknowledged"])
            if sku is None or f.sku == sku}


def lying_day_two(store, ledger, clock, *, share: float):
    """Day 1 read honestly; then day 2 (the jacket at 199, under its floor of 240) served to
    a store that answers every conditional request 304."""
    store.day = 1
    audit(store, ledger, share=share)
    clock.advance(timedelta(days=1))
    store.day, store.false_not_modified = 2, True
    return audit(store, ledger, share=share)


def test_unchecked_304s_freeze_what_the_audit_sees(store, ledger, clock):
    """Why the check exists: trusting every 304, the jacket's new price is never seen."""
    lying_day_two(store, ledger, clock, share=0)
    assert store.hits["false304"] > 0
    assert "prices.below_floor" not in open_rules(ledger, scenario.JACKET_SKU)
    assert "crawl.false_not_modified" not in open_rules(ledger)


def test_a_false_304_is_caught_read_whole_and_is_a_finding(store, ledger, clock):
    outcome = lying_day_two(store, ledger, clock, share=1)
    assert "prices.below_floor" in open_rules(ledger, scenario.JACKET_SKU)
    [jacket] = [s for s in ledger.run_snapshots(outcome.run.id) if s.sku == scenario.JACKET_SKU]
    assert jacket.price == 199
    [finding] = ledger.findings(rule_id="crawl.false_not_modified")
    assert finding.severity == "major" and finding.listing_id is None
    assert finding.message.startswith("The store answered 'not modified' to the audit for 1 page "
                                      "that had changed (")
    assert "/p/sh-0001" in finding.message and ": its price" in finding.message
    assert "every page and image is read whole until 2026-" in finding.message
    [hidden] = finding.evidence["hidden"]
    assert hidden["what"] == "its price" and hidden["run_id"] == outcome.run.id

    # The nights after: nothing asked conditionally, and the finding stays open a week.
    store.hits.clear()
    clock.advance(timedelta(days=1))
    store.day = 3
    audit(store, ledger, share=1)
    assert store.hits["false304"] == 0 and store.hits["/p:304"] == 0 and store.hits["/p"] > 0
    assert ledger.finding(finding.id).status == "open"

    # A week on, an honest store: 304s are trusted (and checked) again, the finding resolves.
    store.false_not_modified = False
    store.hits.clear()
    clock.advance(timedelta(days=7))
    audit(store, ledger, share=1)
    audit(store, ledger, share=1)
    assert store.hits["/p:304"] > 0
    assert ledger.finding(finding.id).status == "resolved"


def test_an_honest_stores_304s_checked_every_one_accuse_nothing(store, ledger, clock):
    """Every 304 of two quiet nights read whole as well: the values agree, no finding."""
    store.day = 1
    audit(store, ledger, share=1)
    clock.advance(timedelta(hours=20))
    store.hits.clear()
    outcome = audit(store, ledger, share=1)
    assert store.hits["/p:304"] > 0 and store.hits["/img:304"] > 0
    assert ledger.run(outcome.run.id).false_not_modified == []
    assert "crawl.false_not_modified" not in open_rules(ledger)


def test_a_swapped_picture_behind_a_304_is_caught(store, ledger, clock):
    """An image answered 304 while its bytes show another picture: read whole, hashed anew."""
    contract = demo_contract().with_base_url(store.url)
    config = replace(contract.crawl_config(), check_not_modified_share=1, urls=[
        "/p/sh-0001-down-jacket"], recheck_share=0, reuse_fresh_images_s=0)
    first = crawl_sync(config)
    image_url = first.snapshots[0].image_urls[0]
    known = dict(first.images)
    # What the crawl remembers of the picture is another one's: as if the store had swapped
    # the picture behind the address since, and answered 304 to hide it.
    other = next(i for u, i in known.items() if u != image_url and i.core_phash)
    known[image_url] = replace(other, url=image_url, etag='"old"')
    store.false_not_modified = True
    second = crawl_sync(config, known_images=known)
    assert {"url": image_url, "what": "its picture"} in second.false_not_modified
    assert second.images[image_url].core_phash == first.images[image_url].core_phash


def test_a_rendered_page_whose_data_changed_under_a_true_304_is_not_accused():
    """A page filled by its script: its HTML is the same (a true 304), its price data is not.
    The check finds the HTML's bytes as vouched for; the page is rendered for its new data
    as always, and nothing is called false."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    from crawler.config import CrawlConfig
    from servers import serve

    price = {"value": "99.00"}
    html = ('<!DOCTYPE html><html><head><title>Tent</title></head><body>'
            '<h1 class="product-title">Tent</h1><span class="price"></span><script>'
            'fetch("/data.json").then(r => r.json()).then(d => {'
            'document.querySelector(".price").textContent = "¥" + d.price; });'
            '</script></body></html>')

    def page(request):
        if request.headers.get("if-none-match") == '"v1"':
            return Response(status_code=304, headers={"ETag": '"v1"'})
        return HTMLResponse(html, headers={"ETag": '"v1"'})

    app = Starlette(routes=[Route("/p/tent", page),
                            Route("/data.json", lambda r: JSONResponse({"price": price["value"]}))])
    with serve(app) as base:
        config = CrawlConfig(base, urls=["/p/tent"], check_not_modified_share=1, retries=0,
                             recheck_share=0, default_currency="CNY")
        first = crawl_sync(config)
        [snap] = first.snapshots
        assert snap.fetched_with == "browser" and snap.price == 99
        price["value"] = "79.00"
        known = {snap.url: KnownPage(first.pages[snap.url], snap)}
        second = crawl_sync(config, known_pages=known)
    assert second.snapshots[0].price == 79 and second.stats["not_modified_checked"] == 1
    assert second.false_not_modified == []


def test_a_random_check_takes_no_304_on_trust(store, ledger):
    audit(store, ledger, share=0)
    contract = demo_contract().with_base_url(store.url)
    assert random_check_config(contract, ledger).trust_not_modified is False


def test_a_small_store_has_about_ten_304s_checked_a_big_one_its_share():
    assert check_share(0.02, 60) == pytest.approx(10 / 60)
    assert check_share(0.02, 2000) == 0.02 and check_share(0.5, 60) == 0.5
    assert check_share(0.02, 4) == 1.0 and check_share(0, 60) == 0.0


def test_which_304s_are_checked_is_drawn_at_random_in_the_share():
    check = NotModifiedCheck(0.25)
    drawn = sum(check.draw() for _ in range(4000))
    assert 800 < drawn < 1200 and check.checked == drawn
    assert NotModifiedCheck(0).draw() is False
    state = ImageInfo("http://shop.test/a.jpg", etag='"x"')
    assert check.validators(state) is state
    check.found_false("http://shop.test/a.jpg", "its picture")
    assert check.validators(state) is None and not check.trusted
