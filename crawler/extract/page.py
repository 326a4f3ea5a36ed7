"""`extract_listing`: one listing page read from every source and merged field by field.

The sources are read in `SOURCE_ORDER` (images in `IMAGE_SOURCE_ORDER`) and, per field, the
first that has a value wins; the result is an `Extracted`, which becomes a `Snapshot`.
See the package doc (`crawler.extract`) for what each source reads.
"""

from __future__ import annotations

import logging
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
from crawler.snapshot import LISTING_VALUE_FIELDS, OUT_OF_STOCK, ListingValues, Snapshot

log = logging.getLogger(__name__)

JSONLD, MICRODATA, OPENGRAPH, CSS = "jsonld", "microdata", "opengraph", "css"
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
) -> Extracted:
    """Read one listing page. Never raises on odd HTML; see the package doc for the merge.

    `html` may be bytes (its meta charset is honoured, e.g. GBK). `selectors` None means
    `Selectors.defaults()`; a Selectors field left None is not looked
    for (use `Selectors.with_defaults()` to fill gaps). `promoted` is True when the promoted
    selector matches, False when it does not, None when there is no promoted selector or the
    page could not be read at all.
    """
    result = Extracted()
    try:
        _extract_into(result, html, url, selectors, default_currency)
    except Exception as exc:  # a last guard: odd input must not take the crawl down
        log.exception("extract_listing failed for %s", url)
        result.problems.append(f"extract: {type(exc).__name__}: {exc}")
    result.missing = [name for name in REQUIRED_FIELDS if getattr(result, name) in (None, [], "")]
    return result


def _take_images(result: Extracted, per_source: dict[str, Found | None]) -> None:
    """Every listing image the markup and the gallery name, together: structured data often
    names only the lead photo, and a gallery may leave out the one the markup names. The
    same photo at two sizes is told apart later, by its hashes (crawler.same_photo).
    OpenGraph's one picture for link previews counts only when nothing else names one."""
    sources = [s for s in IMAGE_SOURCE_ORDER if s != OPENGRAPH
               and per_source.get(s) is not None and per_source[s].image_urls]
    if not sources and per_source.get(OPENGRAPH) is not None \
            and per_source[OPENGRAPH].image_urls:
        sources = [OPENGRAPH]
    result.image_urls = dedupe_urls(u for s in sources for u in per_source[s].image_urls)
    if sources:
        result.sources["image_urls"] = sources[0]


def _extract_into(
    result: Extracted,
    html: str,
    url: str,
    selectors: Selectors | None,
    default_currency: str | None,
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
    _take_images(result, per_source)

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
