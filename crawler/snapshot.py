"""The plain objects the crawler hands back: what one page showed, or why it showed nothing.

The crawler knows nothing of rules or the database; these dataclasses are the whole contract
between it and `audits`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
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
    # The whole picture's; None for a picture with a border or canvas (the core ones below
    # are what the match reads), and for images hashed before that rule.
    phash: str | None = None
    dhash: str | None = None
    # The hashes the infringing-image match uses: of the picture with any plain border or
    # canvas around it cut away (equal to phash/dhash when there is none), and a colour
    # signature (imaging.colour_signature). None for images hashed before they existed.
    core_phash: str | None = None
    core_dhash: str | None = None
    colour: str | None = None
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    # When the store last confirmed these bytes (a download or a 304), and for how long it
    # said they may be reused without asking (Cache-Control max-age; None: ask every time).
    checked_at: str | None = None
    max_age: int | None = None


@dataclass(frozen=True)
class Thumbnail:
    """A small JPEG copy of a listing image, made from the bytes the crawl downloaded and
    hashed: the only picture of the store's that storeaudit shows (the dashboard, the email),
    so that nobody's browser or mail client is ever sent to an address the store chose."""

    jpeg: bytes = field(repr=False)
    width: int
    height: int


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
    # The page was the same as at the last successful look (304 Not Modified, or the same
    # bytes, and for a rendered page the same scripts and data): its values are the previous
    # extraction's, checked again today.
    unchanged: bool = False
    # The store says the listing is not there: its own URL answered 404/410, or redirected to
    # a page that shows no listing. (A 500 or a timeout is not that: it says nothing.)
    absent: bool = False
    # Read through its own URL because the caller knew it, though the store's sitemap and
    # category pages no longer list it.
    undiscovered: bool = False

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
            if k not in _NOT_SHOWN
        }
        blob = json.dumps(shown, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def values_changed(before: ListingValues, after: ListingValues) -> list[str]:
    """The listing values that differ between two reads of a page, by name."""
    return [name.replace("_", " ") for name in LISTING_VALUE_FIELDS
            if getattr(before, name) != getattr(after, name)]


# How a page was fetched, not what it showed: left out of the content hash.
_NOT_SHOWN = {"source", "fetched_with", "http_status", "fetched_at", "unchanged", "absent",
              "undiscovered"}
ABSENT_STATUSES = (404, 410)  # what a store answers for a listing it no longer has


@dataclass(frozen=True)
class PageState:
    """What the crawl remembers of a listing page between crawls, to ask for it conditionally.

    `body_sha256` is the hash of the HTML as served; `resources` (rendered pages only) maps
    each script and data request the page made while rendering to the sha256 of its body, so
    a page filled by JavaScript counts as unchanged only when its data did not change either.
    """

    url: str
    fetched_with: str  # "http" or "browser": what the values needed last time
    body_sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    resources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KnownPage:
    """A page's state and the snapshot it produced, as the caller's records have them."""

    state: PageState
    snapshot: Snapshot


@dataclass
class CrawlResult:
    """Everything one crawl saw: a snapshot per listing page, the images they use."""

    snapshots: list[Snapshot]
    images: dict[str, ImageInfo]
    listing_urls: list[str]
    started_at: str
    finished_at: str
    image_downloads: int = 0  # full image bodies fetched; unchanged images cost none
    # sha256 -> thumbnail of each image hashed in this crawl (bytes seen before have theirs
    # already): a `crawler.images.ThumbnailSpool`, or any mapping.
    thumbnails: Mapping[str, Thumbnail] = field(default_factory=dict)
    # sha256 -> packed local features (imaging.features) of each image hashed in this crawl:
    # a `crawler.images.BlobSpool`, or any mapping.
    features: Mapping[str, bytes] = field(default_factory=dict)
    # Per listing URL, the state to remember for next time (successful pages only).
    pages: dict[str, PageState] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)  # page_downloads, rendered, unchanged...
    # Pictures on many listings, left out of their images (crawler.shared_images): key ->
    # SharedImage. Only a whole-store crawl finds them.
    shared_images: Mapping[str, object] = field(default_factory=dict)
    # Pages and images that answered 304 Not Modified though they had changed, found by the
    # crawl's check (crawler.not_modified): {"url": ..., "what": "price, title"}.
    false_not_modified: list[dict[str, str]] = field(default_factory=list)

    @property
    def pages_ok(self) -> int:
        return sum(1 for s in self.snapshots if s.ok)

    @property
    def pages_failed(self) -> int:
        """Pages that could not be read. A page whose store says the listing is not there
        (`absent`) was read: its answer is known."""
        return sum(1 for s in self.snapshots if not s.ok and not s.absent)
