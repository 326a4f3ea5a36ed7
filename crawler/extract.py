"""One listing page's HTML turned into data: title, price, stock, images, SKU, promoted.

Four sources are read and merged field by field, the first that has a field winning:

1. JSON-LD (`<script type="application/ld+json">`, via extruct, one block at a time so a
   broken block loses only itself): Product, ProductGroup with hasVariant, @graph, lists,
   mainEntity; offers as one Offer, a list, or an AggregateOffer (lowPrice -> price, with the
   note "range LOW–HIGH" or "from"); priceSpecification with priceType ListPrice /
   StrikethroughPrice -> list_price; inventoryLevel -> stock_count.
2. microdata (itemscope/itemprop, via extruct), read like JSON-LD.
3. OpenGraph (og:title, og:image, product:price:amount/currency, product:sale_price:amount,
   og:availability / product:availability, product:retailer_item_id).
4. CSS selectors (`Selectors`), for stores without structured data, and always for the
   visible stock count and the promoted badge.

Everything read is data: titles keep `<script>`/`<img onerror>` text literally; nothing is
evaluated. Odd HTML never raises: `extract_listing` returns what it found, lists the required
fields it could not find in `missing`, and says what went wrong in `problems`.
"""

from __future__ import annotations

import copy
import html as htmllib
import json
import logging
import re
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml.cssselect import CSSSelector

from crawler.prices import ParsedPrice, currency_from_symbol, parse_price
from crawler.snapshot import (
    DISCONTINUED,
    IN_STOCK,
    LOW_STOCK,
    OUT_OF_STOCK,
    PRE_ORDER,
    Snapshot,
)
from crawler.stock import normalize_availability, parse_stock

try:
    import extruct
    from extruct.jsonld import JsonLdExtractor
except Exception:  # pragma: no cover - extruct is a declared dependency
    extruct = None
    JsonLdExtractor = None

__all__ = [
    "Selectors",
    "Extracted",
    "REQUIRED_FIELDS",
    "extract_listing",
    "extract_card_links",
    "extract_next_page",
]

log = logging.getLogger(__name__)

JSONLD, MICRODATA, OPENGRAPH, CSS = "jsonld", "microdata", "opengraph", "css"
SOURCE_ORDER = (JSONLD, MICRODATA, OPENGRAPH, CSS)
# og:image is the one picture for link previews, not the gallery: the page's own gallery
# (CSS) lists every listing image, so it comes before OpenGraph for images.
IMAGE_SOURCE_ORDER = (JSONLD, MICRODATA, CSS, OPENGRAPH)
REQUIRED_FIELDS = ("title", "price", "availability", "image_urls")
_VALUE_FIELDS = (
    "sku", "title", "price", "list_price", "currency", "availability", "stock_count",
    "image_urls",
)
_PRODUCT_TYPES = {"product", "productgroup", "individualproduct", "productmodel", "someproducts"}
# Better availability wins when a listing has several offers (any variant in stock -> in stock).
_AVAILABILITY_RANK = {IN_STOCK: 0, LOW_STOCK: 1, PRE_ORDER: 2, OUT_OF_STOCK: 3, DISCONTINUED: 4}
_MAX_IMAGES = 200
_MAX_TEXT = 2000
_MAX_ITEMSCOPES = 2000
_MAX_ITEMSCOPE_DEPTH = 16


# --------------------------------------------------------------------------- selectors


@dataclass
class Selectors:
    """CSS selectors for a store without (complete) structured data. None: not looked for.

    A selector may be a group ("h1.product-title, h1"): its alternatives are tried in the
    order written and the first one that matches any element decides (so a later, broader
    alternative never overrides an earlier, precise one that matched an empty element).
    Single-value fields read the first element matched; `images` reads all of them.
    """

    title: str | None = None
    price: str | None = None
    list_price: str | None = None
    stock: str | None = None
    images: str | None = None
    sku: str | None = None
    promoted: str | None = None
    card: str | None = None

    @classmethod
    def defaults(cls) -> "Selectors":
        """Generic selectors for common stores and the sample store."""
        return cls(
            title="h1.product-title, .product-title, .product_title, .product-name, h1",
            price=(
                ".price, .product-price, .product__price, .price-current, .current-price, "
                "[itemprop=price]"
            ),
            list_price=(
                "del.list-price, .list-price, .price del, .was-price, .compare-at-price, "
                ".original-price, s.price"
            ),
            stock=".stock, .stock-status, .product-stock, .availability, [data-availability]",
            images=(
                ".gallery img, .product-gallery img, .product-images img, .product__media img, "
                ".woocommerce-product-gallery img"
            ),
            sku=".sku, .product-sku",
            promoted=".badge-promoted",
            card="article.product-card, .product-card, li.product, .product-item",
        )

    def with_defaults(self) -> "Selectors":
        """A copy whose unset (None) fields take the generic defaults."""
        base = Selectors.defaults()
        return Selectors(
            **{f.name: getattr(self, f.name) or getattr(base, f.name) for f in fields(self)}
        )

    def check(self) -> list[tuple[str, str]]:
        """(field, error) for every selector that is not valid CSS: for refusing a contract."""
        bad: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if not isinstance(value, str) or not value.strip():
                bad.append((f.name, "empty selector"))
                continue
            for alternative in _split_group(value):
                try:
                    _compile(alternative)
                except Exception as exc:  # cssselect.SelectorError and friends
                    bad.append((f.name, f"not valid CSS: {alternative!r} ({exc})"))
        return bad


def _split_group(selector: str) -> list[str]:
    """Split "a, b[x='1,2'], :is(c, d)" at its top-level commas."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    for i, ch in enumerate(selector):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(selector[start:i])
            start = i + 1
    parts.append(selector[start:])
    return [p.strip() for p in parts if p.strip()]


@lru_cache(maxsize=512)
def _compile(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def _select(root: Any, selector: str | None, problems: list[str], what: str) -> list[Any]:
    """Elements of the first alternative of `selector` that matches anything."""
    if not selector or root is None:
        return []
    for alternative in _split_group(selector):
        try:
            found = _compile(alternative)(root)
        except Exception as exc:
            problems.append(f"css: {what} selector {alternative!r} is not usable ({exc})")
            continue
        if found:
            return found
    return []


# --------------------------------------------------------------------------- result


@dataclass
class Extracted:
    """What one listing page showed, merged from its sources."""

    sku: str | None = None
    title: str | None = None
    price: Decimal | None = None
    list_price: Decimal | None = None
    currency: str | None = None
    availability: str | None = None
    stock_count: int | None = None
    promoted: bool | None = None
    image_urls: list[str] = field(default_factory=list)
    price_note: str | None = None
    # field -> "jsonld" | "microdata" | "opengraph" | "css" ("default" for a currency that
    # came from the store's default_currency only).
    sources: dict[str, str] = field(default_factory=dict)
    # Required fields (title, price, availability, image_urls) the page did not give.
    missing: list[str] = field(default_factory=list)
    # What went wrong while reading (broken JSON-LD, unusable selector...), for debugging.
    problems: list[str] = field(default_factory=list)

    @property
    def source(self) -> str | None:
        """The first source, in merge order, that supplied any value."""
        used = set(self.sources.values())
        return next((s for s in SOURCE_ORDER if s in used), None)

    def to_snapshot(self, url: str, **extra: Any) -> Snapshot:
        """A Snapshot of these values; `extra` sets fetched_with, http_status, fetched_at..."""
        values = {name: getattr(self, name) for name in (*_VALUE_FIELDS, "promoted", "price_note")}
        values["image_urls"] = list(self.image_urls)
        values.setdefault("source", self.source)
        values.update(extra)
        return Snapshot(url=url, **values)


@dataclass
class _Found:
    """The values one source gave."""

    sku: str | None = None
    title: str | None = None
    price: Decimal | None = None
    list_price: Decimal | None = None
    currency: str | None = None
    availability: str | None = None
    stock_count: int | None = None
    image_urls: list[str] = field(default_factory=list)
    price_note: str | None = None


# --------------------------------------------------------------------------- small helpers


def _parse_html(html: str | bytes | None) -> Any:
    """An lxml document, or None for empty or unreadable input. Never raises."""
    if html is None:
        return None
    try:
        if isinstance(html, bytes):
            data = html.replace(b"\x00", b"")
            parser = lxml.html.HTMLParser(huge_tree=True)  # let the page's meta charset decide
        else:
            data = str(html).replace("\x00", "").encode("utf-8", errors="replace")
            parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
        if not data.strip():
            return None
        return lxml.html.document_fromstring(data, parser=parser)
    except Exception as exc:  # lxml.etree.ParserError "Document is empty", etc.
        log.debug("unreadable html: %s", exc)
        return None


def _base_url(tree: Any, url: str) -> str:
    try:
        for href in tree.xpath("//base/@href"):
            href = str(href).strip()
            if href:
                joined = urljoin(url, href)
                if urlsplit(joined).scheme in {"http", "https"}:
                    return joined
    except Exception:
        pass
    return url


def _absolute(base: str, ref: Any) -> str | None:
    """An absolute http(s) URL for `ref`, or None (data:, javascript:, empty, malformed)."""
    if not isinstance(ref, str):
        return None
    ref = ref.strip()
    if not ref or ref.startswith("#") or len(ref) > 4096:
        return None
    low = ref[:11].lower()
    if low.startswith(("data:", "javascript:", "blob:", "mailto:", "tel:", "about:")):
        return None
    try:
        joined = urljoin(base, ref)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return joined


def _dedupe(urls: Iterable[str | None]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for u in urls:
        if u and u not in seen:
            seen.add(u)
            out.append(u)
            if len(out) >= _MAX_IMAGES:
                break
    return out


def _collapse(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = " ".join(text[: _MAX_TEXT * 4].split())
    return text or None


def _text(el: Any, skip: tuple[str, ...] = ()) -> str:
    """The text of an element as a reader sees it: <br> is a space, `skip` tags are left out."""
    try:
        if skip or el.find(".//br") is not None:
            el = _copy(el)
            for tag in skip:
                for sub in el.findall(f".//{tag}"):
                    sub.drop_tree()
            for br in el.iter("br"):
                br.tail = " " + (br.tail or "")
        return str(el.xpath("string()"))
    except Exception:
        return ""


def _copy(el: Any) -> Any:
    return copy.deepcopy(el)


def _first(value: Any) -> Any:
    while isinstance(value, (list, tuple)):
        if not value:
            return None
        value = value[0]
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _string(value: Any, unescape: bool) -> str | None:
    value = _first(value)
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
    return _collapse(value)


def _types(item: dict) -> set[str]:
    out = set()
    for t in _as_list(item.get("@type") or item.get("type")):
        if isinstance(t, str) and t.strip():
            out.add(re.split(r"[/#:]", t.strip().rstrip("/"))[-1].lower())
    return out


def _sku_text(text: str | None) -> str | None:
    """"商品编号: SH-0001" -> "SH-0001"; "SKU：A1" -> "A1"; "SH-0001" stays."""
    text = _collapse(text)
    if not text:
        return None
    label = re.match(r"^[^:：]{0,30}[:：]\s*(\S.*)$", text)
    if label:
        text = label.group(1).strip()
    return text or None


# --------------------------------------------------------------------------- structured data


def _structured_amount(value: Any, default_currency: str | None) -> ParsedPrice | None:
    """A schema.org price value: a number, "1299.00" (dot decimal), or a shown price text."""
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return parse_price(value, None)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        try:
            return ParsedPrice(Decimal(text), None, None)
        except InvalidOperation:
            return None
    # A shown price in a structured field ("¥1,299.00"): its sign, read with the store's
    # default (so "¥" is JPY on a yen store), but no currency invented when it has none.
    bare = parse_price(text, None)
    if bare is None or bare.currency is None:
        return bare
    return parse_price(text, default_currency)


def _currency_code(value: Any) -> str | None:
    value = _first(value)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    return currency_from_symbol(value)


def _count(value: Any) -> int | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("value", value.get("@value"))
        value = _first(value)
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
    currency = _currency_code(offer.get("priceCurrency"))
    availability = normalize_availability(offer.get("availability"))
    stock = _count(offer.get("inventoryLevel"))

    if "aggregateoffer" in types:
        price = _structured_amount(offer.get("price"), default_currency)
        low = _structured_amount(offer.get("lowPrice"), default_currency)
        high = _structured_amount(offer.get("highPrice"), default_currency)
        if price is None and low is not None:
            note = "from"
            if high is not None and high.amount != low.amount:
                lo, hi = sorted((low.amount, high.amount))
                low = ParsedPrice(lo, low.currency, None)
                note = f"range {lo}–{hi}"
            price = ParsedPrice(low.amount, low.currency, note)
        if price is None:  # an AggregateOffer that only lists its offers
            inner = [o for sub in _as_list(offer.get("offers")) for o in _read_offer(sub, graph, default_currency)]
            if inner:
                return inner
        return [_Offer(price, None, currency or (price.currency if price else None), availability, stock)]

    price = _structured_amount(offer.get("price"), default_currency)
    list_price: Decimal | None = None
    for spec in _as_list(offer.get("priceSpecification")):
        spec = graph.resolve(spec)
        if not isinstance(spec, dict):
            continue
        amount = _structured_amount(spec.get("price"), default_currency)
        if amount is None:
            continue
        kind = _first(spec.get("priceType"))
        kind = re.split(r"[/#:]", kind.strip())[-1].lower() if isinstance(kind, str) else ""
        if kind in {"listprice", "strikethroughprice", "msrp", "srp", "regularprice"}:
            list_price = list_price if list_price is not None else amount.amount
        elif price is None:
            price = amount
            currency = currency or _currency_code(spec.get("priceCurrency"))
    return [_Offer(price, list_price, currency or (price.currency if price else None), availability, stock)]


def _merge_offers(offers: list[_Offer], found: _Found) -> None:
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
        for v in value[:_MAX_IMAGES]:
            out.extend(_images(v, base, graph, depth + 1))
    elif isinstance(value, dict):
        for key in ("contentUrl", "url", "@id"):
            if isinstance(value.get(key), (str, list)):
                out.extend(_images(value[key], base, graph, depth + 1))
                break
    elif isinstance(value, str):
        out.append(_absolute(base, htmllib.unescape(value) if "&" in value else value))
    return out


def _read_product(
    product: dict, graph: _Graph, base: str, default_currency: str | None, unescape: bool
) -> _Found:
    found = _Found()
    found.title = _string(product.get("name"), unescape)
    found.sku = (
        _string(product.get("sku"), unescape)
        or _string(product.get("productID"), unescape)
        or _string(product.get("productGroupID"), unescape)
    )
    variants = [graph.resolve(v) for v in _as_list(product.get("hasVariant"))]
    variants = [v for v in variants if isinstance(v, dict)]

    images = _images(product.get("image"), base, graph)
    for v in variants:
        images.extend(_images(v.get("image"), base, graph))
    found.image_urls = _dedupe(images)

    offers: list[_Offer] = []
    for o in _as_list(product.get("offers")):
        offers.extend(_read_offer(o, graph, default_currency))
    if not offers:
        for v in variants:
            for o in _as_list(v.get("offers")):
                offers.extend(_read_offer(o, graph, default_currency))
    _merge_offers(offers, found)
    if found.title is None and variants:
        found.title = _string(variants[0].get("name"), unescape)
    return found


def _jsonld_items(tree: Any, problems: list[str]) -> list[Any]:
    items: list[Any] = []
    scripts = [
        s
        for s in tree.iter("script")
        if (s.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"
    ]
    for n, script in enumerate(scripts, 1):
        # extruct matches the exact type only: "application/ld+json; charset=utf-8" is common.
        script.set("type", "application/ld+json")
        try:
            if JsonLdExtractor is None:
                raise ValueError("extruct missing")
            items.extend(JsonLdExtractor().extract_items(script))
            continue
        except Exception:
            pass
        data = _lenient_json(script.xpath("string()"))
        if data is None:
            problems.append(f"jsonld: block {n} is not valid JSON; skipped")
        elif isinstance(data, list):
            items.extend(data)
        else:
            items.append(data)
    return items


def _lenient_json(text: str) -> Any:
    """Last try at a JSON-LD block extruct refused: CDATA, HTML comments, trailing commas."""
    text = text.strip()
    text = re.sub(r"^\s*(<!--|<!\[CDATA\[)", "", text)
    text = re.sub(r"(-->|\]\]>)\s*$", "", text)
    text = re.sub(r",\s*([}\]])", r"\1", text).strip().rstrip(";")
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _from_structured(
    items: list[Any], url: str, base: str, default_currency: str | None, unescape: bool
) -> _Found | None:
    graph = _Graph(items)
    product = _pick_product(_find_products(items, graph), url)
    if product is None:
        return None
    return _read_product(product, graph, base, default_currency, unescape)


def _microdata_items(tree: Any, base: str, problems: list[str]) -> list[Any]:
    if extruct is None:
        return []
    # extruct's microdata reader is cubic in nested itemscopes: a hostile page with
    # thousands of them would hang the crawl. Real product pages have a few dozen at most.
    try:
        scopes = tree.xpath("//*[@itemscope]")
        if not scopes:
            return []
        if len(scopes) > _MAX_ITEMSCOPES or max(
            int(s.xpath("count(ancestor::*[@itemscope])")) for s in scopes
        ) > _MAX_ITEMSCOPE_DEPTH:
            problems.append(f"microdata: {len(scopes)} itemscopes or nested too deep; skipped")
            return []
    except Exception:
        return []
    try:
        out = extruct.extract(tree, base_url=base, syntaxes=["microdata"], uniform=True, errors="strict")
        return list(out.get("microdata") or [])
    except Exception as exc:
        problems.append(f"microdata: unreadable ({type(exc).__name__})")
        return []


# --------------------------------------------------------------------------- OpenGraph


def _opengraph_props(tree: Any, problems: list[str]) -> dict[str, list[str]]:
    props: dict[str, list[str]] = {}

    def add(key: str, value: Any) -> None:
        for v in _as_list(value):
            if isinstance(v, str) and v.strip():
                props.setdefault(key.strip().lower(), []).append(v.strip())

    if extruct is not None:
        try:
            out = extruct.extract(tree, syntaxes=["opengraph"], uniform=True, with_og_array=True, errors="strict")
            for obj in out.get("opengraph") or []:
                for key, value in obj.items():
                    if not key.startswith("@"):
                        add(key, value)
        except Exception as exc:
            problems.append(f"opengraph: unreadable ({type(exc).__name__})")
    if not props:
        # extruct reads <meta property> in <head> only; stores also put them in <body> or
        # use name= instead of property=.
        for meta in tree.iter("meta"):
            key = meta.get("property") or meta.get("name") or ""
            if key.lower().startswith(("og:", "product:")):
                add(key, meta.get("content"))
    return props


def _from_opengraph(props: dict[str, list[str]], base: str, default_currency: str | None) -> _Found | None:
    if not props:
        return None

    def one(*keys: str) -> str | None:
        for k in keys:
            if props.get(k):
                return props[k][0]
        return None

    found = _Found()
    found.title = _collapse(one("og:title"))
    found.sku = _collapse(one("product:retailer_item_id", "product:sku"))
    images = props.get("og:image") or props.get("og:image:url") or props.get("og:image:secure_url") or []
    found.image_urls = _dedupe(_absolute(base, u) for u in images)
    regular = _structured_amount(one("product:price:amount", "og:price:amount"), default_currency)
    sale = _structured_amount(one("product:sale_price:amount", "og:sale_price:amount"), default_currency)
    original = _structured_amount(one("product:original_price:amount", "og:price:standard_amount"), default_currency)
    price = sale or regular
    if price is not None:
        found.price = price.amount
        found.price_note = price.note
    if sale is not None and regular is not None and regular.amount != sale.amount:
        found.list_price = regular.amount
    elif original is not None:
        found.list_price = original.amount
    found.currency = (
        _currency_code(one("product:sale_price:currency") if sale is not None else None)
        or _currency_code(one("product:price:currency", "og:price:currency"))
        or (price.currency if price else None)
    )
    found.availability = normalize_availability(one("og:availability", "product:availability"))
    return found


# --------------------------------------------------------------------------- CSS


def _from_css(
    tree: Any, base: str, sel: Selectors, default_currency: str | None, problems: list[str]
) -> _Found:
    found = _Found()
    els = _select(tree, sel.title, problems, "title")
    if els:
        found.title = _collapse(_text(els[0]))

    els = _select(tree, sel.price, problems, "price")
    if els:
        el = els[0]
        text = _text(el, skip=("del", "s", "strike")).strip() or (el.get("content") or "")
        parsed = parse_price(text, default_currency)
        if parsed is not None:
            found.price, found.currency, found.price_note = parsed.amount, parsed.currency, parsed.note

    els = _select(tree, sel.list_price, problems, "list_price")
    if els:
        parsed = parse_price(_text(els[0]).strip() or els[0].get("content"), default_currency)
        if parsed is not None:
            found.list_price = parsed.amount
            found.currency = found.currency or parsed.currency

    els = _select(tree, sel.stock, problems, "stock")
    if els:
        el = els[0]
        text = _text(el)
        availability, count = parse_stock(text)
        machine = normalize_availability(
            el.get("data-availability") or el.get("content") or el.get("href")
        )
        found.availability = machine or availability
        found.stock_count = count

    els = _select(tree, sel.images, problems, "images")
    urls: list[str | None] = []
    for el in els[: _MAX_IMAGES * 2]:
        urls.extend(_element_image_urls(el, base))
    found.image_urls = _dedupe(urls)

    els = _select(tree, sel.sku, problems, "sku")
    if els:
        el = els[0]
        found.sku = _collapse(el.get("data-sku") or el.get("content")) or _sku_text(_text(el))
    return found


_HIDDEN_STYLE = re.compile(r"(display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)


def _shown(el: Any) -> bool:
    """False for an element a shopper cannot see: `hidden`, or display:none inline."""
    for node in (el, *el.iterancestors()):
        if node.get("hidden") is not None or _HIDDEN_STYLE.search(node.get("style") or ""):
            return False
    return True


def _element_image_urls(el: Any, base: str) -> list[str | None]:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in {"img", "source"}:
        # Lazy-loading stores keep the real image in data-src and a placeholder in src.
        for attr in ("data-src", "data-original", "data-lazy-src", "data-zoom-image", "src"):
            url = _absolute(base, el.get(attr))
            if url:
                return [url]
        srcset = el.get("srcset") or el.get("data-srcset") or ""
        first = srcset.split(",")[0].strip().split(" ")[0] if srcset else ""
        return [_absolute(base, first)]
    if tag == "meta":
        return [_absolute(base, el.get("content"))]
    if tag in {"a", "link"}:
        return [_absolute(base, el.get("href"))]
    out: list[str | None] = []
    for img in el.iter("img"):
        out.extend(_element_image_urls(img, base))
    return out


# --------------------------------------------------------------------------- public


def extract_listing(
    html: str | bytes,
    url: str,
    selectors: Selectors | None = None,
    default_currency: str | None = None,
) -> Extracted:
    """Read one listing page. Never raises on odd HTML; see the module doc for the merge.

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


def _extract_into(
    result: Extracted,
    html: str,
    url: str,
    selectors: Selectors | None,
    default_currency: str | None,
) -> None:
    sel = selectors if selectors is not None else Selectors.defaults()
    tree = _parse_html(html)
    if tree is None:
        result.problems.append("html: empty or unreadable")
        return
    base = _base_url(tree, url)
    problems = result.problems

    per_source: dict[str, _Found | None] = {}
    per_source[JSONLD] = _from_structured(_jsonld_items(tree, problems), url, base, default_currency, True)
    per_source[MICRODATA] = _from_structured(_microdata_items(tree, base, problems), url, base, default_currency, False)
    per_source[OPENGRAPH] = _from_opengraph(_opengraph_props(tree, problems), base, default_currency)
    per_source[CSS] = _from_css(tree, base, sel, default_currency, problems)

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

    for name in ("title", "sku", "price", "list_price", "availability", "stock_count", "image_urls"):
        take(name)

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

    if sel.promoted:
        badges = _select(tree, sel.promoted, problems, "promoted")
        result.promoted = any(_shown(el) for el in badges)
        result.sources["promoted"] = CSS


def extract_card_links(
    html: str, url: str, selectors: Selectors | None = None
) -> list[tuple[str, str | None]]:
    """(absolute product URL, data-sku or None) for each product card, in page order.

    A card is `selectors.card` (default `Selectors.defaults().card`); its link is the card
    itself when it is an <a href>, else its first <a href> with an http(s) target. Fragments
    are dropped and each URL is given once. Origins are not filtered: the caller does that.
    """
    tree = _parse_html(html)
    if tree is None:
        return []
    card_selector = (selectors.card if selectors and selectors.card else None) or Selectors.defaults().card
    base = _base_url(tree, url)
    problems: list[str] = []
    out: list[tuple[str, str | None]] = []
    index: dict[str, int] = {}
    for card in _select(tree, card_selector, problems, "card"):
        try:
            links = [card] if card.tag == "a" and card.get("href") else card.iter("a")
            link = None
            for a in links:
                link = _absolute(base, a.get("href"))
                if link:
                    break
            if not link:
                continue
            link = urldefrag(link)[0]
            sku = _collapse(card.get("data-sku"))
            if link in index:
                if sku and out[index[link]][1] is None:
                    out[index[link]] = (link, sku)
                continue
            index[link] = len(out)
            out.append((link, sku))
        except Exception:
            continue
    if problems:
        log.debug("card selector problems: %s", problems)
    return out


def extract_next_page(html: str, url: str) -> str | None:
    """The absolute URL of the next listing page (`link[rel=next]`, `a[rel=next]`), or None."""
    tree = _parse_html(html)
    if tree is None:
        return None
    base = _base_url(tree, url)
    here = urldefrag(url)[0]
    try:
        candidates = tree.xpath(
            "//link[@href][contains(concat(' ', translate(normalize-space(@rel),"
            " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' '), ' next ')]"
            " | //a[@href][contains(concat(' ', translate(normalize-space(@rel),"
            " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), ' '), ' next ')]"
        )
    except Exception:
        return None
    for el in candidates:
        link = _absolute(base, el.get("href"))
        if link and urldefrag(link)[0] != here:
            return link
    return None
