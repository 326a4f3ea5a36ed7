"""Random checks: a few listings audited at times nobody can guess.

An agency that sells under the floor all afternoon and puts the price back before the 02:00
nightly is never seen by the nightly. `[schedule] random_checks = N` adds N checks a day at
times drawn within `store_hours`, each reading `random_check_listings` listings, chosen with
more weight on the promoted ones and on those that changed lately (where a dip pays).

The day's times come from the ledger's secret (`Ledger.secret`) and the date, through HMAC:
the same for a day however often the scheduler restarts (it decides from the ledger and the
clock, as for the nightly), different every day, and not computable from the contract or
from the times of earlier checks. The API never shows them. Which listings a check reads is
drawn afresh each time (the system's randomness; a replay passes its own generator).

A random check is a partial audit like a spot-check (`audits.spot_check.spot_config`): its
findings are raised and resolved on the listings it read, and the notifiers hear of it, so a
critical price is alerted at 15:12 and its resolution at 02:00 names both looks.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from crawler.config import CrawlConfig

from .contract import Contract, ScheduleSettings
from .ledger import Ledger
from .spot_check import SpotCheckRefused, check_store_url, spot_config

SECRET_NAME = "random checks"
RECENT = timedelta(days=7)     # a listing changed within this is "recently changed"
PROMOTED_WEIGHT = 3            # added to a listing's weight of 1 when it is promoted...
RECENT_WEIGHT = 3              # ...and when it changed recently
GRACE = timedelta(hours=1)     # a check missed by more than this (storeaudit was down) is skipped


def _hours(schedule: ScheduleSettings) -> tuple[time, time]:
    start, end = schedule.store_hours.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def check_times(secret: str, day: date, schedule: ScheduleSettings,
                zone: ZoneInfo) -> list[datetime]:
    """The day's random check times (store time, to the minute, soonest first)."""
    if schedule.random_checks <= 0:
        return []
    start, end = _hours(schedule)
    first = start.hour * 60 + start.minute
    minutes = range(first, end.hour * 60 + end.minute)
    seed = hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()
    drawn = random.Random(seed).sample(minutes, min(schedule.random_checks, len(minutes)))
    return [datetime.combine(day, time(m // 60, m % 60), tzinfo=zone) for m in sorted(drawn)]


@dataclass(frozen=True)
class RandomCheckDue:
    scheduled: datetime        # the drawn time it was due at (store time)


def random_check_due(contract: Contract, ledger: Ledger, now: datetime) -> RandomCheckDue | None:
    """The random check to run now: the latest drawn time at or before `now` (today's or
    yesterday's, store time) that no random check has started since, within GRACE."""
    schedule = contract.schedule
    if not schedule.enabled or schedule.random_checks <= 0:
        return None
    if ledger.last_full_audit() is None:
        return None  # nothing known to choose from: the first full audit comes first
    zone = ZoneInfo(contract.store.timezone)
    local = now.astimezone(zone)
    secret = ledger.secret(SECRET_NAME)
    drawn = [t for d in (local.date() - timedelta(days=1), local.date())
             for t in check_times(secret, d, schedule, zone) if t <= local]
    if not drawn:
        return None
    latest = drawn[-1]
    last = ledger.last_run("random")
    if last is not None and datetime.fromisoformat(last.started) >= latest:
        return None
    if local - latest > GRACE:
        return None
    return RandomCheckDue(latest)


def choose_listings(ledger: Ledger, contract: Contract, count: int, rng: random.Random,
                    now: datetime) -> list[str]:
    """`count` listing URLs on the store's origins, drawn without replacement with weight
    1, plus PROMOTED_WEIGHT when its last look showed it promoted, plus RECENT_WEIGHT when it
    changed within RECENT (Efraimidis–Spirakis: the largest random() ** (1 / weight))."""
    promoted = {s.listing_id for s in ledger.latest_snapshots() if s.promoted}
    since = now - RECENT
    recent = {lid for lid, at in ledger.last_changed().items()
              if datetime.fromisoformat(at) >= since}
    keyed = []
    for listing in ledger.listings():
        try:
            url = check_store_url(contract, listing.url)
        except SpotCheckRefused:
            continue  # recorded under an origin the contract no longer names: not fetched
        weight = (1 + PROMOTED_WEIGHT * (listing.id in promoted)
                  + RECENT_WEIGHT * (listing.id in recent))
        keyed.append((rng.random() ** (1 / weight), url))
    keyed.sort(reverse=True)
    return [url for _, url in keyed[:count]]


def describe(schedule: ScheduleSettings) -> str | None:
    """The random checks in words, without their times (which are never shown)."""
    if not schedule.enabled or schedule.random_checks <= 0:
        return None
    start, end = schedule.store_hours.split("-")
    return (f"{schedule.random_checks} random check{'s' if schedule.random_checks > 1 else ''} "
            f"a day between {start} and {end}, {schedule.random_check_listings} listings each, "
            "at times drawn from this ledger's secret (not shown)")


def random_check_config(contract: Contract, ledger: Ledger,
                        rng: random.Random | None = None) -> CrawlConfig:
    """The crawl of one random check: its chosen listings, as a spot-check reads them, but
    each read whole: fresh eyes at an unguessable time take no store's 304 on trust."""
    urls = choose_listings(ledger, contract, contract.schedule.random_check_listings,
                           rng or random.SystemRandom(), ledger.clock.now())
    if not urls:
        raise SpotCheckRefused("no listings known yet: a random check follows the first "
                               "full audit")
    return replace(spot_config(contract, urls), trust_not_modified=False)


__all__ = ["RandomCheckDue", "SECRET_NAME", "check_times", "choose_listings", "describe",
           "random_check_config", "random_check_due"]
