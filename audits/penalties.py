"""The month's penalty statement: what the contract's `[penalties]` deduct from the agency's
fee, every line traced to the finding (or the week) and the days it charges, and what did not
count and why.

A deduction the agency cannot check is a dispute; one that names finding #12 and the three
dates it was late is a sum. So the statement is built from the ledger's spells and title
changes alone, the same way every time, and rounds once per line.

Days: day k of a late spell starts at late_from + (k − 1) × 24 h (late_from: its fix-by time,
or its answer-by time for a clause on unanswered findings), is charged once, to the month (store
time) it starts in, and only once it has started. A week of the title quota (Monday to Sunday,
store time) is charged to the month its Sunday falls in, once it is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from crawler.crawl import CrawlFailed
from crawler.prices import format_price

from .clock import store_time
from .periods import Period, period_of
from .response_times import answer_by, fix_by, spell_name, waivers, when
from .rules import SEVERITIES
from .rules.titles import effective_quota, quota_status

DAY = timedelta(days=1)
CENT = Decimal("0.01")
# A day the merchant had approved the SKU's discount or lower price is not late on these.
PRICE_RULES = ("prices.unapproved_discount", "prices.below_floor")


@dataclass(frozen=True)
class PenaltyLine:
    clause: str              # "overdue.critical", "title_quota"
    finding_id: int | None
    what: str                # "#12 SH-0001 Price under the floor — not fixed by 2026-11-12 03:00"
    charged: list[str]       # the store dates charged, or ["week of 2026-11-09"]
    units: int               # days, or steps short
    rate: str                # "1 % of the fee a day", "¥500.00 a day"
    amount: Decimal          # units × rate, before any cap


@dataclass(frozen=True)
class ClauseTotal:
    clause: str
    label: str               # "Critical findings left unfixed", "Weekly title quota"
    lines: list[PenaltyLine]
    subtotal: Decimal
    cap: Decimal | None
    charged: Decimal         # after the clause's cap


@dataclass(frozen=True)
class PenaltyStatement:
    month: str               # "2026-11"
    as_of: datetime          # store time; month-to-date when inside the month
    fee: Decimal
    currency: str
    clauses: list[ClauseTotal]
    subtotal: Decimal        # the clauses' charged, together
    cap: Decimal | None      # the month's cap
    total: Decimal           # after it
    excluded: list[str]      # what does not count, and why


@dataclass(frozen=True)
class WeekQuota:
    """One calendar week against the title quota."""

    label: str               # "2026-11-09 – 2026-11-15"
    start: datetime          # Monday 00:00, store time
    end: datetime            # the next Monday 00:00
    quota: int
    changed: int
    short_percent: Decimal   # to 0.1 %, for reading; the steps use the exact share
    judged: bool             # watched from its first day, and looked at by its end
    finished: bool
    not_judged_because: str | None = None   # why not, in words
    # judged though no crawl read the store at its end: why (the store could not be read)
    judged_unread: str | None = None

    def steps(self, per_percent_short: Decimal) -> int:
        """Whole `per_percent_short` steps short: quota 12, 5 changed -> 58.3 % -> 5."""
        short = max(0, self.quota - self.changed)
        return int(Fraction(short * 100, self.quota) / Fraction(per_percent_short))


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Decimal) -> str:
    """A contract's number as it was written: 1, 0.5, 10 (not 1E+1)."""
    return format(value.normalize(), "f")


def share_of_fee(fee: Decimal, percent: Decimal) -> Decimal:
    return fee * percent / 100


def cap_of(fee: Decimal, max_percent: Decimal | None, max_amount: Decimal | None
           ) -> Decimal | None:
    """The lower of the caps the contract gives, None when it gives none."""
    caps = [c for c in (max_amount, None if max_percent is None
                        else money(share_of_fee(fee, max_percent))) if c is not None]
    return min(caps) if caps else None


def month_of(year: int, month: int, tz: ZoneInfo) -> Period:
    return period_of("month", datetime(year, month, 1, tzinfo=tz))


def late_days(contract, clause, spell, now: datetime) -> tuple[datetime | None, list[datetime]]:
    """When the spell became late under `clause`, and the start of each day it was late that
    had started by `now`."""
    if clause.late == "unfixed":
        # Late until a look saw it fixed (or it went with its listing); while it lasts, as far
        # as the last look that still saw it: a day no look has confirmed is not charged yet.
        late_from = fix_by(contract, spell)
        until = when(spell.resolved_at) or when(spell.last_seen) or now
    else:
        late_from = answer_by(contract, spell)
        ends = [t for t in (when(spell.acknowledged_at), when(spell.resolved_at)) if t]
        until = min(ends) if ends else now
    if late_from is None:
        return None, []
    until, days, k = min(until, now), [], 0
    while late_from + k * DAY < until:
        days.append(late_from + k * DAY)
        k += 1
    return late_from, days


def penalty_statement(contract, ledger, year: int, month: int, now: datetime, *,
                      spells: list | None = None) -> PenaltyStatement | None:
    """The statement for one month (month-to-date while `now` is inside it); None when the
    contract has no [penalties]. `spells`: the ledger's, when the caller has read them."""
    terms = contract.penalties
    if terms is None:
        return None
    tz = ZoneInfo(contract.store.timezone)
    the_month = month_of(year, month, tz)
    start, end = the_month.start, the_month.end
    fee, currency = terms.monthly_fee, contract.store.currency
    excluded: list[str] = []
    spells = ledger.spells() if spells is None else spells
    waived = waivers(ledger, spells, now)
    approvals = ledger.approvals()
    clauses = []
    for severity in SEVERITIES:
        clause = getattr(terms.overdue, severity)
        if clause is not None:
            lines = _overdue_lines(contract, clause, severity,
                                   [s for s in spells if s.severity == severity],
                                   waived, approvals, (start, end), now, excluded)
            clauses.append(_total(f"overdue.{severity}",
                                  f"{severity.capitalize()} findings left {clause.late}",
                                  lines, fee, clause))
    if terms.title_quota is not None:
        lines = _quota_lines(contract, ledger, terms.title_quota, (start, end), now, excluded)
        clauses.append(_total("title_quota", "Weekly title quota", lines, fee,
                              terms.title_quota))
    subtotal = sum((c.charged for c in clauses), Decimal(0))
    cap = cap_of(fee, terms.max_percent_of_fee, None)
    return PenaltyStatement(
        month=f"{year:04d}-{month:02d}", as_of=min(now, end).astimezone(tz), fee=fee,
        currency=currency, clauses=clauses, subtotal=subtotal, cap=cap,
        total=subtotal if cap is None else min(subtotal, cap),
        excluded=list(dict.fromkeys(excluded)))


def _total(key: str, label: str, lines: list[PenaltyLine], fee: Decimal,
           clause) -> ClauseTotal:
    subtotal = sum((line.amount for line in lines), Decimal(0))
    cap = cap_of(fee, clause.max_percent_of_fee, clause.max_amount)
    return ClauseTotal(clause=key, label=label, lines=lines, subtotal=subtotal, cap=cap,
                       charged=subtotal if cap is None else min(subtotal, cap))


def _unit(clause, fee: Decimal, currency: str, per: str) -> tuple[Decimal, str]:
    """What one unit of the clause costs, and the rate as the statement writes it."""
    if clause.percent_of_fee is not None:
        return (share_of_fee(fee, clause.percent_of_fee),
                f"{number(clause.percent_of_fee)} % of the fee {per}")
    return clause.amount, f"{format_price(clause.amount, currency)} {per}"


def _overdue_lines(contract, clause, severity: str, spells: list, waived: dict,
                   approvals: list, month: tuple[datetime, datetime], now: datetime,
                   excluded: list[str]) -> list[PenaltyLine]:
    tz = ZoneInfo(contract.store.timezone)
    fee, currency = contract.penalties.monthly_fee, contract.store.currency
    unit, rate = _unit(clause, fee, currency, "a day")
    lines = []
    for s in spells:
        late_from, days = late_days(contract, clause, s, now)
        days = [d for d in days if month[0] <= d < month[1]]
        if not days:
            continue
        reason = waived.get((s.finding_id, s.opened_at))
        if reason is not None:
            excluded.append(f"#{s.finding_id} waived by the merchant: {reason}")
            continue
        charged = []
        for day in days:
            approval = _approval_on(approvals, s, day)
            if approval is None:
                charged.append(day.astimezone(tz).date().isoformat())
            else:
                excluded.append(
                    f"#{s.finding_id} {day.astimezone(tz).date().isoformat()}: discount "
                    f"approved (approval #{approval.id}, until "
                    f"{store_time(approval.valid_until, tz)})")
        if not charged:
            continue
        owed = "fixed" if clause.late == "unfixed" else "answered"
        lines.append(PenaltyLine(
            clause=f"overdue.{severity}", finding_id=s.finding_id,
            what=f"{spell_name(s)} — not {owed} by {store_time(late_from, tz)}",
            charged=charged, units=len(charged), rate=rate,
            amount=money(len(charged) * unit)))
    return lines


def _approval_on(approvals: list, spell, day: datetime):
    """The merchant's approval for the spell's SKU in force when `day` started, if any (price
    rules only: an approval says nothing about stock or images)."""
    if spell.rule_id not in PRICE_RULES or not spell.sku:
        return None
    for a in approvals:
        if a.sku == spell.sku and when(a.created) <= day <= when(a.valid_until):
            return a
    return None


def _quota_lines(contract, ledger, clause, month: tuple[datetime, datetime], now: datetime,
                 excluded: list[str]) -> list[PenaltyLine]:
    fee, currency = contract.penalties.monthly_fee, contract.store.currency
    per = clause.per_percent_short
    unit, rate = _unit(clause, fee, currency, f"per {number(per)} % short")
    lines = []
    for week in watched_weeks(ledger, weekly_quota_weeks(contract, ledger, month[0], month[1],
                                                          now)):
        monday = week.start.date().isoformat()
        if not week.finished:
            excluded.append(f"week of {monday}: not over yet")
            continue
        if not week.judged:
            excluded.append(f"week of {monday}: not judged ({week.not_judged_because})")
            continue
        steps = week.steps(per)
        if steps:
            lines.append(PenaltyLine(
                clause="title_quota", finding_id=None,
                what=f"Week {week.label}: {week.changed} of {week.quota} titles changed "
                     f"({number(week.short_percent)} % short"
                     + (f"; {week.judged_unread})" if week.judged_unread else ")"),
                charged=[f"week of {monday}"], units=steps, rate=rate,
                amount=money(steps * unit)))
    return lines


# A finished week is judged only when a whole-store crawl looked at the store in its last two
# days: the titles counted are the ones changed by then, and a week nobody looked at (the
# scheduler stopped) is not "nothing was optimised". A week whose audits were there but could
# not read the store (it refused or stalled them) is judged on what was seen: the agency runs
# the store, and an unreadable store must not be a way out of the quota.
LOOKED_AT_END = timedelta(days=2)


def weekly_quota_weeks(contract, ledger, start: datetime, end: datetime,
                       now: datetime) -> list[WeekQuota]:
    """The calendar weeks whose Sunday falls in [start, end) (store time) and that have begun
    by `now`, each against the title quota: a finished week as titles.weekly_quota judges it
    at its end, the week under way so far."""
    tz = ZoneInfo(contract.store.timezone)
    settings = contract.rule_settings("titles.weekly_quota")
    first = ledger.first_full_run()
    watched_since = None
    if first is not None:  # from the start of the store day of its first full crawl
        watched_since = datetime.combine(when(first.started).astimezone(tz).date(), time(),
                                         tzinfo=tz)
    week = period_of("week", start.astimezone(tz))
    if week.end - DAY < start:   # its Sunday is before `start`: the week belongs before
        week = week.after()
    weeks = []
    while week.end - DAY < end and week.start < now:
        weeks.append(_week(settings, ledger, week.start, week.end, now, watched_since))
        week = week.after()
    return weeks


def watched_weeks(ledger, weeks: list[WeekQuota]) -> list[WeekQuota]:
    """The weeks storeaudit watched at least part of: one over before its first whole-store
    crawl is not spoken of at all (not even as "not judged")."""
    first = ledger.first_full_run()
    start = when(first.started) if first else None
    return [w for w in weeks if start is not None and w.end > start]


def _week(settings, ledger, start: datetime, end: datetime, now: datetime,
          watched_since: datetime | None) -> WeekQuota:
    finished = end <= now
    if finished:
        status = quota_status(settings, ledger, end, watched_since=watched_since)
        quota, changed = status.quota, status.changed
    else:  # under way: the titles changed so far against this week's quota
        changed = len({c.listing_id for c in ledger.title_changes(since=start, until=now)})
        quota = effective_quota(settings, len(ledger.listings()))
    short = Decimal(max(0, quota - changed) * 100) / Decimal(quota)
    why = unread = None
    if watched_since is None or watched_since > start:
        why = "storeaudit was not watching the store from its first day"
    elif finished and not ledger.full_run_between(end - LOOKED_AT_END, end):
        refused = [r for r in ledger.failed_whole_store_runs_between(end - LOOKED_AT_END, end)
                   if (r.error or "").startswith(f"{CrawlFailed.__name__}:")]
        if refused:
            unread = (f"judged on what was seen: the store could not be read in its last two "
                      f"days ({len(refused)} audit{'s' if len(refused) != 1 else ''}, the last "
                      f"at {store_time(refused[-1].started, start.tzinfo)})")
        else:
            why = "no whole-store crawl in its last two days"
    last = (end - DAY).date().isoformat()
    return WeekQuota(
        label=f"{start.date().isoformat()} – {last}", start=start, end=end, quota=quota,
        changed=changed, short_percent=short.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        judged=why is None, finished=finished, not_judged_because=why, judged_unread=unread)
