"""Issue #17: platform presets. A Shopify or WooCommerce store's listings are found and read
from the platform's own public endpoints, in the formats their documentation gives (Shopify's
Ajax API reference and /products.json; WooCommerce's Store API); the HTML page is still read
for what only it shows (the promoted badge)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import Decimal

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from crawler.config import CrawlConfig
from crawler.crawl import crawl_sync
from crawler.presets.shopify import product_values as shopify_values
from crawler.presets.woocommerce import product_values as woo_values
from crawler.snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK
from servers import serve

D = Decimal

# Shopify's /products.json entries: prices as decimal strings (the documented catalogue).
SHOPIFY = [
    {"id": 1, "title": "Red Rain Coat", "handle": "red-rain-coat",
     "variants": [{"id": 111, "title": "Small", "sku": "RRC-S", "price": "129.00",
                   "compare_at_price": "159.00", "available": True},
                  {"id": 112, "title": "Large", "sku": "RRC-L", "price": "139.00",
                   "compare_at_price": None, "available": True}],
     "images": [{"src": "/cdn/shop/files/coat.png"}]},
    {"id": 2, "title": "Blue Umbrella &amp; Case", "handle": "blue-umbrella",
     "variants": [{"id": 211, "title": "Navy", "sku": "BU-N", "price": "59.00",
                   "compare_at_price": None, "available": False},
                  {"id": 212, "title": "Sky", "sku": "BU-S", "price": "69.00",
                   "compare_at_price": "", "available": True}],
     "images": []},
    {"id": 3, "title": "Sold-out Hat", "handle": "sold-out-hat",
     "variants": [{"id": 311, "title": "Default Title", "sku": "HAT", "price": "25.00",
                   "compare_at_price": "30.00", "available": False}],
     "images": []},
]


def _ajax(product: dict) -> dict:
    """The same product as /products/<handle>.js gives it: prices in cents."""
    cents = lambda v: None if v in (None, "") else int(D(v) * 100)  # noqa: E731
    variants = [{**v, "price": cents(v["price"]), "compare_at_price": cents(v["compare_at_price"])}
                for v in product["variants"]]
    return {**product, "price": variants[0]["price"], "variants": variants,
            "available": any(v["available"] for v in variants),
            "images": [i["src"] for i in product["images"]]}


def _theme_page(title: str, shown: str, promoted: bool) -> str:
    """A theme's product page: the lowest price in its markup, as many themes print it."""
    badge = '<span class="badge-promoted">Featured</span>' if promoted else ""
    return (f'<html><head><title>{title}</title></head><body><h1 class="product-title">{title}'
            f'</h1><span class="price">{shown}</span>{badge}</body></html>')


def shopify_store(hits: Counter, catalogue_status: int = 200) -> Starlette:
    by_handle = {p["handle"]: p for p in SHOPIFY}

    def products_json(request):
        hits["products.json"] += 1
        if catalogue_status != 200:
            return Response("Forbidden", status_code=catalogue_status)
        page = int(request.query_params.get("page", "1"))
        chunk = {1: SHOPIFY[:2], 2: SHOPIFY[2:]}.get(page, [])  # two pages, then empty
        return JSONResponse({"products": chunk})

    def product(request):
        handle = request.path_params["handle"]
        if handle.endswith(".js"):
            hits[".js"] += 1
            return JSONResponse(_ajax(by_handle[handle.removesuffix(".js")]))
        p = by_handle[handle]
        low = min(D(v["price"]) for v in p["variants"])
        return HTMLResponse(_theme_page(p["title"], f"${low}", p["id"] == 1))

    def sitemap(request):
        urls = "".join(f"<url><loc>{request.base_url}products/{p['handle']}</loc></url>"
                       for p in SHOPIFY)
        return Response(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
                        "</urlset>", media_type="application/xml")

    def picture(request):
        from pictures import encode, picture as draw
        return Response(encode(draw("coat")), media_type="image/png")

    def home(request):
        links = "".join(f'<a href="/products/{p["handle"]}">{p["title"]}</a>' for p in SHOPIFY)
        return HTMLResponse('<html><head><title>Rain &amp; Shine</title><script src="//cdn.'
                            f'shopify.com/s/files/1/theme.js"></script></head><body>{links}'
                            "</body></html>")

    return Starlette(routes=[Route("/", home), Route("/products.json", products_json),
                             Route("/products/{handle}", product),
                             Route("/cdn/shop/files/{name}", picture),
                             Route("/sitemap.xml", sitemap)])


def _config(url: str, platform: str, **kw) -> CrawlConfig:
    return CrawlConfig(base_url=url, platform=platform, default_currency="USD",
                       listing_pattern="/products?/", **kw)


def test_shopify_values_take_the_variant_the_shopper_sees():
    coat = shopify_values(SHOPIFY[0], "http://s/products/red-rain-coat", cents=False)
    assert (coat["price"], coat["list_price"], coat["availability"], coat["sku"]) == \
        (D("129.00"), D("159.00"), IN_STOCK, "RRC-S")
    assert coat["price_note"] == "variant 'Small' of 2; variants 129.00–139.00"
    large = shopify_values(_ajax(SHOPIFY[0]), "http://s/products/red-rain-coat?variant=112",
                           cents=True)
    assert (large["price"], large["list_price"], large["sku"]) == (D("139.00"), None, "RRC-L")
    umbrella = shopify_values(SHOPIFY[1], "http://s/products/blue-umbrella", cents=False)
    assert (umbrella["price"], umbrella["sku"], umbrella["title"]) == \
        (D("69.00"), "BU-S", "Blue Umbrella & Case")  # the first available variant
    hat = shopify_values(_ajax(SHOPIFY[2]), "http://s/products/sold-out-hat", cents=True)
    assert (hat["price"], hat["list_price"], hat["availability"], hat["stock_count"]) == \
        (D("25.00"), D("30.00"), OUT_OF_STOCK, 0)


@pytest.mark.e2e
def test_a_shopify_store_is_read_from_its_catalogue_and_its_pages_badges():
    hits = Counter()
    with serve(shopify_store(hits)) as url:
        result = crawl_sync(_config(url, "shopify"))
    snaps = {s.sku: s for s in result.snapshots}
    assert sorted(snaps) == ["BU-S", "HAT", "RRC-S"]
    coat = snaps["RRC-S"]
    assert (coat.price, coat.list_price, coat.availability) == (D("129.00"), D("159.00"), IN_STOCK)
    assert coat.promoted is True and coat.source.startswith("shopify")  # the badge: the page's
    assert coat.image_urls == [url + "/cdn/shop/files/coat.png"]
    assert snaps["BU-S"].price == D("69.00")  # the page's markup says $59.00, the lowest
    assert snaps["BU-S"].price_note == "variant 'Sky' of 2; variants 59.00–69.00; the page shows 59.00"
    assert snaps["HAT"].availability == OUT_OF_STOCK
    assert hits["products.json"] == 3 and hits[".js"] == 0  # two pages and the empty third


@pytest.mark.e2e
def test_a_shopify_page_read_alone_asks_for_its_product_js_in_cents():
    hits = Counter()
    with serve(shopify_store(hits)) as url:
        config = dataclasses.replace(_config(url, "shopify"),
                                     urls=["/products/red-rain-coat?variant=112"])
        [snap] = crawl_sync(config).snapshots
    assert (snap.sku, snap.price, snap.list_price) == ("RRC-L", D("139.00"), None)
    assert hits[".js"] == 1 and hits["products.json"] == 0


@pytest.mark.e2e
def test_a_shopify_store_that_refuses_its_catalogue_is_found_through_its_sitemap():
    hits = Counter()
    with serve(shopify_store(hits, catalogue_status=403)) as url:
        result = crawl_sync(_config(url, "shopify"))
    assert sorted(s.sku for s in result.snapshots) == ["BU-S", "HAT", "RRC-S"]
    assert hits[".js"] == 3  # each product's own JSON instead


# WooCommerce's Store API products: prices in minor units, as strings.
WOO = [
    {"id": 7, "name": "Teekanne &#8211; Porzellan", "slug": "teekanne", "sku": "TK-1",
     "permalink": "/product/teekanne/",
     "prices": {"price": "1999", "regular_price": "2499", "sale_price": "1999",
                "price_range": None, "currency_code": "EUR", "currency_minor_unit": 2},
     "is_in_stock": True, "low_stock_remaining": 3,
     "images": [{"src": "/wp-content/uploads/teekanne.png"}]},
    {"id": 8, "name": "Dates box", "slug": "dates-box", "sku": "DB-1",
     "permalink": "/product/dates-box/",
     "prices": {"price": "12345", "regular_price": "12345", "sale_price": "12345",
                "price_range": {"min_amount": "12345", "max_amount": "15000"},
                "currency_code": "KWD", "currency_minor_unit": 3},
     "is_in_stock": False, "low_stock_remaining": None, "images": []},
]


def woo_store(hits: Counter) -> Starlette:
    def api(request):
        hits["store api"] += 1
        base = str(request.base_url).rstrip("/")
        listed = [{**p, "permalink": base + p["permalink"]} for p in WOO]
        slug = request.query_params.get("slug")
        if slug:
            return JSONResponse([p for p in listed if p["slug"] == slug])
        return JSONResponse(listed if request.query_params.get("page", "1") == "1" else [])

    def product(request):
        p = next(p for p in WOO if p["slug"] == request.path_params["slug"])
        return HTMLResponse(_theme_page(json.dumps(p["name"])[1:-1], "€24,99", False))

    return Starlette(routes=[Route("/wp-json/wc/store/v1/products", api),
                             Route("/product/{slug}/", product)])


def test_woocommerce_values_come_in_minor_units_with_their_currency():
    pot = woo_values(WOO[0])
    assert (pot["price"], pot["list_price"], pot["currency"]) == (D("19.99"), D("24.99"), "EUR")
    assert (pot["availability"], pot["stock_count"], pot["title"]) == \
        (LOW_STOCK, 3, "Teekanne – Porzellan")
    dates = woo_values(WOO[1])
    assert (dates["price"], dates["currency"], dates["price_note"]) == \
        (D("12.345"), "KWD", "range 12.345–15.000")
    assert (dates["availability"], dates["stock_count"], dates["list_price"]) == (OUT_OF_STOCK, 0, None)


@pytest.mark.e2e
def test_a_woocommerce_store_is_read_from_its_store_api():
    hits = Counter()
    with serve(woo_store(hits)) as url:
        result = crawl_sync(_config(url, "woocommerce"))
    snaps = {s.sku: s for s in result.snapshots}
    assert sorted(snaps) == ["DB-1", "TK-1"]
    assert (snaps["TK-1"].price, snaps["TK-1"].currency) == (D("19.99"), "EUR")
    assert snaps["DB-1"].price == D("12.345") and snaps["DB-1"].availability == OUT_OF_STOCK
    assert hits["store api"] == 2  # the products, then the empty second page


@pytest.mark.e2e
def test_init_from_a_shopify_store_names_the_platform_and_reads_through_its_preset(tmp_path):
    from typer.testing import CliRunner

    from audits.contract import load_contract
    from storeaudit.cli import app

    hits = Counter()
    with serve(shopify_store(hits)) as url:
        result = CliRunner().invoke(app, ["init", str(tmp_path), "--from", url],
                                    terminal_width=160)
    out = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "platform shopify (Shopify's CDN and theme sections on the home page)" in out
    written = load_contract(tmp_path / "contract.toml")
    assert written.store.platform == "shopify" and written.store.listing_pattern == "/products/"
    assert "$129.00" in out and "$69.00" in out  # the variants shown, not the pages' lowest
    catalog = (tmp_path / "catalog.csv").read_text(encoding="utf-8")
    assert "RRC-S,,159.00,yes" in catalog


# Magento's GraphQL `products` items (Adobe Commerce's GraphQL reference): prices as numbers
# with their currency, stock as IN_STOCK / OUT_OF_STOCK, the gallery as media_gallery.
MAGENTO = [
    {"__typename": "ConfigurableProduct", "sku": "MJ-01", "name": "Montana Wind Jacket",
     "url_key": "montana-wind-jacket", "url_suffix": ".html", "stock_status": "IN_STOCK",
     "only_x_left_in_stock": None,
     "price_range": {"minimum_price": {"regular_price": {"value": 49, "currency": "EUR"},
                                       "final_price": {"value": 39.2, "currency": "EUR"}},
                     "maximum_price": {"final_price": {"value": 45}}},
     "media_gallery": [{"url": "/media/catalog/product/m/j/mj01-back.png", "disabled": False,
                        "position": 2},
                       {"url": "/media/catalog/product/m/j/mj01.png", "disabled": False,
                        "position": 1},
                       {"url": "/media/catalog/product/m/j/mj01-old.png", "disabled": True,
                        "position": 3}]},
    {"__typename": "SimpleProduct", "sku": "24-MB01", "name": "Joust Duffle Bag",
     "url_key": "joust-duffle-bag", "url_suffix": ".html", "stock_status": "IN_STOCK",
     "only_x_left_in_stock": 2,
     "price_range": {"minimum_price": {"regular_price": {"value": 34, "currency": "EUR"},
                                       "final_price": {"value": 34, "currency": "EUR"}},
                     "maximum_price": {"final_price": {"value": 34}}},
     "media_gallery": []},
    {"__typename": "SimpleProduct", "sku": "24-WG02", "name": "Didi Sport Watch",
     "url_key": "didi-sport-watch", "url_suffix": ".html", "stock_status": "OUT_OF_STOCK",
     "only_x_left_in_stock": None,
     "price_range": {"minimum_price": {"regular_price": {"value": 92, "currency": "EUR"},
                                       "final_price": {"value": 92, "currency": "EUR"}},
                     "maximum_price": {"final_price": {"value": 92}}},
     "media_gallery": []},
]


def magento_store(hits: Counter) -> Starlette:
    """A Magento store's /graphql (GET, as documented for queries) and its product pages."""
    import re as _re

    def graphql(request):
        hits["graphql"] += 1
        query = request.query_params.get("query", "")
        key = _re.search(r'url_key: \{eq: "([^"]+)"\}', query)
        if key:
            items, pages = [p for p in MAGENTO if p["url_key"] == key.group(1)], 1
        else:
            page = int(_re.search(r"currentPage: (\d+)", query).group(1))
            assert "pageSize: 100" in query and 'price: {from: "0"}' in query
            items, pages = {1: MAGENTO[:2], 2: MAGENTO[2:]}[page], 2
        return JSONResponse({"data": {"products": {
            "items": items, "page_info": {"current_page": 1, "total_pages": pages}}}})

    def product(request):
        p = next(p for p in MAGENTO if p["url_key"] == request.path_params["key"])
        return HTMLResponse(_theme_page(p["name"], "€99,00", False))

    return Starlette(routes=[Route("/graphql", graphql), Route("/{key}.html", product)])


def test_magento_values_come_from_the_price_range_and_the_stock_status():
    from crawler.presets.magento import product_values as magento_values

    jacket = magento_values(MAGENTO[0])
    assert (jacket["price"], jacket["list_price"], jacket["currency"], jacket["sku"]) == \
        (D("39.2"), D("49"), "EUR", "MJ-01")
    assert jacket["price_note"] == "range 39.2–45" and jacket["availability"] == IN_STOCK
    assert jacket["image_urls"] == ["/media/catalog/product/m/j/mj01.png",
                                    "/media/catalog/product/m/j/mj01-back.png"]
    bag = magento_values(MAGENTO[1])
    assert (bag["availability"], bag["stock_count"], bag["list_price"]) == (LOW_STOCK, 2, None)
    watch = magento_values(MAGENTO[2])
    assert (watch["availability"], watch["stock_count"]) == (OUT_OF_STOCK, 0)


@pytest.mark.e2e
def test_a_magento_store_is_read_from_its_graphql_catalogue():
    hits = Counter()
    with serve(magento_store(hits)) as url:
        result = crawl_sync(dataclasses.replace(_config(url, "magento"), sitemap_url=None))
        assert hits["graphql"] == 2  # the catalogue's two pages, nothing per product
        alone = crawl_sync(dataclasses.replace(_config(url, "magento"),
                                               urls=["/didi-sport-watch.html"]))
    snaps = {s.sku: s for s in result.snapshots}
    assert sorted(snaps) == ["24-MB01", "24-WG02", "MJ-01"]
    jacket = snaps["MJ-01"]
    assert (jacket.price, jacket.list_price, jacket.currency) == (D("39.2"), D("49"), "EUR")
    assert jacket.price_note == "range 39.2–45; the page shows 99.00"
    assert snaps["24-MB01"].availability == LOW_STOCK
    [watch] = alone.snapshots
    assert (watch.sku, watch.availability, watch.price) == ("24-WG02", OUT_OF_STOCK, D("92"))
    assert hits["graphql"] == 3  # the page read alone asked for its own product


@pytest.mark.parametrize("platform, page, price, list_price, stock", [
    ("taobao", '<h3 class="tb-main-title" data-title="山野行冲锋衣">山野行冲锋衣</h3>'
     '<div id="J_StrPrice"><em class="tb-rmb">¥</em><em class="tb-rmb-num">299.00</em></div>'
     '<div class="tb-promo-price"><em class="tb-rmb">¥</em><em id="J_PromoPriceNum" '
     'class="tb-rmb-num">199.00</em></div><span id="J_SpanStock">库存2318件</span>',
     "199.00", "299.00", IN_STOCK),
    ("jd", '<div class="sku-name">海雀 H7 电视</div><div class="summary-price"><div '
     'class="p-price"><span>￥</span><span class="price J-p-100034567890">4299.00</span></div>'
     '</div><div id="store-prompt"><strong>无货</strong>，此商品暂时售完</div>',
     "4299.00", None, OUT_OF_STOCK),
])
def test_a_platform_brings_the_selectors_of_its_item_pages(platform, page, price, list_price,
                                                           stock):
    from audits.contract import parse_contract
    from audits.contract_template import contract_template
    from crawler.extract import extract_listing

    config = parse_contract(contract_template({"name": "s", "platform": platform})).crawl_config()
    got = extract_listing(f"<html><body>{page}</body></html>", "https://shop.example/item",
                          config.selectors, "CNY")
    assert (got.price, got.list_price, got.availability) == \
        (D(price), D(list_price) if list_price else None, stock)
    assert got.sources["price"] == "css"
    assert config.listing_pattern != parse_contract(contract_template({"name": "s"})) \
        .crawl_config().listing_pattern
