"""A Keepa-style price-history chart, laid out server-side for an inline SVG.

This module only computes geometry (numbers and short labels it makes itself); the template
`_chart.html` draws it, so no store text ever reaches the SVG unescaped.

* the price is a step line: a price holds until the next snapshot;
* a failed snapshot is a gap in the line (and a grey mark on the time axis), never a zero;
* the floor (cost × multiple) and the discount limit (reference × (1 − max discount)) are
  dashed horizontal lines; steps and points under the floor are drawn red.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from audits.ledger import StoredSnapshot
from crawler.prices import format_price

WIDTH, HEIGHT = 960, 320
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 18, 44  # margins around the plot area


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    below_floor: bool
    label: str  # tooltip: "2026-11-09 04:00 · ¥139.00 · under the floor"


@dataclass(frozen=True)
class Step:
    """One horizontal stretch of the price line (x1 → x2 at y) and its rise to the next."""

    x1: float
    x2: float
    y: float
    below_floor: bool
    next_y: float | None  # where the vertical riser at x2 goes, None at a gap or the end


@dataclass(frozen=True)
class Line:
    y: float
    label: str
    kind: str  # "floor" | "discount"


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass
class PriceChart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    steps: list[Step] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    failures: list[Tick] = field(default_factory=list)  # x of failed fetches, label = when
    below_floor_count: int = 0
    failed_count: int = 0

    @property
    def empty(self) -> bool:
        return not self.points


def _nice_step(span: float, wanted: int = 5) -> float:
    raw = span / max(wanted, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _money(value: float, currency: str | None) -> str:
    text = format_price(Decimal(str(round(value, 2))), currency)
    return text[:-3] if text.endswith(".00") else text


def price_chart(history: list[StoredSnapshot], *, zone: ZoneInfo, currency: str | None,
                floor: Decimal | None = None, discount_limit: Decimal | None = None,
                floor_label: str = "floor", discount_label: str = "discount limit",
                until: datetime | None = None) -> PriceChart:
    """Lay out the chart for a listing's history (oldest first, failed fetches included).

    `until` (now) extends the time axis so the last price shows as a short stretch, not a
    dot on the edge; a last fetch that failed stays a gap."""
    chart = PriceChart()
    timed = [(datetime.fromisoformat(s.fetched_at), s) for s in history if s.fetched_at]
    priced = [(t, s) for t, s in timed if s.ok and s.price is not None]
    chart.failed_count = sum(1 for _, s in timed if not s.ok)
    if not priced:
        return chart

    # --- scales ---------------------------------------------------------------------------
    start, end = timed[0][0], timed[-1][0]
    if until is not None and until > end:
        end = min(until, end + (end - start) / 10 + timedelta(hours=1))
    if end - start < timedelta(hours=12):  # one night: give it room either side
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    span_s = (end - start).total_seconds()

    def x_of(t: datetime) -> float:
        return chart.left + (t - start).total_seconds() / span_s * (chart.right - chart.left)

    values = [float(s.price) for _, s in priced]
    values += [float(v) for v in (floor, discount_limit) if v is not None]
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low * 0.9, high * 1.1 + 1
    step = _nice_step(high - low)
    bottom_tick = math.floor(low / step) * step
    if low - bottom_tick < step * 0.2:  # keep the lowest price off the axis line
        bottom_tick -= step
    low, high = max(bottom_tick, 0.0), math.ceil(high / step) * step

    def y_of(v: float) -> float:
        return chart.bottom - (v - low) / (high - low) * (chart.bottom - chart.top)

    tick = low
    while tick <= high + step * 1e-6:
        chart.y_ticks.append(Tick(round(y_of(tick), 1), _money(tick, currency)))
        tick += step

    # --- x axis: whole days in the store's zone, at most ~8 labels ------------------------
    first_day = start.astimezone(zone).date()
    days = (end.astimezone(zone).date() - first_day).days + 1
    every = max(1, math.ceil(days / 8))
    for n in range(0, days + 1, every):
        day = first_day + timedelta(days=n)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        if start <= midnight <= end:
            # The first label carries the year, the others only month and day.
            label = day.strftime("%m-%d" if chart.x_ticks else "%Y-%m-%d")
            chart.x_ticks.append(Tick(round(x_of(midnight), 1), label))

    # --- the line: steps between snapshots, gaps at failed fetches ------------------------
    floor_f = float(floor) if floor is not None else None
    for i, (t, snap) in enumerate(timed):
        when = t.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        if not snap.ok:
            chart.failures.append(Tick(round(x_of(t), 1), f"{when} · page could not be read"))
            continue
        if snap.price is None:
            continue
        price = float(snap.price)
        under = floor_f is not None and price < floor_f
        chart.below_floor_count += under
        x, y = round(x_of(t), 1), round(y_of(price), 1)
        shown = format_price(snap.price, snap.currency or currency)
        chart.points.append(Point(x, y, under, f"{when} · {shown}"
                                              + (" · under the floor" if under else "")))
        if i + 1 < len(timed):
            nt, nxt = timed[i + 1]
            next_y = (round(y_of(float(nxt.price)), 1)
                      if nxt.ok and nxt.price is not None else None)
            chart.steps.append(Step(x, round(x_of(nt), 1), y, under, next_y))
        elif end > t:  # the last price holds until now
            chart.steps.append(Step(x, round(x_of(end), 1), y, under, None))

    for value, label, kind in ((floor, floor_label, "floor"),
                               (discount_limit, discount_label, "discount")):
        if value is not None:
            chart.lines.append(Line(round(y_of(float(value)), 1),
                                    f"{label} {format_price(value, currency)}", kind))
    return chart
