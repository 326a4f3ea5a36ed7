"""What the presets share: reading a JSON endpoint within the crawl's caps, and putting an
endpoint's values over a snapshot."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx

from ..discover import Discovery
from ..fetch import PageTooLarge, get_capped, timed_out
from ..snapshot import Snapshot

MAX_JSON_BYTES = 8 * 1024 * 1024


async def get_json(client: httpx.AsyncClient, url: str, deadline_s: float,
                   found: Discovery | None = None, what: str = "endpoint") -> Any:
    """The JSON at `url`, or None (with the reason noted in `found`)."""
    def note(problem: str) -> None:
        if found is not None:
            found.note(what, url, problem)
    try:
        status, body, _ = await get_capped(client, url, limit=MAX_JSON_BYTES,
                                           deadline_s=deadline_s)
    except TimeoutError:
        note(timed_out(deadline_s))
        return None
    except (PageTooLarge, httpx.HTTPError) as e:
        note(f"{type(e).__name__}: {e}")
        return None
    if status != 200:
        note(f"HTTP {status}")
        return None
    try:
        return json.loads(body)
    except ValueError as e:
        note(f"not JSON: {e}")
        return None


def amount(value: Any, minor_units: int | None = None) -> Decimal | None:
    """A price from an endpoint: "19.99", or an integer of minor units (1999 -> 19.99)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite() or number < 0:
        return None
    if minor_units is not None:
        number = number.scaleb(-minor_units)
    return number


def text(value: Any) -> str | None:
    """A name from an endpoint, its HTML entities decoded ("Tea &amp; Cups")."""
    return html.unescape(value).strip() or None if isinstance(value, str) else None


def list_price(price: Decimal | None, other: Decimal | None) -> Decimal | None:
    """A compare-at or regular price is the list price only above the price."""
    return other if other is not None and price is not None and other > price else None


def over(snap: Snapshot, platform: str, values: dict) -> Snapshot:
    """The snapshot with the endpoint's values (those not None) put over the page's. The
    page's own pictures stay when it showed any (the endpoint's may include every variant's).
    A page that was read but lacked a title or price is complete once the endpoint gives
    them; a page that failed otherwise (404, a wall, a timeout) stays failed."""
    if snap.error and not snap.error.startswith("missing "):
        return snap
    given = {k: v for k, v in values.items() if v is not None
             and not (k == "image_urls" and snap.image_urls)}
    if snap.price is not None and given.get("price") not in (None, snap.price):
        # The platform's data and the page disagree (a discount app, a theme showing the
        # lowest variant): the data is recorded, and what the page showed is kept beside it.
        shown = f"the page shows {snap.price}"
        given["price_note"] = f"{given['price_note']}; {shown}" if given.get("price_note") \
            else shown
    merged = replace(snap, **given, source="+".join(filter(None, (platform, snap.source))))
    if merged.error and merged.title and merged.price is not None:
        merged = replace(merged, error=None)
    return merged
