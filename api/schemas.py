"""The API's response and request models: the OpenAPI schema documents the overlay contract.

Built from the ledger's records; nothing here reads the database.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field, model_validator

from audits.ledger import Approval, Finding, Listing, RegistryEntry, Run, StoredSnapshot

from .refusals import IsoTime


# A row id as the ledger (SQLite) can hold it: an id of 2**63 or more is not "not found", it
# cannot be asked for at all (sqlite3 raises OverflowError), so the API refuses it as a 422.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id")]


class RunOut(BaseModel):
    id: int
    kind: str
    status: str
    started: str
    finished: str | None
    pages_ok: int
    pages_failed: int
    image_downloads: int
    error: str | None

    @classmethod
    def of(cls, run: Run) -> "RunOut":
        return cls(**run.__dict__)


class NextRunOut(BaseModel):
    job: str
    kind: str
    at: str = Field(description="HH:MM in the store's time zone")
    next_run: str = Field(description="ISO 8601, UTC")
    next_run_local: str
    timezone: str
    email: bool = Field(description="The nightly email follows this run")
    catch_up_due: bool = Field(description="Missed while the scheduler was down; runs at once")


class RunsOut(BaseModel):
    runs: list[RunOut]
    next_runs: list[NextRunOut]


class FindingOut(BaseModel):
    id: int
    rule_id: str
    severity: Literal["critical", "major", "minor"]
    status: Literal["open", "acknowledged", "resolved", "waived", "gone"] = Field(
        description="gone: its listing was removed from the store while it was open (not fixed)")
    listing_id: int | None
    sku: str | None
    url: str | None
    message: str
    evidence: dict[str, Any]
    first_seen: str
    last_seen: str
    deadline: str | None
    response: str = Field(description="What the contract's escalation ladder asks for.")
    resolved_at: str | None
    note: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    waive_reason: str | None

    @classmethod
    def of(cls, f: Finding, ladder: dict[str, str]) -> "FindingOut":
        """`ladder`: the contract's escalation ladder in words (`ladder_text()`)."""
        return cls(**{k: v for k, v in f.__dict__.items() if k not in ("run_id", "opened_at")},
                   response=ladder[f.severity])


class SnapshotOut(BaseModel):
    id: int
    run_id: int
    fetched_at: str
    title: str | None
    price: Decimal | None
    list_price: Decimal | None
    currency: str | None
    availability: str | None
    stock_count: int | None
    promoted: bool | None
    image_urls: list[str]
    error: str | None

    @classmethod
    def of(cls, s: StoredSnapshot) -> "SnapshotOut":
        return cls(**{k: getattr(s, k) for k in cls.model_fields})


class ListingOut(BaseModel):
    id: int
    sku: str | None
    url: str
    first_seen: str
    last_seen: str
    gone_since: str | None
    current: SnapshotOut | None = None

    @classmethod
    def of(cls, listing: Listing, current: StoredSnapshot | None = None) -> "ListingOut":
        return cls(**listing.__dict__ | {"current": SnapshotOut.of(current) if current else None})


class ListingDetail(ListingOut):
    history: list[SnapshotOut]
    findings: list[FindingOut]


class WaiveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class AcknowledgeIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class ApprovalIn(BaseModel):
    sku: str = Field(min_length=1, max_length=200)
    max_discount: Decimal | None = Field(default=None, gt=0, lt=1,
                                         description="0.4 allows up to 40% under the reference")
    min_price: Decimal | None = Field(default=None, gt=0)
    valid_until: IsoTime = Field(description="ISO 8601 with a time zone")
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _something_approved(self) -> "ApprovalIn":
        if self.max_discount is None and self.min_price is None:
            raise ValueError("give max_discount or min_price")
        return self


class ApprovalOut(BaseModel):
    id: int
    sku: str
    max_discount: Decimal | None
    min_price: Decimal | None
    valid_until: str
    note: str | None
    created_by: str
    created: str

    @classmethod
    def of(cls, a: Approval) -> "ApprovalOut":
        return cls(**a.__dict__)


class SpotCheckIn(BaseModel):
    url: str | None = Field(default=None, max_length=2000, description="A page of the store")
    skus: list[str] | None = Field(default=None, max_length=50)
    sample: int | None = Field(default=None, ge=1, le=50,
                               description="Audit N listings chosen at random")


class SpotCheckOut(BaseModel):
    run: RunOut
    urls: list[str]
    findings: list[FindingOut] = Field(
        description="Findings on the listings this spot-check looked at, after it ran")


class ObservationIn(BaseModel):
    """What the merchant's browser read on a product page, as the plain strings it found
    (the server reads them with the crawler's own price and stock readers)."""

    url: str = Field(max_length=2000, description="The product page, on the store's origins")
    title: str | None = Field(default=None, max_length=2000)
    price: str | None = Field(default=None, max_length=100,
                              description='The price as shown or marked up: "¥199.00", "199"')
    currency: str | None = Field(default=None, max_length=10)
    availability: str | None = Field(default=None, max_length=200,
                                     description="schema.org availability, or the page's words")
    stock: str | None = Field(default=None, max_length=500,
                              description='The stock text shown: "仅剩 3 件", "Sold out"')
    promoted: bool | None = Field(default=None, description="The promoted badge is shown")


class ObservationOut(BaseModel):
    id: int
    listing_id: int
    url: str
    observed_at: IsoTime
    title: str | None
    price: str | None
    currency: str | None
    availability: str | None
    stock_count: int | None
    promoted: bool | None
    crawler: Literal["agrees", "started", "just looked", "busy"] = Field(
        description="What the crawler does about it: its look within the hour agrees; it looks "
                    "now (run_id); it looked moments ago; another audit runs")
    run_id: int | None = Field(default=None, description="The crawler's look, when started")


class ReadRules(BaseModel):
    """How to read a product page as the crawler does: structured data (JSON-LD, then
    microdata) first, then these CSS selectors (null: not looked for)."""

    title: str | None
    price: str | None
    stock: str | None
    promoted: str | None


class QuotaOut(BaseModel):
    changed: int
    quota: int
    met: bool
    window_start: str
    window_end: str


class CardFinding(BaseModel):
    id: int
    severity: Literal["critical", "major", "minor"]
    message: str
    deadline: str | None


class CardSummary(BaseModel):
    """What a product card's badge shows: how many findings and the worst severity."""

    listing_id: int
    sku: str | None
    url: str
    path: str
    count: int
    worst: Literal["critical", "major", "minor"]
    messages: list[str]
    findings: list[CardFinding] = Field(description="The same findings, worst first")


class MeOut(BaseModel):
    name: str
    role: Literal["merchant", "agency"]
    store: str


class OverlayListing(BaseModel):
    listing: ListingOut
    findings: list[FindingOut]
    floor: Decimal | None = Field(
        description="Lowest price the contract allows; null when prices.below_floor does not "
                    "apply to this listing (not promoted, rule off) or the cost is unknown")
    reference_price: Decimal | None
    days_since_title_change: int | None
    history: list[SnapshotOut] = Field(description="Recent successful snapshots, oldest first")


class OverlayOut(BaseModel):
    page: Literal["listing", "other"]
    listing: OverlayListing | None
    read_with: ReadRules | None = Field(
        default=None, description="On a listing's page: how the extension reads it to report "
                                  "what the merchant's browser saw (POST /api/observations)")
    cards: list[CardSummary] = Field(
        description="Listings with open findings, for badging product cards by URL path or SKU")
    open_counts: dict[str, int]
    quota: QuotaOut
    dashboard_url: str


class RegistryOut(BaseModel):
    id: int
    label: str
    source: str | None
    has_file: bool = Field(description="Added from an image file (shown beside matches), "
                                       "not from hashes alone")
    sha256: str | None
    phash: str | None
    dhash: str | None
    core_phash: str | None
    core_dhash: str | None
    variants: int = Field(description="How many mirror and crop variants it is matched by")
    added: str
    added_by: str | None

    @classmethod
    def of(cls, e: "RegistryEntry") -> "RegistryOut":
        return cls(id=e.id, label=e.label, source=e.source, has_file=bool(e.path),
                   sha256=e.sha256, phash=e.phash, dhash=e.dhash, core_phash=e.core_phash,
                   core_dhash=e.core_dhash, variants=len(e.variants), added=e.added,
                   added_by=e.added_by)


class RegistryHashIn(BaseModel):
    label: str = Field(min_length=1, max_length=200)
    source: str | None = Field(default=None, max_length=2000)
    # Checked by audits.registry.check_hashes, whose refusal names the field and the value.
    phash: str = Field(description="64-bit perceptual hash, 16 hex digits")
    dhash: str | None = Field(default=None, description="64-bit difference hash, 16 hex digits")
    colour: str | None = Field(default=None, description="colour signature, 256 hex digits")
    sha256: str | None = None


class RegistryRemovedOut(BaseModel):
    removed: RegistryOut
    resolved_findings: list[int]
