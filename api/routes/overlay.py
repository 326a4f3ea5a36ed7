"""Everything the extension's overlay needs for one store page, in one answer.

On a listing's own page: its open findings, current values against the agreed ones, and a
short history. On any other page (home, category): every listing with open findings, keyed by
URL path and SKU so the extension can badge the product cards it finds.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response

from audits.ledger import Ledger, Token
from audits.rules import SEVERITIES
from audits.rules.prices import price_limits
from audits.summary import open_counts, quota_progress

from . import AuthFirstRoute
from ..deps import Services, any_role, get_ledger, services
from ..refusals import refusals
from ..schemas import (CardFinding, CardSummary, FindingOut, ListingOut, OverlayListing, OverlayOut, QuotaOut,
                       ReadRules, SnapshotOut)

router = APIRouter(prefix="/api", tags=["overlay"], route_class=AuthFirstRoute,
                   responses=refusals(401))

HISTORY_POINTS = 30
MAX_ANSWER_BYTES = 32 * 1024 * 1024


def _cards(ledger: Ledger) -> list[CardSummary]:
    by_listing = defaultdict(list)
    for f in ledger.findings(status=["open", "acknowledged"]):
        if f.listing_id is not None:
            by_listing[f.listing_id].append(f)
    cards = []
    for listing_id, found in by_listing.items():
        found.sort(key=lambda f: SEVERITIES.index(f.severity))
        url = found[0].url or ""
        cards.append(CardSummary(
            listing_id=listing_id, sku=found[0].sku, url=url, path=urlsplit(url).path,
            count=len(found), worst=found[0].severity, messages=[f.message for f in found],
            findings=[CardFinding(id=f.id, severity=f.severity, message=f.message,
                                  deadline=f.deadline) for f in found]))
    return cards


class _StoreWide:
    """What every overlay answer shares (open counts, the week's quota, the cards of the
    listings with findings), computed once per change of the ledger and per minute (the
    quota's window rolls), not once per request: the extension asks on every page view.

    A change of the ledger (an audit, an acknowledgement) is computed before answering, so an
    action is seen at once. When only the minute has rolled, the last minute's value is
    answered while one thread computes the new one: at a few hundred requests a second, a
    pause of every request for the computation would queue them faster than they drain.

    The whole answers built with a value are kept with it (`recall`, `remember`): a page asked
    again within the minute, with nothing written since, costs one dictionary lookup. They
    are bounded in bytes, the oldest dropped first: the page URLs are the caller's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple | None = None
        self.value: tuple | None = None
        self.refreshing = False
        self.answers: dict[tuple, bytes] = {}
        self.answer_bytes = 0

    def _keep(self, value: tuple, key: tuple) -> None:
        self.value, self.key, self.answers, self.answer_bytes = value, key, {}, 0

    def recall(self, value: tuple, page: tuple) -> bytes | None:
        with self.lock:
            return self.answers.get(page) if value is self.value else None

    def remember(self, value: tuple, page: tuple, body: bytes) -> None:
        with self.lock:
            if value is not self.value:  # built with a value since replaced
                return
            while self.answers and self.answer_bytes + len(body) > MAX_ANSWER_BYTES:
                self.answer_bytes -= len(self.answers.pop(next(iter(self.answers))))  # oldest
            if page not in self.answers:
                self.answers[page] = body
                self.answer_bytes += len(body)

    def get(self, svc: Services, ledger: Ledger, now: datetime) -> tuple:
        marker, minute = ledger.change_marker(), now.replace(second=0, microsecond=0)
        with self.lock:
            if self.key == (marker, minute):
                return self.value
            if self.key is not None and self.key[0] == marker:
                if not self.refreshing:
                    self.refreshing = True
                    threading.Thread(target=self._refresh, args=(svc, marker, now),
                                     name="overlay-refresh", daemon=True).start()
                return self.value
            self._keep(_compute(svc, ledger, now), (marker, minute))
            return self.value

    def _refresh(self, svc: Services, marker: tuple, now: datetime) -> None:
        ledger = svc.borrow()
        try:
            value = _compute(svc, ledger, now)
        finally:
            svc.give_back(ledger)
            with self.lock:
                self.refreshing = False
        with self.lock:
            if self.key is not None and self.key[0] == marker:  # not overtaken by a change
                self._keep(value, (marker, now.replace(second=0, microsecond=0)))


def _compute(svc: Services, ledger: Ledger, now: datetime) -> tuple:
    progress = quota_progress(ledger, svc.contract, now)
    quota = QuotaOut(changed=progress.changed, quota=progress.quota, met=progress.met,
                     window_start=progress.window_start, window_end=progress.window_end)
    return open_counts(ledger), quota, _cards(ledger)


def _store_wide(svc: Services) -> _StoreWide:
    cache = getattr(svc, "_overlay_cache", None)
    if cache is None:
        cache = svc._overlay_cache = _StoreWide()
    return cache


def _listing_view(svc: Services, ledger: Ledger, listing, now: datetime) -> OverlayListing:
    history = ledger.history(listing.id, ok_only=True)
    current = history[-1] if history else None
    sku = (current.sku if current else None) or listing.sku
    # The floor exactly as prices.below_floor judges this listing: none where it does not.
    limits = price_limits(svc.contract.rule_settings, svc.catalog.get(sku or ""),
                          promoted_on_page=bool(current and current.promoted))
    changed = ledger.title_changed_at(history)
    zone = ZoneInfo(svc.contract.store.timezone)
    days = None
    if changed:
        days = (now.astimezone(zone).date() - datetime.fromisoformat(changed).astimezone(zone).date()).days
    return OverlayListing(
        listing=ListingOut.of(listing, current),
        findings=[FindingOut.of(f) for f in ledger.findings(listing_id=listing.id,
                                                            status=["open", "acknowledged"])],
        floor=limits.floor,
        reference_price=limits.reference_price,
        days_since_title_change=days,
        history=[SnapshotOut.of(s) for s in history[-HISTORY_POINTS:]],
    )


@router.get("/overlay", response_model=OverlayOut)
def overlay(request: Request, url: str = Query(max_length=2000, description="The page open in the browser"),
            svc: Services = Depends(services), ledger: Ledger = Depends(get_ledger),
            _: Token = Depends(any_role)) -> Response:
    now = datetime.now(timezone.utc)
    cache = _store_wide(svc)
    store_wide = cache.get(svc, ledger, now)
    page = (url, str(request.base_url))
    body = cache.recall(store_wide, page)
    if body is None:
        body = _answer(svc, ledger, url, page[1], store_wide, now).model_dump_json().encode()
        cache.remember(store_wide, page, body)
    return Response(body, media_type="application/json")


def _read_rules(svc: Services) -> ReadRules:
    """The contract's selectors, as the crawler reads listing pages with them."""
    selectors = svc.contract.crawl_config().selectors
    return ReadRules(title=selectors.title, price=selectors.price, stock=selectors.stock,
                     promoted=selectors.promoted)


def _answer(svc: Services, ledger: Ledger, url: str, dashboard_url: str, store_wide: tuple,
            now: datetime) -> OverlayOut:
    counts, quota, cards = store_wide
    listing = ledger.listing_by_url(url)
    return OverlayOut(
        page="listing" if listing else "other",
        listing=_listing_view(svc, ledger, listing, now) if listing else None,
        read_with=_read_rules(svc) if listing else None,
        cards=[] if listing else cards,
        open_counts=counts,
        quota=quota,
        dashboard_url=dashboard_url,
    )
