"""The page's visible HTML read with the contract's CSS selectors into `Found` values.

For stores without structured data, and always for the visible stock count.
"""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.document import (
    MAX_IMAGES,
    absolute_url,
    collapse_text,
    dedupe_urls,
    element_text,
)
from crawler.extract.selectors import Selectors, select_elements, select_first
from crawler.extract.values import Found
from crawler.extract.shown import in_another_part
from crawler.extract.shown.block import hidden
from crawler.prices import parse_price
from crawler.stock import normalize_availability, parse_stock


def _sku_text(text: str | None) -> str | None:
    """"商品编号: SH-0001" -> "SH-0001"; "SKU：A1" -> "A1"; "SH-0001" stays."""
    text = collapse_text(text)
    if not text:
        return None
    label = re.match(r"^[^:：]{0,30}[:：]\s*(\S.*)$", text)
    if label:
        text = label.group(1).strip()
    return text or None


def from_css(
    tree: Any, base: str, sel: Selectors, default_currency: str | None, problems: list[str]
) -> Found:
    found = Found()

    def first(field: str) -> list[Any]:
        alternative, els = select_first(tree, getattr(sel, field), problems, field, keep=_own)
        if alternative is not None and not sel.is_generic(field, alternative):
            found.precise.add(field)
        return els

    els = first("title")
    if els:
        found.title = collapse_text(element_text(els[0]))

    els = first("price")
    if els:
        el = els[0]
        text = element_text(el, skip=("del", "s", "strike")).strip() or (el.get("content") or "")
        parsed = parse_price(text, default_currency)
        if parsed is not None:
            found.price, found.currency, found.price_note = parsed.amount, parsed.currency, parsed.note
            found.list_price = parsed.list_price  # "原价¥299 现价¥199" in one element

    els = first("list_price")
    if els:
        parsed = parse_price(element_text(els[0]).strip() or els[0].get("content"), default_currency)
        if parsed is not None:
            found.list_price = parsed.list_price or parsed.amount
            found.currency = found.currency or parsed.currency

    els = first("stock")
    if els:
        el = els[0]
        text = element_text(el)
        availability, count = parse_stock(text)
        machine = normalize_availability(
            el.get("data-availability") or el.get("content") or el.get("href")
        )
        found.availability = machine or availability
        found.stock_count = count

    els = select_elements(tree, sel.images, problems, "images")
    urls: list[str | None] = []
    for el in els[: MAX_IMAGES * 2]:
        urls.extend(_element_image_urls(el, base))
    found.image_urls = dedupe_urls(urls)

    els = select_elements(tree, sel.sku, problems, "sku")
    if els:
        el = els[0]
        found.sku = collapse_text(el.get("data-sku") or el.get("content")) or _sku_text(element_text(el))
    return found


def _own(el: Any) -> bool:
    """The match is this listing's and shown: a generic selector's first match may be a
    related product's price, the header cart's total or an old price the page hides."""
    return not in_another_part(el) and not hidden(el)


def _element_image_urls(el: Any, base: str) -> list[str | None]:
    tag = el.tag.lower() if isinstance(el.tag, str) else ""
    if tag in {"img", "source"}:
        # Lazy-loading stores keep the real image in data-src and a placeholder in src.
        for attr in ("data-src", "data-original", "data-lazy-src", "data-zoom-image", "src"):
            url = absolute_url(base, el.get(attr))
            if url:
                return [url]
        srcset = el.get("srcset") or el.get("data-srcset") or ""
        first = srcset.split(",")[0].strip().split(" ")[0] if srcset else ""
        return [absolute_url(base, first)]
    if tag == "meta":
        return [absolute_url(base, el.get("content"))]
    if tag in {"a", "link"}:
        return [absolute_url(base, el.get("href"))]
    out: list[str | None] = []
    for img in el.iter("img"):
        out.extend(_element_image_urls(img, base))
    return out
