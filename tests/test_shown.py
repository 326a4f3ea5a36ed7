"""Issue #17: the price and stock a shopper sees on the page, beside the markup's. The
variant the page presents among several offers, a discount only the page shows, an expired
sale left in the markup, "was" prices, instalment and shipping lines that are not the price,
stock words against the markup, and marks a page cannot forge."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from crawler.extract import extract_listing
from crawler.snapshot import DISCONTINUED, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER

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


# --------------------------------------------------------------- what themes really print


def test_a_style_rule_strikes_the_old_price_and_the_cascade_decides_what_shows():
    html = ("<html><head><style>.price__sale{display:none}"
            ".price--on-sale .price__sale{display:inline}"
            ".price__regular{display:block}.price--on-sale .price__regular{display:none}"
            ".was{text-decoration:line-through}</style></head><body><div class='product'>"
            '<h1>Trail Jacket</h1><div class="price price--on-sale">'
            '<div class="price__regular"><span>$180.00</span></div>'
            '<div class="price__sale"><span class="was">$180.00</span> <span>$129.00</span>'
            "</div></div></div></body></html>")
    got = extract_listing(html, URL, default_currency="USD")
    assert (got.price, got.list_price) == (D("129.00"), D("180.00"))


def test_other_products_cards_and_sections_are_not_the_listing():
    html = ("<html><body><main><div class='row'>"
            "<div class='tile'><a href='/products/cap'><img src='/cap.jpg'></a>"
            "<a href='/products/cap'>Cap</a><b>$9.00</b></div>"
            "<div class='tile'><a href='/products/hat'><img src='/hat.jpg'></a>"
            "<a href='/products/hat'>Hat</a><b>$12.00</b></div></div>"
            "<div class='pdp'><h1>Trail Jacket</h1><p class='amount'>$139.00</p></div>"
            "<section><h2>Complete the set</h2><div><img src='/socks.jpg'>"
            "<p>Socks <s>$20.00</s> $15.00</p></div></section></main></body></html>")
    got = extract_listing(html, URL, default_currency="USD")
    assert (got.price, got.list_price) == (D("139.00"), None)
    assert not any(u.endswith(("cap.jpg", "hat.jpg", "socks.jpg")) for u in got.image_urls)


def test_a_page_without_h1_or_markup_gives_the_title_its_title_tag_names():
    html = ("<html><head><title>【凌霜】凌霜 510升十字对开门冰箱 一级能效【报价 价格】-京东</title></head>"
            "<body><div class='sku-name'>凌霜 510升十字对开门冰箱 一级能效</div>"
            "<div class='p-price'><span>￥</span><span class='price'>3499.00</span></div>"
            "</body></html>")
    got = extract_listing(html, URL, default_currency="CNY")
    assert got.title == "凌霜 510升十字对开门冰箱 一级能效" and got.price == D("3499.00")


@pytest.mark.parametrize("box, price, currency", [
    ('<span class="andes-money-amount"><span>$</span><span class="fraction">2,499</span>'
     '<span class="cents cents--superscript">50</span></span>', "2499.50", "MXN"),
    ('<span class="f-priceBox-price">79<sup>€99</sup></span>', "79.99", "EUR"),
    ('<span class="promo-price">27<sup class="promo-price__fraction">49</sup></span>',
     "27.49", "EUR"),  # a store that writes no € sign: the box says it is the price
])
def test_prices_written_in_two_parts_and_without_a_sign(box, price, currency):
    got = extract_listing(product_page(box, related=False), URL, default_currency=currency)
    assert got.price == D(price)


@pytest.mark.parametrize("line", [
    '<div class="plus-price-row">PLUS会员价 ￥3449</div>',
    '<p>Adhérents : 71,99 €</p>',
    '<p>Spar-Abo: <span>29,74 €</span></p>',
    '<p><span>$5.40</span>/<span>100g</span></p>',
    '<p>(¥4.33/袋)</p>',
    '<p>Lowest price in the last 30 days: $99.00</p>',
])
def test_members_subscription_unit_and_30_day_prices_are_not_the_price(line):
    got = extract_listing(product_page(f'<div class="price">$139.00</div>{line}',
                                       related=False), URL, default_currency="USD")
    assert got.price == D("139.00")


def test_a_sold_out_badge_the_theme_prints_on_every_page_does_not_beat_the_markup():
    html = product_page('<div class="price"><span>$139.00</span>'
                        '<span class="badge price__badge-sold-out">Sold out</span></div>'
                        '<button class="product-form__submit">Add to cart</button>',
                        offers=offer("139.00"))
    assert extract_listing(html, URL).availability == IN_STOCK


def test_the_chosen_sizes_stock_is_the_listings_not_its_neighbours():
    html = product_page('<div class="price">¥899</div><ul class="size-list">'
                        '<li class="size-item sli-disabled">S<span>已抢光</span></li>'
                        '<li class="size-item sli-selected">M</li>'
                        '<li class="size-item">L<span>仅剩2件</span></li></ul>'
                        '<a class="ui-btn J-add-cart" href="#">加入购物袋</a>', related=False)
    got = extract_listing(html, URL, default_currency="CNY")
    assert got.availability == IN_STOCK


def test_a_pre_order_button_makes_a_pre_order_and_says_the_markup_disagrees():
    html = product_page('<div class="price">$29.99</div>'
                        '<button class="add-to-cart">Pre-order</button>',
                        offers=offer("29.99"))
    got = extract_listing(html, URL)
    assert got.availability == PRE_ORDER
    assert "the markup says in stock; the page says pre-order" in got.price_note


def test_a_discontinued_listing_whose_page_shows_no_price_has_no_price():
    html = product_page('<p class="stock">Dieser Artikel ist nicht mehr erhältlich.</p>'
                        '<div class="price" hidden></div>',
                        offers=offer("149.99", "Discontinued", "EUR"), related=False)
    got = extract_listing(html, URL)
    assert got.price is None and got.availability == DISCONTINUED
    assert "no price shown" in got.price_note and "149.99" in got.price_note


def test_a_buy_box_in_an_aside_is_read():
    html = ("<html><body><main><div class='info'><h1>The Quiet Orchard</h1></div>"
            "<aside class='buy-block'><span class='promo-price'>27<sup>49</sup></span>"
            "<del class='list-price'>32,99</del><div class='stock'>Op voorraad</div>"
            "</aside></main></body></html>")
    got = extract_listing(html, URL, default_currency="EUR")
    assert (got.price, got.list_price, got.availability) == (D("27.49"), D("32.99"), IN_STOCK)


def test_the_details_table_gives_the_sku_when_nothing_else_does():
    html = product_page('<div class="price">£12.50</div><table><tr><th>UPC</th>'
                        '<td>5060312400011</td></tr><tr><th>Product Type</th>'
                        '<td>Homeware</td></tr></table>', related=False)
    got = extract_listing(html, URL, default_currency="GBP")
    assert got.sku == "5060312400011" and got.sources["sku"] == "page"


def test_a_page_cannot_mark_its_own_price_as_another_products():
    html = product_page('<div class="price" data-storeaudit-other>$99.00</div>',
                        related=False)
    assert extract_listing(html, URL, default_currency="USD").price == D("99.00")


# ------------------------------------------------------------------------------ gallery

P = "https://shop.example.com/img/"


def gallery_page(gallery: str, after: str = "") -> str:
    return (f"<html><body><div class='product'><div class='media'>{gallery}</div>"
            f"<div class='summary'><h1>Trail Jacket</h1><div class='price'>$139.00</div>"
            f"</div></div>{after}</body></html>")


def test_a_carousel_and_its_row_of_small_copies_count_each_photo_once():
    slides = "".join(f"<div class='carousel-item'><img src='{P}{i}-400.jpg'></div>"
                     for i in range(3))
    dots = "".join(f"<li><img src='{P}{i}-65x55.jpg'></li>" for i in range(3))
    html = gallery_page(f"<div class='carousel-inner'>{slides}</div>"
                        f"<ol class='carousel-indicators img-thumbnail'>{dots}</ol>")
    assert extract_listing(html, URL).image_urls == [f"{P}{i}-400.jpg" for i in range(3)]


def test_the_gallery_leaves_out_the_description_a_video_cover_icons_and_placeholders():
    html = gallery_page(
        f"<div class='thumbs'><img src='{P}a.jpg'><img src='{P}b.jpg'>"
        f"<img src='{P}spacer.gif' data-src='{P}c.jpg' class='lazy'>"
        f"<div class='thumb is-video'><img src='{P}video-cover.jpg'></div>"
        f"<img src='{P}huabei-2-tps-48-48.png' alt='花呗'></div>",
        after=f"<ul class='tabs'><li>商品详情</li><li>评价</li></ul>"
              f"<div class='panel'><img src='{P}detail-1.jpg'><img src='{P}detail-2.jpg'></div>")
    assert extract_listing(html, URL).image_urls == [f"{P}a.jpg", f"{P}b.jpg", f"{P}c.jpg"]


def test_a_gallery_drawn_from_the_pages_data_is_read_when_the_html_shows_one_photo():
    gallery = json.dumps({"[data-gallery-role=gallery-placeholder]": {"mage/gallery/gallery": {
        "data": [{"thumb": f"{P}cache/aa/{n}.jpg", "img": f"{P}cache/bb/{n}.jpg",
                  "full": f"{P}cache/cc/{n}.jpg", "type": "image"} for n in ("x", "y", "z")]}}})
    html = gallery_page(f"<div class='gallery-placeholder'><img src='{P}cache/bb/x.jpg'></div>"
                        f'<script type="text/x-magento-init">{gallery}</script>')
    # Every size is fetched; one photo at two sizes counts once by its hashes (same_photo).
    assert extract_listing(html, URL).image_urls == \
        [f"{P}cache/bb/x.jpg", f"{P}cache/cc/x.jpg", f"{P}cache/cc/y.jpg", f"{P}cache/cc/z.jpg"]


def test_a_stores_no_image_picture_is_not_a_photo_but_is_still_looked_up():
    """The gallery leaves a "no image" picture out; the markup's mention of it stays, so the
    crawl tells it is the store's (not counted) and still looks it up in the registry once:
    a stolen photo named "placeholder" is not let through."""
    from crawler.shared_images import find_shared
    from crawler.snapshot import ImageInfo, Snapshot

    url = "https://s.example/static/placeholder/geen-afbeelding-550x840.png"
    html = (f'<html><head><meta property="og:image" content="{url}"></head><body>'
            "<div class='product'><h1>Trail Jacket</h1><div class='price'>$139.00</div>"
            f"<div class='gallery'><img src='{url}' alt='Geen afbeelding beschikbaar'></div>"
            "</div></body></html>")
    got = extract_listing(html, URL)
    assert got.image_urls == [url]
    snap = Snapshot(url=URL, title="t", image_urls=got.image_urls)
    assert list(find_shared([snap], {url: ImageInfo(url, sha256="ph")})) == ["ph"]


def test_comments_in_the_html_are_not_elements_to_read():
    html = product_page('<div class="price"><!-- sale --><span>$139.00</span><!-- end -->'
                        '</div><!-- stock --><p class="stock">In stock</p>', related=False)
    got = extract_listing(html, URL, default_currency="USD")
    assert (got.price, got.availability, got.problems) == (D("139.00"), IN_STOCK, [])
