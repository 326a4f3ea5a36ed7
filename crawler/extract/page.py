"""`extract_listing`: one listing page read from every source and merged field by field.

The sources are read in `SOURCE_ORDER` (images in `IMAGE_SOURCE_ORDER`) and, per field, the
first that has a value wins; the result is an `Extracted`, which becomes a `Snapshot`.
See the package doc (`crawler.extract`) for what each source reads.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from dataclasses import dataclass, field
from typing import Any

from crawler.extract.css import from_css
from crawler.extract.document import base_url, dedupe_urls, element_text, is_shown, parse_html
from crawler.extract.jsonld import jsonld_items
from crawler.extract.microdata import microdata_items
from crawler.extract.opengraph import from_opengraph, opengraph_props
from crawler.extract.schema_org import from_structured
from crawler.extract.selectors import Selectors, select_elements
from crawler.extract.values import Found
from crawler.extract.shown import Shown, buyable, read_shown
from crawler.prices import format_price
from crawler.snapshot import (IN_STOCK, LISTING_VALUE_FIELDS, LOW_STOCK, OUT_OF_STOCK,
                              ListingValues, Snapshot)

log = logging.getLogger(__name__)

JSONLD, MICRODATA, OPENGRAPH, CSS = "jsonld", "microdata", "opengraph", "css"
SHOWN = "page"  # what the product block shows a shopper (crawler.extract.shown)
SOURCE_ORDER = (JSONLD, MICRODATA, OPENGRAPH, CSS)
# og:image is the one picture for link previews, not the gallery: the page's own gallery
# (CSS) lists every listing image, so it comes before OpenGraph for images.
IMAGE_SOURCE_ORDER = (JSONLD, MICRODATA, CSS, OPENGRAPH)
REQUIRED_FIELDS = ("title", "price", "availability", "image_urls")
PLACEHOLDER_FIELDS = ("title", "price")


@dataclass(kw_only=True)
class Extracted(ListingValues):
    """What one listing page showed, merged from its sources."""

    # field -> "jsonld" | "microdata" | "opengraph" | "css" ("default" for a currency that
    # came from the store's default_currency only).
    sources: dict[str, str] = field(default_factory=dict)
    # Required fields (title, price, availability, image_urls) the page did not give.
    missing: list[str] = field(default_factory=list)
    # What went wrong while reading (broken JSON-LD, unusable selector...), for debugging.
    problems: list[str] = field(default_factory=list)
    # Fields whose element is on the page but empty (`<span class="price"></span>`): a
    # placeholder the page's JavaScript fills in, so only a browser sees the value.
    placeholders: list[str] = field(default_factory=list)

    @property
    def source(self) -> str | None:
        """The first source, in merge order, that supplied any value."""
        used = set(self.sources.values())
        return next((s for s in SOURCE_ORDER if s in used), None)

    def to_snapshot(self, url: str, **extra: Any) -> Snapshot:
        """A Snapshot of these values; `extra` sets fetched_with, http_status, fetched_at..."""
        values = {name: getattr(self, name) for name in LISTING_VALUE_FIELDS}
        values["image_urls"] = list(self.image_urls)
        values.setdefault("source", self.source)
        values.update(extra)
        return Snapshot(url=url, **values)


def extract_listing(
    html: str | bytes,
    url: str,
    selectors: Selectors | None = None,
    default_currency: str | None = None,
    rendered: bool = False,
) -> Extracted:
    """Read one listing page. Never raises on odd HTML; see the package doc for the merge.

    `html` may be bytes (its meta charset is honoured, e.g. GBK). `selectors` None means
    `Selectors.defaults()`; a Selectors field left None is not looked
    for (use `Selectors.with_defaults()` to fill gaps). `promoted` is True when the promoted
    selector matches, False when it does not, None when there is no promoted selector or the
    page could not be read at all. `rendered`: the HTML is the browser's, with its marks of
    what a style sheet strikes through or hides (crawler.browser_fetch); plain HTTP's marks
    are the page's own, and ignored.
    """
    result = Extracted()
    try:
        _extract_into(result, html, url, selectors, default_currency, rendered)
    except Exception as exc:  # a last guard: odd input must not take the crawl down
        log.exception("extract_listing failed for %s", url)
        result.problems.append(f"extract: {type(exc).__name__}: {exc}")
    result.missing = [name for name in REQUIRED_FIELDS if getattr(result, name) in (None, [], "")]
    return result


def _take_images(result: Extracted, per_source: dict[str, Found | None], shown: Shown) -> None:
    """Every listing image the markup and the gallery name, together: structured data often
    names only the lead photo, and a gallery may leave out the one the markup names. The
    gallery is the selectors' when they find one, else the pictures of the product block
    (crawler.extract.shown). The same photo at two sizes is told apart later, by its
    hashes (crawler.same_photo). OpenGraph's one picture for link previews counts only when
    nothing else names one."""
    galleries = {s: per_source[s].image_urls for s in IMAGE_SOURCE_ORDER if s != OPENGRAPH
                 and per_source.get(s) is not None and per_source[s].image_urls}
    if CSS not in galleries and shown.image_urls:
        galleries[SHOWN] = shown.image_urls
    if not galleries and per_source.get(OPENGRAPH) is not None \
            and per_source[OPENGRAPH].image_urls:
        galleries[OPENGRAPH] = per_source[OPENGRAPH].image_urls
    result.image_urls = dedupe_urls(u for urls in galleries.values() for u in urls)
    if galleries:
        result.sources["image_urls"] = next(iter(galleries))


def _what_the_page_shows(result: Extracted, shown: Shown) -> None:
    """The price and stock a shopper sees win over the markup's, and a disagreement is kept
    in the note: a discount only the page shows, an expired sale left in the JSON-LD, the
    variant the page presents among several offers, stock words the markup does not have."""
    notes = [result.price_note] if result.price_note else []
    if shown.price is not None and shown.price.note != "free":
        amount = shown.price.amount
        if result.price is None:
            result.price, result.sources["price"] = amount, SHOWN
            notes = [shown.price.note] if shown.price.note else []
            result.currency = result.currency or shown.price.currency
        elif amount != result.price and not _within(amount, result.price_note):
            notes.append(f"the page shows {format_price(amount, result.currency)}; the "
                         f"markup says {format_price(result.price, result.currency)}")
            result.price, result.sources["price"] = amount, SHOWN
        elif amount != result.price:  # one of the variant offers: the one on display
            result.price, result.sources["price"] = amount, SHOWN
    if shown.price is not None and result.sources.get("list_price") == CSS:
        result.list_price = None  # a selector's first "was" price; the block's is surer
        result.sources.pop("list_price")
    if shown.list_price is not None and result.price is not None \
            and shown.list_price > result.price:
        result.list_price, result.sources["list_price"] = shown.list_price, SHOWN
    if result.list_price is not None and result.price is not None \
            and result.list_price <= result.price:
        result.list_price = None  # a "was" price no higher than the price is no discount
        result.sources.pop("list_price", None)

    said = shown.availability or buyable(shown)
    markup = result.availability
    if said and said != markup:
        if markup is None or (markup == IN_STOCK and said == LOW_STOCK):
            result.availability, result.sources["availability"] = said, SHOWN
        elif markup == OUT_OF_STOCK and shown.can_buy and said in (IN_STOCK, LOW_STOCK):
            notes.append("stock: the markup says out of stock; the page offers add to cart")
            result.availability, result.sources["availability"] = said, SHOWN
        elif shown.availability and markup == IN_STOCK and said == OUT_OF_STOCK \
                and shown.can_buy is not True:
            notes.append("stock: the markup says in stock; the page says out of stock")
            result.availability, result.sources["availability"] = said, SHOWN
    if shown.stock_count is not None and result.stock_count is None:
        result.stock_count = shown.stock_count
    result.price_note = "; ".join(dict.fromkeys(n for n in notes if n)) or None


def _within(amount, note: str | None) -> bool:
    """The amount is inside the markup's "range LOW–HIGH" of variant offers."""
    if not note or not note.startswith("range "):
        return False
    try:
        low, high = (Decimal(x) for x in note[6:].split("–"))
    except Exception:
        return False
    return low <= amount <= high


def _extract_into(
    result: Extracted,
    html: str,
    url: str,
    selectors: Selectors | None,
    default_currency: str | None,
    rendered: bool = False,
) -> None:
    sel = selectors if selectors is not None else Selectors.defaults()
    tree = parse_html(html)
    if tree is None:
        result.problems.append("html: empty or unreadable")
        return
    base = base_url(tree, url)
    problems = result.problems

    per_source: dict[str, Found | None] = {}
    per_source[JSONLD] = from_structured(jsonld_items(tree, problems), url, base, default_currency, True)
    per_source[MICRODATA] = from_structured(microdata_items(tree, base, problems), url, base, default_currency, False)
    per_source[OPENGRAPH] = from_opengraph(opengraph_props(tree, problems), base, default_currency)
    per_source[CSS] = from_css(tree, base, sel, default_currency, problems)

    def take(name: str) -> None:
        for source in IMAGE_SOURCE_ORDER if name == "image_urls" else SOURCE_ORDER:
            found = per_source.get(source)
            if found is None:
                continue
            value = getattr(found, name)
            if value not in (None, [], ""):
                setattr(result, name, list(value) if isinstance(value, list) else value)
                result.sources[name] = source
                return

    for name in ("title", "sku", "price", "list_price", "availability", "stock_count"):
        take(name)
    shown = read_shown(tree, base, result.title, default_currency, rendered)
    _take_images(result, per_source, shown)

    # The note and, when it has one, the currency go with the price they describe.
    price_source = result.sources.get("price")
    if price_source:
        found = per_source[price_source]
        assert found is not None
        result.price_note = found.price_note
        if found.currency:
            result.currency = found.currency
            result.sources["currency"] = price_source
    if result.currency is None:
        take("currency")
    if result.currency is None and default_currency and (result.price is not None or result.list_price is not None):
        result.currency = default_currency.upper()
        result.sources["currency"] = "default"
    _what_the_page_shows(result, shown)

    # A zero price on a listing marked out of stock is the store showing no price (many
    # platforms print 0 for an unpurchasable item), not a zero price; "free" says so itself.
    if result.price == 0 and result.price_note != "free" and result.availability == OUT_OF_STOCK:
        result.price, result.price_note = None, "no price shown (0 while out of stock)"
        result.sources.pop("price", None)

    for name in PLACEHOLDER_FIELDS:
        els = select_elements(tree, getattr(sel, name), problems, name)
        if els and not any(element_text(el).strip() for el in els):
            result.placeholders.append(name)

    if sel.promoted:
        badges = select_elements(tree, sel.promoted, problems, "promoted")
        result.promoted = any(is_shown(el) for el in badges)
        result.sources["promoted"] = CSS
