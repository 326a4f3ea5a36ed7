"""Hand-built histories for rule tests: record nights of snapshots in a real (temporary)
ledger, then look at them through the same AuditContext the engine gives the rules.

    h = History(ledger, clock)
    h.night(listing("SH-1", title="Old", price="199"))
    h.night(listing("SH-1", title="New", price="199"), days=1)
    ctx = h.context(catalog={"SH-1": entry("SH-1", cost="100", reference="299")})
    drafts = list(check(ctx, Settings()))
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from audits.catalog import CatalogEntry
from audits.ledger import Ledger
from audits.rules.context import AuditContext
from crawler.hashing import hash_and_thumbnail
from crawler.snapshot import IN_STOCK, CrawlResult, ImageInfo, Snapshot, Thumbnail


def listing(sku: str, title: str = "山禾 标题", price: str = "100.00", *, list_price=None,
            availability: str = IN_STOCK, stock_count=None, promoted=False, images=(),
            url=None) -> Snapshot:
    return Snapshot(
        url=url or f"http://shop.test/p/{sku.lower()}", sku=sku, title=title,
        price=Decimal(price), list_price=None if list_price is None else Decimal(list_price),
        currency="CNY", availability=availability, stock_count=stock_count, promoted=promoted,
        image_urls=list(images),
    )


def hashed_image(url: str, data: bytes) -> tuple[ImageInfo, Thumbnail | None]:
    """The image at `url` with these bytes as the crawl records it: hashes and thumbnail (its
    local features, kept apart by the crawl, are left out)."""
    hashed = hash_and_thumbnail(data)
    thumbnail = hashed.pop("thumbnail")
    hashed.pop("features", None)
    return ImageInfo(url, **hashed), thumbnail


def failed(sku: str, error: str = "HTTP 500") -> Snapshot:
    return Snapshot(url=f"http://shop.test/p/{sku.lower()}", error=error)


def not_there(sku: str, status: int = 404) -> Snapshot:
    """The listing's own URL answered that it is not there (crawler.snapshot's `absent`)."""
    return Snapshot(url=f"http://shop.test/p/{sku.lower()}", error=f"HTTP {status}",
                    http_status=status, absent=True)


def entry(sku: str, cost="100", reference="299", promoted=False, category=None) -> CatalogEntry:
    return CatalogEntry(sku, Decimal(cost), Decimal(reference), promoted, category)


class History:
    def __init__(self, ledger: Ledger, clock):
        self.ledger = ledger
        self.clock = clock
        self.last_run = None

    def night(self, *snaps: Snapshot, days: float = 1, full: bool = True, images=None,
              kind: str = "manual", thumbnails=None, features=None):
        """Advance the clock by `days`, then record one crawl (a run of `kind`) that saw `snaps`
        (`images`: url -> ImageInfo; `thumbnails`: sha256 -> the Thumbnail it made;
        `features`: sha256 -> the packed local features its hashing found)."""
        self.clock.advance(timedelta(days=days))
        for s in snaps:
            s.fetched_at = self.clock.now().isoformat()
        run_id = self.ledger.start_run(kind)
        result = CrawlResult(snapshots=list(snaps), images=dict(images or {}),
                             thumbnails=dict(thumbnails or {}),
                             features=dict(features or {}),
                             listing_urls=[s.url for s in snaps],
                             started_at=self.clock.now().isoformat(),
                             finished_at=self.clock.now().isoformat())
        self.last_run = self.ledger.record_crawl(run_id, result, full=full)
        return self.last_run

    def context(self, catalog: dict[str, CatalogEntry] | None = None, full: bool = True,
                zone: str = "Asia/Shanghai", currency: str = "CNY") -> AuditContext:
        return AuditContext(self.ledger, self.last_run, now=self.clock.now(), zone=ZoneInfo(zone),
                            catalog=catalog or {}, full=full, currency=currency)
