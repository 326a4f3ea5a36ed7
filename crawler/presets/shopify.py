"""The Shopify preset, from Shopify's public storefront endpoints (documented in the Ajax API
reference, shopify.dev/docs/api/ajax/reference/product, and the /products.json catalogue):

* discovery: `/products.json?limit=250&page=N`, page after page until one is empty; each
  product's page is `/products/<handle>`. Its variants give `price` and `compare_at_price`
  as decimal strings ("129.00"), `available` and `sku`.
* a listing read without that catalogue (a spot-check): `/products/<handle>.js`, whose prices
  are integers of cents (12900) and whose variants say the same.

The variant is the one the shopper sees: the page's `?variant=<id>`, else the first one
available (Shopify's `selected_or_first_available_variant`), else the first. Its price and
compare-at price are the price and list price; a product is in stock when that variant is
available. The JSON says no currency (prices are in the store's own): the page's, or the
store's default, stays. Pictures stay the page's own when it showed any (the origin guard
decides which hosts may be fetched); else the product's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from ..discover import Discovery
from ..origins import origin_of
from ..snapshot import IN_STOCK, OUT_OF_STOCK, Snapshot
from .common import amount, get_json, list_price, over, text

PAGE_SIZE = 250  # the most /products.json gives at once


def _handle(url: str) -> str | None:
    """'/products/red-rain-coat' (any locale prefix, any query) -> 'red-rain-coat'."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if "products" in parts[:-1]:
        return parts[parts.index("products") + 1].removesuffix(".js")
    return None


def _image(src: object, base: str) -> str | None:
    if isinstance(src, dict):
        src = src.get("src")
    if not isinstance(src, str) or not src:
        return None
    return urljoin(base, "https:" + src if src.startswith("//") else src)


def product_values(product: dict, url: str, cents: bool) -> dict:
    """A Shopify product (a /products.json entry, or /products/<handle>.js with `cents`) as
    listing values for the listing page `url`."""
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    wanted = parse_qs(urlsplit(url).query).get("variant", [None])[0]
    variant = (next((v for v in variants if str(v.get("id")) == wanted), None)
               or next((v for v in variants if v.get("available")), None)
               or (variants[0] if variants else {}))
    minor = 2 if cents else None
    price = amount(variant.get("price", product.get("price")), minor)
    compare = amount(variant.get("compare_at_price"), minor)
    note = None
    prices = sorted({p for v in variants if (p := amount(v.get("price"), minor)) is not None})
    if len(variants) > 1:
        chosen = str(variant.get("title") or variant.get("id") or "?")
        note = f"variant {chosen!r} of {len(variants)}"
        if len(prices) > 1:
            note += f"; variants {prices[0]}–{prices[-1]}"
    available = variant.get("available", product.get("available"))
    base = origin_of(url) + "/"
    images = [i for i in (_image(s, base) for s in product.get("images") or []) if i]
    return {
        "title": text(product.get("title")),
        "price": price,
        "list_price": list_price(price, compare),
        "availability": None if available is None else (IN_STOCK if available else OUT_OF_STOCK),
        "stock_count": 0 if available is False else None,
        "sku": str(variant["sku"]).strip() or None if variant.get("sku") else None,
        "price_note": note,
        "image_urls": images or None,
    }


class ShopifyPreset:
    name = "shopify"

    def __init__(self) -> None:
        self.catalogue: dict[str, dict] = {}  # handle -> its /products.json entry

    async def listing_urls(self, client: httpx.AsyncClient, base_url: str, max_pages: int,
                           deadline_s: float, found: Discovery) -> list[str]:
        urls: list[str] = []
        page = 1
        while len(urls) < max_pages:
            data = await get_json(client, f"{base_url}/products.json?limit={PAGE_SIZE}&page={page}",
                                  deadline_s, found, "Shopify catalogue")
            products = data.get("products") if isinstance(data, dict) else None
            if not products:
                break
            for product in products:
                handle = product.get("handle") if isinstance(product, dict) else None
                if isinstance(handle, str) and handle and "/" not in handle:
                    self.catalogue[handle] = product
                    urls.append(f"{base_url}/products/{handle}")
            page += 1
        return urls[:max_pages]

    async def refine(self, snap: Snapshot, client: httpx.AsyncClient,
                     deadline_s: float) -> Snapshot:
        handle = _handle(snap.url)
        if handle is None:
            return snap
        if handle in self.catalogue:
            values = product_values(self.catalogue[handle], snap.url, cents=False)
        else:
            path = urlsplit(snap.url).path.rstrip("/")
            product = await get_json(client, f"{origin_of(snap.url)}{path}.js", deadline_s)
            if not isinstance(product, dict):
                return snap
            values = product_values(product, snap.url, cents=True)
        return over(snap, self.name, values)


__all__ = ["ShopifyPreset", "product_values"]
