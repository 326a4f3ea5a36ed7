"""Issue #17: the price and stock a shopper sees on the page, beside the markup's. The
variant the page presents among several offers, a discount only the page shows, an expired
sale left in the markup, "was" prices, instalment and shipping lines that are not the price,
stock words against the markup, and marks a page cannot forge."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawler.extract import extract_listing
from crawler.snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK

D = Decimal
URL = "https://shop.example.com/products/trail-jacket"


def product_page(block: str, offers=None, related: bool = True) -> str:
    """A theme's product page: header with the cart, the product block, related products."""
    markup = ""
    if offers is not None:
        markup = ('<script type="application/ld+json">' + json.dumps({
            "@context": "https://schema.org", "@type": "Product", "name": "Trail Jacket",
            "sku": "TJ-1", "offers": offers}) + "</script>")
    others = ('<section class="related-products"><h2>You may also like</h2>'
              '<div class="card"><a href="/products/cap"><img src="/img/cap.jpg"></a>'
              '<span class="price">$12.00</span></div></section>') if related else ""
    return (f"<!doctype html><html><head><title>Trail Jacket</title>{markup}</head><body>"
            '<header class="site-header"><a class="cart">Cart $0.00</a></header>'
            f'<main><div class="product"><h1 class="product__title">Trail Jacket</h1>{block}'
            f"</div>{others}</main></body></html>")


def offer(price: str, availability: str = "InStock", currency: str = "USD") -> dict:
    return {"@type": "Offer", "price": price, "priceCurrency": currency,
            "availability": f"https://schema.org/{availability}"}


def test_a_variant_page_reads_the_offer_it_displays_not_the_lowest():
    html = product_page(
        '<fieldset><input type="radio" name="Size" value="S"> S '
        '<input type="radio" name="Size" value="M" checked> M</fieldset>'
        '<div class="price"><span class="price-item">$139.00</span></div>'
        '<button class="add-to-cart">Add to cart</button>',
        offers=[offer("129.00"), offer("139.00"), offer("149.00")])
    got = extract_listing(html, URL)
    assert got.price == D("139.00") and got.currency == "USD"
    assert got.sources["price"] == "page"


def test_a_discount_only_the_page_shows_is_the_price_and_the_markups_is_kept_in_the_note():
    html = product_page('<div class="price"><s class="was">$180.00</s> '
                        '<span class="sale">$129.00</span></div>',
                        offers=offer("180.00"))
    got = extract_listing(html, URL)
    assert (got.price, got.list_price) == (D("129.00"), D("180.00"))
    assert got.price_note == "the page shows $129.00; the markup says $180.00"


def test_an_expired_sale_left_in_the_markup_gives_way_to_the_price_shown():
    html = product_page('<div class="price"><span>$180.00</span></div>', offers=offer("129.00"))
    got = extract_listing(html, URL)
    assert (got.price, got.list_price) == (D("180.00"), None)
    assert "the markup says $129.00" in got.price_note


@pytest.mark.parametrize("lines", [
    '<p class="installments">or 4 interest-free payments of <b>$32.25</b> with Klarna</p>',
    '<p class="shipping-note">Free shipping over <b>$50.00</b></p>',
    '<p>Save $51.00</p>',
    '<p class="unit-price">$4.30 / 100 g</p>',
])
def test_instalment_shipping_saving_and_unit_lines_are_not_the_price(lines):
    html = product_page(f'{lines}<div class="price"><del>$180.00</del> <ins>$129.00</ins></div>')
    got = extract_listing(html, URL, default_currency="USD")
    assert (got.price, got.list_price) == (D("129.00"), D("180.00"))


@pytest.mark.parametrize("text, price, list_price", [
    ('<div class="price">原价¥299 现价¥199</div>', "199", "299"),
    ('<div class="price"><span class="now">到手价 ¥179</span> <span>¥229</span></div>', "179",
     None),
    ('<div class="price"><span>¥1.5万</span></div>', "15000", None),
    ('<div class="tm-price"><em>¥</em>99<span>起</span></div>', "99", None),
    ('<div class="pricing"><span class="label">市场价</span><del>¥399.00</del>'
     '<strong class="price">¥259.00</strong></div>', "259.00", "399.00"),
])
def test_chinese_price_forms_on_the_page(text, price, list_price):
    got = extract_listing(product_page(text, related=False), URL, default_currency="CNY")
    assert (got.price, got.list_price, got.currency) == \
        (D(price), D(list_price) if list_price else None, "CNY")


def test_a_from_price_is_read_and_said_to_be_one():
    got = extract_listing(product_page('<div class="price">¥99起</div>', related=False), URL,
                          default_currency="CNY")
    assert got.price == D("99") and got.price_note == "from"


def test_markup_in_stock_but_the_page_sold_out_is_out_of_stock_with_a_note():
    html = product_page('<div class="price">$139.00</div><p class="stock">Sold out</p>'
                        '<button class="add-to-cart" disabled>Sold out</button>',
                        offers=offer("139.00"))
    got = extract_listing(html, URL)
    assert got.availability == OUT_OF_STOCK
    assert "the markup says in stock; the page says out of stock" in got.price_note


def test_markup_out_of_stock_but_the_page_sells_it_is_in_stock_with_a_note():
    html = product_page('<div class="price">$139.00</div>'
                        '<button class="add-to-cart">Add to cart</button>',
                        offers=offer("139.00", "OutOfStock"))
    got = extract_listing(html, URL)
    assert got.availability == IN_STOCK
    assert "the markup says out of stock; the page offers add to cart" in got.price_note


@pytest.mark.parametrize("words, availability, count", [
    ("仅剩 3 件", LOW_STOCK, 3), ("Only 2 left in stock", LOW_STOCK, 2),
    ("In stock (56 available)", IN_STOCK, 56), ("ausverkauft", OUT_OF_STOCK, 0),
    ("暂时无货", OUT_OF_STOCK, 0), ("épuisé", OUT_OF_STOCK, 0),
])
def test_stock_words_on_a_page_without_markup(words, availability, count):
    html = product_page(f'<div class="price">$139.00</div><p class="availability">{words}</p>')
    got = extract_listing(html, URL, default_currency="USD")
    assert (got.availability, got.stock_count) == (availability, count)


def test_a_sold_out_colour_beside_the_chosen_one_is_not_the_listings_stock():
    html = product_page('<div class="price">¥199</div><ul class="sku-list">'
                        '<li class="selected">曜石黑</li><li class="disabled">月光白（无货）</li></ul>'
                        '<button class="buy">立即购买</button>', related=False)
    got = extract_listing(html, URL, default_currency="CNY")
    assert got.availability == IN_STOCK


def test_a_page_cannot_forge_the_browsers_marks_in_plain_html():
    """The browser marks what a style sheet strikes through; a page served over plain HTTP
    that writes the mark itself on its real price does not make it a "was" price."""
    html = product_page('<div class="price"><span data-storeaudit-struck>$99.00</span>'
                        '<span class="note">$299.00 value</span></div>', related=False)
    got = extract_listing(html, URL, default_currency="USD")
    assert got.price == D("99.00") and got.list_price is None
    rendered = extract_listing(html, URL, default_currency="USD", rendered=True)
    assert rendered.price != D("99.00")  # from the browser, the same mark is believed
