"""The ledger's records: plain dataclasses for what it stores, and their row converters.

Callers get these, never rows: the column names stay inside the ledger package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from crawler.snapshot import KnownPage, PageState, Snapshot

from .base import utc_iso

@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    status: str
    started: str
    finished: str | None
    pages_ok: int
    pages_failed: int
    image_downloads: int
    error: str | None
    # listing pages the store listed past the contract's [crawl] max_pages: not read
    listings_not_read: int = 0
    # pages and images that answered 304 Not Modified though they had changed:
    # [{"url": ..., "what": "its price"}] (crawler.not_modified)
    false_not_modified: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class StoredSnapshot:
    """One row of history: a listing as one run saw it (or failed to)."""

    id: int
    run_id: int
    listing_id: int
    fetched_at: str
    url: str
    sku: str | None
    title: str | None
    price: Decimal | None
    list_price: Decimal | None
    currency: str | None
    availability: str | None
    stock_count: int | None
    promoted: bool | None
    image_urls: list[str]
    price_note: str | None
    error: str | None
    content_hash: str | None
    fetched_with: str | None = None  # "http" or "browser"
    unchanged: bool = False  # the page was as last time: these are the previous values
    absent: bool = False  # the store said the listing is not there (crawler.snapshot)
    undiscovered: bool = False  # read through its own URL: the sitemap no longer lists it

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Listing:
    id: int
    key: str
    sku: str | None
    url: str
    first_seen: str
    last_seen: str
    gone_since: str | None


@dataclass(frozen=True)
class TitleChange:
    listing_id: int
    sku: str | None
    url: str
    before: str
    after: str
    changed_at: str
    run_id: int


@dataclass(frozen=True)
class Approval:
    """The merchant's written OK for a discount or a lower price on one SKU, until a date."""

    id: int
    sku: str
    max_discount: Decimal | None  # fraction under the reference price (0.4 = 40% off)
    min_price: Decimal | None
    valid_until: str  # ISO 8601; the approval stops counting after this instant
    note: str | None
    created_by: str
    created: str


@dataclass(frozen=True)
class RegistryEntry:
    """A known infringing image: what it is, where it came from, its hashes."""

    id: int
    label: str
    source: str | None
    path: str | None
    sha256: str | None
    phash: str | None
    dhash: str | None
    added: str
    core_phash: str | None = None
    core_dhash: str | None = None
    colour: str | None = None
    variants: list[str] = field(default_factory=list)
    added_by: str | None = None
    local_features: bool = False  # its local features are kept (the match's second stage)


@dataclass(frozen=True)
class Token:
    """Who may use the API, as what; the secret itself is never stored."""

    id: int
    name: str
    role: str
    created: str
    revoked: str | None


@dataclass(frozen=True)
class Observation:
    """A listing as the merchant's own browser showed it (the extension read it)."""

    id: int
    listing_id: int
    url: str
    observed_at: str
    title: str | None
    price: Decimal | None
    currency: str | None
    availability: str | None
    stock_count: int | None
    promoted: bool | None
    reported_by: str | None


def observation_of_row(r: dict) -> Observation:
    return Observation(
        id=r["id"], listing_id=r["listing_id"], url=r["url"], observed_at=r["observed_at"],
        title=r["title"], price=None if r["price"] is None else Decimal(r["price"]),
        currency=r["currency"], availability=r["availability"], stock_count=r["stock_count"],
        promoted=None if r["promoted"] is None else bool(r["promoted"]),
        reported_by=r["reported_by"])


# gone: its listing was removed from the store while the finding was active. Not fixed: the
# problem left with the listing (the removal itself is a finding of its own, crawl.removed).
FINDING_STATUSES = ("open", "acknowledged", "resolved", "waived", "gone")
ACTIVE_STATUSES = ("open", "acknowledged", "waived")  # the problem was still there last time


@dataclass(frozen=True)
class Finding:
    """One contract problem, the same row across nights while it lasts."""

    id: int
    rule_id: str
    severity: str
    listing_id: int | None
    sku: str | None
    url: str | None
    fingerprint: str
    status: str
    first_seen: str
    last_seen: str
    resolved_at: str | None
    deadline: str | None
    message: str
    evidence: dict
    run_id: int | None
    note: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    waive_reason: str | None
    opened_at: str | None = None   # when this spell began (first_seen, or its reopening)

    @property
    def opened(self) -> str:
        return self.opened_at or self.first_seen


@dataclass(frozen=True)
class Spell:
    """One spell of a finding: from when it was raised (or raised again) to when it was
    resolved, or until now while it lasts. A finding reopened has one spell per time."""

    finding_id: int
    rule_id: str
    severity: str
    listing_id: int | None
    sku: str | None
    opened_at: str
    deadline: str | None         # answer by
    acknowledged_at: str | None
    resolved_at: str | None      # resolved, or gone with its listing
    status: str                  # as it ended (or stands)
    message: str
    current: bool = True
    last_seen: str | None = None  # the last look that still saw the problem

    def open_at(self, when: datetime) -> bool:
        """Whether the problem stood unfixed at `when` (a waived one is the merchant's OK)."""
        if self.status == "waived" or datetime.fromisoformat(self.opened_at) >= when:
            return False
        return self.resolved_at is None or datetime.fromisoformat(self.resolved_at) >= when


# What a spell's "reopen" event keeps of it.
SPELL_KEYS = ("severity", "deadline", "acknowledged_at", "resolved_at", "status", "message",
              "first_seen", "last_seen")


@dataclass(frozen=True)
class NewFinding:
    """What the engine hands the ledger for one finding seen in this run."""

    rule_id: str
    severity: str
    listing_id: int | None
    fingerprint: str
    message: str
    evidence: dict
    deadline: str


@dataclass
class FindingsUpdate:
    """What one audit changed: finding ids by what happened to them."""

    new: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    still_open: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)  # with their listing: not fixed


@dataclass(frozen=True)
class FieldChange:
    """A value that differs from the listing's previous successful snapshot."""

    listing_id: int
    sku: str | None
    field: str
    before: object
    after: object
    before_at: str | None = None  # when each of the two snapshots was taken
    after_at: str | None = None


TRACKED_FIELDS = ("title", "price", "list_price", "availability", "stock_count", "promoted",
                  "image_urls")


def row_of_snapshot(run_id: int, listing_id: int, snap: Snapshot) -> dict:
    return {
        "run_id": run_id,
        "listing_id": listing_id,
        "fetched_at": utc_iso(snap.fetched_at) if snap.fetched_at else None,
        "url": snap.url,
        "sku": snap.sku,
        "title": snap.title,
        "price": None if snap.price is None else str(snap.price),
        "list_price": None if snap.list_price is None else str(snap.list_price),
        "currency": snap.currency,
        "availability": snap.availability,
        "stock_count": snap.stock_count,
        "promoted": None if snap.promoted is None else int(snap.promoted),
        "image_urls": json.dumps(snap.image_urls),
        "price_note": snap.price_note,
        "source": snap.source,
        "fetched_with": snap.fetched_with,
        "http_status": snap.http_status,
        "error": snap.error,
        "content_hash": None if snap.error else snap.content_hash(),
        "unchanged": int(snap.unchanged),
        "absent": int(snap.absent),
        "undiscovered": int(snap.undiscovered),
    }


def row_of_page_state(state: PageState, snapshot_id: int, now: str) -> dict:
    return {"url": state.url, "fetched_with": state.fetched_with,
            "body_sha256": state.body_sha256, "etag": state.etag,
            "last_modified": state.last_modified,
            "resources": json.dumps(state.resources, sort_keys=True),
            "snapshot_id": snapshot_id, "checked": now}


def known_page_of_row(r: dict) -> KnownPage:
    """A `pages` row joined to the snapshot it belongs to, as the crawler wants it."""
    state = PageState(url=r["page_url"], fetched_with=r["page_fetched_with"],
                      body_sha256=r["body_sha256"], etag=r["etag"],
                      last_modified=r["last_modified"], resources=json.loads(r["resources"] or "{}"))
    snap = Snapshot(**_stored_values(r), source=r["source"], fetched_with=r["fetched_with"],
                    http_status=r["http_status"], fetched_at=r["fetched_at"])
    return KnownPage(state, snap)


def stored_snapshot_of_row(r: dict) -> StoredSnapshot:
    return StoredSnapshot(
        id=r["id"], run_id=r["run_id"], listing_id=r["listing_id"], fetched_at=r["fetched_at"],
        **_stored_values(r),
        error=r["error"], content_hash=r["content_hash"], fetched_with=r.get("fetched_with"),
        unchanged=bool(r.get("unchanged")), absent=bool(r.get("absent")),
        undiscovered=bool(r.get("undiscovered")),
    )


def _stored_values(r: dict) -> dict:
    """A snapshot row's listing values in their own types (the reverse of `row_of_snapshot`)."""
    return dict(
        url=r["url"], sku=r["sku"], title=r["title"],
        price=None if r["price"] is None else Decimal(r["price"]),
        list_price=None if r["list_price"] is None else Decimal(r["list_price"]),
        currency=r["currency"], availability=r["availability"], stock_count=r["stock_count"],
        promoted=None if r["promoted"] is None else bool(r["promoted"]),
        image_urls=json.loads(r["image_urls"] or "[]"), price_note=r["price_note"])


def approval_of_row(r: dict) -> Approval:
    return Approval(
        id=r["id"], sku=r["sku"],
        max_discount=None if r["max_discount"] is None else Decimal(str(r["max_discount"])),
        min_price=None if r["min_price"] is None else Decimal(r["min_price"]),
        valid_until=r["valid_until"], note=r["note"], created_by=r["created_by"],
        created=r["created"])


def run_of_row(r: dict) -> Run:
    return Run(id=r["id"], kind=r["kind"], status=r["status"], started=r["started"],
               finished=r["finished"], pages_ok=r["pages_ok"] or 0,
               pages_failed=r["pages_failed"] or 0, image_downloads=r["image_downloads"] or 0,
               error=r["error"], listings_not_read=r.get("listings_not_read") or 0,
               false_not_modified=json.loads(r.get("false_not_modified") or "[]"))


def finding_of_row(r: dict) -> Finding:
    return Finding(
        id=r["id"], rule_id=r["rule_id"], severity=r["severity"], listing_id=r["listing_id"],
        sku=r.get("sku"), url=r.get("url"), fingerprint=r["fingerprint"], status=r["status"],
        first_seen=r["first_seen"], last_seen=r["last_seen"], resolved_at=r["resolved_at"],
        deadline=r["deadline"], message=r["message"], evidence=json.loads(r["evidence"] or "{}"),
        run_id=r["run_id"], note=r["note"], acknowledged_at=r["acknowledged_at"],
        acknowledged_by=r["acknowledged_by"], waive_reason=r["waive_reason"],
        opened_at=r.get("opened_at"))


def registry_entry_of_row(r: dict) -> RegistryEntry:
    values = {k: r.get(k) for k in RegistryEntry.__dataclass_fields__}
    values["variants"] = json.loads(r["variants"]) if r.get("variants") else []
    values["local_features"] = bool(r.get("local_features"))
    return RegistryEntry(**values)
