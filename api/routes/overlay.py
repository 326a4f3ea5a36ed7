"""Everything the extension's overlay needs for one store page, in one answer.

On a listing's own page: its open findings, current values against the agreed ones, and a
short history. On any other page (home, category): every listing with open findings, keyed by
URL path and SKU so the extension can badge the product cards it finds.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from audits.ledger import Ledger, Token
from audits.rules import SEVERITIES
from audits.rules.prices import price_limits
from audits.summary import open_counts, quota_progress

from . import AuthFirstRoute
from .. import overload
from ..deps import Services, any_role, secret_from, services
from ..refusals import refusals
from ..schemas import (CardFinding, CardSummary, FindingOut, ListingOut, OverlayListing, OverlayOut, QuotaOut,
                       ReadRules, SnapshotOut)

router = APIRouter(prefix="/api", tags=["overlay"], route_class=AuthFirstRoute,
                   responses=refusals(401))

HISTORY_POINTS = 30
MAX_URL = 2000
MAX_ANSWER_BYTES = 32 * 1024 * 1024
MAX_BUILDS = 2            # answers built at once (each holds the interpreter)
MAX_WAITING_BUILDS = 6    # requests waiting to build one; past that, 503


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
    listings with findings), and the whole answers built with it, kept per state of the
    ledger and per day in the store's time zone (days since a title change count in days;
    the quota is as of the last full audit): the extension asks on every page view, and a
    page asked again while nothing changed costs a dictionary lookup — no SQL, no thread.

    A change (an audit, an acknowledgement, seen through the ledger's change counter) is
    built again off the request path: readers are answered with the last value meanwhile and
    never wait for it. The request that made a change in this process waits for it instead
    (`rebuild`), so the person who acted sees the action at once.

    The kept answers are bounded in bytes, the oldest dropped first: the page URLs are the
    caller's."""

    def __init__(self) -> None:
        self.lock = threading.Lock()          # guards key, value and answers
        self.building = threading.Lock()      # one build at a time
        self.key: tuple | None = None
        self.value: tuple | None = None
        self.answers: dict[tuple, tuple[bytes, int]] = {}   # page -> (answer, its weight)
        self.answer_bytes = 0
        self.others: dict[str, bytes] = {}    # dashboard address -> the answer of other pages
        self.builders: asyncio.Semaphore | None = None   # answers built at once (its loop's)
        self.waiting = 0                      # requests waiting to build one

    def recall(self, value: tuple, page: tuple) -> bytes | None:
        with self.lock:
            kept = self.answers.get(page) if value is self.value else None
            return kept[0] if kept else None

    def remember(self, value: tuple, page: tuple, body: bytes) -> None:
        with self.lock:
            if value is not self.value:  # built with a value since replaced
                return
            # the answer every other page shares is held once: a page costs its URL
            shared = any(body is other for other in self.others.values())
            weight = len(page[0]) + 100 if shared else len(body)
            while self.answers and self.answer_bytes + weight > MAX_ANSWER_BYTES:
                self.answer_bytes -= self.answers.pop(next(iter(self.answers)))[1]  # oldest
            if page not in self.answers:
                self.answers[page] = (body, weight)
                self.answer_bytes += weight

    def other_page(self, value: tuple, dashboard_url: str, build) -> bytes:
        """The answer for any page that is not a listing's (the same cards for each), built
        once per value and dashboard address."""
        with self.lock:
            if value is self.value and dashboard_url in self.others:
                return self.others[dashboard_url]
        body = build()
        with self.lock:
            if value is self.value:
                body = self.others.setdefault(dashboard_url, body)
        return body

    def current(self, svc: Services, key: tuple) -> tuple | None:
        """The value for `key`, or the last one while the new one is built on a thread of
        its own; None before there is any."""
        value = self.value
        if self.key != key and value is not None:
            if not self.building.locked():
                threading.Thread(target=self.rebuild, args=(svc,), name="overlay-rebuild",
                                 daemon=True).start()
        return value

    def rebuild(self, svc: Services) -> tuple:
        """Build the value for the ledger's state now (once, when several ask at once), and
        again while the ledger changed during the build."""
        with self.building:
            while True:
                key = _key(svc, datetime.now(timezone.utc))
                if self.key == key and self.value is not None:
                    return self.value
                ledger = svc.borrow()
                try:
                    value = _compute(svc, ledger, datetime.now(timezone.utc))
                finally:
                    svc.give_back(ledger)
                with self.lock:
                    self.value, self.key, self.answers, self.answer_bytes = value, key, {}, 0
                    self.others = {}
                if _key(svc, datetime.now(timezone.utc)) == key:
                    return value


def _key(svc: Services, now: datetime) -> tuple:
    """What the kept answers depend on: the ledger's state and the store's day."""
    return svc.changes.generation, now.astimezone(ZoneInfo(svc.contract.store.timezone)).date()


def _compute(svc: Services, ledger: Ledger, now: datetime) -> tuple:
    progress = quota_progress(ledger, svc.contract, now)
    quota = QuotaOut(changed=progress.changed, quota=progress.quota, met=progress.met,
                     window_start=progress.window_start, window_end=progress.window_end)
    return open_counts(ledger), quota, _cards(ledger)


def store_wide(svc: Services) -> _StoreWide:
    cache = getattr(svc, "_overlay_cache", None)
    if cache is None:
        cache = svc._overlay_cache = _StoreWide()
        svc.write_hooks.append(cache.rebuild)
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
    ladder = svc.contract.escalation.ladder_text()
    return OverlayListing(
        listing=ListingOut.of(listing, current),
        findings=[FindingOut.of(f, ladder) for f in ledger.findings(
            listing_id=listing.id, status=["open", "acknowledged"])],
        floor=limits.floor,
        reference_price=limits.reference_price,
        days_since_title_change=days,
        history=[SnapshotOut.of(s) for s in history[-HISTORY_POINTS:]],
    )


@router.get("/overlay", response_model=OverlayOut)
async def overlay(request: Request,
                  url: str = Query(max_length=MAX_URL, description="The page open in the browser"),
                  svc: Services = Depends(services), _: Token = Depends(any_role)) -> Response:
    # On the event loop: a kept answer is a lookup. Only building one reads the ledger, on a
    # worker thread.
    cache = store_wide(svc)
    value = cache.current(svc, _key(svc, datetime.now(timezone.utc)))
    if value is None:
        value = await run_in_threadpool(cache.rebuild, svc)
    page = (url, str(request.base_url))
    body = cache.recall(value, page)
    if body is None:
        # Building holds the interpreter: a few at once, a few more waiting, and past that a
        # refusal at once (the extension backs off) rather than a queue of threads that
        # starves the event loop every kept answer is served from.
        if cache.waiting >= MAX_WAITING_BUILDS:
            raise HTTPException(503, "the server is busy: try again in a moment",
                                headers={"Retry-After": overload.RETRY_AFTER})
        if cache.builders is None:
            cache.builders = asyncio.Semaphore(MAX_BUILDS)
        cache.waiting += 1
        try:
            await cache.builders.acquire()
        finally:
            cache.waiting -= 1
        try:   # asked meanwhile by another caller? then it is kept now
            body = cache.recall(value, page) or await run_in_threadpool(
                _build_answer, svc, url, page[1], value)
        finally:
            cache.builders.release()
        cache.remember(value, page, body)
    return Response(body, media_type="application/json")


class KeptOverlayAnswers:
    """ASGI middleware in front of the routes: `GET /api/overlay` answered straight from the
    kept answers when both the caller's token and the page's answer are known for the
    ledger's present state — no routing, no dependencies, no SQL, no thread. Anything else
    (an unknown caller, a page not asked since the last change, a malformed request) goes on
    to the route, which checks, answers and keeps the answer."""

    def __init__(self, app, services: Services):
        self.app, self.services = app, services

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/api/overlay":
            body = self._kept(Request(scope))
            if body is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _kept(self, request: Request) -> bytes | None:
        svc = self.services
        cache = getattr(svc, "_overlay_cache", None)
        if cache is None or svc.known_token(secret_from(request)) is None:
            return None
        url = request.query_params.get("url")
        if url is None or len(url) > MAX_URL:
            return None
        value = cache.current(svc, _key(svc, datetime.now(timezone.utc)))
        return None if value is None else cache.recall(value, (url, str(request.base_url)))


def _build_answer(svc: Services, url: str, dashboard_url: str, value: tuple) -> bytes:
    ledger = svc.borrow()
    try:
        now = datetime.now(timezone.utc)
        if ledger.listing_by_url(url) is None:   # a category, the home page, a search: the
            # same answer for every one of them (the cards), made once
            return store_wide(svc).other_page(value, dashboard_url, lambda: _answer(
                svc, ledger, url, dashboard_url, value, now).model_dump_json().encode())
        return _answer(svc, ledger, url, dashboard_url, value, now).model_dump_json().encode()
    finally:
        svc.give_back(ledger)


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
