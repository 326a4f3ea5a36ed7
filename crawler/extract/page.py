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
from crawler.extract.document import (base_url, collapse_text, dedupe_urls, element_text, is_shown,
                                     parse_html)
from crawler.extract.inline_gallery import inline_gallery
from crawler.extract.jsonld import jsonld_items
from crawler.extract.microdata import microdata_items
from crawler.extract.opengraph import from_opengraph, opengraph_props
from crawler.extract.schema_org import from_structured
from crawler.extract.selectors import Selectors, select_elements
from crawler.extract.values import Found
from crawler.extract.shown import Shown, buyable, prepare_page, read_shown, shown_code
from crawler.prices import format_price
from crawler.snapshot import (DISCONTINUED, IN_STOCK, LISTING_VALUE_FIELDS, LOW_STOCK, OUT_OF_STOCK, PRE_ORDER,
                              ListingValues, Snapshot)

log = logging.getLogger(__name__)

JSONLD, MICRODATA, OPENGRAPH, CSS = "jsonld", "microdata", "opengraph", "css"
SHOWN = "page"  # what the product block shows a shopper (crawler.extract.shown)
INLINE = "script data"  # the gallery the page's script draws (crawler.extract.inline_gallery)
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


def _take_images(result: Extracted, per_source: dict[str, Found | None], shown: Shown,
                 tree: Any, base: str) -> None:
    """Every listing image the markup and the gallery name, together: structured data often
    names only the lead photo, and a gallery may leave out the one the markup names. The
    gallery is the contract's selectors' when it gives them, else the product block's
    pictures (crawler.extract.shown), else the generic selectors'; a page whose gallery
    shows one photo or none gets those its script draws from the page's data
    (crawler.extract.inline_gallery). The same photo at two sizes is told apart later, by its
    hashes (crawler.same_photo). OpenGraph's one picture for link previews counts only when
    nothing else names one."""
    css = per_source.get(CSS)
    galleries = {s: per_source[s].image_urls for s in IMAGE_SOURCE_ORDER if s != OPENGRAPH
                 and per_source.get(s) is not None and per_source[s].image_urls}
    if shown.image_urls and not (css is not None and "images" in css.precise):
        # The block's own gallery, without what it knows is not a photo of the listing (a
        # video's cover, a review's picture), over a generic selector's every <img>.
        galleries.pop(CSS, None)
        galleries[SHOWN] = shown.image_urls
    on_page = len(set(galleries.get(CSS, [])) | set(galleries.get(SHOWN, [])))
    og = per_source[OPENGRAPH].image_urls if per_source.get(OPENGRAPH) is not None else []
    if on_page <= 1:
        known = [u for urls in galleries.values() for u in urls] + list(og)
        drawn = inline_gallery(tree, base, known)
        if len(drawn) > on_page:
            galleries[INLINE] = drawn
    if not galleries and og:
        galleries[OPENGRAPH] = og
    # A "no image" picture the markup names stays: the crawl tells it is the store's
    # (crawler.shared_images), leaves it out of the count and still looks it up, once.
    result.image_urls = dedupe_urls(u for urls in galleries.values() for u in urls)
    if galleries:
        result.sources["image_urls"] = next(iter(galleries))


def _what_the_page_shows(result: Extracted, shown: Shown, precise: set[str]) -> None:
    """The price and stock a shopper sees win over the markup's, and a disagreement is kept
    in the note: a discount only the page shows, an expired sale left in the JSON-LD, the
    variant the page presents among several offers, stock words the markup does not have.
    What the contract's or the platform's selectors read (`precise`) is not second-guessed."""
    notes = [result.price_note] if result.price_note else []
    by_selector = result.sources.get("price") == CSS and "price" in precise
    if shown.price is not None and shown.price.note != "free" and not by_selector:
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
    listed_by_selector = result.sources.get("list_price") == CSS and "list_price" in precise
    if shown.price is not None and result.sources.get("list_price") == CSS \
            and not listed_by_selector:
        result.list_price = None  # a generic selector's first "was" price; the block's is surer
        result.sources.pop("list_price")
    if shown.list_price is not None and result.price is not None and not listed_by_selector \
            and shown.list_price > result.price \
            and (not by_selector or (shown.price and shown.price.amount == result.price)):
        result.list_price, result.sources["list_price"] = shown.list_price, SHOWN
    if result.list_price is not None and result.price is not None \
            and result.list_price <= result.price:
        result.list_price = None  # a "was" price no higher than the price is no discount
        result.sources.pop("list_price", None)

    said, markup = shown.availability or buyable(shown), result.availability
    if said and said != markup:
        why = _stock_disagreement(markup, said, shown)
        if why is not None:
            result.availability, result.sources["availability"] = said, SHOWN
            if why:
                notes.append(why)
    if shown.stock_count is not None and result.stock_count is None:
        result.stock_count = shown.stock_count
    result.price_note = "; ".join(dict.fromkeys(n for n in notes if n)) or None


_BUYABLE = (IN_STOCK, LOW_STOCK)
_WORDS = {IN_STOCK: "in stock", LOW_STOCK: "low stock", OUT_OF_STOCK: "out of stock",
          PRE_ORDER: "pre-order", DISCONTINUED: "discontinued"}


def _stock_disagreement(markup: str | None, said: str, shown: Shown) -> str | None:
    """Whether the page's word on stock wins over the markup's: None when the markup's
    stays, "" when the page's is taken as the more precise ("only 3 left" where the markup
    says in stock), or the note saying how they disagree. The page says what a shopper
    reads, so it wins, except that words of being in stock do not beat the markup's "out of
    stock" unless add-to-cart can be pressed, nor "sold out" the markup's "in stock" where it
    can."""
    if markup is None:
        return ""
    if shown.by_badge:
        return None  # a badge the theme may well hide: the markup's word stays
    if said in _BUYABLE and markup in _BUYABLE:
        return "" if said == LOW_STOCK else None
    if said in _BUYABLE and shown.can_buy is not True:
        return None
    if said == OUT_OF_STOCK and markup in _BUYABLE and shown.can_buy is True:
        return None
    if markup in _BUYABLE or said in _BUYABLE:
        page = f"says {_WORDS[said]}" if shown.availability else "offers add to cart" \
            if said in _BUYABLE else "cannot be added to the cart"
        return f"stock: the markup says {_WORDS.get(markup, markup)}; the page {page}"
    return ""  # out of stock, pre-order, discontinued: the page's is the more precise


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
    # Where the title is shown, and what on the page is another product's, before the
    # selectors read it: a generic selector's first match may be a related product's.
    hint = next((f.title for f in per_source.values() if f is not None and f.title), None)
    if hint is None:
        els = select_elements(tree, sel.title, [], "title")
        hint = collapse_text(element_text(els[0])) if els else None
    title_el = prepare_page(tree, hint, url, rendered)
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
    if not result.title and title_el is not None:  # no <h1>, no markup: the page's own title
        result.title = collapse_text(element_text(title_el))
        result.sources["title"] = SHOWN
    shown = read_shown(tree, title_el, base, default_currency)
    if not result.sku:
        code = shown_code(title_el)
        if code:
            result.sku, result.sources["sku"] = code, SHOWN
    _take_images(result, per_source, shown, tree, base)

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
    _what_the_page_shows(result, shown, per_source[CSS].precise if per_source[CSS] else set())

    # A zero price on a listing marked out of stock is the store showing no price (many
    # platforms print 0 for an unpurchasable item), not a zero price; "free" says so itself.
    if result.price == 0 and result.price_note != "free" and result.availability == OUT_OF_STOCK:
        result.price, result.price_note = None, "no price shown (0 while out of stock)"
        result.sources.pop("price", None)
    # A listing taken off sale whose page shows no price: the markup's is an old offer's.
    if result.availability == DISCONTINUED and shown.price is None and title_el is not None \
            and result.price is not None and result.sources.get("price") in (JSONLD, MICRODATA,
                                                                             OPENGRAPH):
        result.price_note = (f"no price shown (discontinued; the markup still says "
                             f"{format_price(result.price, result.currency)})")
        result.price, result.list_price = None, None
        result.sources.pop("price", None)

    for name in PLACEHOLDER_FIELDS:
        els = select_elements(tree, getattr(sel, name), problems, name)
        if els and not any(element_text(el).strip() for el in els):
            result.placeholders.append(name)
    # A price box still empty, or only a range of prices where a variant is chosen: the
    # page's script shows the price (the chosen variant's), so the browser must read it.
    if not rendered and "price" not in result.placeholders and (
            shown.price_pending or (result.price_note or "").startswith("range")):
        result.placeholders.append("price")

    if sel.promoted:
        badges = select_elements(tree, sel.promoted, problems, "promoted")
        result.promoted = any(is_shown(el) for el in badges)
        result.sources["promoted"] = CSS
