"""The weekly and the monthly review, as data: what the merchant goes through with the agency.

The weekly review is the hour-a-week meeting: every clause's status this week against last,
the agency's response times, what the agency changed, and what is still open. The monthly
review adds the penalty statement, the trend since storeaudit started and the contract's
renewal conditions. Both are computed from the ledger on request (`weekly_review`,
`monthly_review`); rendering is audits/review/render.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from crawler.prices import format_price

from ..clock import store_time
from ..contract import Contract
from ..ledger import Ledger, Spell
from ..penalties import (PenaltyStatement, WeekQuota, penalty_statement, watched_weeks,
                         weekly_quota_weeks)
from ..renewal import Condition, renewal_conditions
from ..response_times import LevelTimes, response_times
from ..rules import RULES, SEVERITIES, rule_label
from .charts import BarChart, quota_chart, trend_chart
from ..periods import Period, period_of

ACTIVE = ("open", "acknowledged")
MAX_CHANGES = 60      # changes listed (all are counted)
MAX_OPEN_ITEMS = 40


@dataclass(frozen=True)
class ClauseRow:
    """One clause (rule) of the contract over the period and the one before."""

    rule_id: str
    label: str
    severity: str
    raised: int
    raised_before: int
    open_at_end: int
    open_before: int        # at the end of the period before
    resolved: int

    @property
    def kept(self) -> bool:
        return self.raised == 0 and self.open_at_end == 0

    @property
    def trend(self) -> str:
        """"better", "worse" or "same": open problems at the end against the period before."""
        if self.open_at_end < self.open_before:
            return "better"
        return "worse" if self.open_at_end > self.open_before else "same"


@dataclass(frozen=True)
class ChangeRow:
    """Something the agency changed on a listing: a title, a price, a promotion, stock."""

    at: str               # store time
    sku: str | None
    listing_id: int
    what: str             # "title", "price", …
    before: str           # store text: untrusted, shown as text only
    after: str


@dataclass(frozen=True)
class OpenItem:
    finding_id: int
    severity: str
    label: str
    sku: str | None
    message: str          # holds store text: untrusted
    opened: str
    answer_by: str
    state: str            # "overdue", "acknowledged", "waiting"


@dataclass
class Review:
    kind: str                         # "weekly" or "monthly"
    store: str
    currency: str
    period: Period
    previous: Period
    as_of: str                        # store time the figures stand at
    to_date: bool                     # the period is not over yet
    dashboard_url: str
    clauses: list[ClauseRow]
    quota_weeks: list[WeekQuota]
    quota_weeks_before: list[WeekQuota]
    times: list[LevelTimes]
    times_before: list[LevelTimes]
    changes: list[ChangeRow]
    change_counts: dict[str, int]
    open_items: list[OpenItem]
    quota_enabled: bool = True
    penalties: PenaltyStatement | None = None
    penalties_before: PenaltyStatement | None = None
    conditions: list[Condition] = field(default_factory=list)
    trend: BarChart | None = None
    quota: BarChart | None = None

    @property
    def title(self) -> str:
        what = "Weekly review" if self.kind == "weekly" else "Monthly review"
        return f"{what}: {self.period.label}" + (" (to date)" if self.to_date else "")

    @property
    def subject(self) -> str:
        store = " ".join(self.store.split())
        return f"[storeaudit] {store} — {self.title}"

    @property
    def broken(self) -> list[ClauseRow]:
        return [c for c in self.clauses if not c.kept]

    def money(self, amount) -> str:
        return format_price(amount, self.currency) or "—"


def _clauses(contract: Contract, spells: list[Spell], period: Period, previous: Period,
             now: datetime) -> list[ClauseRow]:
    end, before_end = period.so_far(now), previous.so_far(now)
    rows = []
    for rule in RULES:
        if not contract.rule_settings(rule.id).enabled:
            continue
        mine = [s for s in spells if s.rule_id == rule.id]

        def raised(p: Period) -> int:
            return sum(1 for s in mine if p.covers(datetime.fromisoformat(s.opened_at)))

        resolved = sum(1 for s in mine if s.status == "resolved" and s.resolved_at
                       and period.covers(datetime.fromisoformat(s.resolved_at)))
        rows.append(ClauseRow(
            rule.id, rule.label, contract.rule_settings(rule.id).severity or rule.severity,
            raised(period), raised(previous), sum(s.open_at(end) for s in mine),
            sum(s.open_at(before_end) for s in mine), resolved))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(rows, key=lambda r: (r.kept, order[r.severity], r.label))


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return f"{len(value)} images"
    return str(value)


def _changes(ledger: Ledger, period: Period, zone: ZoneInfo, currency: str
             ) -> tuple[list[ChangeRow], dict[str, int]]:
    rows: list[ChangeRow] = []
    for run in ledger.runs_since(period.start):
        if datetime.fromisoformat(run.started) >= period.end:
            break
        for c in ledger.changes_in_run(run.id):
            money = c.field in ("price", "list_price")
            show = (lambda v: format_price(v, currency) or "—") if money else _shown
            at = c.after_at or run.started
            rows.append(ChangeRow(store_time(at, zone), c.sku, c.listing_id,
                                  c.field.replace("_", " "), show(c.before), show(c.after)))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.what] = counts.get(r.what, 0) + 1
    return rows[:MAX_CHANGES], counts


def _open_items(contract: Contract, ledger: Ledger, now: datetime, zone: ZoneInfo
                ) -> list[OpenItem]:
    items = []
    for f in ledger.findings(status=list(ACTIVE)):
        deadline = datetime.fromisoformat(f.deadline) if f.deadline else None
        state = ("acknowledged" if f.status == "acknowledged" else
                 "overdue" if deadline and deadline < now else "waiting")
        items.append(OpenItem(f.id, f.severity, rule_label(f.rule_id), f.sku, f.message,
                              store_time(f.opened, zone, "—"), store_time(f.deadline, zone, "—"),
                              state))
    return items[:MAX_OPEN_ITEMS]


def _review(kind: str, contract: Contract, ledger: Ledger, period: Period,
            now: datetime, spells: list[Spell]) -> Review:
    zone = ZoneInfo(contract.store.timezone)
    now = now.astimezone(zone)
    previous = period.before()
    changes, counts = _changes(ledger, period, zone, contract.store.currency)
    return Review(
        kind=kind, store=contract.store.name, currency=contract.store.currency, period=period,
        previous=previous, as_of=store_time(period.so_far(now), zone),
        to_date=now < period.end, dashboard_url=contract.email.dashboard_url,
        clauses=_clauses(contract, spells, period, previous, now),
        quota_weeks=watched_weeks(ledger, weekly_quota_weeks(contract, ledger, period.start,
                                                              period.end, now)),
        quota_weeks_before=watched_weeks(ledger, weekly_quota_weeks(
            contract, ledger, previous.start, previous.end, now)),
        times=response_times(contract, ledger, period.start, period.end, now, spells=spells),
        times_before=response_times(contract, ledger, previous.start, previous.end, now,
                                    spells=spells),
        changes=changes, change_counts=counts,
        open_items=_open_items(contract, ledger, now, zone),
        quota_enabled=contract.rule_settings("titles.weekly_quota").enabled)


def weekly_review(contract: Contract, ledger: Ledger, week: Period | None = None, *,
                  now: datetime | None = None) -> Review:
    """The week's review (by default the week now is in, to date)."""
    now = now or ledger.clock.now()
    week = week or period_of("week", now.astimezone(ZoneInfo(contract.store.timezone)))
    return _review("weekly", contract, ledger, week, now, ledger.spells())


def review_of(contract: Contract, ledger: Ledger, period: Period, *,
              now: datetime | None = None) -> Review:
    """The review of `period`: a week's or a month's, as its kind says."""
    build = weekly_review if period.kind == "week" else monthly_review
    return build(contract, ledger, period, now=now)


def monthly_review(contract: Contract, ledger: Ledger, month: Period | None = None, *,
                   now: datetime | None = None) -> Review:
    """The month's review (by default the month now is in, to date), with the penalty
    statement, the trend since the first audit and the renewal conditions."""
    now = now or ledger.clock.now()
    zone = ZoneInfo(contract.store.timezone)
    month = month or period_of("month", now.astimezone(zone))
    spells = ledger.spells()   # read once: every part of the review counts from them
    review = _review("monthly", contract, ledger, month, now, spells)
    y, m = month.start.year, month.start.month
    before = month.before()
    review.penalties = penalty_statement(contract, ledger, y, m, now, spells=spells)
    review.penalties_before = penalty_statement(contract, ledger, before.start.year,
                                                before.start.month, now, spells=spells)
    review.conditions = renewal_conditions(contract, ledger, y, m, now, spells=spells)
    first = ledger.first_full_run()
    since = (datetime.fromisoformat(first.started).astimezone(zone) if first else month.start)
    review.trend = trend_chart(spells, since, month.so_far(now.astimezone(zone)), zone)
    review.quota = quota_chart(weekly_quota_weeks(contract, ledger, since, month.end, now))
    return review
