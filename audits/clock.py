"""Time from an injectable clock, so the scenario can replay two weeks in seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol

STORE_TIME = "%Y-%m-%d %H:%M"


def store_time(when: str | datetime | None, zone: tzinfo | None, missing: str = "") -> str:
    """A ledger time (ISO text or a datetime) as the store's clock shows it: "2026-11-09
    04:00"; `missing` for no time. The one way the email, the chat messages, the reviews, the
    penalties and the command line write a time."""
    if not when:
        return missing
    at = when if isinstance(when, datetime) else datetime.fromisoformat(when)
    return at.astimezone(zone).strftime(STORE_TIME)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to: for the demo's replay and for tests."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now += delta
