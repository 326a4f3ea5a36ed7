"""The plain objects the crawler hands back: what one page showed, or why it showed nothing.

The crawler knows nothing of rules or the database; these dataclasses are the whole contract
between it and `audits`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal

# schema.org availability, shortened: what a listing page says about stock.
IN_STOCK = "InStock"
OUT_OF_STOCK = "OutOfStock"
LOW_STOCK = "LimitedAvailability"
PRE_ORDER = "PreOrder"
DISCONTINUED = "Discontinued"


@dataclass(frozen=True)
class ImageInfo:
    """One listing image as downloaded and hashed, or the reason it could not be."""

    url: str
    sha256: str | None = None
    phash: str | None = None
    dhash: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


@dataclass(kw_only=True)
class ListingValues:
    """The values a listing page shows: what extraction reads and a snapshot records."""

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


LISTING_VALUE_FIELDS = tuple(ListingValues.__dataclass_fields__)


@dataclass
class Snapshot(ListingValues):
    """What one listing page showed in one crawl.

    A page that could not be fetched or read is a Snapshot with `error` set and every value
    left None: a failed fetch is never a row of empty values, so a rule can tell "the title
    is now empty" from "we could not see the title".
    """

    url: str
    # Which extractor supplied the values (jsonld, microdata, opengraph, css, rendered).
    source: str | None = None
    fetched_with: str | None = None  # "browser" or "http"
    http_status: int | None = None
    error: str | None = None
    fetched_at: str | None = None  # ISO 8601 from the crawl's clock

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def key(self) -> str:
        """Stable listing key: the SKU when the page gives one, else the canonical URL."""
        return f"sku:{self.sku}" if self.sku else f"url:{self.url}"

    def content_hash(self) -> str:
        """A hash of what the page showed, so an unchanged page is cheap to recognise."""
        shown = {
            k: (str(v) if isinstance(v, Decimal) else v)
            for k, v in asdict(self).items()
            if k not in {"source", "fetched_with", "http_status", "fetched_at"}
        }
        blob = json.dumps(shown, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class CrawlResult:
    """Everything one crawl saw: a snapshot per listing page, the images they use."""

    snapshots: list[Snapshot]
    images: dict[str, ImageInfo]
    listing_urls: list[str]
    started_at: str
    finished_at: str
    image_downloads: int = 0  # full image bodies fetched; unchanged images cost none

    @property
    def pages_ok(self) -> int:
        return sum(1 for s in self.snapshots if s.ok)

    @property
    def pages_failed(self) -> int:
        return sum(1 for s in self.snapshots if not s.ok)
