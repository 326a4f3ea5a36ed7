"""The calendar the contract's consequences are counted in: a week (Monday 00:00 to the next,
store time) and a month, each with the one before and after it. The penalties charge by them,
the renewal conditions look back by them, the reviews cover them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    kind: str          # "week" or "month"
    key: str           # "2026-W46", "2026-11": in URLs and the deliveries' record
    start: datetime    # store time, inclusive
    end: datetime      # store time, exclusive

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        last = self.end - timedelta(days=1)
        return f"week of {self.start:%Y-%m-%d} – {last:%Y-%m-%d}"

    def before(self) -> "Period":
        """The period just before this one, of the same kind."""
        return period_of(self.kind, self.start - timedelta(days=1))

    def after(self) -> "Period":
        return period_of(self.kind, self.end)

    def covers(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def so_far(self, now: datetime) -> datetime:
        """The end of what can be judged of it by `now`."""
        return min(self.end, now.astimezone(self.start.tzinfo))


def _midnight(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), zone)


def period_of(kind: str, when: datetime) -> Period:
    """The week or month `when` (tz-aware, in the store's zone) falls in."""
    zone, day = when.tzinfo, when.date()
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        iso = monday.isocalendar()
        return Period("week", f"{iso.year}-W{iso.week:02d}", _midnight(monday, zone),
                      _midnight(monday + timedelta(days=7), zone))
    if kind == "month":
        first = day.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return Period("month", f"{first:%Y-%m}", _midnight(first, zone), _midnight(nxt, zone))
    raise ValueError(f"a review covers a week or a month, not {kind!r}")


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_period(key: str, zone: ZoneInfo) -> Period:
    """"2026-W46" or "2026-11" as a Period; ValueError saying what is expected."""
    try:
        if m := _WEEK.match(key):
            return period_of("week", _midnight(date.fromisocalendar(int(m[1]), int(m[2]), 1), zone))
        if m := _MONTH.match(key):
            return period_of("month", _midnight(date(int(m[1]), int(m[2]), 1), zone))
    except ValueError:
        pass
    raise ValueError(f"{key!r} is not a week like 2026-W46 or a month like 2026-11")
