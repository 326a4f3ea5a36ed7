"""The second witness: what the merchant's own browser saw on a listing page.

The extension reads each product page the merchant views with the crawler's extraction
rules (structured data first, then the contract's selectors) and reports the plain strings it
found. They are turned into values here by the crawler's own readers (`parse_price`,
`normalize_availability`, `parse_stock`), so both witnesses read a page the same way, and kept
as an observation (`Ledger.add_observation`), a snapshot of its own kind.

When the crawler has not looked at the listing within the rule's window (`window_minutes`,
an hour by default), or its last look disagrees
with the browser, the crawler looks now (a spot-check of that one page, in the background):
the `crawl.view_mismatch` rule then compares the two views, so a store that serves the
crawler a page of its own is caught within minutes of the merchant seeing the real one. An
observation the crawler just answered (a spot-check within LOOK_AGAIN_AFTER) starts nothing,
so page views cannot keep the audit slot busy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.prices import parse_price
from crawler.stock import normalize_availability, parse_stock

from .audit_lock import AuditBusy
from .contract import Contract
from .ledger import Ledger, Observation
from .rules.crawl import view_differences
from .spot_check import SpotCheckRefused, check_store_url, start_spot_check

log = logging.getLogger(__name__)

LOOK_AGAIN_AFTER = timedelta(minutes=10)  # at most one look per listing this often, on reports
MAX_TITLE = 500


class ObservationRefused(ValueError):
    """The report cannot be kept; the message says why."""


@dataclass(frozen=True)
class Reported:
    observation: Observation
    # What the crawler does about it: "agrees" (its look within the hour saw the same),
    # "started" (it looks now: run_id), "just looked" (a look on a report within
    # LOOK_AGAIN_AFTER), "busy" (another audit runs; the next look compares).
    crawler: str
    run_id: int | None = None


def read_values(contract: Contract, *, title: str | None, price: str | None,
                currency: str | None, availability: str | None, stock: str | None,
                promoted: bool | None) -> dict:
    """The reported strings as the crawler would have read them."""
    values: dict = {"title": None, "price": None, "currency": None, "availability": None,
                    "stock_count": None, "promoted": promoted}
    if title is not None and " ".join(title.split()):
        values["title"] = " ".join(title.split())[:MAX_TITLE]
    default = currency or contract.store.currency
    parsed = parse_price(price, default) if price else None
    if parsed is not None:
        values["price"], values["currency"] = str(parsed.amount), parsed.currency or default
    from_stock, count = parse_stock(stock) if stock else (None, None)
    values["availability"] = (normalize_availability(availability) if availability else None) \
        or from_stock
    values["stock_count"] = count
    return values


def report_view(contract: Contract, ledger: Ledger, *, url: str, reported_by: str,
                title: str | None = None, price: str | None = None, currency: str | None = None,
                availability: str | None = None, stock: str | None = None,
                promoted: bool | None = None) -> Reported:
    """Keep what the merchant's browser read on `url` and have the crawler look if it should.
    ObservationRefused for a page off the store's origins, one that is no listing storeaudit
    knows, or a report with nothing in it."""
    try:
        url = check_store_url(contract, url)
    except SpotCheckRefused as e:
        raise ObservationRefused(str(e)) from None
    listing = ledger.listing_by_url(url)
    if listing is None or listing.gone_since:
        raise ObservationRefused(f"{url} is not a listing storeaudit knows on the store (a "
                                 "full audit finds new listings first)")
    values = read_values(contract, title=title, price=price, currency=currency,
                         availability=availability, stock=stock, promoted=promoted)
    if all(values[k] is None for k in ("title", "price", "availability", "promoted")):
        raise ObservationRefused("nothing was read from the page: no title, price, stock or "
                                 "promotion")
    observation = ledger.add_observation(listing.id, listing.url, values, reported_by)
    good = ledger.history(listing.id, ok_only=True)
    last = good[-1] if good else None
    age = (ledger.clock.now() - datetime.fromisoformat(last.fetched_at)) if last else None
    # A crawler look within the rule's window is compared, not redone (as the rule compares).
    window = timedelta(minutes=contract.rule_settings("crawl.view_mismatch").window_minutes)
    if last is not None and age < window and not view_differences(observation, last):
        return Reported(observation, "agrees")
    if last is not None and age < LOOK_AGAIN_AFTER and ledger.run(last.run_id).kind == "spot":
        return Reported(observation, "just looked")
    try:
        run = start_spot_check(contract, ledger, [listing.url])
    except AuditBusy as e:
        log.info("the crawler's look at %s waits: %s", listing.url, e)
        return Reported(observation, "busy")
    return Reported(observation, "started", run.id)


__all__ = ["ObservationRefused", "Reported", "read_values", "report_view"]
