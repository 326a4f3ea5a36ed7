"""One listing page's HTML -> data: structured data first, CSS selectors for the rest."""

import json
import time
from decimal import Decimal

import pytest

from crawler.extract import (
    Extracted,
    Selectors,
    extract_card_links,
    extract_listing,
    extract_next_page,
)
from crawler.snapshot import (
    DISCONTINUED,
    IN_STOCK,
    LOW_STOCK,
    OUT_OF_STOCK,
    PRE_ORDER,
    Snapshot,
)
from crawler.stock import normalize_availability, parse_stock

URL = "https://shop.example.com/products/sh-0001"


def page(head: str = "", body: str = "") -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def jsonld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


# The sample store's product page, without structured data.
SAMPLE_BODY = """
<h1 class="product-title">  羊毛围巾
   冬季新款 </h1>
<div class="gallery">
  <img src="/static/img/sh-0001-1.jpg" alt="">
  <img src="/static/img/sh-0001-2.jpg" alt="">
  <img src="/static/img/sh-0001-1.jpg" alt="">
</div>
<span class="price">¥1,299.00</span> <del class="list-price">¥1,599.00</del>
<div class="stock" data-availability="LimitedAvailability">仅剩 3 件</div>
<p class="sku">商品编号: SH-0001</p>
<span class="badge-promoted">推广</span>
"""

PRODUCT = {
    "@context": "https://schema.org",
    "@type": "Product",
    "name": "Wool scarf",
    "sku": "SH-0001",
    "image": ["https://cdn.example.com/a.jpg", "/img/b.jpg"],
    "offers": {
        "@type": "Offer",
        "price": "1299.00",
        "priceCurrency": "CNY",
        "availability": "https://schema.org/InStock",
    },
}


# --------------------------------------------------------------------------- JSON-LD


def test_jsonld_product_gives_every_field():
    got = extract_listing(page(jsonld(PRODUCT)), URL)
    assert got.title == "Wool scarf"
    assert got.sku == "SH-0001"
    assert got.price == Decimal("1299.00")
    assert got.currency == "CNY"
    assert got.availability == IN_STOCK
    assert got.image_urls == ["https://cdn.example.com/a.jpg", "https://shop.example.com/img/b.jpg"]
    assert got.missing == []
    assert got.sources["title"] == got.sources["price"] == "jsonld"


def test_jsonld_graph_finds_the_product_among_breadcrumbs_and_organization():
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "The Agency Store", "logo": "/logo.png"},
            {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "name": "Home"}]},
            {**PRODUCT, "@context": None, "name": "Graph scarf"},
        ],
    }
    got = extract_listing(page(jsonld(data)), URL)
    assert got.title == "Graph scarf"
    assert got.price == Decimal("1299.00")


def test_jsonld_list_of_items_skips_non_products():
    data = [{"@type": "BreadcrumbList"}, {"@type": "WebSite", "name": "Shop"}, PRODUCT]
    assert extract_listing(page(jsonld(data)), URL).title == "Wool scarf"


def test_offers_list_gives_lowest_price_with_range_note_and_best_availability():
    product = {
        **PRODUCT,
        "offers": [
            {"@type": "Offer", "price": 159, "priceCurrency": "CNY", "availability": "https://schema.org/OutOfStock"},
            {"@type": "Offer", "price": "99.00", "priceCurrency": "CNY", "availability": "https://schema.org/InStock"},
        ],
    }
    got = extract_listing(page(jsonld(product)), URL)
    assert got.price == Decimal("99.00")
    assert got.price_note == "range 99.00–159"
    assert got.availability == IN_STOCK


def test_aggregate_offer_low_price_is_the_price_with_range_note():
    product = {
        **PRODUCT,
        "offers": {"@type": "AggregateOffer", "lowPrice": "99", "highPrice": "199", "priceCurrency": "CNY", "offerCount": 3},
    }
    got = extract_listing(page(jsonld(product)), URL)
    assert (got.price, got.currency, got.price_note) == (Decimal("99"), "CNY", "range 99–199")


def test_aggregate_offer_without_high_price_says_from():
    product = {**PRODUCT, "offers": {"@type": "AggregateOffer", "lowPrice": 20, "priceCurrency": "USD"}}
    got = extract_listing(page(jsonld(product)), URL)
    assert (got.price, got.currency, got.price_note) == (Decimal("20"), "USD", "from")


def test_product_group_variants_give_price_range_and_images():
    group = {
        "@context": "https://schema.org",
        "@type": "ProductGroup",
        "name": "T-shirt",
        "productGroupID": "TS-1",
        "image": "/img/ts.jpg",
        "hasVariant": [
            {"@type": "Product", "sku": "TS-1-S", "image": "/img/ts-s.jpg",
             "offers": {"@type": "Offer", "price": 59, "priceCurrency": "CNY", "availability": "https://schema.org/SoldOut"}},
            {"@type": "Product", "sku": "TS-1-M", "image": "/img/ts.jpg",
             "offers": {"@type": "Offer", "price": 69, "priceCurrency": "CNY", "availability": "https://schema.org/InStock"}},
        ],
    }
    got = extract_listing(page(jsonld(group)), URL)
    assert got.title == "T-shirt"
    assert got.sku == "TS-1"
    assert got.price == Decimal("59") and got.price_note == "range 59–69"
    assert got.availability == IN_STOCK
    assert got.image_urls == ["https://shop.example.com/img/ts.jpg", "https://shop.example.com/img/ts-s.jpg"]


def test_list_price_and_stock_count_come_from_price_specification_and_inventory_level():
    product = {
        **PRODUCT,
        "offers": {
            "@type": "Offer",
            "price": "1299.00",
            "priceCurrency": "CNY",
            "availability": "https://schema.org/LimitedAvailability",
            "inventoryLevel": {"@type": "QuantitativeValue", "value": 4},
            "priceSpecification": [
                {"@type": "UnitPriceSpecification", "priceType": "https://schema.org/StrikethroughPrice", "price": 1599, "priceCurrency": "CNY"},
            ],
        },
    }
    got = extract_listing(page(jsonld(product), '<div class="stock">仅剩 3 件</div>'), URL)
    assert got.list_price == Decimal("1599")
    assert got.availability == LOW_STOCK
    assert got.stock_count == 4
    assert got.sources["stock_count"] == "jsonld"


def test_stock_count_comes_from_visible_text_when_structured_data_has_none():
    got = extract_listing(page(jsonld(PRODUCT), '<div class="stock">库存 23 件</div>'), URL)
    assert got.availability == IN_STOCK and got.sources["availability"] == "jsonld"
    assert got.stock_count == 23 and got.sources["stock_count"] == "css"


def test_broken_jsonld_falls_back_to_the_next_source():
    broken = '<script type="application/ld+json">{"@type": "Product", "name": "Half</script>'
    got = extract_listing(page(broken, SAMPLE_BODY), URL)
    assert got.title == "羊毛围巾 冬季新款"
    assert got.price == Decimal("1299.00")
    assert got.sources["title"] == "css"
    assert any("jsonld" in p for p in got.problems)


def test_one_broken_jsonld_block_does_not_hide_a_good_one():
    broken = '<script type="application/ld+json">{not json at all</script>'
    got = extract_listing(page(broken + jsonld(PRODUCT)), URL)
    assert got.title == "Wool scarf"


def test_jsonld_with_trailing_comma_and_charset_type_is_still_read():
    sloppy = (
        '<script type="application/ld+json; charset=utf-8">'
        '{"@type": "Product", "name": "Sloppy", "offers": {"price": "5.00", "priceCurrency": "USD",},}'
        "</script>"
    )
    got = extract_listing(page(sloppy), URL)
    assert (got.title, got.price, got.currency) == ("Sloppy", Decimal("5.00"), "USD")


def test_html_entities_in_jsonld_titles_are_decoded():
    got = extract_listing(page(jsonld({**PRODUCT, "name": "Tom &amp; Jerry   mug"})), URL)
    assert got.title == "Tom & Jerry mug"


def test_jsonld_yen_price_text_follows_the_store_currency():
    product = {**PRODUCT, "offers": {"@type": "Offer", "price": "¥12,800"}}
    got = extract_listing(page(jsonld(product)), URL, default_currency="JPY")
    assert (got.price, got.currency) == (Decimal("12800"), "JPY")


# --------------------------------------------------------------------------- microdata / OpenGraph


MICRODATA_BODY = """
<div itemscope itemtype="https://schema.org/Product">
  <h1 itemprop="name">Microdata   kettle</h1>
  <img itemprop="image" src="/img/kettle.jpg">
  <span itemprop="sku">K-9</span>
  <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
    <span itemprop="price" content="249.00">¥249.00</span>
    <meta itemprop="priceCurrency" content="CNY">
    <link itemprop="availability" href="https://schema.org/OutOfStock">
  </div>
</div>
"""


def test_microdata_page_is_read():
    got = extract_listing(page(body=MICRODATA_BODY), URL)
    assert got.title == "Microdata kettle"
    assert got.sku == "K-9"
    assert (got.price, got.currency) == (Decimal("249.00"), "CNY")
    assert got.availability == OUT_OF_STOCK
    assert got.image_urls == ["https://shop.example.com/img/kettle.jpg"]
    assert got.sources["price"] == "microdata"


OG_HEAD = """
<meta property="og:type" content="product">
<meta property="og:title" content="OG lamp">
<meta property="og:image" content="/img/lamp-1.jpg">
<meta property="og:image" content="https://cdn.example.com/lamp-2.jpg">
<meta property="product:price:amount" content="399.00">
<meta property="product:price:currency" content="CNY">
<meta property="product:availability" content="instock">
"""


def test_opengraph_only_page_is_read():
    got = extract_listing(page(OG_HEAD), URL)
    assert got.title == "OG lamp"
    assert (got.price, got.currency) == (Decimal("399.00"), "CNY")
    assert got.availability == IN_STOCK
    assert got.image_urls == ["https://shop.example.com/img/lamp-1.jpg", "https://cdn.example.com/lamp-2.jpg"]
    assert set(got.sources[f] for f in ("title", "price", "availability", "image_urls")) == {"opengraph"}


def test_opengraph_sale_price_is_the_price_and_regular_price_the_list_price():
    head = OG_HEAD + '<meta property="product:sale_price:amount" content="299.00">'
    got = extract_listing(page(head), URL)
    assert (got.price, got.list_price) == (Decimal("299.00"), Decimal("399.00"))


def test_fields_merge_field_by_field_in_source_order():
    product = {"@type": "Product", "name": "From JSON-LD"}  # no offers, no image
    got = extract_listing(page(jsonld(product) + OG_HEAD, SAMPLE_BODY), URL)
    assert got.title == "From JSON-LD" and got.sources["title"] == "jsonld"
    assert got.price == Decimal("399.00") and got.sources["price"] == "opengraph"
    assert got.sku == "SH-0001" and got.sources["sku"] == "css"


def test_the_gallery_gives_every_image_where_opengraph_names_only_the_lead_one():
    got = extract_listing(page(OG_HEAD, SAMPLE_BODY), URL)
    assert got.sources["image_urls"] == "page"  # the product block's gallery
    assert got.image_urls == [
        "https://shop.example.com/static/img/sh-0001-1.jpg",
        "https://shop.example.com/static/img/sh-0001-2.jpg",
    ]


# --------------------------------------------------------------------------- CSS (sample store)


def test_css_only_sample_store_page_gives_every_field():
    got = extract_listing(page(body=SAMPLE_BODY), URL)
    assert got.title == "羊毛围巾 冬季新款"
    assert (got.price, got.currency, got.list_price) == (Decimal("1299.00"), "CNY", Decimal("1599.00"))
    assert (got.availability, got.stock_count) == (LOW_STOCK, 3)
    assert got.sku == "SH-0001"
    assert got.promoted is True
    assert got.image_urls == [
        "https://shop.example.com/static/img/sh-0001-1.jpg",
        "https://shop.example.com/static/img/sh-0001-2.jpg",
    ]
    assert got.missing == []
    assert set(got.sources.values()) == {"css", "page"}  # the gallery: the block's own


def test_js_priced_page_with_empty_price_span_reports_price_missing():
    body = SAMPLE_BODY.replace('<span class="price">¥1,299.00</span>', '<span class="price"></span>')
    got = extract_listing(page(body=body), URL)
    assert got.price is None
    assert got.missing == ["price"]
    assert got.list_price == Decimal("1599.00")


def test_empty_price_span_is_not_filled_from_a_related_product():
    body = '<h1 class="product-title">A</h1><span class="price"></span><div class="related"><span class="price">¥9.00</span></div>'
    assert extract_listing(page(body=body), URL).price is None


def test_out_of_stock_text_gives_zero_count():
    body = SAMPLE_BODY.replace(
        '<div class="stock" data-availability="LimitedAvailability">仅剩 3 件</div>',
        '<div class="stock">缺货</div>',
    )
    got = extract_listing(page(body=body), URL)
    assert (got.availability, got.stock_count) == (OUT_OF_STOCK, 0)


def test_page_without_promoted_badge_is_not_promoted():
    body = SAMPLE_BODY.replace('<span class="badge-promoted">推广</span>', "")
    assert extract_listing(page(body=body), URL).promoted is False


def test_promoted_is_unknown_without_a_promoted_selector():
    sel = Selectors(title="h1.product-title", price=".price")
    got = extract_listing(page(body=SAMPLE_BODY), URL, selectors=sel)
    assert got.promoted is None
    assert got.title == "羊毛围巾 冬季新款"


def test_contract_selectors_are_used_for_a_custom_store():
    body = """
      <div class="name">Custom teapot</div><b class="now">US$ 30.00</b>
      <ul class="pics"><li><img data-src="//cdn.example.com/t1.jpg" src="data:image/gif;base64,R0lGOD"></li></ul>
      <i class="hot"></i><span class="inv">Only 2 left</span>"""
    sel = Selectors(title=".name", price=".now", stock=".inv", images=".pics img", promoted=".hot")
    got = extract_listing(page(body=body), URL, selectors=sel)
    assert (got.title, got.price, got.currency) == ("Custom teapot", Decimal("30.00"), "USD")
    assert (got.availability, got.stock_count, got.promoted) == (LOW_STOCK, 2, True)
    assert got.image_urls == ["https://cdn.example.com/t1.jpg"]


def test_price_element_with_struck_old_price_reads_the_current_one():
    body = '<h1>x</h1><p class="price"><del>¥199.00</del> <ins>¥149.00</ins></p>'
    got = extract_listing(page(body=body), URL)
    assert got.price == Decimal("149.00")
    assert got.list_price == Decimal("199.00")


def test_base_href_makes_image_urls_absolute_against_it():
    head = '<base href="https://img.example.net/assets/">'
    got = extract_listing(page(head, '<div class="gallery"><img src="p1.jpg"></div>'), URL)
    assert got.image_urls == ["https://img.example.net/assets/p1.jpg"]


def test_bad_contract_selector_is_reported_not_raised():
    sel = Selectors(title="h1[[[", price=".price")
    assert [name for name, _ in sel.check()] == ["title"]
    got = extract_listing(page(body=SAMPLE_BODY), URL, selectors=sel)
    assert any("title selector 'h1[[['" in p for p in got.problems)
    # The page's own <h1> still gives the title: a broken selector loses only itself.
    assert got.title == "羊毛围巾 冬季新款" and got.sources["title"] == "page"
    assert got.price == Decimal("1299.00")


def test_with_defaults_fills_only_unset_selectors():
    sel = Selectors(price=".now").with_defaults()
    assert sel.price == ".now"
    assert sel.title == Selectors.defaults().title


# --------------------------------------------------------------------------- hostile and odd pages


def test_hostile_title_is_kept_as_literal_text():
    body = '<h1 class="product-title">&lt;img src=x onerror=alert(1)&gt;</h1>'
    got = extract_listing(page(body=body), URL)
    assert got.title == "<img src=x onerror=alert(1)>"


def test_hostile_jsonld_title_is_kept_as_literal_text():
    # As stores write it inside <script>: "<\/script>" (a bare "</script>" would end the block).
    hostile = '<script type="application/ld+json">{"@type": "Product", "name": "<script>alert(1)<\\/script>Scarf"}</script>'
    got = extract_listing(page(hostile), URL)
    assert got.title == "<script>alert(1)</script>Scarf"


@pytest.mark.parametrize(
    "html",
    ["", "   ", "<<<>>>", "<html>", "\x00\x01binary\xff", "<?xml version='1.0' encoding='utf-8'?><html/>", "<!-- only -->"],
)
def test_odd_html_never_raises_and_lists_what_is_missing(html):
    got = extract_listing(html, URL)
    assert isinstance(got, Extracted)
    assert set(got.missing) == {"title", "price", "availability", "image_urls"}


def test_huge_page_is_read_quickly():
    filler = "<div class='x'><p>filler text</p><span class='price'>¥1.00</span></div>" * 30_000
    html = page(jsonld(PRODUCT), SAMPLE_BODY + filler)
    start = time.monotonic()
    got = extract_listing(html, URL)
    assert time.monotonic() - start < 20
    assert got.title == "Wool scarf" and got.price == Decimal("1299.00")


def test_extracted_becomes_a_snapshot():
    got = extract_listing(page(jsonld(PRODUCT), SAMPLE_BODY), URL)
    snap = got.to_snapshot(URL, fetched_with="http", http_status=200)
    assert isinstance(snap, Snapshot)
    assert (snap.sku, snap.title, snap.price, snap.promoted) == ("SH-0001", "Wool scarf", Decimal("1299.00"), True)
    assert snap.source == "jsonld" and snap.fetched_with == "http" and snap.ok


# --------------------------------------------------------------------------- listing pages


LISTING = """
<link rel="next" href="/category/scarves?page=3">
<article class="product-card" data-sku="SH-0001"><a href="/products/sh-0001">Scarf</a></article>
<article class="product-card" data-sku="SH-0002"><img src="/i.jpg"><a href="https://shop.example.com/products/sh-0002#reviews">Hat</a></article>
<article class="product-card"><a href="/products/sh-0003">Gloves</a></article>
<article class="product-card" data-sku="SH-0001"><a href="/products/sh-0001">Scarf again</a></article>
<article class="product-card" data-sku="SH-0009"><a href="javascript:void(0)">Broken</a></article>
<a rel="prev" href="/category/scarves?page=1">prev</a>
"""


def test_card_links_are_absolute_deduplicated_and_carry_data_sku():
    links = extract_card_links(page(body=LISTING), "https://shop.example.com/category/scarves?page=2")
    assert links == [
        ("https://shop.example.com/products/sh-0001", "SH-0001"),
        ("https://shop.example.com/products/sh-0002", "SH-0002"),
        ("https://shop.example.com/products/sh-0003", None),
    ]


def test_card_links_use_the_contract_card_selector():
    html = page(body='<div class="tile"><a href="p/1">1</a></div><article class="product-card"><a href="p/2">2</a></article>')
    links = extract_card_links(html, "https://shop.example.com/", Selectors(card=".tile"))
    assert links == [("https://shop.example.com/p/1", None)]


def test_next_page_follows_link_rel_next():
    html = page(body=LISTING)
    assert extract_next_page(html, "https://shop.example.com/category/scarves?page=2") == (
        "https://shop.example.com/category/scarves?page=3"
    )


def test_next_page_follows_anchor_rel_next():
    html = page(body='<nav><a href="?page=1" rel="prev">1</a><a class="n" rel="nofollow Next" href="?page=2">2</a></nav>')
    assert extract_next_page(html, "https://shop.example.com/c?page=1") == "https://shop.example.com/c?page=2"


def test_last_page_has_no_next_page():
    assert extract_next_page(page(body='<a rel="prev" href="?page=1">1</a>'), URL) is None
    assert extract_next_page("", URL) is None


# --------------------------------------------------------------------------- stock text


@pytest.mark.parametrize(
    ("text", "availability", "count"),
    [
        ("缺货", OUT_OF_STOCK, 0),
        ("无货", OUT_OF_STOCK, 0),
        ("已售罄", OUT_OF_STOCK, 0),
        ("暂无现货", OUT_OF_STOCK, 0),
        ("Out of stock", OUT_OF_STOCK, 0),
        ("Sold out", OUT_OF_STOCK, 0),
        ("库存 0 件", OUT_OF_STOCK, 0),
        ("仅剩 3 件", LOW_STOCK, 3),
        ("仅剩3件", LOW_STOCK, 3),
        ("仅剩３件", LOW_STOCK, 3),
        ("Only 3 left", LOW_STOCK, 3),
        ("Only 2 left in stock - order soon.", LOW_STOCK, 2),
        ("库存 23 件", IN_STOCK, 23),
        ("库存：23", IN_STOCK, 23),
        ("23 in stock", IN_STOCK, 23),
        ("有货", IN_STOCK, None),
        ("现货", IN_STOCK, None),
        ("In stock", IN_STOCK, None),
        ("预售", PRE_ORDER, None),
        ("Pre-order", PRE_ORDER, None),
        ("已下架", DISCONTINUED, None),
        ("颜色: 红色", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_stock_text_reads_as_availability_and_count(text, availability, count):
    assert parse_stock(text) == (availability, count)


@pytest.mark.parametrize(
    ("value", "availability"),
    [
        ("https://schema.org/InStock", IN_STOCK),
        ("http://schema.org/OutOfStock", OUT_OF_STOCK),
        ("LimitedAvailability", LOW_STOCK),
        ("SoldOut", OUT_OF_STOCK),
        ("InStock", IN_STOCK),
        ("schema:PreOrder", PRE_ORDER),
        ("https://schema.org/BackOrder", PRE_ORDER),
        ("instock", IN_STOCK),
        ("oos", OUT_OF_STOCK),
        ("缺货", OUT_OF_STOCK),
        (["", "https://schema.org/InStock"], IN_STOCK),
        ("whatever", None),
        (None, None),
        (3, None),
    ],
)
def test_schema_org_availability_values_are_normalized(value, availability):
    assert normalize_availability(value) == availability


def test_page_with_thousands_of_nested_itemscopes_does_not_hang():
    nested = '<div itemscope itemtype="https://schema.org/Thing">' * 1500
    body = nested + SAMPLE_BODY + "</div>" * 1500
    start = time.monotonic()
    got = extract_listing(page(body=body), URL)
    assert time.monotonic() - start < 20
    assert got.title == "羊毛围巾 冬季新款" and got.price == Decimal("1299.00")


def test_hidden_promoted_badge_does_not_count_as_promoted():
    body = SAMPLE_BODY.replace(
        '<span class="badge-promoted">推广</span>', '<span class="badge-promoted" style="display: none">推广</span>'
    )
    assert extract_listing(page(body=body), URL).promoted is False


# Issue #17: availability from what the page says, in the languages stores write it in.
STOCK_TEXTS = [
    ("补货中", OUT_OF_STOCK, 0), ("暂时无货", OUT_OF_STOCK, 0), ("已售罄", OUT_OF_STOCK, 0),
    ("esaurito", OUT_OF_STOCK, 0), ("Esgotado", OUT_OF_STOCK, 0), ("uitverkocht", OUT_OF_STOCK, 0),
    ("Nicht auf Lager", OUT_OF_STOCK, 0), ("nicht mehr verfügbar", OUT_OF_STOCK, 0),
    ("non disponibile", OUT_OF_STOCK, 0), ("No disponible", OUT_OF_STOCK, 0),
    ("Back in stock soon", OUT_OF_STOCK, 0), ("Currently unavailable", OUT_OF_STOCK, 0),
    ("нет в наличии", OUT_OF_STOCK, 0),
    ("Auf Lager", IN_STOCK, None), ("En stock", IN_STOCK, None), ("In magazzino", IN_STOCK, None),
    ("Op voorraad", IN_STOCK, None), ("в наличии", IN_STOCK, None),
    ("In stock (56 available)", IN_STOCK, 56),
    ("Plus que 2 en stock", LOW_STOCK, 2), ("Nur noch 2 auf Lager", LOW_STOCK, 2),
    ("Sólo quedan 3", LOW_STOCK, 3), ("仅剩 3 件", LOW_STOCK, 3), ("only 3 left", LOW_STOCK, 3),
]


@pytest.mark.parametrize(("text", "availability", "count"), STOCK_TEXTS)
def test_stock_phrases_in_the_main_languages(text, availability, count):
    assert parse_stock(text) == (availability, count)


def test_one_price_element_with_the_current_and_the_crossed_out_price_gives_both():
    html = page(body='<h1 class="product-title">Jacket</h1>'
                     '<div class="price">原价¥299 现价¥199</div><div class="stock">有货</div>')
    got = extract_listing(html, "http://shop.test/p/1")
    assert (got.price, got.list_price, got.currency) == (Decimal("199"), Decimal("299"), "CNY")


def test_a_zero_price_on_an_out_of_stock_listing_is_no_price_shown():
    html = page(jsonld({"@context": "https://schema.org", "@type": "Product", "name": "Lamp",
                        "offers": {"@type": "Offer", "price": "0", "priceCurrency": "CNY",
                                   "availability": "https://schema.org/OutOfStock"}}))
    got = extract_listing(html, "http://shop.test/p/1")
    assert got.price is None and got.price_note == "no price shown (0 while out of stock)"
    assert got.availability == OUT_OF_STOCK and "price" in got.missing
    free = page(body='<h1 class="product-title">Sticker</h1><div class="price">免费</div>'
                     '<div class="stock">缺货</div>')
    assert extract_listing(free, "http://shop.test/p/2").price == 0  # "free" says so itself
