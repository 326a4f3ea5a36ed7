"""The WooCommerce preset, from WooCommerce's public Store API (`/wp-json/wc/store/v1/`,
documented in WooCommerce's Store API reference):

* discovery: `/wp-json/wc/store/v1/products?per_page=100&page=N` until a page is empty; each
  product's `permalink` (on the store's origins) is its listing page.
* a listing read without that catalogue: `/wp-json/wc/store/v1/products?slug=<slug>`.

`prices` are strings of minor units with `currency_minor_unit` and `currency_code`
({"price": "1999", "regular_price": "2499", "currency_minor_unit": 2} is 19.99, list 24.99);
a variable product's `price_range` is noted. `is_in_stock` and `low_stock_remaining` give the
stock. Pictures stay the page's own when it showed any; else the product's.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import httpx

from ..discover import Discovery
from ..origins import origin_of, same_origin
from ..snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK, Snapshot
from .common import amount, get_json, list_price, over, text

PAGE_SIZE = 100  # the most the Store API gives at once
API = "/wp-json/wc/store/v1/products"


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")


def product_values(product: dict) -> dict:
    """A Store API product as listing values."""
    prices = product.get("prices") if isinstance(product.get("prices"), dict) else {}
    try:
        minor = int(prices.get("currency_minor_unit", 2))
    except (TypeError, ValueError):
        minor = 2
    price = amount(prices.get("price"), minor)
    regular = amount(prices.get("regular_price"), minor)
    note = None
    spread = prices.get("price_range")
    if isinstance(spread, dict):
        low, high = amount(spread.get("min_amount"), minor), amount(spread.get("max_amount"), minor)
        if low is not None and high is not None and low != high:
            note = f"range {low}–{high}"
    low_left = product.get("low_stock_remaining")
    in_stock = product.get("is_in_stock")
    if in_stock is False:
        availability, count = OUT_OF_STOCK, 0
    elif isinstance(low_left, int) and not isinstance(low_left, bool) and low_left > 0:
        availability, count = LOW_STOCK, low_left
    else:
        availability, count = (IN_STOCK if in_stock else None), None
    images = [i.get("src") for i in product.get("images") or []
              if isinstance(i, dict) and isinstance(i.get("src"), str)]
    code = prices.get("currency_code")
    return {
        "title": text(product.get("name")),
        "price": price,
        "list_price": list_price(price, regular),
        "currency": code if isinstance(code, str) and len(code) == 3 else None,
        "availability": availability, "stock_count": count,
        "sku": str(product["sku"]).strip() or None if product.get("sku") else None,
        "price_note": note, "image_urls": images or None,
    }


class WooCommercePreset:
    name = "woocommerce"

    def __init__(self) -> None:
        self.catalogue: dict[str, dict] = {}  # permalink path -> its Store API entry

    async def listing_urls(self, client: httpx.AsyncClient, base_url: str, max_pages: int,
                           deadline_s: float, found: Discovery) -> list[str]:
        urls: list[str] = []
        page = 1
        origins = [origin_of(base_url)]
        while len(urls) < max_pages:
            data = await get_json(client, f"{base_url}{API}?per_page={PAGE_SIZE}&page={page}",
                                  deadline_s, found, "WooCommerce Store API")
            if not isinstance(data, list) or not data:
                break
            for product in data:
                link = product.get("permalink") if isinstance(product, dict) else None
                if isinstance(link, str) and same_origin(link, origins):
                    self.catalogue[_path(link)] = product
                    urls.append(link.split("#", 1)[0])
            page += 1
        return urls[:max_pages]

    async def refine(self, snap: Snapshot, client: httpx.AsyncClient,
                     deadline_s: float) -> Snapshot:
        product = self.catalogue.get(_path(snap.url))
        if product is None:
            slug = _path(snap.url).rsplit("/", 1)[-1]
            if not slug:
                return snap
            found = await get_json(client, f"{origin_of(snap.url)}{API}?slug={quote(slug)}",
                                   deadline_s)
            product = found[0] if isinstance(found, list) and found and \
                isinstance(found[0], dict) else None
            if product is None:
                return snap
        return over(snap, self.name, product_values(product))


__all__ = ["WooCommercePreset", "product_values"]
