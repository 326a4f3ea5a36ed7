"""Store pages that fail, against a real crawl of the sample store: time-outs, 429/5xx, redirect
loops, login walls and half pages are retried as they deserve, then recorded as crawl errors
that neither raise nor resolve a finding; and nothing outside the store's origins is ever
fetched, whatever a page, a redirect or a sitemap asks for.

"Was the other server contacted?" is answered by `Canary`, a loopback service on a port of
its own that notes every TCP connection made to it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from api.app import create_app
from api.settings import ApiSettings
from audits.catalog import load_catalog
from storeaudit.sample_store import demo_contract
from audits.runner import run_audit
from audits.spot_check import run_spot_check
from crawler.config import CrawlConfig
from crawler.crawl import crawl_sync
from crawler.extract.walls import wall_reason
from crawler.fetch import MAX_REDIRECTS, FetchedPage, looks_cut_off, parse_retry_after
from crawler.origins import refusal
from crawler.page_reader import retry_wait
from demostore import scenario
from servers import RawLoopback, serve

pytestmark = pytest.mark.e2e

CONTRACT = demo_contract()
CATALOG = load_catalog(CONTRACT.catalog_path())
PAGE_FAULTS = ("timeout", "500", "503", "429", "halfpage", "captcha", "redirectloop", "offsite")


class Canary(RawLoopback):
    """A loopback service on its own port that notes the first line of every connection."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        super().__init__(self._note)

    def _note(self, head: bytes) -> bytes:
        self.hits.append(head.split(b"\r\n", 1)[0].decode("latin-1") or "(connection)")
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def canary():
    c = Canary()
    yield c
    c.close()


def page_url(store, sku_or_product) -> str:
    product = store.product(sku_or_product) if isinstance(sku_or_product, str) else sku_or_product
    return f"{store.url}/p/{product.slug}"


def path_of(store, url: str) -> str:
    return url.removeprefix(store.url)


def config_for(store, urls, **overrides) -> CrawlConfig:
    """The demo contract's crawl of these pages, with waits short enough for a test."""
    config = CONTRACT.with_base_url(store.url).crawl_config()
    settings = dict(urls=urls, retries=2, retry_backoff_s=0.01, page_timeout_s=1.0,
                    recheck_share=0)
    return replace(config, **{**settings, **overrides})


def plain_product(store, index: int = 0):
    """A listing whose values are in its HTML (plain HTTP reads it; no browser needed)."""
    return [p for p in store.live_products() if p.page_style != "jsprice"][index]


def only_snapshot(result):
    [snap] = result.snapshots
    return snap


# ------------------------------------------------------------------ the store's new faults


def test_the_store_plays_redirect_faults_and_passing_faults(store):
    path = path_of(store, page_url(store, plain_product(store)))
    store.faults[path] = "redirectloop"
    first = httpx.get(store.url + path)
    assert first.status_code == 302 and first.headers["location"] == f"{path}?hop=1"
    assert httpx.get(f"{store.url}{path}?hop=7").headers["location"] == f"{path}?hop=8"
    store.faults[path], store.offsite_url = "offsite", "http://elsewhere.invalid/x"
    assert httpx.get(store.url + path).headers["location"] == "http://elsewhere.invalid/x"
    store.faults[path], store.fault_times[path] = "500", 2
    assert [httpx.get(store.url + path).status_code for _ in range(3)] == [500, 500, 200]
    assert path not in store.faults and store.path_hits[path] == 6


# ------------------------------------------------------------------ retries and backoff


@pytest.mark.parametrize("kind,error", [
    ("timeout", "timed out after 1 s (3 tries)"),
    ("500", "HTTP 500 (3 tries)"),
    ("503", "HTTP 503 (3 tries)"),
    ("429", "HTTP 429 (3 tries)"),
])
def test_a_failing_page_is_tried_three_times_then_recorded_as_an_error(store, kind, error):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = kind
    store.timeout_seconds, store.retry_after = 5, "0"

    snap = only_snapshot(crawl_sync(config_for(store, [url])))

    assert store.path_hits[path_of(store, url)] == 3, "the first try and two retries"
    assert snap.error == error and snap.fetched_with == "http"
    assert (snap.title, snap.price, snap.availability, snap.image_urls) == (None, None, None, [])


def test_a_not_found_page_is_not_retried(store):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "404"
    snap = only_snapshot(crawl_sync(config_for(store, [url])))
    assert store.path_hits[path_of(store, url)] == 1 and snap.error == "HTTP 404"


@pytest.mark.parametrize("kind", ["503", "timeout", "halfpage"])
def test_a_passing_fault_is_retried_and_the_page_read(store, kind):
    product = plain_product(store)
    url = page_url(store, product)
    store.faults[path_of(store, url)] = kind
    store.fault_times[path_of(store, url)] = 1
    store.timeout_seconds, store.retry_after = 5, "0"

    snap = only_snapshot(crawl_sync(config_for(store, [url])))

    assert store.path_hits[path_of(store, url)] == 2
    assert snap.ok and (snap.title, snap.price) == (product.title, product.price)


def test_failed_pages_are_retried_in_the_browser_too(store):
    urls = [page_url(store, plain_product(store, i)) for i in range(3)]
    for url, kind in zip(urls, ("503", "429", "timeout")):
        store.faults[path_of(store, url)] = kind
    store.timeout_seconds, store.retry_after = 10, "0"

    result = crawl_sync(config_for(store, urls, render="always", page_timeout_s=3, retries=1))

    assert [store.path_hits[path_of(store, u)] for u in urls] == [2, 2, 2]
    assert [s.error for s in result.snapshots] == [
        "HTTP 503 (2 tries)", "HTTP 429 (2 tries)", "timed out after 3 s (2 tries)"]
    assert {s.fetched_with for s in result.snapshots} == {"browser"}


def test_retry_after_is_honoured(store):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "429"
    store.retry_after = "1"
    started = time.monotonic()
    snap = only_snapshot(crawl_sync(config_for(store, [url], retries=1)))
    assert store.path_hits[path_of(store, url)] == 2 and snap.error == "HTTP 429 (2 tries)"
    assert time.monotonic() - started >= 1.0, "the store asked for a second between tries"


@pytest.mark.timeout(60)
def test_a_huge_retry_after_cannot_stall_the_audit(store):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "503"
    store.retry_after = "86400"  # a day
    started = time.monotonic()
    snap = only_snapshot(crawl_sync(config_for(store, [url], retries=2, max_retry_wait_s=0.3)))
    assert snap.error == "HTTP 503 (3 tries)"
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("attempt,retry_after,expected", [
    (1, None, 0.5), (2, None, 1.0), (3, None, 2.0),   # doubling from retry_backoff_s
    (1, 5.0, 5.0),                                    # the store's Retry-After, when longer
    (1, 0.0, 0.5),                                    # ... never shorter than the backoff
    (1, 3600.0, 30.0), (9, None, 30.0),               # capped at max_retry_wait_s
])
def test_the_wait_before_a_retry(attempt, retry_after, expected):
    config = CrawlConfig("http://shop.test", retry_backoff_s=0.5, max_retry_wait_s=30)
    page = FetchedPage("http://shop.test/p/a", status=503, error="HTTP 503",
                       retry_after=retry_after)
    assert retry_wait(page, attempt, config) == expected


@pytest.mark.parametrize("header,seconds", [
    ("120", 120.0), (" 7 ", 7.0), ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),
    ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0), ("soon", None), ("-5", None), (None, None),
])
def test_retry_after_is_read_in_seconds_or_as_a_date(header, seconds):
    now = datetime(2026, 10, 21, 7, 28, tzinfo=timezone.utc)
    assert parse_retry_after(header, now) == seconds


# ------------------------------------------------------------------ redirect loops


@pytest.mark.parametrize("render", ["auto", "always"])
def test_a_redirect_loop_is_recorded_as_too_many_redirects(store, render):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "redirectloop"

    snap = only_snapshot(crawl_sync(config_for(store, [url], render=render, page_timeout_s=5)))

    assert snap.error.startswith("too many redirects") and "loop" in snap.error
    assert snap.title is None and snap.price is None
    # the first request and MAX_REDIRECTS hops, once: a loop is not retried
    assert store.path_hits[path_of(store, url)] == MAX_REDIRECTS + 1


# ------------------------------------------------------------------ login / verification walls


@pytest.mark.parametrize("render", ["auto", "always"])
def test_a_login_wall_is_recorded_as_a_wall_not_as_missing_fields(store, render):
    urls = [page_url(store, plain_product(store)),
            page_url(store, next(p for p in store.live_products() if p.page_style == "jsprice"))]
    for url in urls:
        store.faults[path_of(store, url)] = "captcha"

    result = crawl_sync(config_for(store, urls, render=render, page_timeout_s=5))

    for snap in result.snapshots:
        assert snap.error.startswith("login or verification wall"), snap.error
        assert "password field" in snap.error and "missing" not in snap.error
        assert snap.title is None and snap.price is None
        assert store.path_hits[path_of(store, snap.url)] == 1, "a wall is not fetched again"
    expected_with = "http" if render == "auto" else "browser"
    assert {s.fetched_with for s in result.snapshots} == {expected_with}


WALLS = {
    "password form": '<html><head><title>Shop</title></head><body><form><input name=u>'
                     '<input type="PASSWORD" name=p></form></body></html>',
    "cloudflare": "<html><head><title>Just a moment...</title></head><body><h1>Verify you are "
                  "human by completing the action below.</h1></body></html>",
    "geetest slider": '<html><body><div class="geetest_panel"><div class="geetest_slider">'
                      "</div></div></body></html>",
    "taobao slider": '<html><head><title>验证码拦截</title></head><body><div id="nc_1_wrapper">'
                     '</div></body></html>',
    "recaptcha": '<html><body><div class="g-recaptcha" data-sitekey="x"></div></body></html>',
    "sign in": "<html><head><title>Sign in to continue</title></head><body></body></html>",
}
NOT_WALLS = {
    "gone listing": "<html><head><title>宝贝不存在</title></head><body><h1>很抱歉，您查看的宝贝不"
                    "存在</h1><a href=/login>登录</a></body></html>",
    "empty page": "<html><body></body></html>",
    "image slider": '<html><body><div class="hero-slider"><img src=a.jpg></div></body></html>',
}


@pytest.mark.parametrize("name", WALLS)
def test_walls_are_told_by_their_markers(name):
    assert wall_reason(WALLS[name])


@pytest.mark.parametrize("name", NOT_WALLS)
def test_pages_without_wall_markers_are_not_walls(name):
    assert wall_reason(NOT_WALLS[name]) is None


# ------------------------------------------------------------------ half pages


@pytest.mark.parametrize("render", ["auto", "always"])
def test_a_half_page_is_retried_once_then_recorded_as_cut_off(store, render):
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "halfpage"

    snap = only_snapshot(crawl_sync(config_for(store, [url], render=render, page_timeout_s=5)))

    assert store.path_hits[path_of(store, url)] == 2, "one more try, not the full retries"
    assert snap.error.startswith("page cut off part-way")
    assert snap.title is None and snap.price is None


@pytest.mark.parametrize("body,content_type,cut", [
    (b"<!DOCTYPE html><html><body><h1>x</h1></body></html>\n", "text/html", False),
    (b"\xef\xbb\xbf<!doctype html><HTML><body></BODY></HTML >", "text/html", False),
    (b"<!DOCTYPE html><html><body><h1>x</h1><div class=", "text/html; charset=utf-8", True),
    (b"<html><head><title>x</title>", None, True),
    (b'{"price": 1}', "application/json", False),
    (b"<div>a fragment</div>", "text/html", False),
])
def test_a_page_that_stops_before_its_end_is_cut_off(body, content_type, cut):
    assert looks_cut_off(body, content_type) is cut


# ------------------------------------------------------------------ findings are untouched


@pytest.mark.parametrize("kind", PAGE_FAULTS)
def test_a_failing_page_neither_raises_nor_resolves_its_finding(store, ledger, clock, canary,
                                                                kind):
    """The promoted jacket drops under its floor on JACKET_DROP_DAY and is back on
    JACKET_RESTORE_DAY: a fault on its page must hide neither fact as a change."""
    contract = CONTRACT.with_base_url(store.url)
    jacket = page_url(store, scenario.JACKET_SKU)
    config = config_for(store, [jacket, page_url(store, scenario.SOFA_SKU)],
                        page_timeout_s=0.5, retries=1)
    store.timeout_seconds, store.retry_after, store.offsite_url = 5, "0", canary.url + "/"
    below_floor = ("prices.below_floor", scenario.JACKET_SKU)

    def night(day: int, fault: str | None):
        store.day = day
        store.faults.clear()
        if fault:
            store.faults[path_of(store, jacket)] = fault
        clock.set(datetime.combine(scenario.date_of(day), datetime.min.time(), timezone.utc)
                  + timedelta(hours=2))
        outcome = run_audit(contract, ledger, catalog=CATALOG, config=config)
        snaps = {s.url: s for s in ledger.run_snapshots(outcome.run.id)}
        return snaps[jacket], {(f.rule_id, f.sku): f for f in ledger.findings(status="open")}

    snap, open_ = night(scenario.JACKET_DROP_DAY, kind)
    assert not snap.ok and snap.price is None
    assert below_floor not in open_, "a page that could not be read raises nothing"

    snap, open_ = night(scenario.JACKET_DROP_DAY, None)
    assert snap.ok and below_floor in open_
    raised = open_[below_floor]

    snap, open_ = night(scenario.JACKET_RESTORE_DAY, kind)
    assert not snap.ok
    assert below_floor in open_, "a page that could not be read resolves nothing"
    assert open_[below_floor].id == raised.id and open_[below_floor].last_seen == raised.last_seen

    snap, open_ = night(scenario.JACKET_RESTORE_DAY, None)
    assert snap.ok and below_floor not in open_
    assert canary.hits == []


# ------------------------------------------------------------------ crawl.incomplete


def test_many_failing_pages_make_the_crawl_incomplete(store, ledger, canary):
    """A full audit (sitemap discovery, every listing) with a different fault on each of 8
    of the 60 listings: over the 10 % the demo contract allows."""
    contract = CONTRACT.with_base_url(store.url)
    victims = [p for p in store.live_products() if p.page_style != "jsprice"][:len(PAGE_FAULTS)]
    for product, kind in zip(victims, PAGE_FAULTS):
        store.faults[f"/p/{product.slug}"] = kind
    store.timeout_seconds, store.retry_after, store.offsite_url = 10, "0", canary.url + "/"
    config = replace(contract.crawl_config(), retry_backoff_s=0.01, page_timeout_s=3,
                     recheck_share=0)

    outcome = run_audit(contract, ledger, catalog=CATALOG, config=config)

    assert (outcome.run.pages_ok, outcome.run.pages_failed) == (
        len(store.live_products()) - len(victims), len(victims))
    [incomplete] = ledger.findings(rule_id="crawl.incomplete", status="open")
    failed = {f["url"]: f["error"] for f in incomplete.evidence["failed_pages"]}
    assert set(failed) == {f"{store.url}/p/{p.slug}" for p in victims}
    assert all(failed.values())
    victim_skus = {p.sku for p in victims}
    assert not [f for f in ledger.findings(status="open") if f.sku in victim_skus]
    assert canary.hits == []


def test_a_store_listing_more_than_the_crawl_reads_is_told_not_silently_cut(store, ledger):
    """The contract lets a crawl read 20 listing pages; the store's sitemap lists 60. The
    audit reads 20 and says, as a finding, that the others were not read (a store bigger
    than expected, or one padding its sitemap so its newest listings come past the end)."""
    contract = CONTRACT.with_base_url(store.url)
    listed = len(store.live_products())
    config = replace(contract.crawl_config(), max_pages=20, recheck_share=0)

    outcome = run_audit(contract, ledger, catalog=CATALOG, config=config)

    assert outcome.run.pages_ok + outcome.run.pages_failed == 20
    assert outcome.run.listings_not_read == listed - 20 > 0
    [cut] = [f for f in ledger.findings(rule_id="crawl.incomplete", status="open")
             if f.fingerprint == "max_pages"]
    assert cut.message.startswith(f"The store lists {listed - 20:,} more listing pages than "
                                  "a crawl reads (the contract's [crawl] max_pages)")
    assert cut.evidence["listings_not_read"] == listed - 20

    # Raised to the store's size: the next audit reads everything and the finding is over.
    run_audit(contract, ledger, catalog=CATALOG,
              config=replace(config, max_pages=listed + 10))
    assert [f.status for f in ledger.findings(rule_id="crawl.incomplete")
            if f.fingerprint == "max_pages"] == ["resolved"]


# ------------------------------------------------------------------ nothing off the store


@pytest.mark.parametrize("render", ["auto", "always"])
@pytest.mark.parametrize("target", ["other port", "other host name", "file"])
def test_a_redirect_off_the_store_is_refused_and_never_followed(store, canary, render, target):
    store.offsite_url = {
        "other port": canary.url + "/admin?delete=1",
        "other host name": f"http://localhost:{canary.port}/admin",
        "file": "file:///etc/passwd",
    }[target]
    url = page_url(store, plain_product(store))
    store.faults[path_of(store, url)] = "offsite"

    snap = only_snapshot(crawl_sync(config_for(store, [url], render=render, page_timeout_s=5)))

    # (httpx writes the host into a file: address that has none)
    shown = store.offsite_url.replace("file:///", "file://127.0.0.1/") if render == "auto" \
        else store.offsite_url
    assert snap.error.startswith(f"redirected to {shown}, not followed")
    assert snap.title is None and store.path_hits[path_of(store, url)] == 1
    assert canary.hits == []


@pytest.mark.parametrize("render", ["auto", "always"])
def test_a_listing_address_off_the_store_is_never_fetched(store, canary, render):
    urls = [canary.url + "/p/elsewhere", f"http://localhost:{canary.port}/p/x",
            "file:///etc/passwd"]
    result = crawl_sync(config_for(store, urls, render=render))
    assert [s.ok for s in result.snapshots] == [False, False, False]
    assert all(s.error.startswith("not fetched: ") for s in result.snapshots)
    assert canary.hits == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/html,<h1>x</h1>",
                                 "javascript:alert(1)", "http://user:pw@shop.test/p/a",
                                 "http://shop.test:8080/p/a", "http://127.0.0.1/p/a",
                                 "https://shop.test/p/a"])
def test_addresses_off_the_store_are_refused(url):
    assert refusal(url, frozenset({"http://shop.test"}))


def test_an_address_on_the_store_is_allowed():
    assert refusal("http://SHOP.test/p/a?x=1", frozenset({"http://shop.test"})) is None


def hostile_store(canary_url: str):
    """A store whose pages point everywhere but at itself: a sitemap naming the loopback
    service, a listing whose image, script, WebSocket and navigation go there."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    def sitemap(request):
        base = str(request.base_url).rstrip("/")
        locs = [f"{base}/p/a", f"{canary_url}/p/stolen", "file:///p/etc"]
        body = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{u}</loc></url>" for u in locs) + "</urlset>")
        return Response(body, media_type="application/xml")

    def product(request):
        leave = request.path_params["name"] == "leaving"
        return HTMLResponse(f"""<!DOCTYPE html><html><head><title>Tent</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Product",
 "name": "Tent", "sku": "T-1", "image": ["{canary_url}/img/1.jpg"],
 "offers": {{"@type": "Offer", "price": "99.00", "priceCurrency": "CNY",
 "availability": "https://schema.org/InStock"}}}}</script>
<script src="{canary_url}/track.js"></script></head>
<body><h1 class="product-title">Tent</h1><span class="price">¥99.00</span>
<script>try {{ new WebSocket("{canary_url.replace('http', 'ws')}/live"); }} catch (e) {{}}
{f'location.href = "{canary_url}/login";' if leave else ''}</script>
</body></html>""")

    return Starlette(routes=[Route("/sitemap.xml", sitemap), Route("/p/{name}", product)])


@pytest.mark.parametrize("render", ["auto", "always"])
def test_nothing_a_page_or_sitemap_names_off_the_store_is_fetched(canary, render):
    with serve(hostile_store(canary.url)) as base:
        config = replace(CrawlConfig(base, default_currency="CNY"), render=render,
                         recheck_share=0, retry_backoff_s=0.01)
        result = crawl_sync(config)

    assert result.listing_urls == [f"{base}/p/a"]
    snap = only_snapshot(result)
    assert snap.ok and snap.price is not None
    [image] = snap.image_urls
    assert "not one of the store's origins" in result.images[image].error
    time.sleep(0.2)  # a connection the browser might have started would have arrived
    assert canary.hits == []


def test_a_page_that_navigates_off_the_store_is_not_followed(canary):
    with serve(hostile_store(canary.url)) as base:
        config = CrawlConfig(base, urls=["/p/leaving"], render="always", retries=0)
        snap = only_snapshot(crawl_sync(config))
    assert snap.error.startswith(f"the page went to {canary.url}/login, not followed")
    assert canary.hits == []


def _jacket_redirected_to(store, canary):
    """The contract for the store, and the jacket's page, which now redirects to the canary."""
    url = page_url(store, scenario.JACKET_SKU)
    store.faults[path_of(store, url)] = "offsite"
    store.offsite_url = canary.url + "/internal/admin"
    return CONTRACT.with_base_url(store.url), url


def test_a_spot_check_cannot_be_redirected_to_a_loopback_service(store, ledger, canary):
    contract, url = _jacket_redirected_to(store, canary)

    outcome = run_spot_check(contract, ledger, [url])

    [snap] = ledger.run_snapshots(outcome.run.id)
    assert snap.error.startswith(f"redirected to {canary.url}/internal/admin, not followed")
    assert canary.hits == []


def test_a_spot_check_through_the_api_cannot_leave_the_store(store, ledger, canary):
    contract, url = _jacket_redirected_to(store, canary)
    merchant, _ = ledger.create_token("Merchant Li", "merchant")
    settings = ApiSettings(db_path=ledger.path, contract_path=contract.path)
    headers = {"Authorization": f"Bearer {merchant}"}

    with serve(create_app(settings, contract=contract)) as api:
        started = httpx.post(api + "/api/spot-checks", json={"url": url}, headers=headers,
                             timeout=30)
        assert started.status_code == 202
        run_id = started.json()["run"]["id"]
        deadline = time.monotonic() + 30
        while (state := httpx.get(f"{api}/api/spot-checks/{run_id}", headers=headers,
                                  timeout=30).json())["run"]["status"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)

    assert state["run"]["pages_failed"] == 1 and state["findings"] == []
    [snap] = ledger.run_snapshots(run_id)
    assert "not one of the store's origins" in snap.error
    assert canary.hits == []
