"""A schema.org Product (from JSON-LD or microdata items) read into `Found` values.

Finds the product among the items (top level, @graph, lists, mainEntity; @id references
resolved), reads its offers (one Offer, a list, an AggregateOffer; priceSpecification list
prices; inventoryLevel) and merges several offers into one price, availability and count.
`jsonld` and `microdata` only turn their source into items; the reading is shared.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urldefrag

from crawler.extract.document import MAX_IMAGES, absolute_url, collapse_text, dedupe_urls
from crawler.extract.values import Found, as_list, currency_code, first_value, structured_amount
from crawler.prices import ParsedPrice
from crawler.snapshot import (
    DISCONTINUED,
    IN_STOCK,
    LOW_STOCK,
    OUT_OF_STOCK,
    PRE_ORDER,
)
from crawler.stock import normalize_availability

_PRODUCT_TYPES = {"product", "productgroup", "individualproduct", "productmodel", "someproducts"}
# Better availability wins when a listing has several offers (any variant in stock -> in stock).
_AVAILABILITY_RANK = {IN_STOCK: 0, LOW_STOCK: 1, PRE_ORDER: 2, OUT_OF_STOCK: 3, DISCONTINUED: 4}


def _string(value: Any, unescape: bool) -> str | None:
    value = first_value(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        value = str(value)
    if not isinstance(value, str):
        return None
    if unescape and "&" in value:
        value = htmllib.unescape(value)
    return collapse_text(value)


def _types(item: dict) -> set[str]:
    out = set()
    for t in as_list(item.get("@type") or item.get("type")):
        if isinstance(t, str) and t.strip():
            out.add(re.split(r"[/#:]", t.strip().rstrip("/"))[-1].lower())
    return out


def _count(value: Any) -> int | None:
    value = first_value(value)
    if isinstance(value, dict):
        value = value.get("value", value.get("@value"))
        value = first_value(value)
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        return None
    return int(number)


@dataclass
class _Offer:
    price: ParsedPrice | None = None
    list_price: Decimal | None = None
    currency: str | None = None
    availability: str | None = None
    stock_count: int | None = None


class _Graph:
    """Resolves {"@id": ...} references to the full node elsewhere in the JSON-LD."""

    def __init__(self, items: list[Any]):
        self.nodes: dict[str, dict] = {}
        stack: list[tuple[Any, int]] = [(i, 0) for i in items]
        while stack:
            node, depth = stack.pop()
            if depth > 12:
                continue
            if isinstance(node, list):
                stack.extend((n, depth + 1) for n in node)
            elif isinstance(node, dict):
                key = node.get("@id")
                if isinstance(key, str) and len(node) > 1:
                    self.nodes.setdefault(key, node)
                stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (list, dict)))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self.nodes.get(value["@id"], value)
        return value


def _find_products(items: list[Any], graph: _Graph) -> list[dict]:
    """Product-like nodes at the top level, in @graph, or as a page's mainEntity."""
    found: list[dict] = []
    stack: list[tuple[Any, int]] = [(i, 0) for i in reversed(items)]
    while stack:
        node, depth = stack.pop()
        if depth > 6:
            continue
        node = graph.resolve(node)
        if isinstance(node, list):
            stack.extend((n, depth + 1) for n in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        if _types(node) & _PRODUCT_TYPES:
            if not any(node is f for f in found):
                found.append(node)
            continue
        for key in ("mainEntity", "@graph", "about"):
            if key in node:
                stack.append((node[key], depth + 1))
    return found


def _pick_product(products: list[dict], url: str) -> dict | None:
    if not products:
        return None
    page = urldefrag(url)[0].rstrip("/")
    for p in products:
        for key in ("url", "@id"):
            value = p.get(key)
            if isinstance(value, str) and urldefrag(value.strip())[0].rstrip("/") == page:
                return p
    return products[0]


def _read_offer(offer: dict, graph: _Graph, default_currency: str | None) -> list[_Offer]:
    offer = graph.resolve(offer)
    if not isinstance(offer, dict):
        return []
    types = _types(offer)
    currency = currency_code(offer.get("priceCurrency"))
    availability = normalize_availability(offer.get("availability"))
    stock = _count(offer.get("inventoryLevel"))

    if "aggregateoffer" in types:
        price = structured_amount(offer.get("price"), default_currency)
        low = structured_amount(offer.get("lowPrice"), default_currency)
        high = structured_amount(offer.get("highPrice"), default_currency)
        if price is None and low is not None:
            note = "from"
            if high is not None and high.amount != low.amount:
                lo, hi = sorted((low.amount, high.amount))
                low = ParsedPrice(lo, low.currency, None)
                note = f"range {lo}–{hi}"
            price = ParsedPrice(low.amount, low.currency, note)
        if price is None:  # an AggregateOffer that only lists its offers
            inner = [o for sub in as_list(offer.get("offers")) for o in _read_offer(sub, graph, default_currency)]
            if inner:
                return inner
        return [_Offer(price, None, currency or (price.currency if price else None), availability, stock)]

    price = structured_amount(offer.get("price"), default_currency)
    list_price: Decimal | None = None
    for spec in as_list(offer.get("priceSpecification")):
        spec = graph.resolve(spec)
        if not isinstance(spec, dict):
            continue
        amount = structured_amount(spec.get("price"), default_currency)
        if amount is None:
            continue
        kind = first_value(spec.get("priceType"))
        kind = re.split(r"[/#:]", kind.strip())[-1].lower() if isinstance(kind, str) else ""
        if kind in {"listprice", "strikethroughprice", "msrp", "srp", "regularprice"}:
            list_price = list_price if list_price is not None else amount.amount
        elif price is None:
            price = amount
            currency = currency or currency_code(spec.get("priceCurrency"))
    return [_Offer(price, list_price, currency or (price.currency if price else None), availability, stock)]


def _merge_offers(offers: list[_Offer], found: Found) -> None:
    priced = [o for o in offers if o.price is not None]
    if priced:
        amounts = sorted({o.price.amount for o in priced})
        best = min(priced, key=lambda o: o.price.amount)
        found.price = best.price.amount
        found.currency = best.currency
        if len(amounts) > 1 and not (best.price.note or "").startswith("range"):
            found.price_note = f"range {amounts[0]}–{amounts[-1]}"
        else:
            found.price_note = best.price.note
        found.list_price = best.list_price
    if found.currency is None:
        found.currency = next((o.currency for o in offers if o.currency), None)
    if found.list_price is None and len(offers) == 1:
        found.list_price = offers[0].list_price
    ranked = [o.availability for o in offers if o.availability]
    if ranked:
        found.availability = min(ranked, key=lambda a: _AVAILABILITY_RANK.get(a, 9))
    counts = [o.stock_count for o in offers]
    if counts and all(c is not None for c in counts):
        found.stock_count = sum(c for c in counts if c is not None)


def _images(value: Any, base: str, graph: _Graph, depth: int = 0) -> list[str | None]:
    out: list[str | None] = []
    if depth > 4:
        return out
    value = graph.resolve(value)
    if isinstance(value, list):
        for v in value[:MAX_IMAGES]:
            out.extend(_images(v, base, graph, depth + 1))
    elif isinstance(value, dict):
        for key in ("contentUrl", "url", "@id"):
            if isinstance(value.get(key), (str, list)):
                out.extend(_images(value[key], base, graph, depth + 1))
                break
    elif isinstance(value, str):
        out.append(absolute_url(base, htmllib.unescape(value) if "&" in value else value))
    return out


def _read_product(
    product: dict, graph: _Graph, base: str, default_currency: str | None, unescape: bool
) -> Found:
    found = Found()
    found.title = _string(product.get("name"), unescape)
    found.sku = (
        _string(product.get("sku"), unescape)
        or _string(product.get("productID"), unescape)
        or _string(product.get("productGroupID"), unescape)
    )
    variants = [graph.resolve(v) for v in as_list(product.get("hasVariant"))]
    variants = [v for v in variants if isinstance(v, dict)]

    images = _images(product.get("image"), base, graph)
    for v in variants:
        images.extend(_images(v.get("image"), base, graph))
    found.image_urls = dedupe_urls(images)

    offers: list[_Offer] = []
    for o in as_list(product.get("offers")):
        offers.extend(_read_offer(o, graph, default_currency))
    if not offers:
        for v in variants:
            for o in as_list(v.get("offers")):
                offers.extend(_read_offer(o, graph, default_currency))
    _merge_offers(offers, found)
    if found.title is None and variants:
        found.title = _string(variants[0].get("name"), unescape)
    return found


def from_structured(
    items: list[Any], url: str, base: str, default_currency: str | None, unescape: bool
) -> Found | None:
    graph = _Graph(items)
    product = _pick_product(_find_products(items, graph), url)
    if product is None:
        return None
    return _read_product(product, graph, base, default_currency, unescape)
