"""The sample store: catalog, scenario timeline, pages, faults and images, over plain HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from PIL import Image

from demostore import catalog, images, scenario
from demostore.__main__ import main as demostore_main
from demostore.app import DemoStore
from demostore.catalog import build_products, catalog_csv_text, write_catalog_csv
from demostore.scenario import (
    FORBIDDEN_TERM,
    FORBIDDEN_TERM_SKU,
    INFRINGING_IMAGE_PATH,
    INFRINGING_SKU,
    JACKET_SKU,
    LONG_TITLE_SKU,
    OUT_OF_STOCK_SKU,
    REMOVED_SKU,
    SOFA_SKU,
    state_on,
)
from demostore.server import run_in_thread

# --------------------------------------------------------------------------- helpers


def by_sku(products):
    return {p.sku: p for p in products}


def text_of(html: str, pattern: str) -> str | None:
    m = re.search(pattern, html, re.S)
    return m.group(1).strip() if m else None


def title_of(html):
    return text_of(html, r'<h1 class="product-title"[^>]*>(.*?)</h1>')


def price_of(html):
    return text_of(html, r'<span class="price">(.*?)</span>')


def stock_of(html):
    m = re.search(r'<div class="stock" data-availability="(\w+)">(.*?)</div>', html)
    return (m.group(1), m.group(2)) if m else None


def gallery_of(html):
    block = text_of(html, r'<div class="gallery">(.*?)</div>')
    return re.findall(r'<img src="([^"]+)"', block or "")


def jsonld_of(html):
    raw = text_of(html, r'<script type="application/ld\+json">(.*?)</script>')
    return json.loads(raw) if raw else None


def sitemap_locs(xml: str) -> list[str]:
    return re.findall(r"<loc>(.*?)</loc>", xml)


def card_skus(html: str) -> list[str]:
    return re.findall(r'<article class="product-card" data-sku="([^"]+)"', html)


def slug(sku: str, size: int = 60) -> str:
    return by_sku(build_products(size))[sku].slug


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def served():
    store = DemoStore()
    with run_in_thread(store) as running:
        yield running


@pytest.fixture()
def shop(served):
    """(store, httpx client) with the store reset to day 0 and no faults."""
    store = served.store
    store.day = 0
    store.faults.clear()
    store.timeout_seconds = 30
    store.reset_counters()
    with httpx.Client(base_url=served.url, timeout=10) as client:
        yield store, client
    store.faults.clear()
    store.day = 0


# --------------------------------------------------------------------------- catalog


def test_build_products_is_deterministic():
    a, b = build_products(), build_products()
    assert a == b
    assert len(a) == 60
    assert a is not b and a[0] is not b[0]  # fresh copies
    a[0].title = "changed"
    assert build_products()[0].title != "changed"


def test_seed_changes_the_store_but_not_the_anchor_listings():
    a, b = by_sku(build_products(seed=7)), by_sku(build_products(seed=8))
    assert any(a[s].title != b[s].title for s in a)
    for sku in (JACKET_SKU, SOFA_SKU, INFRINGING_SKU, OUT_OF_STOCK_SKU, REMOVED_SKU, FORBIDDEN_TERM_SKU):
        assert a[sku] == b[sku]


def test_size_2000_builds_fast_and_extends_the_small_store():
    started = time.perf_counter()
    big = build_products(2000, seed=991)  # a seed nothing else uses: not cached
    assert time.perf_counter() - started < 1.0
    assert len(big) == 2000
    assert len({p.sku for p in big}) == 2000
    assert len({p.slug for p in big}) == 2000
    assert big[:60] == build_products(60, seed=991)


def test_catalog_shape():
    products = build_products()
    assert [p.sku for p in products] == [f"SH-{i:04d}" for i in range(1, 61)]
    styles = [p.page_style for p in products]
    for style in catalog.PAGE_STYLES:
        assert styles.count(style) >= 4, style
    assert set(p.category for p in products) == set(catalog.CATEGORIES)
    assert len({p.title for p in products}) == 60
    assert sum(p.title.isascii() for p in products) >= 8  # some English titles
    assert sum(not p.title.isascii() for p in products) >= 30  # most Chinese
    assert any(re.search(r"[A-Za-z]{3}", p.title) and not p.title.isascii() for p in products)  # mixed
    exts = set()
    for p in products:
        assert 2 <= p.image_count <= 5
        assert len(p.images) == p.image_count
        assert p.images == [f"/img/{p.sku}/{i}.{p.images[i - 1].rsplit('.', 1)[1]}"
                            for i in range(1, p.image_count + 1)]
        exts |= {src.rsplit(".", 1)[1] for src in p.images}
        assert len(p.title) <= 60 and FORBIDDEN_TERM not in p.title
        assert p.price > 0 and p.cost > 0 and p.reference_price > 0
        assert p.list_price is None or p.list_price > p.price
        if p.promoted:  # the baseline keeps the contract
            assert p.price >= Decimal("1.5") * p.cost
            assert p.stock > 5
        assert p.price >= p.reference_price * Decimal("0.7")
        assert not p.removed
    assert exts == {"jpg", "png"}
    promoted = sum(p.promoted for p in products)
    assert 6 <= promoted <= 15
    assert sum(p.promoted != p.catalog_promoted for p in products) <= 3


def test_anchor_values():
    p = by_sku(build_products())
    jacket = p[JACKET_SKU]
    assert jacket.promoted and jacket.catalog_promoted
    assert jacket.price == Decimal("299.00") and jacket.cost == Decimal("160.00")
    assert p[SOFA_SKU].reference_price == Decimal("4999.00") and p[SOFA_SKU].title == "Nordic Linen 3-Seater Sofa"
    assert p[OUT_OF_STOCK_SKU].promoted and p[OUT_OF_STOCK_SKU].stock > 5
    assert p[JACKET_SKU].title == "山禾 加厚连帽羽绒服 男款冬季保暖外套"


def test_catalog_csv_file_matches_the_generator(tmp_path):
    shipped = Path(catalog.__file__).with_name("catalog.csv")
    raw = shipped.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8") == catalog_csv_text(60)
    lines = raw.decode().splitlines()
    assert lines[0] == "sku,cost,reference_price,promoted,category"
    assert lines[1] == "SH-0001,160.00,299.00,yes,apparel"
    assert len(lines) == 61
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(row) == 5 for row in rows)
    assert {row[3] for row in rows} == {"yes", "no"}
    products = {p.sku: p for p in build_products(60)}
    assert all(row[4] == products[row[0]].category for row in rows)
    assert {row[4] for row in rows} == set(catalog.CATEGORIES)
    out = write_catalog_csv(tmp_path / "c.csv", 60)
    assert out.read_bytes() == raw
    assert demostore_main(["export-catalog", str(tmp_path / "big.csv"), "--size", "100"]) == 0
    assert len((tmp_path / "big.csv").read_text().splitlines()) == 101


# --------------------------------------------------------------------------- scenario


def test_scenario_events_land_on_their_days():
    assert scenario.DAYS == 14
    assert all(1 <= e.day <= 12 for e in scenario.EVENTS)
    assert len({e.day for e in scenario.EVENTS}) >= 10
    renames = [e for e in scenario.EVENTS if e.kind == "rename"]
    assert 10 <= len(renames) <= 15
    assert len({e.sku for e in scenario.EVENTS}) <= 16  # most listings untouched all fortnight
    assert all(e.description for e in scenario.EVENTS)
    assert scenario.events_on(0) == [] and scenario.events_on(13) == []
    for day in range(scenario.DAYS):
        assert all(e.day == day for e in scenario.events_on(day))

    def at(day, sku):
        return by_sku(state_on(day))[sku]

    assert [at(d, JACKET_SKU).price for d in range(14)] == (
        [Decimal("299.00")] * 2 + [Decimal("199.00")] * 6 + [Decimal("299.00")] * 6)
    assert at(2, JACKET_SKU).price < Decimal("1.5") * at(2, JACKET_SKU).cost
    assert at(3, SOFA_SKU).price == Decimal("4999.00")
    for d in range(4, 14):
        sofa = at(d, SOFA_SKU)
        assert sofa.price == Decimal("2999.00") and sofa.reference_price == Decimal("4999.00")
        assert sofa.price <= sofa.reference_price * Decimal("0.6")
    assert [at(d, OUT_OF_STOCK_SKU).stock for d in (4, 5, 6, 7, 13)] == [40, 3, 3, 0, 0]
    assert all(at(d, OUT_OF_STOCK_SKU).promoted for d in range(14))
    assert [at(d, REMOVED_SKU).removed for d in (8, 9, 13)] == [False, True, True]
    assert INFRINGING_IMAGE_PATH not in at(5, INFRINGING_SKU).images
    assert at(6, INFRINGING_SKU).images[-1] == INFRINGING_IMAGE_PATH
    assert at(6, INFRINGING_SKU).image_count == 4
    assert [FORBIDDEN_TERM in at(d, FORBIDDEN_TERM_SKU).title for d in (2, 3, 9, 10, 13)] == [
        False, True, True, False, False]
    assert len(at(6, LONG_TITLE_SKU).title) <= 60 < len(at(7, LONG_TITLE_SKU).title)
    keyworded = [p for p in state_on(13) if any(k in p.title for k in ("2026新款", "包邮"))]
    assert len(keyworded) >= 5


def test_state_on_returns_fresh_copies_and_scales():
    a = state_on(5)
    a[0].price = Decimal("1")
    assert state_on(5)[0].price != Decimal("1")
    big = by_sku(state_on(9, size=2000))
    assert len(big) == 2000
    assert big[REMOVED_SKU].removed and big[SOFA_SKU].price == Decimal("2999.00")
    with pytest.raises(ValueError):
        state_on(14)


# --------------------------------------------------------------------------- pages


def test_home_has_featured_promoted_cards_and_late_cards(shop):
    store, client = shop
    r = client.get("/")
    assert r.status_code == 200 and "山禾生活旗舰店" in r.text
    featured = text_of(r.text, r'<section class="shelf featured"[^>]*>(.*?)</section>')
    promoted = {p.sku for p in store.products() if p.promoted}
    assert set(card_skus(featured)) == promoted
    assert featured.count('<span class="badge badge-promoted">推广</span>') == len(promoted)
    for slug_ in catalog.CATEGORIES:
        assert f'href="/c/{slug_}"' in r.text
    assert 'data-src="/api/recommend?n=8"' in r.text and "/static/store.js" in r.text
    rec = client.get("/api/recommend?n=8").json()["items"]
    assert len(rec) == 8 and all(item["url"].startswith("/p/") for item in rec)
    assert client.get("/static/store.js").status_code == 200
    css = client.get("/static/store.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_product_page_contract_per_style(shop):
    store, client = shop
    base = str(client.base_url).rstrip("/")
    seen = set()
    for p in store.products():
        if p.page_style in seen:
            continue
        seen.add(p.page_style)
        html = client.get(f"/p/{p.slug}").text
        assert title_of(html) == p.title
        assert '<span class="sku">商品编号: ' in html and p.sku in text_of(html, r'<span class="sku">(.*?)</p>')
        assert gallery_of(html) == p.images
        assert stock_of(html) == (p.availability, p.stock_text)
        assert ('<span class="badge badge-promoted">推广</span>' in html) == p.promoted
        if p.list_price:
            assert f'<del class="list-price">{catalog.format_price(p.list_price)}</del>' in html
        og_price = f'<meta property="product:price:amount" content="{catalog.plain_price(p.price)}">'
        assert '<meta property="og:title" content="' in html
        ld = jsonld_of(html)
        if p.page_style == "jsonld":
            assert ld["@type"] == "Product" and ld["sku"] == p.sku and ld["name"] == p.title
            assert ld["image"] == [base + src for src in p.images]
            assert ld["offers"]["price"] == catalog.plain_price(p.price)
            assert ld["offers"]["priceCurrency"] == "CNY"
            assert ld["offers"]["availability"] == f"https://schema.org/{p.availability}"
            assert price_of(html) == catalog.format_price(p.price)
        elif p.page_style == "microdata":
            assert ld is None
            assert 'itemtype="https://schema.org/Product"' in html and 'itemtype="https://schema.org/Offer"' in html
            assert f'<meta itemprop="price" content="{catalog.plain_price(p.price)}">' in html
            assert '<meta itemprop="priceCurrency" content="CNY">' in html
            assert f'<link itemprop="availability" href="https://schema.org/{p.availability}">' in html
            assert f'<span itemprop="sku">{p.sku}</span>' in html
            assert price_of(html) == catalog.format_price(p.price)
        elif p.page_style == "plain":
            assert ld is None and "itemprop" not in html
            assert og_price in html and '<meta property="product:price:currency" content="CNY">' in html
            assert price_of(html) == catalog.format_price(p.price)
        else:  # jsprice
            assert ld is None and "itemprop" not in html and "product:price" not in html
            assert '<span class="price" data-js-price></span>' in html
            assert "/api/price/" in html and "setTimeout" in html
            api = client.get(f"/api/price/{p.sku}").json()
            assert api["display"] == catalog.format_price(p.price) and api["price"] == catalog.plain_price(p.price)
    assert seen == set(catalog.PAGE_STYLES)


def test_price_format_and_stock_texts():
    assert catalog.format_price(Decimal("1299")) == "¥1,299.00"
    assert catalog.format_price(Decimal("39.9")) == "¥39.90"
    p = build_products()[0].copy()
    p.stock, p.shows_stock_count = 0, True
    assert (p.availability, p.stock_text) == ("OutOfStock", "缺货")
    p.stock = 5
    assert (p.availability, p.stock_text) == ("LimitedAvailability", "仅剩 5 件")
    p.stock = 6
    assert p.stock_text == "库存 6 件"
    p.shows_stock_count = False
    assert (p.availability, p.stock_text) == ("InStock", "有货")


def test_jacket_price_over_the_fortnight(shop):
    store, client = shop
    path = f"/p/{slug(JACKET_SKU)}"
    seen = {}
    for day in (0, 1, 2, 7, 8, 13):
        store.day = day
        html = client.get(path).text
        seen[day] = (price_of(html), jsonld_of(html)["offers"]["price"])
    assert seen == {0: ("¥299.00", "299.00"), 1: ("¥299.00", "299.00"), 2: ("¥199.00", "199.00"),
                    7: ("¥199.00", "199.00"), 8: ("¥299.00", "299.00"), 13: ("¥299.00", "299.00")}


def test_sofa_discount_and_renames_show_on_pages(shop):
    store, client = shop
    store.day = 4
    html = client.get(f"/p/{slug(SOFA_SKU)}").text
    assert price_of(html) == "¥2,999.00"
    assert '<meta itemprop="price" content="2999.00">' in html
    store.day = 3
    assert FORBIDDEN_TERM in title_of(client.get(f"/p/{slug(FORBIDDEN_TERM_SKU)}").text)
    store.day = 10
    assert FORBIDDEN_TERM not in title_of(client.get(f"/p/{slug(FORBIDDEN_TERM_SKU)}").text)
    store.day = 7
    assert len(title_of(client.get(f"/p/{slug(LONG_TITLE_SKU)}").text)) > 60


def test_removed_listing_404s_and_leaves_sitemap_and_category(shop):
    store, client = shop
    removed = by_sku(store.products())[REMOVED_SKU]
    url_path = f"/p/{removed.slug}"

    def category_cards():
        skus, page = [], 1
        while True:
            r = client.get(f"/c/{removed.category}?page={page}")
            assert r.status_code == 200
            skus += card_skus(r.text)
            if 'rel="next"' not in r.text:
                return skus
            page += 1

    store.day = scenario.REMOVED_DAY - 1
    assert client.get(url_path).status_code == 200
    assert any(loc.endswith(url_path) for loc in sitemap_locs(client.get("/sitemap.xml").text))
    assert REMOVED_SKU in category_cards()

    store.day = scenario.REMOVED_DAY
    r = client.get(url_path)
    assert r.status_code == 404 and "下架" in r.text
    assert not any(loc.endswith(url_path) for loc in sitemap_locs(client.get("/sitemap.xml").text))
    assert REMOVED_SKU not in category_cards()
    assert client.get(f"/api/price/{REMOVED_SKU}").status_code == 404
    assert store.product(REMOVED_SKU).removed


def test_a_hidden_listing_is_served_but_listed_nowhere(shop):
    store, client = shop
    hidden = by_sku(store.products())[scenario.HIDDEN_SKU]
    url_path = f"/p/{hidden.slug}"

    def listed() -> list[bool]:
        r = client.get(f"/c/{hidden.category}?page=1")
        pages = [r.text] + [client.get(f"/c/{hidden.category}?page={n}").text
                            for n in range(2, 1 + r.text.count("?page="))]
        return [any(loc.endswith(url_path)
                    for loc in sitemap_locs(client.get("/sitemap.xml").text)),
                any(scenario.HIDDEN_SKU in card_skus(t) for t in pages),
                scenario.HIDDEN_SKU in card_skus(client.get("/").text)]

    store.day = scenario.HIDDEN_DAY - 1
    assert listed()[:2] == [True, True]
    store.day = scenario.HIDDEN_DAY
    assert listed() == [False, False, False]
    r = client.get(url_path)
    assert r.status_code == 200 and title_of(r.text) == store.product(scenario.HIDDEN_SKU).title


def test_out_of_stock_promoted_item(shop):
    store, client = shop
    path = f"/p/{slug(OUT_OF_STOCK_SKU)}"
    expected = {4: ("InStock", "库存 40 件"), 5: ("LimitedAvailability", "仅剩 3 件"),
                7: ("OutOfStock", "缺货")}
    for day, stock in expected.items():
        store.day = day
        html = client.get(path).text
        assert stock_of(html) == stock
        assert '<span class="badge badge-promoted">推广</span>' in html
    featured = text_of(client.get("/").text, r'<section class="shelf featured"[^>]*>(.*?)</section>')
    assert OUT_OF_STOCK_SKU in card_skus(featured)  # still promoted on the home page


def test_infringing_image_served_from_its_day(shop):
    store, client = shop
    path = f"/p/{slug(INFRINGING_SKU)}"
    store.day = 5
    assert INFRINGING_IMAGE_PATH not in gallery_of(client.get(path).text)
    store.day = 6
    assert gallery_of(client.get(path).text)[-1] == INFRINGING_IMAGE_PATH
    r = client.get(INFRINGING_IMAGE_PATH)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == images.altered_copy(scenario.INFRINGING_ORIGINAL)
    original = dict(images.infringing_originals())[scenario.INFRINGING_ORIGINAL]
    served = Image.open(io.BytesIO(r.content))
    assert served.size == (round(original.width * 0.9), round(original.height * 0.9))


def test_category_pagination(shop):
    store, client = shop
    live = [p for p in store.products() if not p.removed]
    apparel = [p.sku for p in live if p.category == "apparel"]
    assert len(apparel) > 12
    first = client.get("/c/apparel").text
    assert card_skus(first) == apparel[:12]
    assert '<a rel="next" href="/c/apparel?page=2">' in first and 'rel="prev"' not in first
    second = client.get("/c/apparel?page=2").text
    assert card_skus(second) == apparel[12:24]
    assert '<a rel="prev" href="/c/apparel?page=1">' in second
    assert '<span class="current" aria-current="page">2</span>' in second
    assert client.get("/c/apparel?page=99").status_code == 404
    assert client.get("/c/no-such-category").status_code == 404
    everything = []
    for c in catalog.CATEGORIES:
        page = 1
        while True:
            html = client.get(f"/c/{c}?page={page}").text
            everything += card_skus(html)
            if 'rel="next"' not in html:
                break
            page += 1
    assert sorted(everything) == sorted(p.sku for p in live)


def test_sitemap_and_robots(shop):
    store, client = shop
    base = str(client.base_url).rstrip("/")
    xml = client.get("/sitemap.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    locs = sitemap_locs(xml.text)
    products = [loc for loc in locs if "/p/" in loc]
    assert sorted(products) == sorted(base + p.url_path for p in store.products())
    assert all(loc.startswith(base + "/") for loc in locs)
    assert {base + f"/c/{c}" for c in catalog.CATEGORIES} <= set(locs)
    assert xml.text.count("<lastmod>") == len(locs)
    store.day = 8
    lastmod = re.search(rf"<loc>{re.escape(base + '/p/' + slug(JACKET_SKU))}</loc><lastmod>([\d-]+)</lastmod>",
                        client.get("/sitemap.xml").text).group(1)
    assert lastmod == scenario.date_of(8).isoformat()
    robots = client.get("/robots.txt").text
    assert f"Sitemap: {base}/sitemap.xml" in robots


def test_unknown_pages_404(shop):
    _, client = shop
    assert client.get("/p/no-such-thing").status_code == 404
    assert client.get("/nowhere").status_code == 404
    assert client.get("/img/SH-9999/1.jpg").status_code == 404
    assert client.get("/img/SH-0001/9.jpg").status_code == 404
    assert client.get("/img/SH-0001/1.gif").status_code == 404


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("kind,status", [("500", 500), ("503", 503), ("429", 429), ("404", 404)])
def test_status_faults(shop, kind, status):
    store, client = shop
    path = f"/p/{slug(JACKET_SKU)}"
    store.faults[path] = kind
    r = client.get(path)
    assert r.status_code == status
    assert 'class="product-title"' not in r.text
    if kind in ("503", "429"):
        assert r.headers["retry-after"] == "1"
    del store.faults[path]
    assert client.get(path).status_code == 200


def test_halfpage_and_captcha_faults(shop):
    store, client = shop
    path = f"/p/{slug(JACKET_SKU)}"
    store.faults[path] = "halfpage"
    r = client.get(path)
    assert r.status_code == 200
    assert 'class="product-title"' in r.text
    assert price_of(r.text) is None and "</html>" not in r.text and "ld+json" not in r.text
    assert int(r.headers["content-length"]) == len(r.content)
    store.faults[path] = "captcha"
    r = client.get(path)
    assert r.status_code == 200 and "安全验证" in r.text
    assert 'class="product-title"' not in r.text and 'class="price"' not in r.text
    store.faults["/sitemap.xml"] = "halfpage"
    xml = client.get("/sitemap.xml").text
    assert "</urlset>" not in xml


def test_timeout_fault_hangs(shop):
    store, client = shop
    path = f"/p/{slug(SOFA_SKU)}"
    store.faults[path] = "timeout"
    store.timeout_seconds = 3
    started = time.perf_counter()
    with pytest.raises(httpx.TimeoutException):
        client.get(path, timeout=0.5)
    assert time.perf_counter() - started < 2
    store.timeout_seconds = 0.2
    r = client.get(path, timeout=5)
    assert r.status_code == 504
    # other pages are not held up
    assert client.get(f"/p/{slug(JACKET_SKU)}", timeout=2).status_code == 200


def test_stop_is_prompt_with_hanging_requests():
    store = DemoStore()
    store.faults["/"] = "timeout"  # hangs 30 s
    running = run_in_thread(store)
    errors = []

    def hang():
        try:
            httpx.get(running.url + "/", timeout=60)
        except Exception as exc:  # the server going away is expected
            errors.append(exc)

    t = threading.Thread(target=hang, daemon=True)
    t.start()
    time.sleep(0.3)
    started = time.perf_counter()
    running.stop()
    assert time.perf_counter() - started < 5
    assert not running.thread.is_alive()
    t.join(5)


# --------------------------------------------------------------------------- images


def test_image_etag_and_304(shop):
    store, client = shop
    src = build_products()[0].images[0]
    r = client.get(src)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    etag = r.headers["etag"]
    assert etag == '"' + hashlib.sha256(r.content).hexdigest() + '"'
    assert "max-age" in r.headers["cache-control"]
    again = client.get(src, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(src, headers={"If-None-Match": 'W/"nope", ' + etag}).status_code == 304
    assert client.get(src, headers={"If-None-Match": '"other"'}).status_code == 200
    assert store.hits["/img"] == 4 and store.hits["/img:304"] == 2 and store.hits["/img:200"] == 2
    assert store.path_hits[src] == 4
    png = next(p for p in build_products() for s in p.images if s.endswith(".png"))
    png_src = next(s for s in png.images if s.endswith(".png"))
    r = client.get(png_src)
    assert r.headers["content-type"] == "image/png" and r.content.startswith(b"\x89PNG")


def test_product_images_are_deterministic_distinct_and_real():
    a = images.product_image("SH-0001", 1, "jpg", "apparel")
    assert a == images.product_image("SH-0001", 1, "jpg", "apparel")
    assert a.startswith(b"\xff\xd8")
    im = Image.open(io.BytesIO(a))
    assert im.size == (480, 480) and im.format == "JPEG"
    assert len(im.convert("RGB").resize((64, 64)).getcolors(64 * 64)) > 500  # not flat
    blobs = {images.product_image(f"SH-{i:04d}", n, "jpg") for i in range(1, 6) for n in range(1, 4)}
    assert len(blobs) == 15
    png = images.product_image("SH-0001", 3, "png", "apparel")
    assert Image.open(io.BytesIO(png)).format == "PNG"
    with pytest.raises(ValueError):
        images.product_image("SH-0001", 1, "gif")


def test_infringing_originals_and_registry_export(tmp_path):
    originals = images.infringing_originals()
    assert len(originals) >= 3 and len({n for n, _ in originals}) == len(originals)
    assert scenario.INFRINGING_ORIGINAL in dict(originals)
    for name, im in originals:
        small = im.convert("RGB").resize((96, 72))
        assert len(small.getcolors(96 * 72)) > 2000, name  # photo-like, not flat
    copy = Image.open(io.BytesIO(images.altered_copy(scenario.INFRINGING_ORIGINAL)))
    assert copy.format == "JPEG"
    paths = images.export_registry(tmp_path / "registry")
    assert len(paths) == len(originals)
    for path in paths:
        assert path.exists() and Image.open(path).size == images.ORIGINAL_SIZE
    assert demostore_main(["export-registry", str(tmp_path / "reg2")]) == 0
    assert len(list((tmp_path / "reg2").glob("*.jpg"))) == len(originals)


def test_altered_copy_is_perceptually_close_and_listings_are_not():
    imagehash = pytest.importorskip("imagehash")
    for name, original in images.infringing_originals():
        copy = Image.open(io.BytesIO(images.altered_copy(name)))
        assert imagehash.phash(original) - imagehash.phash(copy) <= 4, name
        assert hashlib.sha256(images.altered_copy(name)).hexdigest() != hashlib.sha256(
            original.tobytes()).hexdigest()
    registry = [imagehash.phash(im) for _, im in images.infringing_originals()]
    for p in build_products()[:12]:
        for n, src in enumerate(p.images, 1):
            h = imagehash.phash(Image.open(io.BytesIO(images.product_image(p.sku, n, src.rsplit(".", 1)[1],
                                                                           p.category))))
            assert min(h - r for r in registry) > 12, src


# --------------------------------------------------------------------------- untrusted titles


def test_hostile_titles_are_escaped():
    assert all(p.title not in catalog.HOSTILE_TITLES.values() for p in DemoStore().products())
    store = DemoStore(hostile_titles=True)
    with run_in_thread(store) as running, httpx.Client(base_url=running.url) as client:
        products = by_sku(store.products())
        for sku, title in catalog.HOSTILE_TITLES.items():
            assert products[sku].title == title
            html = client.get(products[sku].url_path).text
            assert title not in html
            assert "alert(1)" in html  # it is there, as text
            assert "&lt;" in title_of(html)
            assert "<script>alert(1)" not in html and "<img src=x" not in html
            if products[sku].page_style == "jsonld":
                assert jsonld_of(html)["name"] == title
        for page in ("/", "/c/outdoor", "/search?q=alert"):
            html = client.get(page).text
            assert "<script>alert(1)" not in html and "<img src=x" not in html
        cards = client.get("/search?q=alert").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cards


# --------------------------------------------------------------------------- a big store


def test_a_2000_listing_store_serves(tmp_path):
    store = DemoStore(size=2000, day=9)
    with run_in_thread(store) as running, httpx.Client(base_url=running.url) as client:
        locs = sitemap_locs(client.get("/sitemap.xml").text)
        assert len([loc for loc in locs if "/p/" in loc]) == 1998  # one removed, one hidden
        last = store.product("SH-2000")
        assert client.get(last.url_path).status_code == 200
        assert client.get(f"/p/{slug(REMOVED_SKU, 2000)}").status_code == 404
        # The camp chair is hidden (not in the sitemap) and still served.
        assert not any(slug(LONG_TITLE_SKU, 2000) in loc for loc in locs)
        assert client.get(f"/p/{slug(LONG_TITLE_SKU, 2000)}").status_code == 200
        assert price_of(client.get(f"/p/{slug(SOFA_SKU, 2000)}").text) == "¥2,999.00"
