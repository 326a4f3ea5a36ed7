"""OpenGraph meta tags (og:*, product:*) read into `Found` values.

og:title, og:image, product:price:amount/currency, product:sale_price:amount,
og:availability / product:availability, product:retailer_item_id.
"""

from __future__ import annotations

from typing import Any

from crawler.extract.document import absolute_url, collapse_text, dedupe_urls
from crawler.extract.values import Found, as_list, currency_code, structured_amount
from crawler.stock import normalize_availability

try:
    import extruct
except Exception:  # pragma: no cover - extruct is a declared dependency
    extruct = None


def opengraph_props(tree: Any, problems: list[str]) -> dict[str, list[str]]:
    props: dict[str, list[str]] = {}

    def add(key: str, value: Any) -> None:
        for v in as_list(value):
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


def from_opengraph(props: dict[str, list[str]], base: str, default_currency: str | None) -> Found | None:
    if not props:
        return None

    def one(*keys: str) -> str | None:
        for k in keys:
            if props.get(k):
                return props[k][0]
        return None

    found = Found()
    found.title = collapse_text(one("og:title"))
    found.sku = collapse_text(one("product:retailer_item_id", "product:sku"))
    images = props.get("og:image") or props.get("og:image:url") or props.get("og:image:secure_url") or []
    found.image_urls = dedupe_urls(absolute_url(base, u) for u in images)
    regular = structured_amount(one("product:price:amount", "og:price:amount"), default_currency)
    sale = structured_amount(one("product:sale_price:amount", "og:sale_price:amount"), default_currency)
    original = structured_amount(one("product:original_price:amount", "og:price:standard_amount"), default_currency)
    price = sale or regular
    if price is not None:
        found.price = price.amount
        found.price_note = price.note
    if sale is not None and regular is not None and regular.amount != sale.amount:
        found.list_price = regular.amount
    elif original is not None:
        found.list_price = original.amount
    found.currency = (
        currency_code(one("product:sale_price:currency") if sale is not None else None)
        or currency_code(one("product:price:currency", "og:price:currency"))
        or (price.currency if price else None)
    )
    found.availability = normalize_availability(one("og:availability", "product:availability"))
    return found
