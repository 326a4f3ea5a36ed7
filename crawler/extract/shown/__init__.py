"""What the page shows a shopper beside the product's title, read from its HTML: the price,
the struck-through or "was / RRP / 原价" list price, the stock words, whether add-to-cart can
be pressed, and the gallery's pictures.

The markup (JSON-LD, microdata, OpenGraph) is what the store tells machines; this is what it
tells people, and the two differ more often than they should: a discount an app shows but
the markup never heard of, an expired sale price left in the JSON-LD, several variant offers
where the page presents one. `crawler.extract.page` merges the two.

- `block`: the product block around the title, and what in it is hidden or the site's;
- `styles`: what the page's own style rules strike through or hide;
- `others`: other products' cards and sections, and the description, marked;
- `price`, `stock`, `gallery`, `sku`: what the block shows of each;
- `vocabulary`: the words stores write beside a price, in their languages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crawler.extract.document import collapse_text, element_text
from crawler.extract.shown.block import (MARKS, block_with, drop_page_marks, in_another_part,
                                         title_element, top_block)
from crawler.extract.shown.gallery import shown_gallery
from crawler.extract.shown.others import mark_description, mark_other_products
from crawler.extract.shown.price import empty_price_slots, shown_prices
from crawler.extract.shown.sku import shown_sku
from crawler.extract.shown.stock import shown_stock
from crawler.extract.shown.styles import mark_styled
from crawler.prices import ParsedPrice
from crawler.snapshot import IN_STOCK, OUT_OF_STOCK


@dataclass
class Shown:
    """What the product block shows (any of it may be None: not shown, or not found)."""

    price: ParsedPrice | None = None
    list_price: Decimal | None = None
    availability: str | None = None
    stock_count: int | None = None
    # True: an add-to-cart button that can be pressed; False: one that is disabled.
    can_buy: bool | None = None
    # Only a badge said it (a theme prints "Sold out" on every page, shown on some).
    by_badge: bool = False
    image_urls: list[str] = field(default_factory=list)
    # A price box near the title is still empty: the page's script fills it in.
    price_pending: bool = False


def prepare_page(tree: Any, title: str | None, page_url: str, rendered: bool) -> Any | None:
    """Ready the page for reading what it shows, and give the element of its title (None
    when none can be found). Marks the page wrote itself are taken off; on HTML from plain
    HTTP, what its inline style rules strike through or hide is marked (`styles`; a rendered
    page's browser marked what it computed); and other products' cards and sections are
    marked, so that no reader takes their prices or pictures for this listing's."""
    drop_page_marks(tree, rendered)
    if not rendered:
        mark_styled(tree)
    title_el = title_element(tree, title)
    mark_other_products(tree, title_el, page_url)
    mark_description(tree, title_el)
    return title_el


def read_shown(tree: Any, title_el: Any | None, base: str, currency: str | None) -> Shown:
    """What the product block beside the title element shows (`prepare_page` first)."""
    if title_el is None:
        return Shown()
    keep = frozenset((title_el, *title_el.iterancestors()))
    price, listed = shown_prices(title_el, currency, keep)
    block = block_with(title_el, lambda n: len(collapse_text(element_text(n)) or "") > 200)
    if block is None:
        block = top_block(title_el)
    availability, count, can_buy, by_badge = shown_stock(block, keep, title_el) \
        if block is not None else (None, None, None, False)
    outer = top_block(title_el)
    if (availability is None or by_badge) and outer is not None and outer is not block:
        # The buy box may sit in a column of its own, beside the title's.
        wider, wider_count, wider_can_buy, wider_by_badge = shown_stock(outer, keep, title_el)
        if wider is not None and (availability is None or not wider_by_badge):
            availability, count, by_badge = wider, wider_count, wider_by_badge
        can_buy = can_buy if can_buy is not None else wider_can_buy
    pending = block is not None and empty_price_slots(block, keep)
    return Shown(price=price, list_price=listed, availability=availability, stock_count=count,
                 can_buy=can_buy, by_badge=by_badge, image_urls=shown_gallery(title_el, base, keep),
                 price_pending=pending)


def shown_code(title_el: Any | None) -> str | None:
    """The SKU the page's details show (read only when the markup and selectors gave none:
    the details may be anywhere below the title)."""
    details = next(title_el.iterancestors("body"), None) if title_el is not None else None
    return shown_sku(details) if details is not None else None


def buyable(shown: Shown) -> str | None:
    """The availability the add-to-cart button says, when the words did not."""
    if shown.can_buy is None:
        return None
    return IN_STOCK if shown.can_buy else OUT_OF_STOCK


__all__ = ["MARKS", "Shown", "buyable", "in_another_part", "prepare_page", "read_shown",
           "shown_code"]
