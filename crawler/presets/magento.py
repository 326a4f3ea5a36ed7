"""The Magento 2 (Adobe Commerce) preset, from its public storefront GraphQL API (`/graphql`,
documented in Adobe Commerce's GraphQL reference: the `products` query and ProductInterface).
Queries are sent as GET requests (`/graphql?query=…`), which the reference documents for
queries and which the guarded client sends like any page.

* discovery: `products(filter: {price: {from: "0"}}, pageSize: 100, currentPage: N)`, page
  after page up to `page_info.total_pages` (a query needs a search or a filter; every
  saleable product has a price from 0). Each product's page is `/<url_key><url_suffix>`
  (`.html` by default).
* a listing read without that catalogue: `products(filter: {url_key: {eq: "<key>"}})`.

`price_range.minimum_price` gives the price the product page shows before a choice is made
(for a configurable product, its cheapest option: Luma prints it so): `final_price` is the
price, `regular_price` above it the list price, in their `currency`. `stock_status`
(IN_STOCK / OUT_OF_STOCK) and `only_x_left_in_stock` (set when the store shows "Only N
left") give the stock. Pictures stay the page's own when it showed any; else the product's
`media_gallery` (entries not `disabled`).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import httpx

from ..discover import Discovery
from ..origins import origin_of
from ..snapshot import IN_STOCK, LOW_STOCK, OUT_OF_STOCK, Snapshot
from .common import amount, get_json, list_price, over, text

PAGE_SIZE = 100
_FIELDS = (
    "items { __typename sku name url_key url_suffix stock_status only_x_left_in_stock "
    "price_range { minimum_price { regular_price { value currency } "
    "final_price { value currency } } maximum_price { final_price { value } } } "
    "media_gallery { url disabled position } } page_info { current_page total_pages }"
)
DEFAULT_SUFFIX = ".html"


def _query(arguments: str) -> str:
    return "/graphql?query=" + quote("{ products(" + arguments + ") { " + _FIELDS + " } }")


def catalogue_query(page: int) -> str:
    """The path and query of one page of the store's catalogue."""
    return _query(f'filter: {{price: {{from: "0"}}}}, pageSize: {PAGE_SIZE}, currentPage: {page}')


def product_query(url_key: str) -> str:
    """The path and query of the one product whose URL key is `url_key`."""
    return _query(f"filter: {{url_key: {{eq: {_graphql_string(url_key)}}}}}")


def _graphql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def url_key(url: str) -> str | None:
    """'/joust-duffle-bag.html' (or '/gear/bags/joust-duffle-bag.html') -> 'joust-duffle-bag'."""
    last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    key = last.rsplit(".", 1)[0] if "." in last else last
    return key or None


def _items(data: object) -> tuple[list[dict], int]:
    """The products of a GraphQL answer and its number of pages (0: an error answer)."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        return [], 0
    products = data["data"].get("products")
    if not isinstance(products, dict):
        return [], 0
    items = [i for i in products.get("items") or [] if isinstance(i, dict)]
    info = products.get("page_info") if isinstance(products.get("page_info"), dict) else {}
    pages = info.get("total_pages")
    return items, pages if isinstance(pages, int) and not isinstance(pages, bool) else 1


def _money(node: object, *path: str) -> tuple[object, object]:
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None, None
    return node.get("value"), node.get("currency")


def product_values(product: dict) -> dict:
    """A `products` item as listing values."""
    final, currency = _money(product.get("price_range"), "minimum_price", "final_price")
    regular, _ = _money(product.get("price_range"), "minimum_price", "regular_price")
    highest, _ = _money(product.get("price_range"), "maximum_price", "final_price")
    price, regular = amount(final), amount(regular)
    note = None
    top = amount(highest)
    if price is not None and top is not None and top > price:
        note = f"range {price}–{top}"
    status, left = product.get("stock_status"), product.get("only_x_left_in_stock")
    if status == "OUT_OF_STOCK":
        availability, count = OUT_OF_STOCK, 0
    elif isinstance(left, (int, float)) and not isinstance(left, bool) and left > 0:
        availability, count = LOW_STOCK, int(left)
    else:
        availability, count = (IN_STOCK if status == "IN_STOCK" else None), None
    gallery = sorted((g for g in product.get("media_gallery") or [] if isinstance(g, dict)
                      and isinstance(g.get("url"), str) and not g.get("disabled")),
                     key=lambda g: g.get("position") if isinstance(g.get("position"), int) else 0)
    return {
        "title": text(product.get("name")),
        "price": price,
        "list_price": list_price(price, regular),
        "currency": currency if isinstance(currency, str) and len(currency) == 3 else None,
        "availability": availability, "stock_count": count,
        "sku": str(product["sku"]).strip() or None if product.get("sku") else None,
        "price_note": note,
        "image_urls": [g["url"] for g in gallery] or None,
    }


class MagentoPreset:
    name = "magento"

    def __init__(self) -> None:
        self.catalogue: dict[str, dict] = {}  # url_key -> its `products` item

    async def listing_urls(self, client: httpx.AsyncClient, base_url: str, max_pages: int,
                           deadline_s: float, found: Discovery) -> list[str]:
        urls: list[str] = []
        page, pages = 1, 1
        while page <= pages and len(urls) < max_pages:
            data = await get_json(client, base_url + catalogue_query(page), deadline_s, found,
                                  "Magento GraphQL catalogue")
            items, pages = _items(data)
            if not items:
                break
            for product in items:
                key = product.get("url_key")
                if isinstance(key, str) and key and "/" not in key:
                    self.catalogue[key] = product
                    suffix = product.get("url_suffix")
                    suffix = suffix if isinstance(suffix, str) and "/" not in suffix \
                        else DEFAULT_SUFFIX
                    urls.append(f"{base_url}/{quote(key)}{suffix}")
            page += 1
        return urls[:max_pages]

    async def refine(self, snap: Snapshot, client: httpx.AsyncClient,
                     deadline_s: float) -> Snapshot:
        key = url_key(snap.url)
        if key is None:
            return snap
        product = self.catalogue.get(key)
        if product is None:
            items, _ = _items(await get_json(client, origin_of(snap.url) + product_query(key),
                                             deadline_s))
            product = next((i for i in items if i.get("url_key") == key), None)
            if product is None:
                return snap
        return over(snap, self.name, product_values(product))


__all__ = ["MagentoPreset", "catalogue_query", "product_query", "product_values", "url_key"]
