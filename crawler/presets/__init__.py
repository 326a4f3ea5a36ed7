"""Platform presets: what a platform's own public, documented endpoints say about a listing,
exactly and far cheaper than reading the rendered page.

`store.platform` picks one (`CrawlConfig.platform`). A preset finds the store's listings from
its catalogue endpoint (`listing_urls`) and, for each listing page the crawl read, puts the
endpoint's title, price, list price, stock, SKU and images over what the page's markup gave
(`refine`). The HTML page is still read: it is the source of what only the page shows (the
promoted badge) and of the screenshot. Every request goes through the crawl's guarded client,
under its caps. An endpoint that does not answer leaves the page's own values, and discovery
falls back to the sitemap, with the reason noted.

* `shopify` (`crawler/presets/shopify.py`): /products.json and /products/<handle>.js.
* `woocommerce` (`crawler/presets/woocommerce.py`): the Store API, /wp-json/wc/store/v1/products.
* `magento` (`crawler/presets/magento.py`): the storefront GraphQL API, /graphql.

Every platform, these and `taobao`, `tmall`, `jd` (which have no open endpoint), also has the
shapes of its pages: its listing and category URLs and its themes' selectors
(`crawler/presets/pages.py`).
"""

from __future__ import annotations

from typing import Protocol

import httpx

from ..discover import Discovery
from ..snapshot import Snapshot

PLATFORMS = ("generic", "shopify", "woocommerce", "magento", "taobao", "tmall", "jd")
# Those with open, documented endpoints (a Preset); the others are read from their pages.
WITH_ENDPOINTS = ("shopify", "woocommerce", "magento")


class Preset(Protocol):
    name: str

    async def listing_urls(self, client: httpx.AsyncClient, base_url: str, max_pages: int,
                           deadline_s: float, found: Discovery) -> list[str]: ...

    async def refine(self, snap: Snapshot, client: httpx.AsyncClient,
                     deadline_s: float) -> Snapshot: ...


def preset_for(platform: str) -> Preset | None:
    """A fresh preset for one crawl (it keeps what the catalogue endpoint said), or None."""
    if platform == "shopify":
        from .shopify import ShopifyPreset
        return ShopifyPreset()
    if platform == "woocommerce":
        from .woocommerce import WooCommercePreset
        return WooCommercePreset()
    if platform == "magento":
        from .magento import MagentoPreset
        return MagentoPreset()
    return None


__all__ = ["PLATFORMS", "WITH_ENDPOINTS", "Preset", "preset_for"]
