"""The contract's renewal conditions (`[review]`), judged for one month: whether the merchant
may now end the contract, or suspend payment, and on what evidence.

These are the clauses a merchant acts on without a lawyer reading the ledger first, so each
says which months or which findings make it hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .clock import store_time
from .penalties import month_of, weekly_quota_weeks
from .response_times import answered_at, duration, spell_name, waivers, when


@dataclass(frozen=True)
class Condition:
    clause: str      # the contract's words, with its numbers
    met: bool        # the merchant may act on it now
    detail: str      # the months or findings that make it so (or not)


def renewal_conditions(contract, ledger, year: int, month: int, now: datetime, *,
                       spells: list | None = None) -> list[Condition]:
    """The review's conditions for the month (as of `now` while it runs); a condition the
    contract sets to 0 is not there. `spells`: the ledger's, when the caller has read them."""
    out = []
    months = contract.review.end_after_months_under_quota
    if months:
        out.append(_under_quota(contract, ledger, year, month, now, months))
    days = contract.review.suspend_after_days_unanswered
    if days:
        out.append(_unanswered(contract, ledger, year, month, now, days,
                               ledger.spells() if spells is None else spells))
    return out


def _under_quota(contract, ledger, year: int, month: int, now: datetime, n: int) -> Condition:
    """A month is under the quota when its judged, finished weeks (those whose Sunday falls in
    it) together changed fewer titles than they asked for."""
    tz = ZoneInfo(contract.store.timezone)
    said, under = [], []
    months = [month_of(year, month, tz)]
    while len(months) < n:
        months.insert(0, months[0].before())
    for m in months:
        weeks = [w for w in weekly_quota_weeks(contract, ledger, m.start, m.end, now)
                 if w.judged and w.finished]
        name = m.key
        if not weeks:
            said.append(f"{name}: no judged week yet")
            under.append(False)
            continue
        changed, quota = sum(w.changed for w in weeks), sum(w.quota for w in weeks)
        is_under = changed < quota
        under.append(is_under)
        said.append(f"{name}: {'under' if is_under else 'met'} ({changed} of {quota} titles "
                    f"over {len(weeks)} week{'s' if len(weeks) != 1 else ''})")
    plural = "month" if n == 1 else "months"
    return Condition(
        clause=f"{n} {plural} in a row under the title quota: the merchant may end the "
               f"contract without liability",
        met=all(under), detail="; ".join(said))


def _unanswered(contract, ledger, year: int, month: int, now: datetime, days: float,
                spells: list) -> Condition:
    """Any finding left without an answer for `days` from its raising, with that silence
    reaching into the month."""
    tz = ZoneInfo(contract.store.timezone)
    the_month = month_of(year, month, tz)
    start, end = the_month.start, the_month.end
    limit = timedelta(days=days)
    waived = waivers(ledger, spells, now)
    named = []
    for s in spells:
        if (s.finding_id, s.opened_at) in waived:
            continue
        opened = when(s.opened_at)
        got = answered_at(s)
        silent_until = got or (when(s.resolved_at) if s.status == "gone" else None) or now
        mark = opened + limit
        if mark <= min(silent_until, now) and mark < end and silent_until >= start:
            hours = (silent_until - opened) / timedelta(hours=1)
            how = (f"answered after {duration(hours)}" if got is not None
                   else f"unanswered for {duration(hours)}")
            named.append(f"{spell_name(s)}: raised "
                         f"{store_time(opened, tz)}, {how}")
    return Condition(
        clause=f"no response for {days:g} days: the merchant may suspend payment",
        met=bool(named),
        detail="; ".join(named) if named else f"every finding was answered within {days:g} days")
