"""The store at a glance, for the dashboard, the overlay's popup and the nightly email: open
findings by severity, and the week's title quota as titles.weekly_quota judges it."""

from __future__ import annotations

from datetime import datetime

from .contract import Contract
from .ledger import Ledger
from .rules import SEVERITIES
from .rules.titles import QuotaStatus, quota_status


def open_counts(ledger: Ledger) -> dict[str, int]:
    """Open and acknowledged findings by severity, worst first."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in ledger.findings(status=["open", "acknowledged"]):
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def quota_progress(ledger: Ledger, contract: Contract, now: datetime) -> QuotaStatus:
    """The rolling week's title quota, by the rule's own judgment, as of the last full audit
    before `now` (when titles.weekly_quota last judged it; titles are only seen changing in
    audits): the dashboard, the overlay and the email then say what the finding says. Before
    any full audit, as of `now`."""
    last = ledger.last_full_audit()
    at = now
    if last is not None and last.finished:
        at = min(now, datetime.fromisoformat(last.finished))
    return quota_status(contract.rule_settings("titles.weekly_quota"), ledger, at)


__all__ = ["QuotaStatus", "open_counts", "quota_progress"]
