"""What a rule may look at: one run's listings as seen, their history, the merchant's catalog,
the approvals and the image registry. Built by the engine from the ledger, once per audit.

A listing whose page failed in this run is not in `listings`: a rule never sees a failed
fetch, so it can neither raise nor resolve a finding from missing data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from crawler.snapshot import ImageInfo

from ..catalog import CatalogEntry
from ..ledger import Approval, Ledger, Listing, RegistryEntry, Run, StoredSnapshot, TitleChange


# What makes a listing "promoted" for a rule that only cares about promoted ones.
PromotedSource = Literal["either", "page", "catalog"]
PROMOTED_SOURCE_HELP = (
    "What makes a listing promoted: 'page' (a badge or featured section on the store's page), "
    "'catalog' (the promoted column of catalog.csv) or 'either'."
)


def is_promoted(on_page: bool, in_list: bool, source: str = "either") -> bool:
    """Whether a listing counts as promoted for a rule with this `promoted_source`: the badge
    on its page, its line in the merchant's promoted list, or either."""
    return {"page": on_page, "catalog": in_list}.get(source, on_page or in_list)


@dataclass(frozen=True)
class RemovedListing:
    """A listing this run found removed from the store (its own URL said so twice)."""

    listing: Listing
    last_seen: StoredSnapshot | None  # its last successful snapshot
    promoted: bool                    # badged on its page when last seen, or in the catalog
    active_findings: list             # what was open or acknowledged on it when it went
    answer: str | None = None         # what its own URL answered at this look ("HTTP 404")


@dataclass(frozen=True)
class ListingState:
    """One listing as this run saw it, beside the merchant's catalog line for it."""

    listing: Listing
    snap: StoredSnapshot
    catalog: CatalogEntry | None

    @property
    def id(self) -> int:
        return self.listing.id

    @property
    def sku(self) -> str | None:
        return self.snap.sku or self.listing.sku

    @property
    def label(self) -> str:
        """How a message names the listing: its SKU, else its URL."""
        return self.sku or self.listing.url

    def promoted(self, source: str = "either") -> bool:
        """Promoted on the page (badge), in the merchant's promoted-SKU list, or either."""
        return is_promoted(bool(self.snap.promoted), bool(self.catalog and self.catalog.promoted),
                           source)

    @property
    def promoted_how(self) -> str:
        """Why the listing counts as promoted, in words for messages and evidence."""
        on_page, in_list = self.promoted("page"), self.promoted("catalog")
        if on_page and in_list:
            return "badge on the page and your promoted list"
        if on_page:
            return "badge on the page"
        if in_list:
            return "your promoted list"
        return "not promoted"


class AuditContext:
    def __init__(self, ledger: Ledger, run: Run, *, now: datetime, zone: ZoneInfo,
                 catalog: dict[str, CatalogEntry], full: bool, currency: str = "CNY"):
        self.ledger = ledger
        self.currency = currency  # the store's currency: what catalog costs are in
        self.run = run
        self.now = now
        self.zone = zone
        self.catalog = catalog
        self.full = full

    @cached_property
    def listings(self) -> list[ListingState]:
        """Listings with a successful snapshot in this run, in listing order."""
        current = {l.id: l for l in self.ledger.listings()}
        states = []
        for snap in self.ledger.run_snapshots(self.run.id):
            listing = current.get(snap.listing_id)
            if snap.ok and listing is not None:
                entry = self.catalog.get(snap.sku or listing.sku or "")
                states.append(ListingState(listing, snap, entry))
        return states

    @cached_property
    def known_listings(self) -> list[Listing]:
        """Every listing on the store as far as the ledger knows (not removed)."""
        return self.ledger.listings()

    @cached_property
    def store_listing_count(self) -> int:
        return len(self.known_listings)

    @cached_property
    def removed_listings(self) -> list[RemovedListing]:
        """The listings this run found removed from the store, with what was open on each
        and whether it was promoted when last seen."""
        out = []
        gone = self.ledger.gone_in_run(self.run.id)
        answers = {s.listing_id: s.error for s in self.ledger.run_snapshots(self.run.id)
                   if gone and s.absent}
        for listing in gone:
            good = self.ledger.history(listing.id, ok_only=True)
            last = good[-1] if good else None
            entry = self.catalog.get(listing.sku or "")
            promoted = bool((last and last.promoted) or (entry and entry.promoted))
            active = self.ledger.findings(listing_id=listing.id,
                                          status=["open", "acknowledged"])
            out.append(RemovedListing(listing, last, promoted, active,
                                      answers.get(listing.id)))
        return out

    def observations(self, listing_id: int, since: datetime) -> list:
        """What the merchant's browser read on the listing after `since` (oldest first)."""
        return self.ledger.observations(listing_id=listing_id, since=since)

    def false_not_modified(self, since: datetime) -> list[Run]:
        """Runs since `since` that caught the store answering a false 304, oldest first."""
        return self.ledger.false_not_modified_since(since)

    def title_changes(self, since: datetime) -> list[TitleChange]:
        return self.ledger.title_changes(since=since, until=self.now)

    def last_title_change(self, listing_id: int) -> datetime | None:
        """When the title last changed; when storeaudit first saw it if it never has."""
        when = self.ledger.last_title_change(listing_id)
        return datetime.fromisoformat(when) if when else None

    @cached_property
    def watched_since(self) -> datetime | None:
        """When the first complete crawl of the store began: history starts there."""
        first = self.ledger.first_full_run()
        return datetime.fromisoformat(first.started) if first else None

    def approvals_for(self, sku: str | None) -> list["Approval"]:
        """Approvals for this SKU that are valid now."""
        if not sku:
            return []
        return self.ledger.approvals(sku=sku, valid_at=self.now)

    @cached_property
    def registry(self) -> list[RegistryEntry]:
        return self.ledger.registry()

    def images(self, urls: list[str]) -> dict[str, ImageInfo]:
        return self.ledger.images(urls)

    def registry_index_features(self, prefix: int) -> dict[int, tuple[bytes | None,
                                                                      bytes | None]]:
        """Registry entry id -> the first `prefix` bytes of its packed local features and its
        mirror image's: what the feature index reads."""
        return self.ledger.registry_index_features(prefix)

    def registry_features(self, ids: list[int]) -> dict[int, tuple[bytes | None, bytes | None]]:
        """Registry entry id -> its whole packed local features and its mirror image's."""
        return self.ledger.registry_features(ids)

    def image_features(self, shas: list[str]) -> dict[str, bytes]:
        """sha256 -> the packed local features of those listing images that have them."""
        return self.ledger.image_features(shas)

    @cached_property
    def shared_images(self) -> list[dict]:
        """The pictures the last whole-store crawl found on many listings and left out of
        their images (crawler.shared_images): {key, urls, listings, of_listings}."""
        return self.ledger.shared_images()

    @staticmethod
    def discount(price: Decimal, reference: Decimal) -> Decimal:
        """How far under the reference a price is, as a fraction (0.4 = 40% off)."""
        if reference <= 0:
            return Decimal(0)
        return (reference - price) / reference
